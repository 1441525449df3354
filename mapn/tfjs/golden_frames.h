// File: golden_frames.h
//
// The real frames on which mapn's TF.js reader is compared with TF.js itself
// (docs/models.md, "Parity"), and the one function that turns such a frame
// into a model's input tensor. The C++ tool make_golden_inputs writes these
// tensors for the node script in tools/tfjs_golden, and the parity test
// rebuilds them with the same code; the golden file records a hash of each
// input so that the test knows it compares outputs of identical inputs.
//
// Example:
//
//   for (const GoldenFrame& f : GoldenFrames()) {
//     MAPN_ASSIGN_OR_RETURN(at::Tensor rgb,
//                           DecodeRgbFrame(shared_dir + "/" + f.clip,
//                           f.frame));
//     MAPN_ASSIGN_OR_RETURN(at::Tensor input,
//                           ModelInput("movenet-thunder", rgb));
//     uint64_t hash = TensorFnv1a(input);
//   }
#ifndef MAPN_TFJS_GOLDEN_FRAMES_H_
#define MAPN_TFJS_GOLDEN_FRAMES_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mapn::tfjs {

struct GoldenFrame {
  std::string name;   // e.g. "jhmdb_goalkeeper_f05"
  std::string clip;   // relative to shared/data/real
  int64_t frame = 0;  // decoded-frame index
};

// A few real frames: people of different sizes, and one with nobody in it.
const std::vector<GoldenFrame>& GoldenFrames();

// Frame `index` (0-based, in decoding order) of `path` as uint8 RGB [H, W,
// 3] (BT.601 limited range, mapn's conversion in mapn/video/yuv.h).
absl::StatusOr<at::Tensor> DecodeRgbFrame(const std::string& path,
                                          int64_t index);

// Pads `rgb` (uint8 [H, W, 3]) to a square with black at the bottom or
// right (so the image keeps its top-left origin and aspect ratio) and
// resizes it to size x size with TF's half-pixel bilinear rule (in scalar
// double arithmetic, the same on every CPU), rounded to integers: float
// [1, size, size, 3] in 0-255.
at::Tensor SquareImage(const at::Tensor& rgb, int64_t size);

// The input `model` (a name from model_files.h) expects, made from `rgb`:
// MoveNets int32 [1, S, S, 3] in 0-255; centernet float [1, 512, 512, 3]
// and nanodet float [1, 3, 416, 416], both in [0, 1].
absl::StatusOr<at::Tensor> ModelInput(const std::string& model,
                                      const at::Tensor& rgb);

// 64-bit FNV-1a of a contiguous tensor's bytes (little-endian), as hex.
std::string TensorFnv1a(const at::Tensor& t);

}  // namespace mapn::tfjs

#endif  // MAPN_TFJS_GOLDEN_FRAMES_H_
