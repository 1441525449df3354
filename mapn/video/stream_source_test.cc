// The StreamSource concept (compile-time conformance, near misses), the
// windowing rules of WindowAssembler, InMemoryStreamSource, and the buffer
// pool; no FFmpeg involved.
#include "mapn/video/stream_source.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/in_memory_stream_source.h"
#include "mapn/video/tensor_pool.h"
#include "mapn/video/window_assembler.h"

namespace mapn {
namespace {

// Requirement 1: Next() must return exactly StatusOr<optional<GopWindow>>.
struct NextWithoutOptional {
  absl::StatusOr<GopWindow> Next();
  const StreamInfo& info() const;
  int64_t window_length() const;
};
// Requirement 2: info() must return a const reference.
struct InfoByValue {
  absl::StatusOr<std::optional<GopWindow>> Next();
  StreamInfo info() const;
  int64_t window_length() const;
};
// Requirement 2: info() must be callable on a const source.
struct InfoNotConst {
  absl::StatusOr<std::optional<GopWindow>> Next();
  const StreamInfo& info();
  int64_t window_length() const;
};
// Requirement 3: window_length() must be integral.
struct FloatWindowLength {
  absl::StatusOr<std::optional<GopWindow>> Next();
  const StreamInfo& info() const;
  double window_length() const;
};
// Requirement 3: a window length is needed at all.
struct NoWindowLength {
  absl::StatusOr<std::optional<GopWindow>> Next();
  const StreamInfo& info() const;
};
// Requirement 4: movable.
struct Pinned {
  Pinned() = default;
  Pinned(Pinned&&) = delete;
  absl::StatusOr<std::optional<GopWindow>> Next();
  const StreamInfo& info() const;
  int64_t window_length() const;
};
// All four: a minimal conforming source.
struct Minimal {
  absl::StatusOr<std::optional<GopWindow>> Next();
  const StreamInfo& info() const;
  int window_length() const;
};

static_assert(StreamSource<FfmpegStreamSource>);
static_assert(StreamSource<InMemoryStreamSource>);
static_assert(StreamSource<Minimal>);
static_assert(!StreamSource<NextWithoutOptional>);
static_assert(!StreamSource<InfoByValue>);
static_assert(!StreamSource<InfoNotConst>);
static_assert(!StreamSource<FloatWindowLength>);
static_assert(!StreamSource<NoWindowLength>);
static_assert(!StreamSource<Pinned>);
static_assert(!StreamSource<int>);

// A function template written against the concept, as pipelines are.
template <StreamSource S>
absl::StatusOr<std::vector<GopWindow>> Drain(S& source) {
  std::vector<GopWindow> out;
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> w = source.Next();
    if (!w.ok()) return w.status();
    if (!*w) return out;
    out.push_back(**w);
  }
}

// Frames whose pixel value is the frame index, so windows can be traced.
InMemoryFrames CountingFrames(const std::vector<FrameType>& types, int h = 4,
                              int w = 6) {
  const int64_t n = static_cast<int64_t>(types.size());
  InMemoryFrames f;
  f.rgb = at::arange(n, at::kByte)
              .view({n, 1, 1, 1})
              .expand({n, 3, h, w})
              .contiguous();
  f.types = types;
  f.frame_rate = 10.0;
  return f;
}

std::vector<FrameType> Gops(std::vector<int> lengths) {
  std::vector<FrameType> types;
  for (int len : lengths) {
    types.push_back(FrameType::kI);
    for (int i = 1; i < len; ++i) types.push_back(FrameType::kP);
  }
  return types;
}

TEST(WindowingTest, WindowsStartAtIFramesAndArePadded) {
  // GOPs of 12, 7 (a scene cut) and 12, window 12.
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(CountingFrames(Gops({12, 7, 12})), 12);
  ASSERT_TRUE(source.ok()) << source.status();
  absl::StatusOr<std::vector<GopWindow>> windows = Drain(*source);
  ASSERT_TRUE(windows.ok());
  ASSERT_EQ(windows->size(), 3u);
  const std::vector<int64_t> starts = {0, 12, 19}, valid = {12, 7, 12};
  for (size_t i = 0; i < 3; ++i) {
    const GopWindow& w = (*windows)[i];
    EXPECT_EQ(w.window_index, static_cast<int64_t>(i));
    EXPECT_EQ(w.window_in_gop, 0);
    EXPECT_EQ(w.length(), 12);
    EXPECT_EQ(w.num_valid, valid[i]);
    EXPECT_EQ(w.frames[0].index, starts[i]);
    EXPECT_EQ(w.frames[0].type, FrameType::kI);
    EXPECT_TRUE(w.frames[0].starts_gop);
    EXPECT_EQ(w.rgb[0][0][0][0].item<uint8_t>(), starts[i]);
    EXPECT_EQ(w.valid.sum().item<int64_t>(), valid[i]);
    for (int64_t t = w.num_valid; t < 12; ++t) {
      EXPECT_EQ(w.frames[static_cast<size_t>(t)].type, FrameType::kPadding);
      EXPECT_EQ(w.frames[static_cast<size_t>(t)].index, -1);
      EXPECT_FALSE(w.valid[t].item<bool>());
      EXPECT_EQ(w.rgb[t].sum().item<int64_t>(), 0);
      EXPECT_EQ(w.intra[t].sum().item<int64_t>(), 0);
      EXPECT_EQ(w.residual_y[t].abs().sum().item<int64_t>(), 0);
      EXPECT_EQ(w.residual_uv[t].abs().sum().item<int64_t>(), 0);
    }
  }
  // Timestamps follow the index.
  EXPECT_DOUBLE_EQ((*windows)[1].frames[3].timestamp_s, 1.5);
}

TEST(WindowingTest, LongGopsAreSplitIntoContinuationWindows) {
  // One GOP of 30 frames, window 12: 12 + 12 + 6 (+ 6 padding).
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(CountingFrames(Gops({30, 2})), 12);
  ASSERT_TRUE(source.ok());
  absl::StatusOr<std::vector<GopWindow>> windows = Drain(*source);
  ASSERT_TRUE(windows.ok());
  ASSERT_EQ(windows->size(), 4u);
  EXPECT_EQ((*windows)[1].window_in_gop, 1);
  EXPECT_EQ((*windows)[1].frames[0].type, FrameType::kP);
  EXPECT_FALSE((*windows)[1].frames[0].starts_gop);
  EXPECT_EQ((*windows)[1].frames[0].index, 12);
  EXPECT_EQ((*windows)[2].window_in_gop, 2);
  EXPECT_EQ((*windows)[2].num_valid, 6);
  EXPECT_EQ((*windows)[3].window_in_gop, 0);
  EXPECT_EQ((*windows)[3].num_valid, 2);
  EXPECT_EQ((*windows)[3].frames[0].index, 30);
}

TEST(WindowingTest, WindowLengthOneAndExactFits) {
  absl::StatusOr<InMemoryStreamSource> ones =
      InMemoryStreamSource::FromFrames(CountingFrames(Gops({3})), 1);
  ASSERT_TRUE(ones.ok());
  absl::StatusOr<std::vector<GopWindow>> w1 = Drain(*ones);
  ASSERT_EQ(w1->size(), 3u);
  EXPECT_EQ((*w1)[2].window_in_gop, 2);
  absl::StatusOr<InMemoryStreamSource> exact =
      InMemoryStreamSource::FromFrames(CountingFrames(Gops({4, 4})), 4);
  absl::StatusOr<std::vector<GopWindow>> w4 = Drain(*exact);
  ASSERT_EQ(w4->size(), 2u);
  EXPECT_EQ((*w4)[1].num_valid, 4);
}

TEST(InMemoryTest, ResidualFollowsTheMotionAndIFramesHaveNone) {
  // Frame 1 is frame 0 shifted right by 2 (one chroma sample): motion
  // (-2, 0) predicts it in every plane, except the first chroma column,
  // whose 2x2 block mixes the replicated edge.
  const int64_t h = 4, w = 8;
  at::Tensor rgb = at::zeros({2, 3, h, w}, at::kByte);
  for (int64_t x = 0; x < w; ++x) {
    for (int64_t f = 0; f < 2; ++f) {
      const int64_t sx = f == 0 ? x : std::max<int64_t>(0, x - 2);
      rgb[f][0].select(1, x).fill_(static_cast<int>(10 * sx));
      rgb[f][1].select(1, x).fill_(static_cast<int>(5 * sx + 20));
      rgb[f][2].select(1, x).fill_(static_cast<int>(100 - 3 * sx));
    }
  }
  InMemoryFrames frames;
  frames.rgb = rgb;
  frames.types = {FrameType::kI, FrameType::kP};
  frames.motion = at::zeros({2, 2, 1, 1}, at::kFloat);  // one 8x8 block
  frames.motion.select(0, 1).select(0, 0).fill_(-2.0f);
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(frames, 2);
  ASSERT_TRUE(source.ok()) << source.status();
  absl::StatusOr<std::optional<GopWindow>> window = source->Next();
  ASSERT_TRUE(window.ok() && window->has_value());
  const GopWindow& g = **window;
  EXPECT_EQ(g.residual_y.scalar_type(), at::kShort);
  EXPECT_EQ(g.residual_uv.sizes(), (std::vector<int64_t>{2, 2, 2, 4}));
  EXPECT_EQ(g.residual_y[1].abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(g.residual_uv[1].slice(2, 1).abs().sum().item<int64_t>(), 0);
  EXPECT_GT(g.residual_uv[1].abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(DenseResidual(g, 0).abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(g.rgb.equal(rgb));
  EXPECT_TRUE(g.intra[0].all().item<bool>());
  EXPECT_FALSE(g.intra[1].any().item<bool>());
  EXPECT_FLOAT_EQ(g.motion[1][0][0][0].item<float>(), -2.0f);
  // Without motion the residual of grey frames is the grey-level
  // difference in every channel (full-range BT.601: Y = grey, no chroma).
  frames.rgb = rgb.select(1, 0).unsqueeze(1).expand({2, 3, h, w}).contiguous();
  frames.motion = at::Tensor();
  absl::StatusOr<InMemoryStreamSource> still =
      InMemoryStreamSource::FromFrames(frames, 2);
  absl::StatusOr<std::optional<GopWindow>> w2 = still->Next();
  const at::Tensor dense = DenseResidual(**w2, 1);
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(dense[c][0][4].item<float>(), 20.0f - 40.0f);
  }
  EXPECT_EQ((*w2)->residual_uv.abs().sum().item<int64_t>(), 0);
  EXPECT_FALSE(still->Next()->has_value());
  EXPECT_FALSE(still->Next()->has_value());  // and on every later call
}

TEST(InMemoryTest, ResidualOfEachPixelUsesItsBlockAndIsRounded) {
  // 16 x 8 frames, two blocks: frame 1 is frame 0 brightened by 2 on the
  // left block and by 3 on the right; the left block's vector is (-0.5, 0).
  const int64_t h = 8, w = 16;
  at::Tensor rgb = at::zeros({2, 3, h, w}, at::kByte);
  for (int64_t x = 0; x < w; ++x) {
    rgb.select(0, 0).select(2, x).fill_(static_cast<int>(x));
    rgb.select(0, 1).select(2, x).fill_(static_cast<int>(x + (x < 8 ? 2 : 3)));
  }
  InMemoryFrames frames;
  frames.rgb = rgb;
  frames.types = {FrameType::kI, FrameType::kP};
  frames.motion = at::zeros({2, 2, 1, 2}, at::kFloat);
  frames.motion[1][0][0][0] = -0.5f;
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(frames, 2);
  ASSERT_TRUE(source.ok()) << source.status();
  const GopWindow g = **source->Next();
  // Left: (x + 2) - (x - 0.5) = 2.5, rounded to even: 2. Right, no motion:
  // 3 everywhere, including x = 8, whose left neighbour moved.
  EXPECT_EQ(g.residual_y[1][0][4][5].item<int16_t>(), 2);
  EXPECT_EQ(g.residual_y[1][0][4][7].item<int16_t>(), 2);
  EXPECT_EQ(g.residual_y[1][0][4][8].item<int16_t>(), 3);
  EXPECT_EQ(g.residual_y[1][0][4][15].item<int16_t>(), 3);
  // Edge replication at x = 0: prediction 0, residual 2.
  EXPECT_EQ(g.residual_y[1][0][4][0].item<int16_t>(), 2);
  // The per-pixel view of the block field.
  const at::Tensor dense = DenseMotion(g, 1);
  EXPECT_EQ(dense.sizes(), (std::vector<int64_t>{2, h, w}));
  EXPECT_FLOAT_EQ(dense[0][7][7].item<float>(), -0.5f);
  EXPECT_FLOAT_EQ(dense[0][0][8].item<float>(), 0.0f);
  EXPECT_EQ(DenseIntra(g, 0).sizes(), (std::vector<int64_t>{1, h, w}));
  EXPECT_TRUE(DenseIntra(g, 0).all().item<bool>());
}

TEST(InMemoryTest, RejectsInconsistentInput) {
  InMemoryFrames bad = CountingFrames(Gops({3}));
  bad.types[0] = FrameType::kP;
  EXPECT_FALSE(InMemoryStreamSource::FromFrames(bad, 12).ok());
  InMemoryFrames b_frames = CountingFrames(Gops({3}));
  b_frames.types[1] = FrameType::kB;
  EXPECT_FALSE(InMemoryStreamSource::FromFrames(b_frames, 12).ok());
  InMemoryFrames short_types = CountingFrames(Gops({3}));
  short_types.types.pop_back();
  EXPECT_FALSE(InMemoryStreamSource::FromFrames(short_types, 12).ok());
  InMemoryFrames bad_motion = CountingFrames(Gops({3}));
  bad_motion.motion = at::zeros({3, 2, 5, 6}, at::kFloat);
  EXPECT_FALSE(InMemoryStreamSource::FromFrames(bad_motion, 12).ok());
  // The per-pixel layout of the frames (4 x 6) is not the block grid.
  bad_motion.motion = at::zeros({3, 2, 4, 6}, at::kFloat);
  const absl::Status dense =
      InMemoryStreamSource::FromFrames(bad_motion, 12).status();
  EXPECT_FALSE(dense.ok());
  EXPECT_NE(dense.message().find("8x8 block"), std::string::npos) << dense;
  bad_motion.motion = at::zeros({3, 2, 1, 1}, at::kFloat);
  EXPECT_TRUE(InMemoryStreamSource::FromFrames(bad_motion, 12).ok());
  InMemoryFrames bad_intra = CountingFrames(Gops({3}));
  bad_intra.intra = at::zeros({3, 1, 4, 6}, at::kBool);
  EXPECT_FALSE(InMemoryStreamSource::FromFrames(bad_intra, 12).ok());
  EXPECT_FALSE(
      InMemoryStreamSource::FromFrames(CountingFrames(Gops({3})), 0).ok());

  absl::StatusOr<InMemoryStreamSource> good =
      InMemoryStreamSource::FromFrames(CountingFrames(Gops({3, 3})), 4);
  std::vector<GopWindow> windows = *Drain(*good);
  EXPECT_TRUE(InMemoryStreamSource::FromWindows({}, windows).ok());
  std::vector<GopWindow> float_residual = windows;
  float_residual[0].residual_y = float_residual[0].residual_y.to(at::kFloat);
  EXPECT_FALSE(InMemoryStreamSource::FromWindows({}, float_residual).ok());
  windows[1].motion = at::Tensor();
  absl::StatusOr<InMemoryStreamSource> broken =
      InMemoryStreamSource::FromWindows({}, windows);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("window 1"), std::string::npos);
}

TEST(WindowAssemblerTest, DiscardDropsTheWindowAndReusesItsIndex) {
  WindowAssembler assembler(3, 2, 2);
  FrameMeta i{0, FrameType::kI, 0.0, true};
  FrameMeta p{1, FrameType::kP, 0.1, false};
  EXPECT_FALSE(assembler.Add(i).has_value());
  EXPECT_FALSE(assembler.Add(p).has_value());
  assembler.Discard();
  i.index = 5;
  EXPECT_FALSE(assembler.Add(i).has_value());
  std::optional<GopWindow> last = assembler.Finish();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->window_index, 0);
  EXPECT_EQ(last->frames[0].index, 5);
  EXPECT_EQ(last->num_valid, 1);
  EXPECT_FALSE(assembler.Finish().has_value());
}

TEST(WindowAssemblerTest, DecodeOnlyWindowsCarryFramesOnly) {
  WindowAssembler assembler(2, 2, 2, WindowContents{false, false});
  assembler.Add(FrameMeta{0, FrameType::kI, 0.0, true});
  assembler.FillNoMotion(true);
  std::optional<GopWindow> w = assembler.Finish();
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(w->rgb.defined());
  EXPECT_FALSE(w->motion.defined());
  EXPECT_FALSE(w->intra.defined());
  EXPECT_FALSE(w->has_residual());
}

TEST(TensorPoolTest, ReusesBuffersOnlyAfterTheyAreReleased) {
  TensorPool pool(1 << 20);
  void* first = nullptr;
  {
    at::Tensor a = pool.Empty({4, 1000}, at::kFloat);
    first = a.data_ptr();
    at::Tensor b = pool.Empty({4, 1000}, at::kFloat);
    EXPECT_NE(b.data_ptr(), first);  // `a` is still alive
  }
  EXPECT_EQ(pool.cached_bytes(), 2u * 16000u);
  at::Tensor c = pool.Empty({16000}, at::kByte);  // same byte size
  EXPECT_TRUE(c.data_ptr() == first || pool.cached_bytes() == 16000u);
  // Beyond the limit buffers are freed rather than cached.
  TensorPool tiny(100);
  { at::Tensor big = tiny.Empty({1000}, at::kByte); }
  EXPECT_EQ(tiny.cached_bytes(), 0u);
  pool.Release();
  EXPECT_EQ(pool.cached_bytes(), 0u);
}

}  // namespace
}  // namespace mapn
