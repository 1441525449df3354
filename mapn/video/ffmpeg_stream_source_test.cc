// FfmpegStreamSource on clips the test encodes itself with libavcodec:
// known sub-pixel motion, static scenes, GOP layouts, containers, the codecs
// and streams it refuses, and every kind of bad input.
#include "mapn/video/ffmpeg_stream_source.h"

#include <ATen/ops/zeros.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapn/video/ffmpeg_decoder.h"
#include "mapn/video/mpeg4_headers.h"
#include "mapn/video/test_clips.h"

namespace mapn {
namespace {

using testing::ClipSpec;
using testing::H264Options;
using testing::MakeFrames;
using testing::Mpeg4Options;
using testing::TestPath;
using testing::WriteClip;

struct ReadResult {
  std::vector<GopWindow> windows;
  std::vector<std::vector<std::vector<MotionVector>>> vectors;  // per window
  FfmpegStreamSource::Stats stats;
  absl::Status status;  // the first error, if any
};

ReadResult ReadAll(const std::string& path,
                   FfmpegStreamSourceOptions options = {}) {
  ReadResult r;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(path, options);
  if (!source.ok()) {
    r.status = source.status();
    return r;
  }
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> w = source->Next();
    if (!w.ok()) {
      r.status = w.status();
      break;
    }
    if (!*w) break;
    r.windows.push_back(**w);
    r.vectors.push_back(source->window_motion_vectors());
  }
  r.stats = source->stats();
  return r;
}

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

// A clip made once per test binary.
std::string MovingClip(const std::string& name, float dx, float dy,
                       const VideoWriterOptions& options, int frames = 24,
                       int width = 128, int height = 96) {
  const std::string path = TestPath(name);
  ClipSpec spec;
  spec.width = width;
  spec.height = height;
  spec.frames = frames;
  spec.dx = dx;
  spec.dy = dy;
  const absl::Status s = WriteClip(path, MakeFrames(spec), options);
  EXPECT_TRUE(s.ok()) << s;
  return path;
}

// Fraction of inter blocks (past-reference vectors) whose vector is within
// 0.5 px of (ex, ey).
double FractionNear(const ReadResult& r, float ex, float ey, int64_t* blocks) {
  int64_t good = 0, n = 0;
  for (size_t w = 0; w < r.windows.size(); ++w) {
    for (const auto& frame_vectors : r.vectors[w]) {
      for (const MotionVector& mv : frame_vectors) {
        if (mv.source >= 0) continue;
        ++n;
        if (std::fabs(mv.dx() - ex) <= 0.5f && std::fabs(mv.dy() - ey) <= 0.5f)
          ++good;
      }
    }
  }
  *blocks = n;
  return n > 0 ? static_cast<double>(good) / static_cast<double>(n) : 0.0;
}

// Every window's block grid holds exactly its raw vectors (with the
// reader's refusal of off-grid blocks, the losslessness of gop.h's block
// layout). Returns the number of vectors checked.
int64_t ExpectBlocksCarryTheVectors(const ReadResult& r) {
  int64_t checked = 0;
  for (size_t k = 0; k < r.windows.size(); ++k) {
    absl::StatusOr<int64_t> n =
        testing::CheckBlockMotion(r.windows[k], r.vectors[k]);
    EXPECT_TRUE(n.ok()) << "window " << k << ": " << n.status();
    if (n.ok()) checked += *n;
  }
  return checked;
}

FfmpegStreamSourceOptions KeepVectors() {
  FfmpegStreamSourceOptions o;
  o.keep_motion_vectors = true;
  return o;
}

TEST(MotionTest, Mpeg4RecoversSubPixelTranslation) {
  // The pattern moves (+1.5, -0.5) px per frame, so every pixel is
  // predicted from (-1.5, +0.5) away: half-pel vectors.
  const std::string path =
      MovingClip("move_mpeg4.mp4", 1.5f, -0.5f, Mpeg4Options());
  const ReadResult r = ReadAll(path, KeepVectors());
  ASSERT_TRUE(r.status.ok()) << r.status;
  int64_t blocks = 0;
  EXPECT_GE(FractionNear(r, -1.5f, 0.5f, &blocks), 0.9);
  EXPECT_GT(blocks, 500);
  // The block grid carries the raw vectors, every one of them.
  EXPECT_GT(ExpectBlocksCarryTheVectors(r), 500);
  // And a consumer that wants a per-pixel field gets the block's vector at
  // every pixel of the block.
  const GopWindow& w = r.windows[0];
  const MotionVector& mv = r.vectors[0][1][10];
  const at::Tensor dense = DenseMotion(w, 1);
  for (int y = mv.dst_y - mv.h / 2; y < mv.dst_y + mv.h / 2; y += 3) {
    for (int x = mv.dst_x - mv.w / 2; x < mv.dst_x + mv.w / 2; x += 3) {
      EXPECT_FLOAT_EQ(dense[0][y][x].item<float>(), mv.dx());
      EXPECT_FLOAT_EQ(dense[1][y][x].item<float>(), mv.dy());
      EXPECT_FALSE(DenseIntra(w, 1)[0][y][x].item<bool>());
    }
  }
}

TEST(MotionTest, FourVectorMacroblocksAreKeptPerBlock) {
  // MPEG-4 "4MV" macroblocks: four 8x8 vectors each.
  VideoWriterOptions four_mv = Mpeg4Options();
  four_mv.codec_options["flags"] = "+mv4";
  const std::string path =
      MovingClip("blocks_4mv.mp4", -0.5f, 1.25f, four_mv, 16, 120, 88);
  const ReadResult r = ReadAll(path, KeepVectors());
  ASSERT_TRUE(r.status.ok()) << r.status;
  int64_t small = 0;
  for (const auto& window : r.vectors) {
    for (const auto& frame : window) {
      for (const MotionVector& mv : frame) small += mv.w == 8;
    }
  }
  EXPECT_GT(small, 0);
  EXPECT_GT(ExpectBlocksCarryTheVectors(r), 0);
}

TEST(MotionTest, H264RecoversQuarterPixelTranslation) {
  const std::string path =
      MovingClip("move_h264.mp4", 0.75f, 1.25f, H264Options());
  const ReadResult r = ReadAll(path, KeepVectors());
  ASSERT_TRUE(r.status.ok()) << r.status;
  int64_t blocks = 0;
  EXPECT_GE(FractionNear(r, -0.75f, -1.25f, &blocks), 0.9);
  EXPECT_GT(blocks, 500);
  // Sub-pel precision is kept: quarter-pel values appear in the field.
  const float v = r.windows[0].motion[2][0][6][8].item<float>();
  EXPECT_NE(v, std::round(v));
  EXPECT_GT(ExpectBlocksCarryTheVectors(r), 500);
}

double MeanAbsResidual(const ReadResult& r) {
  double sum = 0;
  int64_t n = 0;
  for (const GopWindow& w : r.windows) {
    for (int64_t t = 0; t < w.num_valid; ++t) {
      if (w.frames[static_cast<size_t>(t)].type != FrameType::kP) continue;
      const at::Tensor residual = DenseResidual(w, t);  // RGB grey levels
      sum += residual.abs().sum().item<double>();
      n += residual.numel();
    }
  }
  return n > 0 ? sum / static_cast<double>(n) : -1;
}

TEST(ResidualTest, StaticSceneHasAlmostNoResidual) {
  for (const auto& [name, options] :
       {std::pair<std::string, VideoWriterOptions>{"static_mpeg4.mp4",
                                                   Mpeg4Options()},
        std::pair<std::string, VideoWriterOptions>{"static_h264.mp4",
                                                   H264Options()}}) {
    const ReadResult r = ReadAll(MovingClip(name, 0, 0, options));
    ASSERT_TRUE(r.status.ok()) << r.status;
    const double mean = MeanAbsResidual(r);
    EXPECT_GE(mean, 0.0) << name;
    EXPECT_LT(mean, 1.0) << name;
  }
}

// Fraction of inter (non-intra) pixels of P-frames whose residual is
// exactly zero in R, G and B.
double ExactFraction(const ReadResult& r) {
  int64_t zero = 0, n = 0;
  for (const GopWindow& w : r.windows) {
    for (int64_t t = 0; t < w.num_valid; ++t) {
      if (w.frames[static_cast<size_t>(t)].type != FrameType::kP) continue;
      const at::Tensor inter = DenseIntra(w, t).logical_not().squeeze(0);
      zero += DenseResidual(w, t)
                  .eq(0)
                  .all(0)
                  .logical_and(inter)
                  .sum()
                  .item<int64_t>();
      n += inter.sum().item<int64_t>();
    }
  }
  return n > 0 ? static_cast<double>(zero) / static_cast<double>(n) : 0.0;
}

TEST(ResidualTest, Mpeg4MotionCompensationIsBitExact) {
  // Decoding without the coded residual makes every inter block exactly
  // the decoder's prediction, so an exact MC leaves no residual at all.
  // With four-vector macroblocks (+mv4) the chroma rounding is exercised.
  VideoWriterOptions four_mv = Mpeg4Options();
  four_mv.codec_options["flags"] = "+mv4";
  for (const std::string& path :
       {MovingClip("exact_mpeg4.mp4", 1.5f, -0.75f, Mpeg4Options()),
        MovingClip("exact_mpeg4_4mv.mp4", -0.5f, 1.25f, four_mv, 16)}) {
    FfmpegStreamSourceOptions o;
    o.prediction_only = true;
    const ReadResult exact = ReadAll(path, o);
    ASSERT_TRUE(exact.status.ok()) << exact.status;
    EXPECT_EQ(ExactFraction(exact), 1.0) << path;
    // Not vacuous: a bilinear MC of the same vectors is not exact.
    o.mc_filter = McFilter::kBilinear;
    EXPECT_LT(ExactFraction(ReadAll(path, o)), 0.5) << path;
  }
}

TEST(ResidualTest, H264MotionCompensationMatchesUncodedBlocks) {
  // FFmpeg cannot skip H.264 residuals, so: a coarse quantiser without
  // deblocking leaves most blocks uncoded, where the decoded frame is the
  // prediction itself; the exact filters must find those, a bilinear
  // filter mostly does not.
  VideoWriterOptions coarse = H264Options();
  coarse.codec_options.erase("crf");
  coarse.codec_options["x264-params"] =
      "qp=40:no-deblock=1:ref=1:weightp=0:threads=1";
  const std::string path = MovingClip("coarse_h264.mp4", 0.75f, 1.25f, coarse);
  const ReadResult exact = ReadAll(path);
  ASSERT_TRUE(exact.status.ok()) << exact.status;
  FfmpegStreamSourceOptions o;
  o.mc_filter = McFilter::kBilinear;
  const double h264 = ExactFraction(exact),
               bilinear = ExactFraction(ReadAll(path, o));
  EXPECT_GT(h264, 0.7);
  EXPECT_GT(h264, bilinear + 0.2);
}

TEST(LayoutTest, GopsWindowsAndPadding) {
  // 30 frames, GOP 12, window 12: I at 0, 12, 24; the last window padded.
  const std::string path =
      MovingClip("layout.mp4", 1, 0, Mpeg4Options(), 30, 64, 48);
  const ReadResult r = ReadAll(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.windows.size(), 3u);
  EXPECT_EQ(r.stats.frames_decoded, 30);  // one pass: each frame once
  EXPECT_EQ(r.stats.windows, 3);
  for (size_t i = 0; i < 3; ++i) {
    const GopWindow& w = r.windows[i];
    EXPECT_EQ(w.window_index, static_cast<int64_t>(i));
    EXPECT_EQ(w.window_in_gop, 0);
    EXPECT_EQ(w.rgb.sizes(), (std::vector<int64_t>{12, 3, 48, 64}));
    EXPECT_EQ(w.motion.sizes(), (std::vector<int64_t>{12, 2, 6, 8}));
    EXPECT_EQ(w.intra.sizes(), (std::vector<int64_t>{12, 1, 6, 8}));
    EXPECT_EQ(w.residual_y.sizes(), (std::vector<int64_t>{12, 1, 48, 64}));
    EXPECT_EQ(w.residual_uv.sizes(), (std::vector<int64_t>{12, 2, 24, 32}));
    EXPECT_EQ(w.motion.scalar_type(), at::kFloat);
    EXPECT_EQ(w.intra.scalar_type(), at::kBool);
    EXPECT_EQ(w.residual_y.scalar_type(), at::kShort);
    EXPECT_EQ(w.residual_uv.scalar_type(), at::kShort);
    EXPECT_FALSE(w.frames[0].color.bt709);  // FFmpeg's encoder: BT.601
    EXPECT_FALSE(w.frames[0].color.full_range);
    EXPECT_EQ(w.frames[0].type, FrameType::kI);
    EXPECT_TRUE(w.frames[0].starts_gop);
    EXPECT_EQ(w.frames[0].index, static_cast<int64_t>(12 * i));
    EXPECT_NEAR(w.frames[0].timestamp_s, 12.0 * i / 25.0, 1e-6);
    // I-frame: no motion, no residual, all intra.
    EXPECT_EQ(w.motion[0].abs().sum().item<float>(), 0.0f);
    EXPECT_EQ(w.residual_y[0].abs().sum().item<int64_t>(), 0);
    EXPECT_EQ(w.residual_uv[0].abs().sum().item<int64_t>(), 0);
    EXPECT_TRUE(w.intra[0].all().item<bool>());
    for (int64_t t = 1; t < w.num_valid; ++t) {
      EXPECT_EQ(w.frames[static_cast<size_t>(t)].type, FrameType::kP);
      EXPECT_GT(w.motion[t].abs().sum().item<float>(), 0.0f);
    }
  }
  EXPECT_EQ(r.windows[2].num_valid, 6);
  EXPECT_EQ(r.windows[2].valid.sum().item<int64_t>(), 6);
  for (int64_t t = 6; t < 12; ++t) {
    EXPECT_EQ(r.windows[2].frames[static_cast<size_t>(t)].type,
              FrameType::kPadding);
    EXPECT_EQ(r.windows[2].rgb[t].sum().item<int64_t>(), 0);
    EXPECT_FALSE(r.windows[2].intra[t].any().item<bool>());
  }
}

TEST(LayoutTest, RgbMatchesTheEncodedFrames) {
  ClipSpec spec;
  spec.width = 64;
  spec.height = 48;
  spec.frames = 3;
  const at::Tensor frames = MakeFrames(spec);
  const std::string path = TestPath("colours.mp4");
  ASSERT_TRUE(WriteClip(path, frames, Mpeg4Options()).ok());
  const ReadResult r = ReadAll(path);
  ASSERT_TRUE(r.status.ok());
  const at::Tensor decoded = r.windows[0].rgb.narrow(0, 0, 3).to(at::kFloat);
  // Channel order and colour matrix: the round trip through 4:2:0 at q 1
  // is close per channel.
  for (int c = 0; c < 3; ++c) {
    const double err = decoded.select(1, c)
                           .sub(frames.select(1, c).to(at::kFloat))
                           .abs()
                           .mean()
                           .item<double>();
    EXPECT_LT(err, 6.0) << "channel " << c;
  }
}

TEST(LayoutTest, LongGopsBecomeContinuationWindows) {
  // H.264 with a 250-frame key interval (its default): 40 frames in one GOP.
  const std::string path =
      MovingClip("long_gop_h264.mkv", 1, 0.5f, H264Options(250), 40, 64, 48);
  const ReadResult r = ReadAll(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.windows.size(), 4u);
  EXPECT_EQ(r.windows[0].frames[0].type, FrameType::kI);
  for (int i = 1; i < 4; ++i) {
    const GopWindow& w = r.windows[static_cast<size_t>(i)];
    EXPECT_EQ(w.window_in_gop, i);
    EXPECT_EQ(w.frames[0].type, FrameType::kP);
    EXPECT_FALSE(w.frames[0].starts_gop);
    EXPECT_EQ(w.frames[0].index, 12 * i);
    // The opening P-frame keeps its motion and residual.
    EXPECT_GT(w.motion[0].abs().sum().item<float>(), 0.0f);
    EXPECT_GT(w.residual_y[0].abs().sum().item<int64_t>(), 0);
  }
  EXPECT_EQ(r.windows[3].num_valid, 4);
}

TEST(LayoutTest, ShortGopsAndOtherWindowLengths) {
  const std::string path =
      MovingClip("gop5.avi", 1, 0, Mpeg4Options(5), 12, 64, 48);
  FfmpegStreamSourceOptions o;
  o.window_length = 8;
  const ReadResult r = ReadAll(path, o);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.windows.size(), 3u);
  const int64_t valid[] = {5, 5, 2};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.windows[static_cast<size_t>(i)].length(), 8);
    EXPECT_EQ(r.windows[static_cast<size_t>(i)].num_valid, valid[i]);
    EXPECT_EQ(r.windows[static_cast<size_t>(i)].frames[0].index, 5 * i);
  }
}

