// File: transcode.h
//
// Re-encodes any video FFmpeg can decode (any codec, B-frames, odd sizes,
// any pixel format), or a numbered image sequence, into what the reader and
// the paper want: MPEG-4 Part 2, GOP 12, no B-frames, fixed quantiser 1
// (CoViAR's preparation). It is the remedy every refusal of
// FfmpegStreamSource names, and how image-folder datasets (Penn Action's
// frames/NNNN/%06d.jpg) become cached videos.
//
// Behaviour:
//   * Every decoded frame becomes one output frame, in order, at a constant
//     rate (the input's, or input_frame_rate for an image sequence): frame k
//     of the output is the k-th decoded frame of the input, the indexing
//     labels use. Missing time slots are not filled in.
//   * Odd sizes lose their last column and/or row (pixel coordinates are
//     unchanged, so labels still fit); with a size limit the picture is
//     scaled down to fit, keeping the aspect ratio, to even dimensions.
//   * The output appears only when complete (written to a temporary file
//     beside it, then renamed).
//   * The video stream read is FFmpeg's best one, or stream_index.
//   * Damage: a frame the decoder concealed errors in is encoded as
//     concealed. A packet the decoder rejects or a container error fails
//     the transcode, unless keep_damaged_frames: then a lost frame is the
//     previous frame again (output frame k stays input frame k) and a
//     container error ends the output there. `report` lists the concealed
//     and lost frames, so a reader of the output can mark them.
//
// Example:
//
//   TranscodeOptions options;
//   options.input_frame_rate = 30;
//   MAPN_RETURN_IF_ERROR(Transcode("frames/0001/%06d.jpg",
//                                  "cache/0001.mp4", options));
#ifndef MAPN_VIDEO_TRANSCODE_H_
#define MAPN_VIDEO_TRANSCODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mapn/video/gop.h"

namespace mapn {

struct TranscodeOptions {
  int gop_size = 12;
  // MPEG-4 fixed quantiser, 1 (best) to 31.
  int qscale = 1;
  // Frames per second of an image-sequence input (a path with a printf
  // pattern such as %06d); videos keep their own rate (25 when unknown).
  double input_frame_rate = 25.0;
  // 0: no limit. Otherwise the output fits in max_width x max_height.
  int max_width = 0;
  int max_height = 0;
  // Inputs larger than this are refused before decoding.
  int max_input_width = 16384;
  int max_input_height = 16384;
  // The container's index of the video stream to read; -1: FFmpeg's best.
  int stream_index = -1;
  // Encode through damage instead of failing (see above).
  bool keep_damaged_frames = false;
};

// What Transcode read.
struct TranscodeReport {
  StreamInfo input;  // the input's stream (codec, size, index, count)
  std::vector<int64_t> concealed_frames;  // output frame indices
  std::vector<int64_t> lost_frames;       // repeats of the previous frame
  int64_t dropped_frames = 0;  // lost before any frame (nothing to repeat)
  int64_t stream_errors = 0;   // container errors that ended the input early
};

absl::Status Transcode(const std::string& input, const std::string& output,
                       const TranscodeOptions& options = {},
                       TranscodeReport* report = nullptr);

}  // namespace mapn

#endif  // MAPN_VIDEO_TRANSCODE_H_
