// Several people through the whole estimator: a synthetic clip made of three
// SynthPose figures with exact labels, encoded as MPEG-4 with GOPs of 24
// (so windows 1 and 3 start mid-GOP on a P-frame): A stays in place, B walks
// across A from the left and out of the frame on the right, C walks in from
// the left halfway through. A stand-in detector reports the labelled boxes
// on each window's keyframe (the tracker, the motion-vector carrying, the
// per-person batches and the bundled SynthPose model are the real ones).
// Checked: each person keeps one track id from the keyframe that finds them
// on (through the crossing), nobody else gets one, B's track ends when B
// leaves, C's starts with an encoder pass on a mid-GOP keyframe, and each
// person's PCK@0.2 against their own labels.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/data/synthpose.h"
#include "mapn/detect/person_detector.h"
#include "mapn/estimate/box_source.h"
#include "mapn/estimate/default_model.h"
#include "mapn/estimate/estimator.h"
#include "mapn/eval/pck.h"
#include "mapn/geometry/box.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/video_writer.h"

namespace mapn {
namespace {

constexpr int64_t kFrames = 48;
constexpr int kWidth = 320, kHeight = 240;
constexpr int kPeople = 3;  // A, B, C

// Where person p's figure is pasted in frame t: the horizontal shift of its
// own clip's frame; nullopt where the person is not in the clip.
std::optional<int> Shift(int p, int64_t t) {
  switch (p) {
    case 0:
      return 0;
    case 1:
      return static_cast<int>(-130 + 7 * t);  // crosses A near t = 19
    default:
      if (t < 18) return std::nullopt;
      return static_cast<int>(-200 + 5 * (t - 18));
  }
}

struct MultiPersonClip {
  std::vector<at::Tensor> frames;  // uint8 [3, H, W]
  // Per person: labels in frame pixels (Penn Action's 13 joints) and the
  // person's box per frame, nullopt where less than half of it is inside.
  std::vector<PoseSequence> labels;
  std::vector<std::vector<std::optional<Box>>> boxes;
};

MultiPersonClip MakeClip() {
  SynthPoseOptions options;
  options.min_frames = options.max_frames = kFrames;
  options.figure_height = 0.5;
  options.camera_pan = 0.2;
  options.camera_zoom = 0.03;
  MultiPersonClip clip;
  std::vector<SynthClip> people;
  for (int p = 0; p < kPeople; ++p) {
    absl::StatusOr<SynthClip> rendered = RenderSynthClip(options, 11 + p);
    EXPECT_TRUE(rendered.ok()) << rendered.status();
    people.push_back(*std::move(rendered));
  }
  for (int64_t t = 0; t < kFrames; ++t) {
    // A's frame is the scene; B and C are pasted over it through their
    // masks, B in front of A, C in front of both.
    at::Tensor frame = at::from_blob(people[0].frames[t].data(),
                                     {kHeight, kWidth, 3}, at::kByte)
                           .clone();
    auto out = frame.accessor<uint8_t, 3>();
    for (int p = 1; p < kPeople; ++p) {
      const std::optional<int> dx = Shift(p, t);
      if (!dx) continue;
      const std::vector<uint8_t>& rgb = people[p].frames[t];
      const std::vector<uint8_t>& mask = people[p].masks[t];
      for (int y = 0; y < kHeight; ++y) {
        for (int x = 0; x < kWidth; ++x) {
          const int to = x + *dx;
          if (!mask[y * kWidth + x] || to < 0 || to >= kWidth) continue;
          for (int c = 0; c < 3; ++c) {
            out[y][to][c] = rgb[(y * kWidth + x) * 3 + c];
          }
        }
      }
    }
    clip.frames.push_back(frame.permute({2, 0, 1}).contiguous());
  }
  for (int p = 0; p < kPeople; ++p) {
    PoseSequence labels = people[p].labels;
    std::vector<std::optional<Box>> boxes(kFrames);
    for (int64_t t = 0; t < kFrames; ++t) {
      const std::optional<int> dx = Shift(p, t);
      const float shift = static_cast<float>(dx.value_or(0));
      for (int j = 0; j < labels.num_joints; ++j) {
        labels.joints[(t * labels.num_joints + j) * 2] += shift;
        // Joints pasted outside the frame, or of someone not there, are
        // not labelled.
        const float x = labels.x(t, j);
        if (!dx || x < 0 || x >= kWidth) {
          labels.visible[t * labels.num_joints + j] = 0;
        }
      }
      Box box = labels.boxes[t];
      box.x1 += shift;
      box.x2 += shift;
      labels.boxes[t] = box;
      const Box inside{std::max(box.x1, 0.0f), box.y1,
                       std::min(box.x2, static_cast<float>(kWidth)), box.y2};
      if (dx && inside.width() > 0.5f * box.width()) boxes[t] = box;
    }
    clip.labels.push_back(std::move(labels));
    clip.boxes.push_back(std::move(boxes));
  }
  return clip;
}

// Reports the labelled people of each window's keyframe: the n-th call is
// frame 12 n (windows of 12 frames, one call each).
class LabelDetector final : public detect::PersonDetector {
 public:
  explicit LabelDetector(const MultiPersonClip* clip) : clip_(clip) {}
  absl::StatusOr<std::vector<detect::PersonBox>> Detect(
      const at::Tensor& /*rgb*/) const override {
    const int64_t t = 12 * calls_++;
    std::vector<detect::PersonBox> found;
    for (int p = 0; p < kPeople; ++p) {
      const std::optional<Box>& box = clip_->boxes[p][t];
      if (!box) continue;
      found.push_back(
          {Box{std::max(box->x1, 0.0f), box->y1,
               std::min(box->x2, static_cast<float>(kWidth)), box->y2},
           0.9f - 0.1f * static_cast<float>(p)});
    }
    return found;
  }
  std::string Describe() const override { return "labels"; }

