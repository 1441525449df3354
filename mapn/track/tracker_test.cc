#include "mapn/track/tracker.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mapn/video/gop.h"

namespace mapn::track {
namespace {

// A box that moves (vx, vy) pixels per frame from `box` at frame 0.
struct Mover {
  Box box;
  float vx = 0, vy = 0;
};

Box At(const Mover& mover, int64_t t) {
  const float f = static_cast<float>(t);
  return Box{mover.box.x1 + mover.vx * f, mover.box.y1 + mover.vy * f,
             mover.box.x2 + mover.vx * f, mover.box.y2 + mover.vy * f};
}

struct Motion {
  at::Tensor motion;  // float [2, Hb, Wb]
  at::Tensor intra;   // bool [1, Hb, Wb], all false
};

// Frame t's block motion for `movers` over a still background: a block
// whose centre lies in a mover's box at frame t took its pixels from
// (x - vx, y - vy) of frame t-1 (gop.h), so its vector is (-vx, -vy).
// Later movers are in front of earlier ones.
Motion MotionAt(const std::vector<Mover>& movers, int64_t t, int64_t width,
                int64_t height) {
  const int64_t hb = MotionBlocks(height), wb = MotionBlocks(width);
  Motion out{at::zeros({2, hb, wb}, at::kFloat),
             at::zeros({1, hb, wb}, at::kBool)};
  auto m = out.motion.accessor<float, 3>();
  for (const Mover& mover : movers) {
    const Box box = At(mover, t);
    for (int64_t by = 0; by < hb; ++by) {
      for (int64_t bx = 0; bx < wb; ++bx) {
        const float cx = 8.0f * bx + 4, cy = 8.0f * by + 4;
        if (cx >= box.x1 && cx < box.x2 && cy >= box.y1 && cy < box.y2) {
          m[0][by][bx] = -mover.vx;
          m[1][by][bx] = -mover.vy;
        }
      }
    }
  }
  return out;
}

void ExpectBox(const Box& got, const Box& want, const std::string& what) {
  constexpr float kTol = 1e-3f;
  EXPECT_NEAR(got.x1, want.x1, kTol) << what;
  EXPECT_NEAR(got.y1, want.y1, kTol) << what;
  EXPECT_NEAR(got.x2, want.x2, kTol) << what;
  EXPECT_NEAR(got.y2, want.y2, kTol) << what;
}

std::vector<int64_t> Ids(const std::vector<Track>& tracks) {
  std::vector<int64_t> ids;
  for (const Track& track : tracks) ids.push_back(track.id);
  return ids;
}

const Track* Find(const Tracker& tracker, int64_t id) {
  for (const Track& track : tracker.tracks()) {
    if (track.id == id) return &track;
  }
  return nullptr;
}

Tracker Make(const TrackerOptions& options = {}) {
  absl::StatusOr<Tracker> tracker = Tracker::Create(options);
  EXPECT_TRUE(tracker.ok()) << tracker.status();
  return *std::move(tracker);
}

// No motion known: an I-frame.
const at::Tensor kNone;

TEST(TrackerTest, IdsStayWithTheirPeopleWhenTheyCross) {
  // 256 x 160 pixels. A walks right and B left, 8 px per frame; they pass
  // each other at frame 12, B in front, overlapping by 40 of their 80
  // pixels of height. The detector runs every 6 frames, when each has moved
  // 48 px, more than a box's width: without the motion a track would not
  // overlap its own next detection at all.
  constexpr int64_t kW = 256, kH = 160;
  const Mover a{Box{16, 8, 48, 88}, 8, 0};
  const Mover b{Box{208, 48, 240, 128}, -8, 0};
  Tracker tracker = Make();
  for (int64_t t = 0; t <= 24; ++t) {
    const std::string what = "frame " + std::to_string(t);
    const Motion motion = MotionAt({a, b}, t, kW, kH);
    absl::Status status;
    if (t % 6 == 0) {
      // Listed left to right, as a detector might: the order flips.
      std::vector<Detection> found = {{At(b, t), 0.8f}, {At(a, t), 0.9f}};
      std::stable_sort(found.begin(), found.end(),
                       [](const Detection& p, const Detection& q) {
                         return p.box.x1 < q.box.x1;
                       });
      status = t == 0
                   ? tracker.Update(found, kNone, kNone, kW, kH)
                   : tracker.Update(found, motion.motion, motion.intra, kW, kH);
    } else {
      status = tracker.Carry(motion.motion, motion.intra, kW, kH);
    }
    ASSERT_TRUE(status.ok()) << status << " " << what;
    EXPECT_EQ(tracker.frame(), t);
    ASSERT_EQ(Ids(tracker.tracks()), (std::vector<int64_t>{1, 2})) << what;
    EXPECT_TRUE(tracker.ended().empty()) << what;
    // Id 1 for the higher-scoring A, started first.
    ExpectBox(tracker.tracks()[0].box, At(a, t), "A, " + what);
    ExpectBox(tracker.tracks()[1].box, At(b, t), "B, " + what);
    EXPECT_EQ(tracker.tracks()[0].detected, t % 6 == 0) << what;
    EXPECT_EQ(tracker.tracks()[1].score, 0.8f) << what;
  }
}

TEST(TrackerTest, ATrackEndsWhenItLeavesTheFrameAndIdsAreNeverReused) {
  constexpr int64_t kW = 128, kH = 96;
  const Mover car{Box{80, 32, 112, 64}, 8, 0};
  Tracker tracker = Make();
  ASSERT_TRUE(
      tracker
          .Update(std::vector<Detection>{{car.box, 0.9f}}, kNone, kNone, kW, kH)
          .ok());
  for (int64_t t = 1; t <= 5; ++t) {
    const Motion m = MotionAt({car}, t, kW, kH);
    ASSERT_TRUE(tracker.Carry(m.motion, m.intra, kW, kH).ok());
    ASSERT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
    // Shown clipped to the frame, carried unclipped.
    const Box want = At(car, t);
    ExpectBox(tracker.tracks()[0].box,
              Box{want.x1, want.y1, std::min(want.x2, 128.0f), want.y2},
              "frame " + std::to_string(t));
  }
  // Frame 6: 0 px left inside.
  Motion m = MotionAt({car}, 6, kW, kH);
  ASSERT_TRUE(tracker.Carry(m.motion, m.intra, kW, kH).ok());
  EXPECT_TRUE(tracker.tracks().empty());
  ASSERT_EQ(Ids(tracker.ended()), std::vector<int64_t>{1});
  ExpectBox(tracker.ended()[0].box, Box{120, 32, 128, 64}, "as last seen");

  m = MotionAt({}, 7, kW, kH);
  ASSERT_TRUE(tracker.Carry(m.motion, m.intra, kW, kH).ok());
  EXPECT_TRUE(tracker.ended().empty());  // only the frame's own endings
  // Someone enters at frame 8: a new id, not the free 1.
  const Box newcomer{10, 20, 40, 80};
  ASSERT_TRUE(tracker
                  .Update(std::vector<Detection>{{newcomer, 0.7f}}, m.motion,
                          m.intra, kW, kH)
                  .ok());
  ASSERT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{2});
  EXPECT_EQ(tracker.tracks()[0].first_frame, 8);
  EXPECT_EQ(tracker.frame(), 8);
  EXPECT_TRUE(tracker.tracks()[0].detected);
}

TEST(TrackerTest, AShortMissIsSurvivedALongOneEndsTheTrack) {
  constexpr int64_t kW = 128, kH = 96;
  TrackerOptions options;
  options.max_missed = 2;
  Tracker tracker = Make(options);
  const Motion still = MotionAt({}, 1, kW, kH);
  const std::vector<Detection> seen = {{Box{30, 20, 70, 90}, 0.8f}};
  const std::vector<Detection> nothing;
  auto update = [&](const std::vector<Detection>& found) {
    ASSERT_TRUE(tracker.Update(found, still.motion, still.intra, kW, kH).ok());
  };
  auto carry = [&] {
    ASSERT_TRUE(tracker.Carry(still.motion, still.intra, kW, kH).ok());
  };

  update(seen);
  update(nothing);
  ASSERT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
  EXPECT_EQ(tracker.tracks()[0].missed, 1);
  EXPECT_FALSE(tracker.tracks()[0].detected);
  // Frames the detector skipped count no misses.
  for (int i = 0; i < 5; ++i) carry();
  EXPECT_EQ(tracker.tracks()[0].missed, 1);
  update(nothing);
  EXPECT_EQ(tracker.tracks()[0].missed, 2);
  update(seen);  // back in time: same id, misses forgiven
  ASSERT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
  EXPECT_EQ(tracker.tracks()[0].missed, 0);
  EXPECT_TRUE(tracker.tracks()[0].detected);

  update(nothing);
  update(nothing);
  EXPECT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
  update(nothing);  // the third in a row
  EXPECT_TRUE(tracker.tracks().empty());
  ASSERT_EQ(Ids(tracker.ended()), std::vector<int64_t>{1});
  EXPECT_EQ(tracker.ended()[0].missed, 3);
}

TEST(TrackerTest, DetectionsBelowMinScoreNeitherStartNorKeepTracks) {
  constexpr int64_t kW = 128, kH = 96;
  TrackerOptions options;
  options.min_score = 0.5f;
  options.max_missed = 0;
  Tracker tracker = Make(options);
  const Box box{30, 20, 70, 90};
  auto update = [&](float score) {
    ASSERT_TRUE(
        tracker
            .Update(std::vector<Detection>{{box, score}}, kNone, kNone, kW, kH)
            .ok());
  };
  update(0.49f);
  EXPECT_TRUE(tracker.tracks().empty());
  update(0.5f);  // the threshold itself counts
  ASSERT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
  update(0.2f);  // as if not seen: the track's one allowed miss
  EXPECT_TRUE(tracker.tracks().empty());
  EXPECT_EQ(Ids(tracker.ended()), std::vector<int64_t>{1});
}

TEST(TrackerTest, KeepScoreKeepsATrackGoingButNeverStartsOne) {
  constexpr int64_t kW = 128, kH = 96;
  TrackerOptions options;
  options.min_score = 0.5f;
  options.keep_score = 0.3f;
  options.max_missed = 0;
  Tracker tracker = Make(options);
  const Box box{30, 20, 70, 90};
  const Box elsewhere{80, 10, 120, 60};
  auto update = [&](std::vector<Detection> found) {
    ASSERT_TRUE(tracker.Update(found, kNone, kNone, kW, kH).ok());
  };
  update({{box, 0.4f}});  // under min_score: nobody starts
  EXPECT_TRUE(tracker.tracks().empty());
  update({{box, 0.6f}});
  ASSERT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
  // 0.4 over the track's box keeps it; 0.4 elsewhere starts nobody.
  update({{box, 0.4f}, {elsewhere, 0.4f}});
  ASSERT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
  EXPECT_TRUE(tracker.tracks()[0].detected);
  EXPECT_FLOAT_EQ(tracker.tracks()[0].score, 0.4f);
  update({{box, 0.29f}});  // under keep_score: a miss, and max_missed is 0
  EXPECT_TRUE(tracker.tracks().empty());
}

TEST(TrackerTest, MaxTracksKeepsTheBestAndNeverDisplacesADetectedTrack) {
  constexpr int64_t kW = 256, kH = 96;
  TrackerOptions options;
  options.max_tracks = 2;
  Tracker tracker = Make(options);
  const Box p{10, 10, 50, 90}, q{90, 10, 130, 90}, r{170, 10, 210, 90};
  auto update = [&](const std::vector<Detection>& found) {
    ASSERT_TRUE(tracker.Update(found, kNone, kNone, kW, kH).ok());
  };
  // Three qualify: the two best start, the best first.
  update({{p, 0.6f}, {q, 0.9f}, {r, 0.7f}});
  ASSERT_EQ(Ids(tracker.tracks()), (std::vector<int64_t>{1, 2}));
  ExpectBox(tracker.tracks()[0].box, q, "id 1");
  ExpectBox(tracker.tracks()[1].box, r, "id 2");
  // P now outscores both, but both are in view: it does not start.
  update({{p, 0.99f}, {q, 0.9f}, {r, 0.7f}});
  EXPECT_EQ(Ids(tracker.tracks()), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(tracker.ended().empty());
  // R is not seen: P takes its place, though R could have survived the miss.
  update({{p, 0.5f}, {q, 0.9f}});
  ASSERT_EQ(Ids(tracker.tracks()), (std::vector<int64_t>{1, 3}));
  ExpectBox(tracker.tracks()[1].box, p, "id 3");
  EXPECT_EQ(Ids(tracker.ended()), std::vector<int64_t>{2});
}

TEST(TrackerTest, MatchingMaximisesTotalIouWhereGreedyWouldNot) {
  constexpr int64_t kW = 256, kH = 128;
  // All boxes span y 10..110, so IoU is that of the x intervals.
  const Box t1{20, 10, 120, 110}, t2{70, 10, 170, 110};
  const Box d1{25, 10, 125, 110}, d2{5, 10, 105, 110}, d3{190, 10, 250, 110};
  // IoU   d1     d2     d3
  // t1   0.905  0.739  0
  // t2   0.379  0.212  0      (0.212 < min_iou 0.3: may not match)
  // Greedy takes t1-d1 (0.905) and leaves t2 nothing; the best total is
  // t1-d2 + t2-d1 = 1.118.
  Tracker tracker = Make();
  ASSERT_TRUE(tracker
                  .Update(std::vector<Detection>{{t1, 0.9f}, {t2, 0.8f}}, kNone,
                          kNone, kW, kH)
                  .ok());
  ASSERT_TRUE(
      tracker
          .Update(std::vector<Detection>{{d1, 0.7f}, {d2, 0.6f}, {d3, 0.5f}},
                  kNone, kNone, kW, kH)
          .ok());
  ASSERT_EQ(Ids(tracker.tracks()), (std::vector<int64_t>{1, 2, 3}));
  ExpectBox(tracker.tracks()[0].box, d2, "track 1");
  ExpectBox(tracker.tracks()[1].box, d1, "track 2");
  ExpectBox(tracker.tracks()[2].box, d3, "new track 3");
  EXPECT_EQ(tracker.tracks()[0].score, 0.6f);
  EXPECT_EQ(tracker.tracks()[1].missed, 0);
  EXPECT_EQ(tracker.tracks()[2].first_frame, 1);
}

// Every matching using allowed pairs, the best total by brute force.
double BestTotal(const std::vector<std::vector<float>>& w, float min_weight,
                 size_t row, std::vector<bool>& used) {
  if (row == w.size()) return 0;
  double best = BestTotal(w, min_weight, row + 1, used);  // row left out
  for (size_t c = 0; c < w[row].size(); ++c) {
    if (used[c] || !(w[row][c] >= min_weight && w[row][c] > 0)) continue;
    used[c] = true;
    best = std::max(best, w[row][c] + BestTotal(w, min_weight, row + 1, used));
    used[c] = false;
  }
  return best;
}

TEST(TrackerTest, OptimalMatchingAgreesWithBruteForce) {
  std::mt19937 rng(14);
  std::uniform_int_distribution<int> size(0, 6);
  std::uniform_real_distribution<float> weight(0, 1);
  for (int trial = 0; trial < 300; ++trial) {
    const int rows = size(rng), cols = size(rng);
    std::vector<std::vector<float>> w(rows, std::vector<float>(cols));
    for (auto& row : w) {
      // Many zeros, like the IoUs of boxes far apart.
      for (float& x : row) x = weight(rng) < 0.4f ? 0 : weight(rng);
    }
    const float min_weight = 0.3f;
    const std::vector<int> match = OptimalMatching(w, min_weight);
    ASSERT_EQ(match.size(), static_cast<size_t>(rows));
    std::vector<bool> used(cols, false);
    double total = 0;
    for (int r = 0; r < rows; ++r) {
      if (match[r] < 0) continue;
      ASSERT_LT(match[r], cols);
      ASSERT_FALSE(used[match[r]]) << "column used twice, trial " << trial;
      used[match[r]] = true;
      ASSERT_GE(w[r][match[r]], min_weight) << "trial " << trial;
      total += w[r][match[r]];
    }
    std::vector<bool> scratch(cols, false);
    EXPECT_NEAR(total, BestTotal(w, min_weight, 0, scratch), 1e-5)
        << "trial " << trial << ", " << rows << " x " << cols;
  }
  // Ragged rows and non-finite weights never match.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(OptimalMatching({{nan, 0.5f}, {0.9f}}, 0.3f),
            (std::vector<int>{1, 0}));
}

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

TEST(TrackerTest, OptionsAreValidatedWithTheFieldAndValue) {
  EXPECT_TRUE(TrackerOptions{}.Validate().ok());
  auto message = [](const std::function<void(TrackerOptions&)>& change) {
    TrackerOptions options;
    change(options);
    const absl::StatusOr<Tracker> tracker = Tracker::Create(options);
    EXPECT_EQ(tracker.status().code(), absl::StatusCode::kInvalidArgument);
    return Message(tracker.status());
  };
  EXPECT_EQ(message([](auto& o) { o.min_iou = 1.5f; }),
            "TrackerOptions.min_iou must be in (0, 1], got 1.5");
  EXPECT_EQ(message([](auto& o) { o.min_iou = 0; }),
            "TrackerOptions.min_iou must be in (0, 1], got 0");
  EXPECT_EQ(message([](auto& o) { o.max_tracks = -1; }),
            "TrackerOptions.max_tracks must be >= 0 (0: no limit), got -1");
  EXPECT_EQ(message([](auto& o) { o.max_missed = -2; }),
            "TrackerOptions.max_missed must be >= 0, got -2");
  EXPECT_EQ(message([](auto& o) { o.min_score = NAN; }),
            "TrackerOptions.min_score must be finite, got nan");
  EXPECT_EQ(message([](auto& o) { o.keep_score = 0.4f; }),
            "TrackerOptions.keep_score must be in [0, min_score = 0.3], got "
            "0.4");
  EXPECT_EQ(message([](auto& o) { o.motion.core_fraction = 0; }),
            "TrackerOptions.motion.core_fraction must be positive, got 0");
  EXPECT_EQ(message([](auto& o) { o.motion.min_votes = -1; }),
            "TrackerOptions.motion.min_votes must be >= 0, got -1");
  EXPECT_EQ(message([](auto& o) { o.motion.min_side = 0; }),
            "TrackerOptions.motion.min_side must be positive, got 0");
}

TEST(TrackerTest, BadInputIsAStatusSayingWhatAndWhereAndChangesNothing) {
  constexpr int64_t kW = 128, kH = 96;  // 16 x 12 blocks
  Tracker tracker = Make();
  const Box box{30, 20, 70, 90};
  ASSERT_TRUE(
      tracker.Update(std::vector<Detection>{{box, 0.9f}}, kNone, kNone, kW, kH)
          .ok());
  const Motion good = MotionAt({}, 1, kW, kH);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto update = [&](const std::vector<Detection>& found,
                    const at::Tensor& motion, const at::Tensor& intra,
                    int64_t width) {
    const absl::Status status = tracker.Update(found, motion, intra, width, kH);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    return Message(status);
  };
  const Detection fine{box, 0.9f};
  EXPECT_EQ(update({fine, {Box{nan, 0, 10, 10}, 0.9f}}, kNone, kNone, kW),
            "Tracker::Update, frame 1: detection 1 (nan, 0, 10, 10) is not "
            "finite");
  EXPECT_EQ(update({{Box{10, 10, 10, 20}, 0.9f}}, kNone, kNone, kW),
            "Tracker::Update, frame 1: detection 0 (10, 10, 10, 20) is empty "
            "(x1 < x2 and y1 < y2 needed)");
  EXPECT_EQ(
      update({{Box{0.1f, 0.1f, 0.4f, 0.5f}, 0.9f}}, kNone, kNone, /*width=*/0),
      "Tracker::Update, frame 1: the frame must be at least 1 x 1 "
      "pixels, got 0 x 96");
  EXPECT_EQ(update({{Box{130, 10, 150, 20}, 0.9f}}, kNone, kNone, kW),
            "Tracker::Update, frame 1: detection 0 (130, 10, 150, 20) does "
            "not overlap the 128 x 96 frame");
  EXPECT_EQ(update({{box, nan}}, kNone, kNone, kW),
            "Tracker::Update, frame 1: detection 0 (30, 20, 70, 90) has a "
            "non-finite score");
  EXPECT_EQ(update({fine}, good.motion, kNone, kW),
            "Tracker::Update, frame 1: motion and intra must both be given "
            "or both be undefined (no motion), got only motion");
  EXPECT_EQ(update({fine}, at::zeros({2, 12, 15}), good.intra, kW),
            "Tracker::Update, frame 1: motion must be floating-point [2, 12, "
            "16] (blocks of 128 x 96 pixels), got Float [2, 12, 15]");
  EXPECT_EQ(update({fine}, good.motion, at::zeros({1, 12, 16}), kW),
            "Tracker::Update, frame 1: intra must be bool [1, 12, 16] "
            "(blocks of 128 x 96 pixels), got Float [1, 12, 16]");
  EXPECT_EQ(update({fine}, at::full({2, 12, 16}, INFINITY), good.intra, kW),
            "Tracker::Update, frame 1: motion has non-finite vectors");
  const absl::Status carry =
      tracker.Carry(good.motion, good.intra.squeeze(0), kW, kH);
  EXPECT_EQ(Message(carry),
            "Tracker::Carry, frame 1: intra must be bool [1, 12, 16] (blocks "
            "of 128 x 96 pixels), got Bool [12, 16]");
  EXPECT_EQ(Message(tracker.Carry(kNone, kNone, -5, kH)),
            "Tracker::Carry, frame 1: the frame must be at least 1 x 1 "
            "pixels, got -5 x 96");

  // Nothing moved on.
  EXPECT_EQ(tracker.frame(), 0);
  ASSERT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
  EXPECT_TRUE(tracker.tracks()[0].detected);
  ASSERT_TRUE(
      tracker
          .Update(std::vector<Detection>{fine}, good.motion, good.intra, kW, kH)
          .ok());
  EXPECT_EQ(tracker.frame(), 1);
  EXPECT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
}

TEST(TrackerTest, TracksCarsWithTheSameApi) {
  // Nothing is specific to people: wide car boxes in two lanes, 16 px per
  // frame, a car detector every 3 frames with its own threshold. The first
  // car is half out of the frame when found; its box is carried whole and
  // shown clipped.
  constexpr int64_t kW = 256, kH = 128;
  const Mover east{Box{-16, 40, 32, 60}, 16, 0};
  const Mover west{Box{200, 80, 248, 100}, -16, 0};
  TrackerOptions options;
  options.min_score = 0.6f;
  Tracker cars = Make(options);
  for (int64_t t = 0; t <= 6; ++t) {
    const Motion m = MotionAt({east, west}, t, kW, kH);
    const at::Tensor motion = t == 0 ? kNone : m.motion;
    const at::Tensor intra = t == 0 ? kNone : m.intra;
    const absl::Status status =
        t % 3 == 0
            ? cars.Update(std::vector<Detection>{{At(east, t), 0.8f},
                                                 {At(west, t), 0.7f},
                                                 {Box{100, 0, 140, 20}, 0.4f}},
                          motion, intra, kW, kH)
            : cars.Carry(motion, intra, kW, kH);
    ASSERT_TRUE(status.ok()) << status;
    const std::string what = "frame " + std::to_string(t);
    ASSERT_EQ(Ids(cars.tracks()), (std::vector<int64_t>{1, 2})) << what;
    const Box e = At(east, t);
    ExpectBox(Find(cars, 1)->box, Box{std::max(e.x1, 0.0f), e.y1, e.x2, e.y2},
              "east, " + what);
    ExpectBox(Find(cars, 2)->box, At(west, t), "west, " + what);
  }
}

// A window of `length` frames (`valid` real) whose motion is MotionAt's
// for `movers`; frame 0 an I-frame (every block intra).
GopWindow MoverWindow(const std::vector<Mover>& movers, int64_t first_frame,
                      int64_t length, int64_t valid, int64_t width,
                      int64_t height) {
  GopWindow window;
  window.num_valid = valid;
  const int64_t hb = MotionBlocks(height), wb = MotionBlocks(width);
  window.rgb = at::zeros({length, 3, height, width}, at::kByte);
  window.motion = at::zeros({length, 2, hb, wb}, at::kFloat);
  window.intra = at::zeros({length, 1, hb, wb}, at::kBool);
  window.valid = at::arange(length) < valid;
  for (int64_t t = 0; t < length; ++t) {
    FrameMeta meta;
    meta.index = first_frame + t;
    meta.type = t == 0 ? FrameType::kI : FrameType::kP;
    window.frames.push_back(meta);
    if (t == 0) {
      window.intra[0].fill_(true);
    } else if (t < valid) {
      const Motion m = MotionAt(movers, first_frame + t, width, height);
      window.motion[t].copy_(m.motion);
      window.intra[t].copy_(m.intra);
    }
  }
  return window;
}

TEST(TrackerTest, TrackWindowFollowsEveryTrackThroughAWindow) {
  // Two people 12 frames apart: a window of 6 valid frames (8 with padding)
  // with detections on its keyframe, then a second window where one of them
  // is not detected (a miss, carried on) and walks out of the frame at
  // 5 px per frame.
  constexpr int64_t kW = 128, kH = 96;
  const Mover still{Box{10, 20, 40, 90}, 0, 0};
  const Mover leaving{Box{70, 20, 100, 90}, 5, 0};
  Tracker tracker = Make();
  const GopWindow first = MoverWindow({still, leaving}, 0, 8, 6, kW, kH);
  const std::vector<Detection> found = {{At(still, 0), 0.9f},
                                        {At(leaving, 0), 0.8f}};
  absl::StatusOr<std::vector<WindowTrack>> tracks =
      TrackWindow(tracker, first, found);
  ASSERT_TRUE(tracks.ok()) << tracks.status();
  ASSERT_EQ(tracks->size(), 2u);
  const WindowTrack& a = (*tracks)[0];
  const WindowTrack& b = (*tracks)[1];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(b.id, 2);
  EXPECT_FLOAT_EQ(a.score, 0.9f);
  for (int64_t t = 0; t < 8; ++t) {
    SCOPED_TRACE(t);
    EXPECT_EQ(a.detected[t], t == 0);
    ASSERT_EQ(b.boxes[t].has_value(), t < 6);  // padding has no box
    if (t < 6) ExpectBox(*b.boxes[t], At(leaving, t), "b");
  }
  ExpectBox(b.extent, Box{70, 20, 125, 90}, "extent");

  // Frame 6 is the next window's keyframe: only `still` is detected.
  GopWindow second = MoverWindow({still, leaving}, 6, 6, 6, kW, kH);
  second.intra[0].fill_(false);
  second.motion[0].copy_(MotionAt({still, leaving}, 6, kW, kH).motion);
  tracks = TrackWindow(tracker, second, std::vector<Detection>{found[0]});
  ASSERT_TRUE(tracks.ok()) << tracks.status();
  ASSERT_EQ(tracks->size(), 2u);
  const WindowTrack& going = (*tracks)[1];
  EXPECT_FALSE(going.detected[0]);  // missed, carried on
  // x1 = 70 + 5 t: in frame 11 only [125, 128) is inside the frame.
  ASSERT_TRUE(going.boxes[5].has_value());
  ExpectBox(*going.boxes[5], Box{125, 20, 128, 90}, "clipped");
  EXPECT_EQ(tracker.tracks().size(), 2u);

  GopWindow third = MoverWindow({still, leaving}, 12, 4, 4, kW, kH);
  third.intra[0].fill_(false);
  third.motion[0].copy_(MotionAt({still, leaving}, 12, kW, kH).motion);
  tracks = TrackWindow(tracker, third, std::vector<Detection>{found[0]});
  ASSERT_TRUE(tracks.ok()) << tracks.status();
  // In frame 12 (x1 = 130) the second has left: not in this window at all.
  ASSERT_EQ(tracks->size(), 1u);
  EXPECT_EQ((*tracks)[0].id, 1);
  EXPECT_EQ(Ids(tracker.tracks()), std::vector<int64_t>{1});
}

TEST(TrackerTest, TrackWindowWithoutMotionKeepsBoxesInPlace) {
  // A decode-only window (no motion tensors): boxes are found and stay.
  constexpr int64_t kW = 128, kH = 96;
  GopWindow window = MoverWindow({}, 0, 4, 4, kW, kH);
  window.motion = at::Tensor();
  window.intra = at::Tensor();
  Tracker tracker = Make();
  const Box box{10, 20, 40, 90};
  const absl::StatusOr<std::vector<WindowTrack>> tracks =
      TrackWindow(tracker, window, std::vector<Detection>{{box, 0.9f}});
  ASSERT_TRUE(tracks.ok()) << tracks.status();
  ASSERT_EQ(tracks->size(), 1u);
  for (int64_t t = 0; t < 4; ++t) {
    ASSERT_TRUE((*tracks)[0].boxes[t].has_value()) << t;
    ExpectBox(*(*tracks)[0].boxes[t], box, "still");
  }
}

}  // namespace
}  // namespace mapn::track