TEST(ContainerTest, EveryContainerGivesTheSameWindows) {
  ClipSpec spec;
  spec.width = 64;
  spec.height = 48;
  spec.frames = 14;
  spec.dx = 1;
  const at::Tensor frames = MakeFrames(spec);
  std::vector<ReadResult> results;
  for (const std::string ext : {"mp4", "avi", "mkv", "m4v"}) {
    const std::string path = TestPath("container." + ext);
    ASSERT_TRUE(WriteClip(path, frames, Mpeg4Options()).ok());
    results.push_back(ReadAll(path));
    ASSERT_TRUE(results.back().status.ok())
        << ext << ": " << results.back().status;
    ASSERT_EQ(results.back().windows.size(), 2u) << ext;
  }
  for (size_t i = 1; i < results.size(); ++i) {
    for (size_t w = 0; w < 2; ++w) {
      EXPECT_TRUE(results[i].windows[w].rgb.equal(results[0].windows[w].rgb));
      EXPECT_TRUE(
          results[i].windows[w].motion.equal(results[0].windows[w].motion));
      EXPECT_TRUE(results[i].windows[w].residual_y.equal(
          results[0].windows[w].residual_y));
      EXPECT_TRUE(results[i].windows[w].residual_uv.equal(
          results[0].windows[w].residual_uv));
    }
  }
  // A raw H.264 elementary stream (no container, no timestamps of its own).
  const std::string raw = TestPath("raw.h264");
  ASSERT_TRUE(WriteClip(raw, frames, H264Options()).ok());
  const ReadResult h264 = ReadAll(raw);
  ASSERT_TRUE(h264.status.ok()) << h264.status;
  ASSERT_EQ(h264.windows.size(), 2u);
  EXPECT_EQ(h264.windows[1].num_valid, 2);
}

