// File: video_writer.h
//
// Encodes RGB frames into a video file with libavcodec: the project's own
// clips for tests and fuzz seeds, SynthPose videos, transcoded inputs and the
// pose overlays of `mapn estimate`. The container follows the file name
// (.mp4, .avi, .mkv, .m4v for a raw MPEG-4 stream, .h264 for raw Annex B).
// The file appears only when Close() succeeds: frames are written to a
// temporary file beside it, renamed at the end.
//
// Example (the paper's data preparation: MPEG-4 Part 2, GOP 12, no B-frames):
//
//   VideoWriterOptions options;  // defaults: mpeg4, GOP 12, q 1, 25 fps
//   MAPN_ASSIGN_OR_RETURN(std::unique_ptr<VideoWriter> writer,
//                         VideoWriter::Open("clip.mp4", 320, 240, options));
//   for (const at::Tensor& frame : frames) {   // uint8 [3, 240, 320]
//     MAPN_RETURN_IF_ERROR(writer->WriteFrame(frame));
//   }
//   MAPN_RETURN_IF_ERROR(writer->Close());
#ifndef MAPN_VIDEO_VIDEO_WRITER_H_
#define MAPN_VIDEO_VIDEO_WRITER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn {

struct VideoWriterOptions {
  // FFmpeg encoder name: "mpeg4" (MPEG-4 Part 2), "libx264" (H.264), ...
  std::string codec = "mpeg4";
  // Frames per GOP (I-frame interval).
  int gop_size = 12;
  // 0: P-frames only, as the paper's data preparation.
  int max_b_frames = 0;
  // Fixed quantiser for MPEG-style encoders, 1 (best, CoViAR's setting) to
  // 31; 0 leaves rate control to bit_rate / the encoder's default.
  int qscale = 1;
  int64_t bit_rate = 0;
  int frame_rate_num = 25;
  int frame_rate_den = 1;
  // Lets the encoder insert extra I-frames at scene cuts (FFmpeg's default
  // behaviour). Off keeps GOPs exactly gop_size long.
  bool scene_change_detection = false;
  // Extra encoder AVOptions, e.g. {"preset", "veryfast"} for libx264.
  std::map<std::string, std::string> codec_options;
};

class VideoWriter {
 public:
  // Validates the arguments (even, positive dimensions; a known encoder and
  // container) and opens a temporary output file beside `path`.
  static absl::StatusOr<std::unique_ptr<VideoWriter>> Open(
      const std::string& path, int width, int height,
      const VideoWriterOptions& options = {});

  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Encodes one frame given as interleaved RGB24 rows (`stride` bytes apart).
  absl::Status WriteRgb(const uint8_t* rgb, int stride);

  // Encodes one frame given as a uint8 tensor [3, H, W] (RGB, any device and
  // layout; it is copied to a contiguous CPU buffer).
  absl::Status WriteFrame(const at::Tensor& rgb_chw);

  // Flushes the encoder, writes the container trailer and renames the
  // temporary file to `path`. Without a successful Close() (an error or the
  // writer destroyed early) no file is left behind.
  absl::Status Close();

  int64_t frames_written() const { return frames_written_; }

 private:
  struct State;
  explicit VideoWriter(std::unique_ptr<State> state);
  absl::Status Encode(bool flush);

  std::unique_ptr<State> state_;
  int64_t frames_written_ = 0;
  bool closed_ = false;
};

}  // namespace mapn

#endif  // MAPN_VIDEO_VIDEO_WRITER_H_
