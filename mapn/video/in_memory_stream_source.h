// File: in_memory_stream_source.h
//
// A StreamSource over data already in memory, for tests and tools that must
// not depend on FFmpeg or on files: either ready-made GopWindows, or frames
// (with optional block motion, gop.h's 8x8 grid) that it cuts into windows
// by the same rules as the FFmpeg reader (window_assembler.h), computing the
// residual with a bilinear warp of the previous frame's YUV 4:2:0 planes. It
// shows that the concept is about windows, not about FFmpeg.
//
// Example:
//
//   InMemoryFrames frames;
//   frames.rgb = at::zeros({24, 3, 64, 64}, at::kByte);
//   frames.types.assign(24, FrameType::kP);
//   frames.types[0] = frames.types[12] = FrameType::kI;
//   MAPN_ASSIGN_OR_RETURN(InMemoryStreamSource source,
//                         InMemoryStreamSource::FromFrames(frames, 12));
//   MAPN_ASSIGN_OR_RETURN(std::optional<GopWindow> first, source.Next());
#ifndef MAPN_VIDEO_IN_MEMORY_STREAM_SOURCE_H_
#define MAPN_VIDEO_IN_MEMORY_STREAM_SOURCE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/video/gop.h"
#include "mapn/video/stream_source.h"

namespace mapn {

struct InMemoryFrames {
  at::Tensor rgb;                // uint8 [N, 3, H, W]
  std::vector<FrameType> types;  // N entries, kI or kP; the first is kI
  // Optional, on gop.h's block grid (Hb = ceil(H / 8), Wb = ceil(W / 8)):
  at::Tensor motion;  // float [N, 2, Hb, Wb], gop.h convention; zero if absent
  at::Tensor intra;   // bool [N, 1, Hb, Wb]; false when absent
  double frame_rate = 25.0;  // for timestamps index / frame_rate
};

class InMemoryStreamSource {
 public:
  // Yields `windows` as they are. All must have the same length T >= 1 and
  // frame size, with every tensor gop.h lists defined and shaped [T, ...].
  static absl::StatusOr<InMemoryStreamSource> FromWindows(
      StreamInfo info, std::vector<GopWindow> windows);

  // Cuts frames into windows of `window_length`; rgb is the frames as
  // given. Motion (zero where absent) is taken as given. The residual of a
  // P-frame is computed as an encoder would see the frames: each is
  // converted to BT.601 full-range YUV 4:2:0 (Y per pixel, U and V of each
  // 2x2 block's mean colour, rounded), and per plane residual =
  // round(F_t - bilinear_warp(F_{t-1}, motion_t)) with edge replication,
  // every sample moved by its block's vector (halved for chroma); so for
  // grey frames DenseResidual is exactly the grey-level difference.
  // frames[t].color is that matrix. I-frames have zero motion and residual
  // and an all-true intra mask.
  static absl::StatusOr<InMemoryStreamSource> FromFrames(
      const InMemoryFrames& frames, int64_t window_length = 12);

  absl::StatusOr<std::optional<GopWindow>> Next();
  const StreamInfo& info() const { return info_; }
  int64_t window_length() const { return window_length_; }

 private:
  InMemoryStreamSource(StreamInfo info, int64_t window_length,
                       std::deque<GopWindow> windows)
      : info_(std::move(info)),
        window_length_(window_length),
        windows_(std::move(windows)) {}

  StreamInfo info_;
  int64_t window_length_ = 12;
  std::deque<GopWindow> windows_;
};

static_assert(StreamSource<InMemoryStreamSource>);

}  // namespace mapn

#endif  // MAPN_VIDEO_IN_MEMORY_STREAM_SOURCE_H_