TEST(ContainerTest, MemoryInputEqualsFileInput) {
  const std::string path =
      MovingClip("memory.mp4", 1, 1, Mpeg4Options(), 13, 64, 48);
  const std::string bytes = *testing::ReadBytes(path);
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::OpenMemory(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
      "memory clip");
  ASSERT_TRUE(source.ok()) << source.status();
  const ReadResult file = ReadAll(path);
  for (const GopWindow& want : file.windows) {
    absl::StatusOr<std::optional<GopWindow>> got = source->Next();
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_TRUE((*got)->rgb.equal(want.rgb));
    EXPECT_TRUE((*got)->residual_y.equal(want.residual_y));
    EXPECT_TRUE((*got)->residual_uv.equal(want.residual_uv));
  }
  EXPECT_FALSE(source->Next()->has_value());
  EXPECT_EQ(source->info().path, "memory clip");
}

TEST(OptionsTest, DecodeOnlyAndSerialModesAgree) {
  const std::string path =
      MovingClip("modes.mp4", 1, 0, Mpeg4Options(), 12, 64, 48);
  const ReadResult full = ReadAll(path);
  FfmpegStreamSourceOptions plain;
  plain.export_motion = false;
  plain.compute_residual = false;
  const ReadResult frames_only = ReadAll(path, plain);
  ASSERT_TRUE(frames_only.status.ok());
  EXPECT_TRUE(frames_only.windows[0].rgb.equal(full.windows[0].rgb));
  EXPECT_FALSE(frames_only.windows[0].motion.defined());
  EXPECT_FALSE(frames_only.windows[0].has_residual());
  FfmpegStreamSourceOptions serial;
  serial.parallel = false;
  serial.decoder_threads = 1;
  const ReadResult one_thread = ReadAll(path, serial);
  EXPECT_TRUE(
      one_thread.windows[0].residual_y.equal(full.windows[0].residual_y));
  EXPECT_TRUE(
      one_thread.windows[0].residual_uv.equal(full.windows[0].residual_uv));
  EXPECT_TRUE(one_thread.windows[0].motion.equal(full.windows[0].motion));
}

