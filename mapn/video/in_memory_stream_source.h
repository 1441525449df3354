// File: in_memory_stream_source.h
//
// A StreamSource over data already in memory, for tests and tools that must
// not depend on FFmpeg or on files: either ready-made GopWindows, or frames
// (with optional motion fields) that it cuts into windows by the same rules
// as the FFmpeg reader (window_assembler.h), computing the residual with a
// bilinear warp of the previous frame's RGB. It shows that the concept is
// about windows, not about FFmpeg.
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
  at::Tensor motion;         // optional float [N, 2, H, W] (gop.h convention)
  at::Tensor intra;          // optional bool [N, 1, H, W]; false when absent
  double frame_rate = 25.0;  // for timestamps index / frame_rate
};

class InMemoryStreamSource {
 public:
  // Yields `windows` as they are. All must have the same length T >= 1 and
  // frame size, with every tensor gop.h lists defined and shaped [T, ...].
  static absl::StatusOr<InMemoryStreamSource> FromWindows(
      StreamInfo info, std::vector<GopWindow> windows);

  // Cuts frames into windows of `window_length`. Motion (zero where absent)
  // is taken as given and the residual of a P-frame is
  // F_t - bilinear_warp(F_{t-1}, motion_t) with edge replication; I-frames
  // have zero motion and residual and an all-true intra mask.
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
