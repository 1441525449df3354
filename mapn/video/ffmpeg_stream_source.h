// File: ffmpeg_stream_source.h
//
// The compressed-domain reader: a StreamSource over any container FFmpeg
// demuxes (mp4, avi, mkv, raw elementary streams, or a buffer in memory)
// holding MPEG-4 Part 2 or H.264 video without B-frames. One pass: each
// frame is decoded once, in order, and goes straight into the window being
// filled (mapn/video/gop.h): the frame as RGB, the codec's motion vectors on
// the 8x8 block grid with the intra mask, and the residual F_t - MC(F_{t-1})
// computed with the codec's own interpolation (motion_compensation.h) per
// Y, U, V sample (DenseResidual / ResampleWindow convert it to RGB). Memory
// is one window plus one reference frame, whatever the video's length.
//
// Refused with an error that names `mapn transcode` (mapn::Transcode):
// B-frames (at the first one), HEVC / VP9 / AV1 and every codec but MPEG-4
// Part 2 and H.264 (at Open), pixel formats other than 8-bit 4:2:0, odd
// sizes, sprite (GMC) VOPs. A motion vector block off the 8-pixel grid,
// which FFmpeg 5.1 never exports, fails Next() with Unimplemented rather
// than being stored inexactly. Damaged input follows DamagePolicy; see
// docs/video.md for the policies. The video stream read is FFmpeg's best
// one or the one asked for (FfmpegDecoder).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
//                         FfmpegStreamSource::Open("clip.mp4"));
//   while (true) {
//     MAPN_ASSIGN_OR_RETURN(std::optional<GopWindow> window, source.Next());
//     if (!window) break;
//     Use(window->rgb, window->motion, window->residual_y,
//         window->residual_uv);
//   }
#ifndef MAPN_VIDEO_FFMPEG_STREAM_SOURCE_H_
#define MAPN_VIDEO_FFMPEG_STREAM_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/video/gop.h"
#include "mapn/video/motion_compensation.h"
#include "mapn/video/motion_vectors.h"
#include "mapn/video/stream_source.h"

namespace mapn {

enum class DamagePolicy {
  // A packet the decoder rejects, a frame it had to conceal errors in, or a
  // truncated container fails Next() with DataLoss naming the file, packet
  // and frame.
  kFail,
  // Drops the GOP in progress when the damage is found and every frame up
  // to the next I-frame, counts it in Stats::damaged_gops, and goes on; a
  // truncated container ends the stream there.
  kSkipGop,
  // Keeps every frame it can: a frame the decoder concealed errors in is
  // used as concealed (FrameMeta::damage = kConcealed); a frame whose packet
  // the decoder rejected is stood in for by the previous picture with zero
  // motion and residual (kLost), so indices and the window layout stay
  // those of an intact stream (a lost frame with no picture before it is
  // skipped); a container read error or truncation ends the stream there.
  // Stats counts each. What a user processing real footage wants: a few
  // damaged packets cost a few approximate frames, not the video.
  kConceal,
};

struct FfmpegStreamSourceOptions {
  // Frames per window (T); long GOPs are split into continuation windows.
  int64_t window_length = 12;
  // Larger streams are refused at Open.
  int max_width = 4096;
  int max_height = 4096;
  // Decoder threads (0: one per core, FFmpeg's choice).
  int decoder_threads = 0;
  // Motion field, intra mask and residual. With export_motion false the
  // window carries frames only (motion, intra and residual undefined): plain
  // decoding, the benchmark's baseline.
  bool export_motion = true;
  // Residual; needs export_motion. Undefined in the window when false.
  bool compute_residual = true;
  // Keeps each frame's raw vectors for window_motion_vectors().
  bool keep_motion_vectors = false;
  DamagePolicy on_damage = DamagePolicy::kFail;
  // Interpolation for the residual; by default the codec's (kMpeg4 or
  // kH264). Other filters are for measuring how much exactness matters.
  std::optional<McFilter> mc_filter;
  // See DecoderOptions::prediction_only: for measuring the fidelity of the
  // motion compensation only.
  bool prediction_only = false;
  // Splits colour conversion, motion fields and residuals of a frame over
  // the process-wide BandPool (band_pool.h).
  bool parallel = true;
  // The container's index of the video stream to read; -1: the one FFmpeg
  // picks as best (DecoderOptions::stream_index).
  int stream_index = -1;
};

class FfmpegStreamSource {
 public:
  struct Stats {
    int64_t frames_decoded = 0;  // every frame the decoder returned
    int64_t frames_skipped = 0;  // before the first I-frame or damaged
    int64_t damaged_gops = 0;    // GOPs dropped under kSkipGop
    int64_t windows = 0;         // windows returned
    // kConceal: frames used with concealed errors, frames lost (rejected
    // packets, whether stood in for or skipped), and container read errors
    // or truncations that ended the stream early.
    int64_t frames_concealed = 0;
    int64_t frames_lost = 0;
    int64_t stream_errors = 0;
  };

  static absl::StatusOr<FfmpegStreamSource> Open(
      const std::string& path, const FfmpegStreamSourceOptions& options = {});
  // Reads `size` bytes at `data` (which must outlive the source); `name`
  // stands for the file in messages. The fuzz target reads this way.
  static absl::StatusOr<FfmpegStreamSource> OpenMemory(
      const uint8_t* data, size_t size, const std::string& name,
      const FfmpegStreamSourceOptions& options = {});

  FfmpegStreamSource(FfmpegStreamSource&&) noexcept;
  FfmpegStreamSource& operator=(FfmpegStreamSource&&) noexcept;
  ~FfmpegStreamSource();

  absl::StatusOr<std::optional<GopWindow>> Next();
  const StreamInfo& info() const;
  int64_t window_length() const;
  const Stats& stats() const;
  // The filter the residual uses.
  McFilter mc_filter() const;

  // With keep_motion_vectors: the raw vectors (FFmpeg's AVMotionVector
  // list, unmodified) of each frame of the window Next() last returned,
  // indexed like its frames; empty for I-frames and padding.
  const std::vector<std::vector<MotionVector>>& window_motion_vectors() const;

 private:
  struct State;
  explicit FfmpegStreamSource(std::unique_ptr<State> state);
  static absl::StatusOr<FfmpegStreamSource> Create(
      std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

static_assert(StreamSource<FfmpegStreamSource>);

}  // namespace mapn

#endif  // MAPN_VIDEO_FFMPEG_STREAM_SOURCE_H_