TEST(OptionsTest, InvalidOptionsAreNamed) {
  const std::string path =
      MovingClip("opts.mp4", 0, 0, Mpeg4Options(), 2, 32, 32);
  FfmpegStreamSourceOptions o;
  o.window_length = 0;
  EXPECT_TRUE(Contains(ReadAll(path, o).status, "window_length"));
  o = {};
  o.export_motion = false;
  EXPECT_TRUE(Contains(ReadAll(path, o).status, "compute_residual"));
  o = {};
  o.decoder_threads = -1;
  EXPECT_TRUE(Contains(ReadAll(path, o).status, "decoder_threads"));
}

TEST(RefusalTest, BFramesAreRefusedNamingTheTranscodeTool) {
  const std::string path =
      MovingClip("bframes.mp4", 1, 0, H264Options(12, 2), 12, 64, 48);
  const ReadResult r = ReadAll(path);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(r.status, "B-frame")) << r.status;
  EXPECT_TRUE(Contains(r.status, "mapn transcode")) << r.status;
  EXPECT_TRUE(Contains(r.status, "bframes.mp4")) << r.status;
}

TEST(RefusalTest, CodecsWithoutMotionVectorsAreRefused) {
  struct Case {
    std::string encoder, file;
    std::map<std::string, std::string> options;
  };
  const std::vector<Case> cases = {
      {"libx265",
       "hevc.mkv",
       {{"x265-params", "log-level=none"}, {"preset", "ultrafast"}}},
      {"libvpx-vp9", "vp9.mkv", {{"deadline", "realtime"}, {"cpu-used", "8"}}},
      {"libaom-av1", "av1.mkv", {{"cpu-used", "8"}, {"usage", "realtime"}}},
      {"mpeg2video", "mpeg2.mkv", {}},
  };
  ClipSpec spec;
  spec.width = 64;
  spec.height = 64;
  spec.frames = 3;
  const at::Tensor frames = MakeFrames(spec);
  for (const Case& c : cases) {
    VideoWriterOptions o;
    o.codec = c.encoder;
    o.qscale = 0;
    o.codec_options = c.options;
    const std::string path = TestPath(c.file);
    const absl::Status written = WriteClip(path, frames, o);
    if (!written.ok() && Contains(written, "no video encoder")) {
      GTEST_SKIP() << "this FFmpeg has no " << c.encoder;
    }
    ASSERT_TRUE(written.ok()) << c.encoder << ": " << written;
    const ReadResult r = ReadAll(path);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kUnimplemented) << c.encoder;
    EXPECT_TRUE(Contains(r.status, "mapn transcode")) << r.status;
    EXPECT_TRUE(Contains(r.status, c.file)) << r.status;
    // What the transcode tool makes of it is readable.
    // (transcode_test.cc covers that; here only the refusal.)
  }
}

