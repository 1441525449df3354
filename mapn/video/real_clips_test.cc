// The reader on real clips published by other projects (../shared/data/real,
// see its SOURCES.md): raw motion vectors block for block against the
// mv-extractor reference, frame types against its frame_types.txt, and every
// other clip either read with motion where things move or refused with the
// documented error, and then made readable by Transcode.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapn/testing/shared_data.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/test_clips.h"
#include "mapn/video/transcode.h"
#include "mapn/viz/png.h"

namespace mapn {
namespace {

struct Frame {
  FrameMeta meta;
  std::vector<MotionVector> vectors;
};

// Every frame of the file with its raw vectors, in order; an error too if a
// window's block motion does not hold its frames' vectors exactly.
absl::StatusOr<std::vector<Frame>> ReadFrames(const std::string& path,
                                              int64_t max_frames,
                                              int decoder_threads = 0) {
  FfmpegStreamSourceOptions options;
  options.keep_motion_vectors = true;
  options.compute_residual = false;
  options.decoder_threads = decoder_threads;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(path, options);
  if (!source.ok()) return source.status();
  std::vector<Frame> frames;
  while (static_cast<int64_t>(frames.size()) < max_frames) {
    absl::StatusOr<std::optional<GopWindow>> w = source->Next();
    if (!w.ok()) return w.status();
    if (!*w) break;
    absl::StatusOr<int64_t> lossless =
        testing::CheckBlockMotion(**w, source->window_motion_vectors());
    if (!lossless.ok()) {
      return absl::InternalError(absl::StrCat(
          "window ", (*w)->window_index, ": ", lossless.status().message()));
    }
    for (int64_t t = 0; t < (*w)->num_valid; ++t) {
      frames.push_back(
          {(*w)->frames[static_cast<size_t>(t)],
           source->window_motion_vectors()[static_cast<size_t>(t)]});
    }
  }
  return frames;
}

std::vector<char> ReadTypes(const std::string& path) {
  std::ifstream in(path);
  std::vector<char> types;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) types.push_back(line[0]);
  }
  return types;
}

void CompareWithReference(const std::string& dir, const std::string& clip,
                          const std::string& reference, int decoder_threads) {
  const std::string base = dir + "/mv-extractor/";
  absl::StatusOr<std::vector<Frame>> frames =
      ReadFrames(base + clip, 1 << 20, decoder_threads);
  ASSERT_TRUE(frames.ok()) << frames.status();
  const std::vector<char> types =
      ReadTypes(base + "tests/reference/" + reference + "/frame_types.txt");
  ASSERT_EQ(types.size(), 337u);
  ASSERT_EQ(frames->size(), types.size());
  for (size_t i = 0; i < types.size(); ++i) {
    ASSERT_EQ(FrameTypeChar((*frames)[i].meta.type), types[i])
        << clip << " frame " << i;
    ASSERT_EQ((*frames)[i].meta.index, static_cast<int64_t>(i));
  }
  // FFmpeg's block shapes, on the 8-pixel grid (ReadFrames has checked that
  // the windows hold them exactly).
  std::map<std::pair<int, int>, int64_t> shapes;
  for (const Frame& f : *frames) {
    for (const MotionVector& mv : f.vectors) {
      ++shapes[{mv.w, mv.h}];
      ASSERT_EQ((mv.dst_x - mv.w / 2) % 8, 0) << clip;
      ASSERT_EQ((mv.dst_y - mv.h / 2) % 8, 0) << clip;
    }
  }
  for (const auto& [shape, count] : shapes) {
    const auto [w, h] = shape;
    EXPECT_TRUE((w == 16 || w == 8) && (h == 16 || h == 8))
        << clip << ": " << count << " blocks of " << w << "x" << h;
  }
  EXPECT_GT(shapes[std::make_pair(16, 16)], 0) << clip;
  // H.264's 8x8 partitions (whose sub-partitions FFmpeg reports as 8x8).
  if (reference == "h264") {
    EXPECT_GT(shapes[std::make_pair(8, 8)], 0) << clip;
  }
  for (const auto& [shape, count] : shapes) {
    std::printf("%s: %lld blocks of %dx%d\n", clip.c_str(),
                static_cast<long long>(count), shape.first, shape.second);
  }
  for (int n = 0; n < 25; ++n) {
    const std::string npy = base + "tests/reference/" + reference +
                            "/motion_vectors/mvs-" + std::to_string(n) + ".npy";
    absl::StatusOr<testing::NpyInt32> want = testing::ReadNpyInt32(npy);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_EQ(want->shape.size(), 2u);
    ASSERT_EQ(want->shape[1], 10);
    const std::vector<MotionVector>& got =
        (*frames)[static_cast<size_t>(n)].vectors;
    ASSERT_EQ(static_cast<int64_t>(got.size()), want->shape[0])
        << clip << " frame " << n;
    for (size_t k = 0; k < got.size(); ++k) {
      const int32_t* row = want->data.data() + 10 * k;
      const MotionVector expected{row[0], row[1], row[2], row[3], row[4],
                                  row[5], row[6], row[7], row[8], row[9]};
      ASSERT_EQ(got[k], expected) << clip << " frame " << n << " block " << k;
    }
  }
}

