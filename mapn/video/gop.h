// File: gop.h
//
// The data a StreamSource yields: one bounded window of a group of pictures
// (GOP) with, for every frame, the decoded pixels, the codec's motion vectors
// on a grid of 8x8 blocks with an intra mask, and the motion-compensation
// residual. This is the contract between the compressed-domain reader
// (mapn/video) and everything that consumes it (cropping, the model,
// training, the CLI).
//
// Conventions (docs/video.md has the full description, the memory figures
// and the measured motion-compensation fidelity):
//   * Tensors are channel-first; T is the window length (default 12), H x W
//     the frame size, Hb x Wb = MotionBlocks(H) x MotionBlocks(W) the block
//     grid. Every tensor has T entries, including padding frames.
//   * motion(t, :, by, bx) = (dx, dy) in pixels, sub-pel precision kept
//     (motion_x / motion_scale), of the kMotionBlock x kMotionBlock block
//     covering pixels [8 bx, 8 bx + 8) x [8 by, 8 by + 8): every pixel (x, y)
//     of that block in frame t is predicted from (x + dx, y + dy) of frame
//     t-1 (FFmpeg's `src - dst`). Nothing is lost: FFmpeg exports blocks of
//     8x8, 16x8, 8x16 and 16x16 on the 8-pixel grid only (the reader refuses
//     anything else). Skipped blocks have zero motion; intra blocks have zero
//     motion and intra(t, 0, by, bx) = true. I-frames: zero motion, intra all
//     true (every block is intra). Padding: zero motion, intra all false.
//     DenseMotion() / DenseIntra() give one frame per pixel when a consumer
//     really needs that.
//   * The residual of frame t, F_t - MC(F_{t-1}, motion_t) from decoded
//     pixels, is kept as the codec has it: per sample of the 4:2:0 planes,
//     residual_y (t, 0) = cur Y - predicted Y at H x W and residual_uv (t, 0|1)
//     = cur U|V - predicted U|V at ceil(H/2) x ceil(W/2), integers in
//     [-255, 255]. frames[t].color converts them to RGB grey levels (the
//     frame's own matrix; the conversion is linear, so its offsets cancel):
//     DenseResidual() gives the float RGB residual of a whole frame, and
//     ResampleWindow (resample.h) converts only the samples a crop reads,
//     identically. Intra blocks use zero motion. I-frames and padding: zero.
//   * frames[0] is the GOP's I-frame, or, in a continuation window of a GOP
//     longer than the window, the P-frame that opens the window; pipelines
//     treat frames[0] as a keyframe either way. Its motion and residual are
//     still filled for P-frames.
//   * The last window of a stream is padded to full length with dummy frames
//     (FrameType::kPadding, zero tensors, valid = false).
//
// Example:
//
//   const GopWindow& w = ...;                    // from a StreamSource
//   at::Tensor block = w.motion[t];              // float [2, Hb, Wb]
//   at::Tensor field = DenseMotion(w, t);        // float [2, H, W]
//   at::Tensor residual = DenseResidual(w, t);   // float [3, H, W], RGB
#ifndef MAPN_VIDEO_GOP_H_
#define MAPN_VIDEO_GOP_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mapn/video/yuv.h"

namespace mapn {

enum class FrameType : uint8_t { kI, kP, kB, kPadding };

// 'I', 'P', 'B' or '-' (padding).
char FrameTypeChar(FrameType type);

// What damage in the stream did to a frame, under DamagePolicy::kConceal
// (ffmpeg_stream_source.h); frames of an intact stream are kNone.
enum class FrameDamage : uint8_t {
  kNone,
  // The decoder reported errors in this frame and concealed them (FFmpeg's
  // error concealment guessed the damaged blocks from their neighbours and
  // the previous frame): the picture is approximate.
  kConcealed,
  // The decoder rejected this frame's packet: the picture is the previous
  // frame's again, with zero motion and residual, so that later frames keep
  // their indices.
  kLost,
};

// "" (kNone), "concealed" or "lost": the names in mapn estimate's outputs.
const char* FrameDamageName(FrameDamage damage);

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
  // The matrix that made this frame's rgb from the decoded YUV, and that
  // turns its YUV residual into RGB (DenseResidual, ResampleWindow).
  YuvToRgb color = YuvToRgb::Make(/*bt709=*/false, /*full_range=*/false);
  FrameDamage damage = FrameDamage::kNone;
};

// Motion vectors and the intra mask are stored per block of kMotionBlock x
// kMotionBlock pixels: the smallest block FFmpeg exports for MPEG-4 Part 2
// and H.264, and the grid all exported blocks are aligned to.
inline constexpr int64_t kMotionBlock = 8;