TEST(BadInputTest, MissingEmptyDirectoryAndNotAVideo) {
  const ReadResult missing = ReadAll(TestPath("no_such_clip.mp4"));
  EXPECT_EQ(missing.status.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status, "no_such_clip.mp4"));

  const std::string empty = TestPath("empty.mp4");
  ASSERT_TRUE(testing::WriteBytes(empty, "").ok());
  const ReadResult e = ReadAll(empty);
  EXPECT_EQ(e.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.status, "empty.mp4") && Contains(e.status, "empty"));

  const ReadResult dir = ReadAll(::testing::TempDir());
  EXPECT_TRUE(Contains(dir.status, "directory")) << dir.status;

  const std::string text = TestPath("not_a_video.mp4");
  ASSERT_TRUE(
      testing::WriteBytes(text, "just some text, not a video at all\n").ok());
  const ReadResult t = ReadAll(text);
  EXPECT_EQ(t.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(t.status, "not_a_video.mp4") &&
              Contains(t.status, "not a video"))
      << t.status;

  absl::StatusOr<FfmpegStreamSource> no_bytes =
      FfmpegStreamSource::OpenMemory(nullptr, 0, "nothing");
  EXPECT_TRUE(Contains(no_bytes.status(), "nothing"));
}

TEST(BadInputTest, AudioOnly) {
  const std::string wav = TestPath("audio_only.wav");
  ASSERT_TRUE(testing::WriteBytes(wav, testing::MakeWav()).ok());
  const ReadResult r = ReadAll(wav);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(r.status, "audio_only.wav"));
  EXPECT_TRUE(Contains(r.status, "no video stream")) << r.status;
  EXPECT_TRUE(Contains(r.status, "audio")) << r.status;
}

