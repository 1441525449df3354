// File: gop.h
//
// The data a StreamSource yields: one bounded window of a group of pictures
// (GOP) with, for every frame, the decoded pixels, the codec's motion vectors
// as a dense field and the motion-compensation residual. This is the contract
// between the compressed-domain reader (mapn/video) and everything that
// consumes it (cropping, the model, training, the CLI).
//
// Conventions (docs/video.md has the full description and the measured
// motion-compensation fidelity):
//   * Tensors are channel-first; T is the window length (default 12), H x W
//     the frame size. Every tensor has T entries, including padding frames.
//   * motion(t, :, y, x) = (dx, dy) in pixels, sub-pel precision kept
//     (motion_x / motion_scale): pixel (x, y) of frame t is predicted from
//     (x + dx, y + dy) of frame t-1. It is the FFmpeg `src - dst` of the
//     block that covers the pixel; every pixel of a block carries the
//     block's vector. Skipped blocks have zero motion; intra blocks have zero
//     motion and intra(t, 0, y, x) = true. I-frames: zero motion, intra all
//     true (every block is intra). Padding: zero motion, intra all false.
//   * residual(t) = F_t - MC(F_{t-1}, motion_t) in RGB grey levels
//     ([-255, 255]), from decoded pixels. Intra blocks use zero motion.
//     I-frames and padding: zero.
//   * frames[0] is the GOP's I-frame, or, in a continuation window of a GOP
//     longer than the window, the P-frame that opens the window; pipelines
//     treat frames[0] as a keyframe either way. Its motion and residual are
//     still filled for P-frames.
//   * The last window of a stream is padded to full length with dummy frames
//     (FrameType::kPadding, zero tensors, valid = false).
#ifndef MAPN_VIDEO_GOP_H_
#define MAPN_VIDEO_GOP_H_

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mapn {

enum class FrameType : uint8_t { kI, kP, kB, kPadding };

// 'I', 'P', 'B' or '-' (padding).
char FrameTypeChar(FrameType type);

struct FrameMeta {
  // Index of the decoded frame in the stream, counting coded frames from 0
  // (containers with dropped time slots do not leave gaps here); -1 for
  // padding.
  int64_t index = -1;
  FrameType type = FrameType::kPadding;
  // Presentation time in seconds; NaN when the stream carries none (raw
  // elementary streams without a frame rate).
  double timestamp_s = 0.0;
  // True for the first frame of a GOP (an I-frame).
  bool starts_gop = false;
};

struct GopWindow {
  // 0-based position of this window in the stream.
  int64_t window_index = 0;
  // Position of this window inside its GOP (0 for the window that starts at
  // the I-frame, 1, 2, ... for continuation windows of long GOPs).
  int64_t window_in_gop = 0;
  std::vector<FrameMeta> frames;  // size T
  int64_t num_valid = 0;          // frames [0, num_valid) are real

  at::Tensor rgb;       // uint8 [T, 3, H, W]
  at::Tensor motion;    // float32 [T, 2, H, W], pixels
  at::Tensor intra;     // bool [T, 1, H, W]
  at::Tensor residual;  // float32 [T, 3, H, W], grey levels
  at::Tensor valid;     // bool [T]

  int64_t length() const { return static_cast<int64_t>(frames.size()); }
  int64_t height() const { return rgb.defined() ? rgb.size(2) : 0; }
  int64_t width() const { return rgb.defined() ? rgb.size(3) : 0; }
};

// A person box in pixel corners (x1, y1) top-left inclusive, (x2, y2)
// bottom-right exclusive, the Penn Action `bbox` convention.
struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
};

// Model-ready windows: cropped to S x S, scaled and stacked into a batch.
struct GopBatch {
  at::Tensor rgb;       // float32 [B, T, 3, S, S], [0, 1]
  at::Tensor motion;    // float32 [B, T, 2, S, S], pixels at S x S scale
  at::Tensor residual;  // float32 [B, T, 3, S, S], grey levels / 255
  at::Tensor valid;     // bool [B, T]

  int64_t batch_size() const { return rgb.size(0); }
  int64_t length() const { return rgb.size(1); }
  int64_t size() const { return rgb.size(3); }
};

// Summary of an opened stream.
struct StreamInfo {
  std::string path;
  std::string codec;      // FFmpeg codec name: "mpeg4", "h264", ...
  int64_t width = 0;
  int64_t height = 0;
  double frame_rate = 0;  // frames per second; 0 when unknown
  int64_t frame_count_hint = 0;  // container's count; 0 when unknown
};

}  // namespace mapn

#endif  // MAPN_VIDEO_GOP_H_