TEST(ReferenceVectorsTest, H264MatchesMvExtractorBlockForBlock) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  CompareWithReference(dir, "vid_h264.mp4", "h264", 0);
}

TEST(ReferenceVectorsTest, Mpeg4MatchesMvExtractorBlockForBlock) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  CompareWithReference(dir, "vid_mpeg4_part2.mp4", "mpeg4_part2", 0);
  // Frame threading must not change what is exported.
  CompareWithReference(dir, "vid_mpeg4_part2.mp4", "mpeg4_part2", 1);
}

// The share of P-frame vectors that move at least half a pixel.
double MovingShare(const std::vector<Frame>& frames) {
  int64_t moving = 0, n = 0;
  for (const Frame& f : frames) {
    for (const MotionVector& mv : f.vectors) {
      ++n;
      if (std::hypot(mv.dx(), mv.dy()) >= 0.5f) ++moving;
    }
  }
  return n > 0 ? static_cast<double>(moving) / static_cast<double>(n) : 0.0;
}

TEST(RealClipsTest, JhmdbClipReadsWithMotionAndMatchesItsFrames) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const std::string base =
      dir + "/jhmdb-readannotation/ReadJHMDBAnnotations/data/";
  const std::string clip =
      base + "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi";
  absl::StatusOr<std::vector<Frame>> frames = ReadFrames(clip, 1000);
  ASSERT_TRUE(frames.ok()) << frames.status();
  // 40 coded frames for 40 labels, though the AVI has 48 time slots.
  ASSERT_EQ(frames->size(), 40u);
  for (int i : {0, 12, 24, 36})
    EXPECT_EQ((*frames)[static_cast<size_t>(i)].meta.type, FrameType::kI);
  EXPECT_GT(MovingShare(*frames), 0.05);
  // Frame k is the PNG 000(k+1).png of the dataset (about 40 dB).
  FfmpegStreamSourceOptions options;
  options.export_motion = false;
  options.compute_residual = false;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(clip, options);
  ASSERT_TRUE(source.ok());
  absl::StatusOr<std::optional<GopWindow>> first = source->Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  auto psnr = [](const at::Tensor& a, const at::Tensor& b) {
    const double mse =
        a.to(at::kFloat).sub(b.to(at::kFloat)).pow(2).mean().item<double>();
    return 10.0 * std::log10(255.0 * 255.0 / std::max(mse, 1e-9));
  };
  for (int k : {0, 5, 11}) {
    char name[16];
    std::snprintf(name, sizeof(name), "%05d.png", k + 1);
    absl::StatusOr<at::Tensor> png =
        ReadPng(base + "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2/" + name);
    ASSERT_TRUE(png.ok()) << png.status();
    EXPECT_GT(psnr((*first)->rgb[k], *png), 35.0) << "frame " << k;
    if (k > 0) {
      EXPECT_LT(psnr((*first)->rgb[k - 1], *png), 30.0) << "frame " << k;
    }
  }
}

TEST(RealClipsTest, PoseTrackClipReadsWithMotion) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  absl::StatusOr<std::vector<Frame>> frames = ReadFrames(
      dir +
          "/mmpose/tests/data/posetrack18/videos/000001_mpiinew_test/"
          "000001_mpiinew_test.mp4",
      100);
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_EQ(frames->size(), 5u);
  EXPECT_GT(MovingShare(*frames), 0.05);
}

TEST(RealClipsTest, BFrameClipsAreRefusedAndTranscodeMakesThemReadable) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const std::vector<std::pair<std::string, int>> clips = {
      {"/mmpose/demo/resources/demo.mp4", 5},
      {"/mmaction2/tests/data/test.avi", 164},
      {"/mv-extractor/vid_h264.264", 337},
      {"/mmaction2/demo/test_video_structuralize.mp4", 300},
  };
  for (const auto& [clip, count] : clips) {
    const std::string path = dir + clip;
    absl::StatusOr<std::vector<Frame>> refused = ReadFrames(path, 1000);
    ASSERT_FALSE(refused.ok()) << clip;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnimplemented)
        << clip;
    EXPECT_NE(refused.status().message().find("mapn transcode"),
              std::string::npos);

    const std::string out = testing::TestPath("transcoded.mp4");
    const absl::Status s = Transcode(path, out);
    ASSERT_TRUE(s.ok()) << clip << ": " << s;
    absl::StatusOr<std::vector<Frame>> frames = ReadFrames(out, 1000);
    ASSERT_TRUE(frames.ok()) << clip << ": " << frames.status();
    EXPECT_EQ(static_cast<int>(frames->size()), count) << clip;
    for (size_t i = 0; i < frames->size(); ++i) {
      EXPECT_EQ((*frames)[i].meta.type,
                i % 12 == 0 ? FrameType::kI : FrameType::kP);
    }
    EXPECT_GT(MovingShare(*frames), 0.02) << clip;
  }
}

