// Transcode: B-frame and HEVC inputs, image sequences with odd sizes, size
// limits, atomic output and argument checks.
#include "mapn/video/transcode.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/test_clips.h"
#include "mapn/viz/png.h"

namespace mapn {
namespace {

using testing::ClipSpec;
using testing::MakeFrames;
using testing::TestPath;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

struct Summary {
  StreamInfo info;
  std::vector<FrameType> types;
  std::vector<at::Tensor> rgb;
};

absl::StatusOr<Summary> Read(const std::string& path) {
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(path);
  if (!source.ok()) return source.status();
  Summary s;
  s.info = source->info();
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> w = source->Next();
    if (!w.ok()) return w.status();
    if (!*w) break;
    for (int64_t t = 0; t < (*w)->num_valid; ++t) {
      s.types.push_back((*w)->frames[static_cast<size_t>(t)].type);
      s.rgb.push_back((*w)->rgb[t]);
    }
  }
  return s;
}

double MeanAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return a.to(at::kFloat).sub(b.to(at::kFloat)).abs().mean().item<double>();
}

void ExpectPaperLayout(const Summary& s, size_t frames) {
  ASSERT_EQ(s.types.size(), frames);
  for (size_t i = 0; i < frames; ++i) {
    EXPECT_EQ(s.types[i], i % 12 == 0 ? FrameType::kI : FrameType::kP) << i;
  }
  EXPECT_EQ(s.info.codec, "mpeg4");
}

TEST(TranscodeTest, BFrameH264BecomesReadableMpeg4) {
  ClipSpec spec;
  spec.width = 96;
  spec.height = 64;
  spec.frames = 20;
  spec.dx = 1;
  const at::Tensor frames = MakeFrames(spec);
  const std::string input = TestPath("bframes_in.mp4");
  ASSERT_TRUE(
      testing::WriteClip(input, frames, testing::H264Options(30, 2)).ok());
  ASSERT_FALSE(Read(input).ok());  // the reader refuses it
  const std::string output = TestPath("bframes_out.mp4");
  const absl::Status s = Transcode(input, output);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<Summary> out = Read(output);
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectPaperLayout(*out, 20);
  EXPECT_NEAR(out->info.frame_rate, 25.0, 1e-6);
  // Frames stay in display order: frame k is source frame k.
  for (int k : {0, 7, 19}) {
    EXPECT_LT(MeanAbsDiff(out->rgb[static_cast<size_t>(k)], frames[k]), 8.0)
        << k;
    EXPECT_GT(MeanAbsDiff(out->rgb[static_cast<size_t>(k)],
                          frames[k == 0 ? 5 : k - 3]),
              10.0);
  }
}

TEST(TranscodeTest, HevcBecomesReadable) {
  ClipSpec spec;
  spec.width = 64;
  spec.height = 64;
  spec.frames = 5;
  VideoWriterOptions hevc;
  hevc.codec = "libx265";
  hevc.qscale = 0;
  hevc.codec_options = {{"x265-params", "log-level=none"},
                        {"preset", "ultrafast"}};
  const std::string input = TestPath("hevc_in.mkv");
  const absl::Status written =
      testing::WriteClip(input, MakeFrames(spec), hevc);
  if (!written.ok()) GTEST_SKIP() << "no libx265 here: " << written;
  const std::string output = TestPath("hevc_out.avi");
  ASSERT_TRUE(Transcode(input, output).ok());
  absl::StatusOr<Summary> out = Read(output);
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectPaperLayout(*out, 5);
}

TEST(TranscodeTest, ImageSequenceWithOddSizeLosesTheLastColumnAndRow) {
  ClipSpec spec;
  spec.width = 65;
  spec.height = 49;
  spec.frames = 14;
  spec.dy = 1;
  const at::Tensor frames = MakeFrames(spec);
  const std::string dir = TestPath("frames_0001");
  ::mkdir(dir.c_str(), 0755);
  for (int i = 0; i < 14; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/%06d.png",
                  i + 1);  // Penn Action numbering
    ASSERT_TRUE(WritePng(dir + name, frames[i]).ok());
  }
  TranscodeOptions options;
  options.input_frame_rate = 30;
  const std::string output = TestPath("sequence.mp4");
  const absl::Status s = Transcode(dir + "/%06d.png", output, options);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<Summary> out = Read(output);
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectPaperLayout(*out, 14);
  EXPECT_EQ(out->info.width, 64);
  EXPECT_EQ(out->info.height, 48);
  EXPECT_NEAR(out->info.frame_rate, 30.0, 1e-6);
  // Pixel coordinates are unchanged: the output is the top-left crop.
  const at::Tensor crop = frames[9].narrow(1, 0, 48).narrow(2, 0, 64);
  EXPECT_LT(MeanAbsDiff(out->rgb[9], crop), 8.0);
}

TEST(TranscodeTest, SizeLimitsScaleDownToEvenSizes) {
  ClipSpec spec;
  spec.width = 200;
  spec.height = 100;
  spec.frames = 3;
  const std::string input = TestPath("big.mp4");
  ASSERT_TRUE(
      testing::WriteClip(input, MakeFrames(spec), testing::Mpeg4Options())
          .ok());
  TranscodeOptions options;
  options.max_width = 101;
  const std::string output = TestPath("small.mkv");
  ASSERT_TRUE(Transcode(input, output, options).ok());
  absl::StatusOr<Summary> out = Read(output);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->info.width, 100);
  EXPECT_EQ(out->info.height, 50);
}

TEST(TranscodeTest, FailuresLeaveNoOutputAndNameTheProblem) {
  const std::string output = TestPath("never.mp4");
  absl::Status s = Transcode(TestPath("missing_input.mp4"), output);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("missing_input.mp4"), std::string::npos);
  EXPECT_FALSE(Exists(output));

  const std::string text = TestPath("text_input.mp4");
  ASSERT_TRUE(testing::WriteBytes(text, "not a video").ok());
  EXPECT_FALSE(Transcode(text, output).ok());
  EXPECT_FALSE(Exists(output));

  // An existing output stays as it was when transcoding fails.
  ASSERT_TRUE(testing::WriteBytes(output, "old").ok());
  EXPECT_FALSE(Transcode(text, output).ok());
  EXPECT_EQ(*testing::ReadBytes(output), "old");

  ClipSpec spec;
  spec.width = 32;
  spec.height = 32;
  spec.frames = 2;
  const std::string input = TestPath("ok_input.mp4");
  ASSERT_TRUE(
      testing::WriteClip(input, MakeFrames(spec), testing::Mpeg4Options())
          .ok());
  TranscodeOptions bad;
  bad.qscale = 0;
  s = Transcode(input, output, bad);
  EXPECT_NE(s.message().find("qscale"), std::string::npos) << s;
  bad = {};
  bad.gop_size = 0;
  EXPECT_NE(Transcode(input, output, bad).message().find("gop_size"),
            std::string::npos);
  bad = {};
  bad.max_width = 1;
  EXPECT_NE(Transcode(input, output, bad).message().find("max_width"),
            std::string::npos);
  EXPECT_FALSE(Transcode(input, TestPath("no_such_dir/out.mp4")).ok());
  EXPECT_FALSE(Transcode(input, TestPath("out.unknown_extension")).ok());
}

}  // namespace
}  // namespace mapn
