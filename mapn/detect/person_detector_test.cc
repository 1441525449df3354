#include "mapn/detect/person_detector.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapn/data/jhmdb.h"
#include "mapn/testing/shared_data.h"
#include "mapn/tfjs/golden_frames.h"
#include "mapn/tfjs/model_files.h"

namespace mapn::detect {
namespace {

void ExpectBox(const Box& got, const Box& want, float tol,
               const std::string& what = "") {
  EXPECT_NEAR(got.x1, want.x1, tol) << what;
  EXPECT_NEAR(got.y1, want.y1, tol) << what;
  EXPECT_NEAR(got.x2, want.x2, tol) << what;
  EXPECT_NEAR(got.y2, want.y2, tol) << what;
}

TEST(PersonDetectorTest, NamesParseBothWays) {
  for (DetectorModel m : {kCenterNet, kNanoDet, kMultiPose}) {
    absl::StatusOr<DetectorModel> back =
        ParseDetectorModel(DetectorModelName(m));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
  }
  EXPECT_EQ(DetectorModelFile(kMultiPose), "movenet-multipose");
  EXPECT_EQ(DetectorInputSize(kCenterNet), 512);
  const absl::Status bad = ParseDetectorModel("yolo").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("multipose"), std::string::npos) << bad;
}

TEST(PersonDetectorTest, LetterboxPadsBottomRightAndMapsBack) {
  // 200 x 100 with a white 20 x 20 block at (100, 40); shown at 100 x 100.
  at::Tensor rgb = at::zeros({3, 100, 200}, at::kByte);
  rgb.slice(1, 40, 60).slice(2, 100, 120).fill_(255);
  const at::Tensor input = LetterboxImage(rgb, 100);
  ASSERT_EQ(input.sizes(), at::IntArrayRef({1, 100, 100, 3}));
  EXPECT_EQ(input.scalar_type(), at::kFloat);
  EXPECT_FLOAT_EQ(input[0][25][55][1].item<float>(), 255.0f);  // the block
  EXPECT_FLOAT_EQ(input[0][10][10][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(input[0][75][55][0].item<float>(), 0.0f);  // the padding
  const Letterbox box{200, 100, 100};
  EXPECT_DOUBLE_EQ(box.scale(), 2.0);
  ExpectBox(box.ToSource(Box{50, 20, 60, 30}), Box{100, 40, 120, 60}, 0);
  // Clipped to the frame, not to the square.
  ExpectBox(box.ToSource(Box{90, 40, 110, 60}), Box{180, 80, 200, 100}, 0);
  ExpectBox(box.NormalizedToSource(Box{0.25f, 0.1f, 0.5f, 0.75f}),
            Box{50, 20, 100, 100}, 1e-4f);
}

TEST(PersonDetectorTest, Suppression) {
  const std::vector<PersonBox> kept = NonMaxSuppression(
      {{Box{0, 0, 10, 10}, 0.5f},
       {Box{1, 0, 11, 10}, 0.9f},      // overlaps the first: keeps the higher
       {Box{50, 50, 60, 60}, 0.7f},    // apart
       {Box{80, 80, 90, 90}, 0.6f},    // apart, but over max_boxes
       {Box{30, 30, 30, 40}, 0.99f}},  // empty: dropped
      0.5f, 2);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.7f);
}

TEST(PersonDetectorTest, CenterNetRowsAreCornersScoreAndClass) {
  // A 1024 x 512 frame letterboxed to 512: 2 source pixels per input pixel.
  const Letterbox box{1024, 512, 512};
  const std::vector<float> rows = {
      10,  20, 110, 220, 0.8f,  0,  // a person
      10,  20, 110, 220, 0.9f,  2,  // a car
      300, 0,  400, 100, 0.01f, 0,  // a person, too low
  };
  const at::Tensor d = at::tensor(rows).view({1, 3, 6});
  absl::StatusOr<std::vector<PersonBox>> people =
      DecodeCenterNet(d, box, 0.05f);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 1u);
  ExpectBox((*people)[0].box, Box{20, 40, 220, 440}, 1e-4f);
  EXPECT_FLOAT_EQ((*people)[0].score, 0.8f);
  EXPECT_FALSE(DecodeCenterNet(at::zeros({1, 3, 5}), box, 0.1f).ok());
}

TEST(PersonDetectorTest, NanoDetCellsAreCentresWithExpectedDistances) {
  const Letterbox box{416, 416, 416};
  std::vector<at::Tensor> outputs;
  for (int64_t side : {52, 26, 13}) {
    outputs.push_back(at::zeros({1, side * side, 80}));
    outputs.push_back(at::zeros({1, side * side, 44}));
  }
  // Stride 32, cell (row 3, col 5): centre (176, 112); every side's
  // distribution peaked at bin 2 (64 px), left's split between 1 and 3.
  const int64_t cell = 3 * 13 + 5;
  at::Tensor& scores = outputs[4];
  at::Tensor& dist = outputs[5];
  scores[0][cell][0] = 0.9f;
  scores[0][cell][7] = 0.95f;  // another class: ignored
  for (int side = 1; side < 4; ++side) dist[0][cell][side * 11 + 2] = 30.0f;
  dist[0][cell][1] = 30.0f;
  dist[0][cell][3] = 30.0f;
  absl::StatusOr<std::vector<PersonBox>> people =
      DecodeNanoDet(outputs, box, 0.5f);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 1u);
  ExpectBox((*people)[0].box, Box{176 - 64, 112 - 64, 176 + 64, 112 + 64},
            1e-3f);
  EXPECT_FLOAT_EQ((*people)[0].score, 0.9f);
  // A level without its partner, or of the wrong width, is refused.
  outputs.pop_back();
  EXPECT_FALSE(DecodeNanoDet(outputs, box, 0.5f).ok());
  outputs.push_back(at::zeros({1, 169, 40}));
  EXPECT_FALSE(DecodeNanoDet(outputs, box, 0.5f).ok());
}