TEST(BadInputTest, OddZeroAndOversizedDimensions) {
  const std::string m4v = TestPath("sized.m4v");
  ClipSpec spec;
  spec.width = 64;
  spec.height = 48;
  spec.frames = 3;
  ASSERT_TRUE(WriteClip(m4v, MakeFrames(spec), Mpeg4Options()).ok());
  const std::string bytes = *testing::ReadBytes(m4v);

  const std::string odd = TestPath("odd.m4v");
  ASSERT_TRUE(
      testing::WriteBytes(odd, *testing::PatchMpeg4Size(bytes, 63, 48)).ok());
  const ReadResult o = ReadAll(odd);
  EXPECT_EQ(o.status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(o.status, "odd.m4v") && Contains(o.status, "63x48"))
      << o.status;
  EXPECT_TRUE(Contains(o.status, "mapn transcode"));

  const std::string zero = TestPath("zero.m4v");
  ASSERT_TRUE(
      testing::WriteBytes(zero, *testing::PatchMpeg4Size(bytes, 0, 0)).ok());
  const ReadResult z = ReadAll(zero);
  EXPECT_EQ(z.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(z.status, "zero.m4v") && Contains(z.status, "0x0"))
      << z.status;

  FfmpegStreamSourceOptions limit;
  limit.max_width = 32;
  const ReadResult big = ReadAll(m4v, limit);
  EXPECT_EQ(big.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(big.status, "64x48") && Contains(big.status, "limit"))
      << big.status;
}

// Writes a GOP-12 clip of 36 frames and a damaged copy of it.
std::string Damaged(const std::string& name, bool truncate) {
  const std::string path = TestPath("good_" + name);
  ClipSpec spec;
  spec.width = 96;
  spec.height = 64;
  spec.frames = 36;
  spec.dx = 1;
  EXPECT_TRUE(WriteClip(path, MakeFrames(spec), Mpeg4Options()).ok());
  std::string bytes = *testing::ReadBytes(path);
  if (truncate) {
    bytes.resize(bytes.size() * 6 / 10);
  } else {
    for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 300; ++i) {
      bytes[i] = static_cast<char>(i * 7919);
    }
  }
  const std::string out = TestPath(name);
  EXPECT_TRUE(testing::WriteBytes(out, bytes).ok());
  return out;
}

TEST(BadInputTest, CorruptStreamsFailOrSkipTheDamagedGop) {
  for (const std::string name : {"corrupt.avi", "corrupt.mp4", "corrupt.mkv"}) {
    const std::string path = Damaged(name, /*truncate=*/false);
    const ReadResult fail = ReadAll(path);
    EXPECT_EQ(fail.status.code(), absl::StatusCode::kDataLoss) << name;
    EXPECT_TRUE(Contains(fail.status, name)) << fail.status;
    EXPECT_TRUE(Contains(fail.status, "frame")) << fail.status;
    FfmpegStreamSourceOptions skip;
    skip.on_damage = DamagePolicy::kSkipGop;
    const ReadResult skipped = ReadAll(path, skip);
    EXPECT_TRUE(skipped.status.ok()) << skipped.status;
    EXPECT_GE(skipped.stats.damaged_gops, 1) << name;
    EXPECT_GE(skipped.windows.size(), 1u) << name;
    EXPECT_LT(skipped.windows.size(), 3u) << name;
    // The windows that remain are whole GOPs starting at I-frames. Damage
    // that makes the demuxer lose packets shifts later indices (they count
    // decoded frames); MP4 and Matroska timestamps still say where a frame
    // was (AVI derives its timestamps by counting chunks too).
    for (const GopWindow& w : skipped.windows) {
      EXPECT_EQ(w.frames[0].type, FrameType::kI);
      EXPECT_EQ(w.num_valid, 12);
      if (name != "corrupt.avi") {
        EXPECT_NEAR(std::fmod(w.frames[0].timestamp_s * 25.0, 12.0), 0.0, 1e-6);
      }
    }
  }
}

