#include "mapn/track/motion_boxes.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "mapn/data/jhmdb.h"
#include "mapn/testing/shared_data.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/in_memory_stream_source.h"

namespace mapn::track {
namespace {

constexpr int64_t kW = 128, kH = 96;  // 16 x 12 blocks

// `n` frames of kW x kH, one I-frame then P-frames, whose block motion says
// that each square (x, y, side in pixels, on the block grid at frame 0)
// moves by (vx, vy) pixels per frame: blocks of frame t covered by the
// square's position at t get motion (-vx, -vy) (their pixels came from
// (x - vx, y - vy) of frame t-1, gop.h), all other blocks zero.
struct Square {
  float x, y, side, vx, vy;
};

GopWindow Window(const std::vector<Square>& squares, int64_t n,
                 int64_t length = 12) {
  InMemoryFrames frames;
  frames.rgb = at::zeros({n, 3, kH, kW}, at::kByte);
  frames.types.assign(n, FrameType::kP);
  frames.types[0] = FrameType::kI;
  const int64_t hb = MotionBlocks(kH), wb = MotionBlocks(kW);
  frames.motion = at::zeros({n, 2, hb, wb}, at::kFloat);
  auto m = frames.motion.accessor<float, 4>();
  for (int64_t t = 1; t < n; ++t) {
    for (const Square& s : squares) {
      const float x = s.x + s.vx * t, y = s.y + s.vy * t;
      for (int64_t by = 0; by < hb; ++by) {
        for (int64_t bx = 0; bx < wb; ++bx) {
          const float cx = 8.0f * bx + 4, cy = 8.0f * by + 4;
          if (cx >= x && cx < x + s.side && cy >= y && cy < y + s.side) {
            m[t][0][by][bx] = -s.vx;
            m[t][1][by][bx] = -s.vy;
          }
        }
      }
    }
  }
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(frames, length);
  EXPECT_TRUE(source.ok()) << source.status();
  absl::StatusOr<std::optional<GopWindow>> window = source->Next();
  EXPECT_TRUE(window.ok() && window->has_value());
  return **window;
}

void ExpectBox(const std::optional<Box>& got, const Box& want, float tol,
               const std::string& what) {
  ASSERT_TRUE(got.has_value()) << what;
  EXPECT_NEAR(got->x1, want.x1, tol) << what;
  EXPECT_NEAR(got->y1, want.y1, tol) << what;
  EXPECT_NEAR(got->x2, want.x2, tol) << what;
  EXPECT_NEAR(got->y2, want.y2, tol) << what;
}

TEST(MotionBoxesTest, ABoxFollowsASquareExactlyIncludingHalfPixels) {
  // 1.5 px right and 0.5 px up per frame: MPEG-4's half-pel steps.
  const Square square{16, 40, 32, 1.5f, -0.5f};
  const GopWindow window = Window({square}, 12);
  const std::vector<Box> start = {Box{16, 40, 48, 72}};
  const auto boxes = CarryBoxes(window, start);
  ASSERT_EQ(boxes.size(), 12u);
  for (int64_t t = 0; t < 12; ++t) {
    ExpectBox(boxes[t][0],
              Box{16 + 1.5f * t, 40 - 0.5f * t, 48 + 1.5f * t, 72 - 0.5f * t},
              1e-4f, "frame " + std::to_string(t));
  }
}

TEST(MotionBoxesTest, TheMedianIgnoresBackgroundAndOutliersTheMeanWouldNot) {
  // A loose box: 3 x 3 blocks of the core move 4 px left, the rest of the
  // box is still background; a few blocks carry wild vectors.
  const int64_t hb = MotionBlocks(kH), wb = MotionBlocks(kW);
  at::Tensor motion = at::zeros({2, hb, wb}, at::kFloat);
  at::Tensor intra = at::zeros({1, hb, wb}, at::kBool);
  // Box 32..96 x 16..80 (8 x 8 blocks); core (0.5) = 48..80 x 32..64: the
  // block centres 52..76 x 36..60, blocks 6..9 x 4..7 (16 blocks).
  const Box box{32, 16, 96, 80};
  motion.select(0, 0).slice(0, 4, 8).slice(1, 6, 10).fill_(4.0f);  // left
  // 5 of the 16 core blocks are background (zero), 2 are wild.
  motion[0][4][6] = 0;
  motion[0][4][7] = 0;
  motion[0][5][6] = 0;
  motion[0][7][9] = 0;
  motion[0][7][8] = 0;
  motion[0][6][6] = 60.0f;
  motion[1][6][6] = -40.0f;
  motion[0][6][7] = -50.0f;
  const BoxShift shift = MedianBoxShift(motion, intra, box, kW, kH);
  EXPECT_EQ(shift.votes, 16);
  EXPECT_FLOAT_EQ(shift.dx, -4.0f);
  EXPECT_FLOAT_EQ(shift.dy, 0.0f);
  // The mean over the same blocks would be far off.
  const float mean_dx = -(9 * 4.0f + 60 - 50) / 16.0f;
  EXPECT_GT(std::abs(mean_dx - shift.dx), 1.0f);

  // Intra blocks do not vote; an all-intra core leaves the box still.
  intra.fill_(true);
  const BoxShift none = MedianBoxShift(motion, intra, box, kW, kH);
  EXPECT_EQ(none.votes, 0);
  EXPECT_EQ(none.dx, 0);
  EXPECT_EQ(none.dy, 0);
  // A box smaller than a block: the block under its centre votes.
  intra.fill_(false);
  const BoxShift tiny = MedianBoxShift(motion, intra, Box{57, 41, 60, 44}, kW,
                                       kH);  // centre in block (5, 7)
  EXPECT_EQ(tiny.votes, 1);
  EXPECT_FLOAT_EQ(tiny.dx, -4.0f);
}

TEST(MotionBoxesTest, SeveralBoxesMoveOnTheirOwn) {
  const Square left{8, 8, 24, 2, 1}, right{88, 48, 32, -2, 0};
  const GopWindow window = Window({left, right}, 10, 12);
  const std::vector<Box> start = {Box{8, 8, 32, 32}, Box{88, 48, 120, 80}};
  const auto boxes = CarryBoxes(window, start);
  for (int64_t t = 0; t < 10; ++t) {
    const float f = static_cast<float>(t);
    ExpectBox(boxes[t][0], Box{8 + 2 * f, 8 + f, 32 + 2 * f, 32 + f}, 1e-4f,
              "left box, frame " + std::to_string(t));
    ExpectBox(boxes[t][1], Box{88 - 2 * f, 48, 120 - 2 * f, 80}, 1e-4f,
              "right box, frame " + std::to_string(t));
  }
  // Frames 10 and 11 pad the window: no boxes there.
  EXPECT_EQ(window.num_valid, 10);
  EXPECT_FALSE(boxes[10][0].has_value());
  EXPECT_FALSE(boxes[11][1].has_value());
}

TEST(MotionBoxesTest, BoxesAreClippedToTheFrameAndLostWhenTheyLeaveIt) {
  // 8 px right per frame from x = 96: the square leaves the 128-wide frame.
  const Square square{96, 32, 24, 8, 0};
  const GopWindow window = Window({square}, 12);
  const std::vector<Box> start = {Box{96, 32, 120, 56}};
  const auto boxes = CarryBoxes(window, start);
  ExpectBox(boxes[1][0], Box{104, 32, 128, 56}, 1e-4f, "frame 1");
  // Clipped: the right edge stays at the frame's edge.
  ExpectBox(boxes[2][0], Box{112, 32, 128, 56}, 1e-4f, "frame 2");
  ExpectBox(boxes[3][0], Box{120, 32, 128, 56}, 1e-4f, "frame 3");
  // Then gone for good.
  for (int64_t t = 4; t < 12; ++t) {
    EXPECT_FALSE(boxes[t][0].has_value()) << "frame " << t;
  }
  // VisiblePart on its own: clipped at the top-left too, refused when thin.
  ExpectBox(VisiblePart(Box{-6, -2, 10, 14}, kW, kH), Box{0, 0, 10, 14}, 0,
            "VisiblePart");
  EXPECT_FALSE(VisiblePart(Box{-15, 4, 1, 20}, kW, kH).has_value());

  // With nothing voting, a box keeps its last step (constant velocity).
  CarriedBox coasting{Box{40, 40, 60, 60}, BoxShift{3, -1, 5}, false};
  const int64_t hb = MotionBlocks(kH), wb = MotionBlocks(kW);
  StepBox(coasting, at::zeros({2, hb, wb}), at::ones({1, hb, wb}, at::kBool),
          kW, kH);
  ExpectBox(coasting.box, Box{43, 39, 63, 59}, 0, "coasting");
  EXPECT_FALSE(coasting.lost);
}

TEST(MotionBoxesTest, CarriesFromAnyFrameAndChecksShapes) {
  const Square square{16, 16, 32, 2, 2};
  const GopWindow window = Window({square}, 12);
  const std::vector<Box> at_three = {Box{22, 22, 54, 54}};
  const auto boxes = CarryBoxes(window, at_three, {}, 3);
  EXPECT_FALSE(boxes[2][0].has_value());
  ExpectBox(boxes[3][0], at_three[0], 0, "frame 3");
  ExpectBox(boxes[5][0], Box{26, 26, 58, 58}, 1e-4f, "frame 5");
  EXPECT_THROW(MedianBoxShift(at::zeros({2, 3, 3}), at::zeros({1, 3, 3}),
                              Box{0, 0, 8, 8}, kW, kH),
               c10::Error);
}

// The JHMDB goalkeeper runs about 3 px per frame to the left. Her box on
// each window's keyframe (the joints' extent, from the official labels),
// carried by the codec's vectors, stays with her far better than the
// keyframe's box held still.
TEST(MotionBoxesTest, FollowsARealPersonThroughItsGops) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const std::string data =
      dir + "/jhmdb-readannotation/ReadJHMDBAnnotations/data";
  absl::StatusOr<PoseSequence> labels =
      ReadJhmdbLabels(data + "/joint_positions.mat", "", "goalkeeper");
  ASSERT_TRUE(labels.ok()) << labels.status();
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(
      data + "/Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi");
  ASSERT_TRUE(source.ok()) << source.status();
  auto centre_error = [](const Box& a, const Box& b) {
    return std::hypot((a.x1 + a.x2 - b.x1 - b.x2) / 2,
                      (a.y1 + a.y2 - b.y1 - b.y2) / 2);
  };
  std::vector<GopWindow> windows;
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> window = source->Next();
    ASSERT_TRUE(window.ok()) << window.status();
    if (!window->has_value()) break;
    windows.push_back(**window);
  }
  // The default core, and others for docs/results.md.
  double still_error = 0, default_error = 0;
  for (float core : {0.25f, 0.5f, 0.75f, 1.0f}) {
    double carried_error = 0;
    still_error = 0;
    int frames = 0;
    for (const GopWindow& w : windows) {
      const int64_t first = w.frames[0].index;
      const std::vector<Box> start = {labels->boxes[first]};
      const auto boxes = CarryBoxes(w, start, {.core_fraction = core});
      for (int64_t t = 1; t < w.num_valid; ++t) {
        ASSERT_TRUE(boxes[t][0].has_value()) << "frame " << first + t;
        const Box& truth = labels->boxes[first + t];
        carried_error += centre_error(*boxes[t][0], truth);
        still_error += centre_error(start[0], truth);
        ++frames;
      }
    }
    ASSERT_EQ(frames, 36);  // 40 frames, 4 GOPs, 4 keyframes
    carried_error /= frames;
    still_error /= frames;
    std::cout << "JHMDB box centre error, mean over the P-frames: carried "
              << carried_error << " px (core_fraction " << core
              << "), keyframe box held still " << still_error << " px\n";
    if (core == BoxMotionOptions().core_fraction) default_error = carried_error;
  }
  EXPECT_LT(default_error, 0.5 * still_error);
}

}  // namespace
}  // namespace mapn::track