// Blocks along a side of `pixels` pixels: ceil(pixels / kMotionBlock).
constexpr int64_t MotionBlocks(int64_t pixels) {
  return (pixels + kMotionBlock - 1) / kMotionBlock;
}

struct GopWindow {
  // 0-based position of this window in the stream.
  int64_t window_index = 0;
  // Position of this window inside its GOP (0 for the window that starts at
  // the I-frame, 1, 2, ... for continuation windows of long GOPs).
  int64_t window_in_gop = 0;
  std::vector<FrameMeta> frames;  // size T
  int64_t num_valid = 0;          // frames [0, num_valid) are real

  at::Tensor rgb;          // uint8 [T, 3, H, W]
  at::Tensor motion;       // float32 [T, 2, Hb, Wb], pixels, per 8x8 block
  at::Tensor intra;        // bool [T, 1, Hb, Wb], per 8x8 block
  at::Tensor residual_y;   // int16 [T, 1, H, W], Y difference
  at::Tensor residual_uv;  // int16 [T, 2, Hc, Wc], U and V differences
  at::Tensor valid;        // bool [T]

  int64_t length() const { return static_cast<int64_t>(frames.size()); }
  int64_t height() const { return rgb.defined() ? rgb.size(2) : 0; }
  int64_t width() const { return rgb.defined() ? rgb.size(3) : 0; }
  int64_t blocks_high() const { return MotionBlocks(height()); }  // Hb
  int64_t blocks_wide() const { return MotionBlocks(width()); }   // Wb
  int64_t chroma_high() const { return (height() + 1) / 2; }      // Hc
  int64_t chroma_wide() const { return (width() + 1) / 2; }       // Wc
  bool has_residual() const {
    return residual_y.defined() && residual_uv.defined();
  }
};

// Expands values on the block grid of a height x width picture, a tensor
// [..., MotionBlocks(height), MotionBlocks(width)] of any dtype, to
// [..., height, width]: every pixel takes the value of the block covering
// it. Throws c10::Error (like the ATen operations) when the grid does not
// have that shape.
at::Tensor ExpandBlocks(const at::Tensor& grid, int64_t height, int64_t width);

// Frame t's motion as a per-pixel field, float32 [2, H, W], and its intra
// mask, bool [1, H, W] (ExpandBlocks of window.motion[t] / .intra[t]).
at::Tensor DenseMotion(const GopWindow& window, int64_t t);
at::Tensor DenseIntra(const GopWindow& window, int64_t t);

// Frame t's residual in RGB grey levels, float32 [3, H, W], chroma
// differences replicated over each 2x2 luma block. Throws c10::Error when
// the window carries no residual of gop.h's shape.
at::Tensor DenseResidual(const GopWindow& window, int64_t t);

// A window resampled to the model's S x S input by ResampleWindow /
// CropWindow (resample.h), before batching. After a crop, scaling or
// rotation a block of the output no longer has one vector, so here motion
// and intra are per output pixel and the residual, bilinearly sampled, keeps
// its fraction. 12 x 256 x 256 frames take 19 MB.
struct ResampledWindow {
  int64_t window_index = 0;       // as in the source window
  int64_t window_in_gop = 0;      // as in the source window
  std::vector<FrameMeta> frames;  // size T, as in the source window
  int64_t num_valid = 0;

  at::Tensor rgb;       // uint8 [T, 3, S, S]
  at::Tensor motion;    // float32 [T, 2, S, S], output pixels, per pixel
  at::Tensor intra;     // bool [T, 1, S, S], per pixel
  at::Tensor residual;  // float32 [T, 3, S, S], grey levels
  at::Tensor valid;     // bool [T]

  int64_t length() const { return static_cast<int64_t>(frames.size()); }
  int64_t height() const { return rgb.defined() ? rgb.size(2) : 0; }
  int64_t width() const { return rgb.defined() ? rgb.size(3) : 0; }
};

// A person box in pixel corners (x1, y1) top-left inclusive, (x2, y2)
// bottom-right exclusive, the Penn Action `bbox` convention.
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
  std::string codec;  // FFmpeg codec name: "mpeg4", "h264", ...
  int64_t width = 0;
  int64_t height = 0;
  double frame_rate = 0;         // frames per second; 0 when unknown
  int64_t frame_count_hint = 0;  // container's count; 0 when unknown
  // The container's index of the stream read (AVStream::index; audio and
  // other streams count), and how many video streams the file has (cover
  // pictures do not count).
  int stream_index = 0;
  int video_streams = 1;
};

}  // namespace mapn

#endif  // MAPN_VIDEO_GOP_H_