 private:
  const MultiPersonClip* clip_;
  mutable int64_t calls_ = 0;
};

TEST(MultiPersonTest, PeopleKeepTheirIdsAndEachHasTheirOwnPose) {
  const MultiPersonClip clip = MakeClip();
  const std::string video =
      std::string(std::getenv("TEST_TMPDIR")) + "/three_people.mp4";
  VideoWriterOptions encoding;
  encoding.gop_size = 24;
  absl::StatusOr<std::unique_ptr<VideoWriter>> writer =
      VideoWriter::Open(video, kWidth, kHeight, encoding);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (const at::Tensor& frame : clip.frames) {
    ASSERT_TRUE((*writer)->WriteFrame(frame).ok());
  }
  ASSERT_TRUE((*writer)->Close().ok());

  absl::StatusOr<std::string> checkpoint =
      BundledCheckpointPath(kDefaultCheckpoint);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  absl::StatusOr<model::AnyPipeline> model =
      model::LoadPipeline(*checkpoint, model::DefaultCompositions());
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(video);
  ASSERT_TRUE(source.ok()) << source.status();

  EstimateOptions options;
  options.joint_set = PennActionJoints();
  options.boxes = BoxSource::Detected(std::make_shared<LabelDetector>(&clip));
  absl::StatusOr<PoseTrack> track = EstimatePoses(*model, *source, options);
  ASSERT_TRUE(track.ok()) << track.status();
  ASSERT_EQ(track->frames.size(), static_cast<size_t>(kFrames));

  // Each labelled person to the estimate whose box overlaps theirs most.
  std::vector<std::set<int64_t>> ids(kPeople);
  std::vector<PckAccumulator> pck(kPeople, PckAccumulator(PennActionJoints()));
  std::vector<int64_t> matched(kPeople, 0), present(kPeople, 0);
  // Per person, frame by frame: the id their labels matched ('.' none).
  std::vector<std::string> timeline(kPeople);
  for (int64_t t = 0; t < kFrames; ++t) {
    const FramePose& frame = track->frames[t];
    EXPECT_LE(frame.people.size(), 3u) << t;
    for (int p = 0; p < kPeople; ++p) {
      const std::optional<Box>& box = clip.boxes[p][t];
      if (!box) {
        timeline[p] += ' ';
        continue;
      }
      ++present[p];
      const PersonPose* best = nullptr;
      float best_iou = 0.3f;
      for (const PersonPose& person : frame.people) {
        const float iou = IntersectionOverUnion(person.box, *box);
        if (iou > best_iou) {
          best_iou = iou;
          best = &person;
        }
      }
      timeline[p] += best == nullptr ? "." : absl::StrCat(best->track_id);
      if (best == nullptr) continue;
      ++matched[p];
      ids[p].insert(best->track_id);
      std::vector<float> predicted;
      for (const JointEstimate& j : best->joints) {
        predicted.push_back(j.x);
        predicted.push_back(j.y);
      }
      const PoseSequence& labels = clip.labels[p];
      const size_t n = static_cast<size_t>(labels.num_joints);
      ASSERT_TRUE(pck[p]
                      .AddFrame(predicted,
                                std::span<const float>(
                                    labels.joints.data() + 2 * n * t, 2 * n),
                                std::span<const uint8_t>(
                                    labels.visible.data() + n * t, n),
                                labels.boxes[t])
                      .ok());
    }
  }
  // One id per person, three people, three tracks.
  std::set<int64_t> all;
  for (int p = 0; p < kPeople; ++p) {
    SCOPED_TRACE(
        absl::StrCat("person ", p, ": ids by frame [", timeline[p], "]"));
    EXPECT_EQ(ids[p].size(), 1u);
    all.insert(ids[p].begin(), ids[p].end());
  }
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(track->summary.tracks, 3);
  EXPECT_EQ(track->summary.max_people_in_frame, 3);

  // Found wherever they are from the keyframe that first saw them: A and B
  // from frame 0, C from frame 36 (the first keyframe after C is half in);
  // B is gone once B's box has left the frame.
  EXPECT_EQ(matched[0], present[0]);
  EXPECT_GE(matched[1], present[1] - 1);
  const int64_t c_id = ids[2].empty() ? -1 : *ids[2].begin();
  const int64_t b_id = ids[1].empty() ? -1 : *ids[1].begin();
  bool c_started = false;
  for (int64_t t = 0; t < kFrames; ++t) {
    for (const PersonPose& person : track->frames[t].people) {
      if (person.track_id == c_id && !c_started) {
        c_started = true;
        EXPECT_EQ(t, 36);
        // A continuation window (mid-GOP, a P-frame): C's first frame is
        // still an encoder pass, and per person: A's is not forced by C.
        EXPECT_EQ(track->frames[t].type, FrameType::kP);
        EXPECT_TRUE(person.features_extracted);
      }
    }
  }
  EXPECT_TRUE(c_started);
  bool b_left = false;
  for (const FramePose& frame : track->frames) {
    if (frame.frame_index < 40) continue;
    bool b_here = false;
    for (const PersonPose& person : frame.people) {
      b_here |= person.track_id == b_id;
    }
    b_left |= !b_here;
  }
  EXPECT_TRUE(b_left);

  for (int p = 0; p < kPeople; ++p) {
    const PckResult result = pck[p].Result("person");
    std::cout << "person " << p << ": track " << *ids[p].begin() << ", "
              << matched[p] << " of " << present[p] << " frames, PCK@0.2 "
              << result.mean << "\n";
    EXPECT_GE(result.mean, 60.0) << p;
  }
  const PoseTrackSummary& s = track->summary;
  std::cout << FormatSummary(*track);
  // Per-person keyframes: each window's first frame for each person in it,
  // plus what the gate picked.
  EXPECT_GE(s.person_keyframes, 4 + 4 + 1);
  EXPECT_LT(s.person_keyframes, s.person_frames);
}

}  // namespace
}  // namespace mapn