TEST(BadInputTest, TruncatedFiles) {
  // MP4 keeps its index at the end: without it the file does not open.
  const ReadResult mp4 = ReadAll(Damaged("truncated.mp4", true));
  EXPECT_FALSE(mp4.status.ok());
  EXPECT_TRUE(Contains(mp4.status, "truncated.mp4")) << mp4.status;
  // AVI: the cut frame is damaged. Matroska: the stream stops short of the
  // declared duration.
  for (const std::string name : {"truncated.avi", "truncated.mkv"}) {
    const std::string path = Damaged(name, true);
    const ReadResult fail = ReadAll(path);
    EXPECT_EQ(fail.status.code(), absl::StatusCode::kDataLoss)
        << name << fail.status;
    EXPECT_TRUE(Contains(fail.status, name)) << fail.status;
    FfmpegStreamSourceOptions skip;
    skip.on_damage = DamagePolicy::kSkipGop;
    const ReadResult skipped = ReadAll(path, skip);
    EXPECT_TRUE(skipped.status.ok()) << skipped.status;
    EXPECT_EQ(skipped.stats.damaged_gops, 1) << name;
    EXPECT_EQ(skipped.windows.size(), 1u) << name;
  }
}

// Streams 0: video 160x96, 1: audio, 2: video 240x144 marked default (the
// main picture beside a preview, as in files in the wild).
std::string TwoVideoStreams() {
  const std::string small =
      MovingClip("stream_small.mp4", 1, 0, Mpeg4Options(), 12, 160, 96);
  const std::string big =
      MovingClip("stream_big.mp4", 1, 0, Mpeg4Options(), 12, 240, 144);
  const std::string audio = TestPath("stream_audio.wav");
  EXPECT_TRUE(testing::WriteBytes(audio, testing::MakeWav()).ok());
  const std::string out = TestPath("two_streams.mkv");
  const absl::Status s =
      testing::MuxStreams({small, audio, big}, out, /*default_stream=*/2);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(StreamChoiceTest, ReadsFfmpegsBestStreamOrTheOneAskedFor) {
  const std::string path = TwoVideoStreams();
  // FFmpeg's pick, not the first video stream.
  const ReadResult best = ReadAll(path);
  ASSERT_TRUE(best.status.ok()) << best.status;
  ASSERT_FALSE(best.windows.empty());
  EXPECT_EQ(best.windows[0].width(), 240);
  EXPECT_EQ(best.windows[0].height(), 144);
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->info().stream_index, 2);
  EXPECT_EQ(source->info().video_streams, 2);

  FfmpegStreamSourceOptions first;
  first.stream_index = 0;
  const ReadResult chosen = ReadAll(path, first);
  ASSERT_TRUE(chosen.status.ok()) << chosen.status;
  ASSERT_FALSE(chosen.windows.empty());
  EXPECT_EQ(chosen.windows[0].width(), 160);
  EXPECT_EQ(chosen.windows[0].height(), 96);
  EXPECT_EQ(chosen.windows[0].num_valid, 12);

  // Not a video stream, or no stream at all: the message lists the video
  // streams there are.
  for (const int bad : {1, 3, 99}) {
    FfmpegStreamSourceOptions o;
    o.stream_index = bad;
    const ReadResult r = ReadAll(path, o);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(Contains(r.status, "two_streams.mkv")) << r.status;
    EXPECT_TRUE(Contains(r.status, absl::StrCat("no video stream ", bad)))
        << r.status;
    EXPECT_TRUE(Contains(r.status,
                         "its video streams: 0 (mpeg4, 160x96), 2 (mpeg4, "
                         "240x144)"))
        << r.status;
  }
  FfmpegStreamSourceOptions audio;
  audio.stream_index = 1;
  EXPECT_TRUE(Contains(ReadAll(path, audio).status, "stream 1 is audio"));
  FfmpegStreamSourceOptions negative;
  negative.stream_index = -2;
  EXPECT_EQ(ReadAll(path, negative).status.code(),
            absl::StatusCode::kInvalidArgument);
  // A file with one video stream reports it as stream 0 of 1.
  absl::StatusOr<FfmpegStreamSource> single = FfmpegStreamSource::Open(
      MovingClip("stream_single.mp4", 1, 0, Mpeg4Options(), 12));
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_EQ(single->info().stream_index, 0);
  EXPECT_EQ(single->info().video_streams, 1);
}

// A 36-frame GOP-12 MPEG-4 clip in MP4 (the container keeps packet
// boundaries whatever the payload holds) with the payload of frame 17
// scrambled (the decoder conceals it) and the start code of frame 22
// destroyed (the decoder rejects the packet).
std::string DamagedFrames() {
  const std::string good = TestPath("frames_good.mp4");
  ClipSpec spec;
  spec.width = 96;
  spec.height = 64;
  spec.frames = 36;
  spec.dx = 1;
  EXPECT_TRUE(WriteClip(good, MakeFrames(spec), Mpeg4Options()).ok());
  std::string bytes = *testing::ReadBytes(good);
  const std::vector<size_t> vops = testing::FindVopStarts(bytes);
  EXPECT_EQ(vops.size(), 36u);
  if (vops.size() != 36u) return good;
  testing::Scramble(bytes, vops[17] + 8, 40);
  testing::Scramble(bytes, vops[22], 4);
  const std::string out = TestPath("frames_damaged.mp4");
  EXPECT_TRUE(testing::WriteBytes(out, bytes).ok());
  return out;
}