// The first window of `path` under `options`.
absl::StatusOr<GopWindow> FirstWindow(const std::string& path,
                                      FfmpegStreamSourceOptions options) {
  options.compute_residual = false;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(path, options);
  if (!source.ok()) return source.status();
  absl::StatusOr<std::optional<GopWindow>> window = source->Next();
  if (!window.ok()) return window.status();
  if (!*window) return absl::NotFoundError("no window");
  return **window;
}

TEST(RealClipsTest, StreamChoiceInRealFiles) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  // vid_h264.mp4 holds H.264 video and AAC audio: asking for the audio
  // stream is refused, listing the video stream there is.
  const std::string h264 = dir + "/mv-extractor/vid_h264.mp4";
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(h264);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->info().video_streams, 1);
  const int video = source->info().stream_index;
  FfmpegStreamSourceOptions audio;
  audio.stream_index = 1 - video;
  const absl::StatusOr<GopWindow> refused = FirstWindow(h264, audio);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(refused.status().message());
  EXPECT_NE(message.find(absl::StrCat("stream ", 1 - video, " is audio (aac)")),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(absl::StrCat("its video streams: ", video,
                                      " (h264, 1280x720)")),
            std::string::npos)
      << message;

  // Two real clips in one file (no real file with two video streams was
  // found): a 640x480 and a 1280x720 MPEG-4 stream, the second marked
  // default as a main picture would be. FFmpeg's pick is read unless
  // another stream is asked for.
  const std::string two = testing::TestPath("real_two_streams.mkv");
  const absl::Status muxed =
      testing::MuxStreams({dir + "/InternVideo/Data/InternVid/example1.mp4",
                           dir + "/mv-extractor/vid_mpeg4_part2.mp4"},
                          two, /*default_stream=*/1);
  ASSERT_TRUE(muxed.ok()) << muxed;
  absl::StatusOr<GopWindow> best = FirstWindow(two, {});
  ASSERT_TRUE(best.ok()) << best.status();
  EXPECT_EQ(best->width(), 1280);
  FfmpegStreamSourceOptions first;
  first.stream_index = 0;
  absl::StatusOr<GopWindow> chosen = FirstWindow(two, first);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  EXPECT_EQ(chosen->width(), 640);
  EXPECT_EQ(chosen->height(), 480);
  EXPECT_GT(chosen->num_valid, 1);
}

TEST(RealClipsTest, DamagedRealClipIsConcealedOrRefused) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  // InternVid's MPEG-4 Part 2 clip (40 frames, I every 12) with frame 17's
  // payload scrambled and frame 22's start code destroyed.
  absl::StatusOr<std::string> bytes =
      testing::ReadBytes(dir + "/InternVideo/Data/InternVid/example1.mp4");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::vector<size_t> vops = testing::FindVopStarts(*bytes);
  ASSERT_EQ(vops.size(), 40u);
  testing::Scramble(*bytes, vops[17] + 8, 200);
  testing::Scramble(*bytes, vops[22], 4);
  const std::string path = testing::TestPath("real_damaged.mp4");
  ASSERT_TRUE(testing::WriteBytes(path, *bytes).ok());

  absl::StatusOr<FfmpegStreamSource> strict = FfmpegStreamSource::Open(path);
  ASSERT_TRUE(strict.ok()) << strict.status();
  absl::Status failed;
  while (failed.ok()) {
    absl::StatusOr<std::optional<GopWindow>> w = strict->Next();
    if (!w.ok()) failed = w.status();
    if (w.ok() && !*w) break;
  }
  EXPECT_EQ(failed.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(failed.message().find("frame 17"), std::string::npos) << failed;

  FfmpegStreamSourceOptions conceal;
  conceal.on_damage = DamagePolicy::kConceal;
  conceal.compute_residual = false;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(path, conceal);
  ASSERT_TRUE(source.ok()) << source.status();
  std::vector<FrameMeta> frames;
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> w = source->Next();
    ASSERT_TRUE(w.ok()) << w.status();
    if (!*w) break;
    for (int64_t t = 0; t < (*w)->num_valid; ++t) {
      frames.push_back((*w)->frames[t]);
    }
  }
  ASSERT_EQ(frames.size(), 40u);
  for (size_t k = 0; k < frames.size(); ++k) {
    EXPECT_EQ(frames[k].index, static_cast<int64_t>(k));
  }
  EXPECT_EQ(frames[17].damage, FrameDamage::kConcealed);
  EXPECT_EQ(frames[22].damage, FrameDamage::kLost);
  EXPECT_EQ(source->stats().frames_lost, 1);
  EXPECT_GE(source->stats().frames_concealed, 1);
}

}  // namespace
}  // namespace mapn
