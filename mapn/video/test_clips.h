// File: test_clips.h
//
// Test-only helpers: small clips the tests encode themselves with libavcodec
// (through VideoWriter), with content whose motion is known exactly, plus
// readers and writers for the odd files the bad-input tests need. Used by
// the video tests, the fuzz seed generator and the benchmark.
//
// Example:
//
//   ClipSpec spec;                 // 128x96, 24 frames, a textured pattern
//   spec.dx = 1.5f; spec.dy = -0.5f;   // moving right 1.5 px per frame
//   at::Tensor frames = MakeFrames(spec);
//   MAPN_RETURN_IF_ERROR(WriteClip(TestPath("clip.mp4"), frames, {}));
//   // The codec's vectors should then be motion = (-1.5, +0.5).
#ifndef MAPN_VIDEO_TEST_CLIPS_H_
#define MAPN_VIDEO_TEST_CLIPS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/video/gop.h"
#include "mapn/video/motion_vectors.h"
#include "mapn/video/video_writer.h"

namespace mapn::testing {

struct ClipSpec {
  int width = 128;
  int height = 96;
  int frames = 24;
  // The pattern moves by (dx, dy) pixels per frame: frame t is the texture
  // shifted by (t dx, t dy), so the codec's vectors (src - dst) should be
  // (-dx, -dy).
  float dx = 0.0f;
  float dy = 0.0f;
  uint32_t seed = 1;
};

// uint8 [frames, 3, height, width]: a band-limited random texture (a sum of
// sinusoids with periods of 6 to 40 pixels, evaluated exactly at every
// shifted position, so sub-pixel motion is exact).
at::Tensor MakeFrames(const ClipSpec& spec);

// Encodes uint8 [N, 3, H, W] frames to `path` with VideoWriter.
absl::Status WriteClip(const std::string& path, const at::Tensor& frames,
                       const VideoWriterOptions& options = {});

// Writer options for the usual test encoders: "mpeg4" (the paper's
// preparation: GOP 12, q 1, no B-frames) or "libx264" (GOP 12, no B-frames,
// one reference, no weighted prediction, quiet).
VideoWriterOptions Mpeg4Options(int gop_size = 12);
VideoWriterOptions H264Options(int gop_size = 12, int b_frames = 0);

// $TEST_TMPDIR/name (or /tmp/name outside Bazel).
std::string TestPath(const std::string& name);

// Reads a whole file into memory / writes bytes to a file.
absl::StatusOr<std::string> ReadBytes(const std::string& path);
absl::Status WriteBytes(const std::string& path, const std::string& bytes);

// A one-second 8 kHz mono WAV file of silence: a file with audio only.
std::string MakeWav();

// Copies every stream of each input (video, audio, ...), in the order
// given, into one file (the container from output's extension; .mkv takes
// any codec), without re-encoding: files with several video streams. Only
// output stream `default_stream` (if any) is marked default, the mark
// players and FFmpeg's av_find_best_stream go by first.
absl::Status MuxStreams(const std::vector<std::string>& inputs,
                        const std::string& output, int default_stream = -1);

// Where each MPEG-4 Part 2 picture begins in a file (the offsets of its VOP
// start codes 00 00 01 B6, in file order): frame k's packet, in an MP4, AVI
// or raw stream of I- and P-frames.
std::vector<size_t> FindVopStarts(const std::string& bytes);

// Overwrites `count` bytes from `offset` with a fixed pseudo-random pattern
// (clamped to the end): deterministic damage.
void Scramble(std::string& bytes, size_t offset, size_t count);

// Rewrites the picture size in the first MPEG-4 VOL header of a raw
// MPEG-4 stream (.m4v), to make streams with odd or zero dimensions.
absl::StatusOr<std::string> PatchMpeg4Size(std::string stream, int width,
                                           int height);

// Checks that the window's block motion and intra mask hold exactly the raw
// vectors (one list per frame, as FfmpegStreamSource::
// window_motion_vectors() gives them) of its P-frames: every cell a
// past-reference block covers has that block's (dx, dy) bit for bit and is
// not intra; every other cell is intra with zero motion. Returns the number
// of vectors checked, or an error naming the first frame and cell that
// differ.
absl::StatusOr<int64_t> CheckBlockMotion(
    const GopWindow& window,
    const std::vector<std::vector<MotionVector>>& vectors);

// A NumPy .npy (version 1 or 2) file of little-endian int32, C order.
struct NpyInt32 {
  std::vector<int64_t> shape;
  std::vector<int32_t> data;
};
absl::StatusOr<NpyInt32> ReadNpyInt32(const std::string& path);

}  // namespace mapn::testing

#endif  // MAPN_VIDEO_TEST_CLIPS_H_