TEST(BadInputTest, ConcealKeepsEveryFrameAndMarksTheDamagedOnes) {
  const std::string path = DamagedFrames();
  const ReadResult fail = ReadAll(path);
  EXPECT_EQ(fail.status.code(), absl::StatusCode::kDataLoss) << fail.status;
  EXPECT_TRUE(Contains(fail.status, "frames_damaged.mp4")) << fail.status;
  EXPECT_TRUE(Contains(fail.status, "frame 17")) << fail.status;

  FfmpegStreamSourceOptions conceal;
  conceal.on_damage = DamagePolicy::kConceal;
  conceal.keep_motion_vectors = true;
  const ReadResult r = ReadAll(path, conceal);
  ASSERT_TRUE(r.status.ok()) << r.status;
  // Every frame, in order, in the windows an intact stream gives.
  ASSERT_EQ(r.windows.size(), 3u);
  std::vector<FrameDamage> damage;
  for (const GopWindow& w : r.windows) {
    EXPECT_EQ(w.num_valid, 12);
    EXPECT_EQ(w.frames[0].type, FrameType::kI);
    for (int64_t t = 0; t < w.num_valid; ++t) {
      EXPECT_EQ(w.frames[t].index, static_cast<int64_t>(damage.size()));
      damage.push_back(w.frames[t].damage);
    }
  }
  ASSERT_EQ(damage.size(), 36u);
  EXPECT_EQ(damage[17], FrameDamage::kConcealed);
  EXPECT_EQ(damage[22], FrameDamage::kLost);
  int64_t concealed = 0;
  for (int64_t k = 0; k < 36; ++k) {
    if (k < 17) {
      EXPECT_EQ(damage[k], FrameDamage::kNone) << k;
    }
    concealed += damage[k] == FrameDamage::kConcealed;
  }
  EXPECT_EQ(r.stats.frames_concealed, concealed);
  EXPECT_EQ(r.stats.frames_lost, 1);
  EXPECT_EQ(r.stats.frames_skipped, 0);
  // The lost frame is the previous picture again, standing still; its
  // timestamp is one frame interval on.
  const GopWindow& w = r.windows[1];
  EXPECT_TRUE(w.rgb[10].equal(w.rgb[9]));
  EXPECT_EQ(w.motion[10].abs().max().item<float>(), 0.0f);
  EXPECT_FALSE(w.intra[10].any().item<bool>());
  EXPECT_EQ(w.residual_y[10].abs().max().item<int16_t>(), 0);
  EXPECT_NEAR(w.frames[10].timestamp_s, 22.0 / 25.0, 1e-6);
  EXPECT_TRUE(r.vectors[1][10].empty());
  // The frames after it carry the codec's vectors (which predict from frame
  // 21, the picture the lost frame repeats). CheckBlockMotion reads a frame
  // without vectors as all intra; the lost frame is all inter (a copy).
  ReadResult checked = r;
  checked.windows[1].intra = w.intra.clone();
  checked.windows[1].intra[10].fill_(true);
  EXPECT_GT(ExpectBlocksCarryTheVectors(checked), 0);
}

TEST(Mpeg4HeadersTest, ReadsTheLayerAndTheRoundingOfEachVop) {
  const std::string path = TestPath("headers.m4v");
  ClipSpec spec;
  spec.width = 80;
  spec.height = 48;
  spec.frames = 5;
  spec.dx = 0.5f;
  ASSERT_TRUE(WriteClip(path, MakeFrames(spec), Mpeg4Options()).ok());
  const std::string bytes = *testing::ReadBytes(path);
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const std::optional<Mpeg4Vol> vol = FindMpeg4Vol(data, bytes.size());
  ASSERT_TRUE(vol.has_value());
  EXPECT_EQ(vol->width, 80);
  EXPECT_EQ(vol->height, 48);
  EXPECT_EQ(vol->time_increment_resolution, 25);
  // FFmpeg's encoder flips rounding_type on every P-VOP: the decoder must
  // see alternating values, which the reader takes from each packet.
  std::vector<int> rounding;
  size_t pos = 0;
  while ((pos = bytes.find(std::string("\x00\x00\x01\xb6", 4), pos)) !=
         std::string::npos) {
    const std::optional<Mpeg4Vop> vop =
        FindMpeg4Vop(data + pos, bytes.size() - pos, *vol);
    ASSERT_TRUE(vop.has_value());
    if (vop->coding_type == 1) rounding.push_back(vop->rounding_type);
    pos += 4;
  }
  ASSERT_EQ(rounding.size(), 4u);
  EXPECT_NE(rounding[0], rounding[1]);
  EXPECT_NE(rounding[1], rounding[2]);
}

}  // namespace
}  // namespace mapn