TEST(PersonDetectorTest, MultiPoseBoxesAreNormalisedYxOfTheSquare) {
  const Letterbox box{640, 480, 256};  // the square is 640 on a side
  at::Tensor out = at::zeros({1, 6, 56});
  out[0][0][51] = 0.1f;  // ymin
  out[0][0][52] = 0.2f;  // xmin
  out[0][0][53] = 0.9f;  // ymax (beyond the frame: clipped)
  out[0][0][54] = 0.6f;  // xmax
  out[0][0][55] = 0.7f;  // score
  absl::StatusOr<std::vector<PersonBox>> people =
      DecodeMultiPose(out, box, 0.1f);
  ASSERT_TRUE(people.ok()) << people.status();
  ASSERT_EQ(people->size(), 1u);  // the five empty rows score 0
  ExpectBox((*people)[0].box, Box{128, 64, 384, 480}, 1e-3f);
  EXPECT_FLOAT_EQ((*people)[0].score, 0.7f);
  EXPECT_FALSE(DecodeMultiPose(at::zeros({1, 6, 51}), box, 0.1f).ok());
}

// The three graphs on real frames: the JHMDB goalkeeper (one person, whose
// official joints give her extent) and Big Buck Bunny (nobody). Each
// detector's best box holds her, scoring at least mapn's default threshold
// for the two that have one; nobody scores that high in the bunny frame.
TEST(PersonDetectorTest, RealFramesWithAPersonAndWithNobody) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const std::string jhmdb =
      dir + "/jhmdb-readannotation/ReadJHMDBAnnotations/data/";
  absl::StatusOr<PoseSequence> labels =
      ReadJhmdbLabels(jhmdb + "joint_positions.mat", "", "goalkeeper");
  ASSERT_TRUE(labels.ok()) << labels.status();
  absl::StatusOr<at::Tensor> goalkeeper = tfjs::DecodeRgbFrame(
      jhmdb + "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi", 5);
  ASSERT_TRUE(goalkeeper.ok()) << goalkeeper.status();
  absl::StatusOr<at::Tensor> bunny =
      tfjs::DecodeRgbFrame(dir + "/mv-extractor/vid_h264.mp4", 0);
  ASSERT_TRUE(bunny.ok()) << bunny.status();
  const at::Tensor person_frame = goalkeeper->permute({2, 0, 1}).contiguous();
  const at::Tensor nobody_frame = bunny->permute({2, 0, 1}).contiguous();
  const Box extent = labels->boxes[5];

  int ran = 0;
  for (DetectorModel model : {kMultiPose, kCenterNet, kNanoDet}) {
    const std::string name = DetectorModelName(model);
    if (!tfjs::FindModel(DetectorModelFile(model)).ok()) continue;
    absl::StatusOr<std::unique_ptr<GraphPersonDetector>> detector =
        GraphPersonDetector::Load({.model = model});
    ASSERT_TRUE(detector.ok()) << detector.status();
    EXPECT_EQ((*detector)->Describe(), name);
    ++ran;

    absl::StatusOr<std::vector<PersonBox>> people =
        (*detector)->Detect(person_frame);
    ASSERT_TRUE(people.ok()) << people.status();
    ASSERT_FALSE(people->empty()) << name;
    const PersonBox& best = people->front();
    for (const PersonBox& p : *people) {
      EXPECT_LE(p.score, best.score) << name;  // sorted
      EXPECT_GE(p.box.x1, 0) << name;
      EXPECT_LE(p.box.x2, 320) << name;
      EXPECT_LE(p.box.y2, 240) << name;
    }
    EXPECT_GE(IntersectionOverUnion(best.box, extent), 0.5f)
        << name << ": [" << best.box.x1 << ", " << best.box.y1 << ", "
        << best.box.x2 << ", " << best.box.y2 << "] score " << best.score;
    EXPECT_GE(best.score, model == kNanoDet ? 0.3f : 0.5f) << name;

    absl::StatusOr<std::vector<PersonBox>> none =
        (*detector)->Detect(nobody_frame);
    ASSERT_TRUE(none.ok()) << none.status();
    if (model != kNanoDet && !none->empty()) {
      EXPECT_LT(none->front().score, 0.5f) << name;
    }
    // Not a frame.
    EXPECT_EQ((*detector)->Detect(at::zeros({3, 8, 8})).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  if (ran == 0) {
    GTEST_SKIP() << tfjs::FindModel("movenet-multipose").status().message();
  }
}

}  // namespace
}  // namespace mapn::detect
