// File: window_assembler.h
//
// Cuts a stream of frames into GopWindows of a fixed length T, the one place
// where the windowing rules live (both StreamSource implementations use it):
//   * an I-frame always starts a new window (window_in_gop 0); GOPs are found
//     from frame types, never from frame counts;
//   * a P-frame that finds the current window full starts a continuation
//     window of the same GOP (window_in_gop 1, 2, ...), whose first frame is
//     that P-frame;
//   * a window that its GOP (or the stream) ends before it is full is padded
//     to T with FrameType::kPadding frames: zero tensors, intra false,
//     valid false.
// The producer writes each frame's data straight into the window's tensors
// through the FrameSlot pointers, so no frame is copied twice. The tensors'
// buffers come from a TensorPool and are reused once the consumer drops a
// window (tensor_pool.h explains why that matters).
//
// Example:
//
//   WindowAssembler assembler(12, height, width, {.motion = true,
//                                                 .residual = true});
//   for (each decoded frame) {
//     std::optional<GopWindow> done = assembler.Add(meta);
//     if (done) emit(*std::move(done));
//     FrameSlot slot = assembler.slot();   // fill rgb, motion, ...
//   }
//   if (std::optional<GopWindow> last = assembler.Finish()) emit(*last);
#ifndef MAPN_VIDEO_WINDOW_ASSEMBLER_H_
#define MAPN_VIDEO_WINDOW_ASSEMBLER_H_

#include <cstdint>
#include <optional>

#include "mapn/video/gop.h"
#include "mapn/video/tensor_pool.h"

namespace mapn {

// Pointers to one frame of the window being filled: rgb planes and the Y
// residual are H * W contiguous values, the U and V residual planes Hc * Wc
// (4:2:0), motion and intra planes Hb * Wb (gop.h's block grid). Pointers of
// tensors the window does not carry are null.
struct FrameSlot {
  int64_t t = 0;  // position in the window
  uint8_t* rgb[3] = {nullptr, nullptr, nullptr};
  float* motion[2] = {nullptr, nullptr};               // dx, dy per block
  bool* intra = nullptr;                               // per block
  int16_t* residual[3] = {nullptr, nullptr, nullptr};  // Y, U, V
};

struct WindowContents {
  // Allocate motion and intra. Without them the window's motion and intra
  // tensors are undefined (a decode-only window).
  bool motion = true;
  // Allocate residual_y and residual_uv; undefined otherwise.
  bool residual = true;
};

class WindowAssembler {
 public:
  WindowAssembler(int64_t window_length, int64_t height, int64_t width,
                  WindowContents contents = {});

  // Adds a frame (type kI or kP; B-frames are the caller's to refuse) and
  // makes slot() point at it. Returns the window this frame closed, if any.
  // A P-frame with no GOP open (nothing since the start or Discard()) is the
  // caller's error: it starts a window anyway, flagged as not starting a GOP.
  std::optional<GopWindow> Add(const FrameMeta& meta);

  // The frame most recently added.
  const FrameSlot& slot() const { return slot_; }

  // Sets the current frame's motion to zero, intra to `intra` and residual
  // to zero (I-frames; P-frames when motion is not wanted).
  void FillNoMotion(bool intra);

  // Sets the current frame's residual to zero (a P-frame with no
  // reference).
  void ClearResidual();

  // Drops the window being filled (a damaged GOP); the next frame added
  // must be an I-frame to open a new window.
  void Discard();

  // Pads and returns the window being filled, if any (end of stream).
  std::optional<GopWindow> Finish();

  int64_t window_length() const { return length_; }
  int64_t windows_emitted() const { return next_window_index_; }

 private:
  void StartWindow(int64_t window_in_gop);
  GopWindow Close();

  int64_t length_, height_, width_;
  int64_t blocks_;  // Hb * Wb
  int64_t chroma_;  // Hc * Wc
  WindowContents contents_;
  TensorPool* pool_;  // window buffers, reused once the consumer drops them
  std::optional<GopWindow> current_;
  int64_t filled_ = 0;
  int64_t next_window_index_ = 0;
  FrameSlot slot_;
};

}  // namespace mapn

#endif  // MAPN_VIDEO_WINDOW_ASSEMBLER_H_
