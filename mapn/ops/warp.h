// File: warp.h
//
// Differentiable motion warp: resamples a feature map along a dense motion
// field, the Warp(.) of the paper's equations (1), (4) and (5).
//
//   out(b, c, y, x) = bilinear(input(b, c), x + dx(b, y, x), y + dy(b, y, x))
//
// where motion(b, 0) = dx and motion(b, 1) = dy are in pixels of `input`, so
// pixel p of the output is read from p + motion(p) of the input. With the
// codec convention of mapn/video/gop.h (motion = src - dst, pointing from
// frame t into frame t-1) this moves content from frame t-1 to where it is
// in frame t. Samples outside the input read zeros. Equivalent to
// torch::grid_sample(input, grid, bilinear, zeros, align_corners = true) with
// grid = normalised(p + motion(p)), but without building the grid and with
// the gradient taken directly in pixels.
//
// Gradients flow to both the input and the motion (first order only). CPU
// tensors run the vectorised kernels of cpu/warp_kernels.h (float, double);
// CUDA tensors run cuda/warp_kernels.cu when the build has --config=cuda.
//
// Example:
//
//   at::Tensor h_warped = mapn::WarpByMotion(h, motion_at_feature_scale);
#ifndef MAPN_OPS_WARP_H_
#define MAPN_OPS_WARP_H_

#include <ATen/core/Tensor.h>

#include <string>

namespace mapn {

// What is wrong with the arguments of WarpByMotion, or "" when nothing is:
// input [B, C, H, W] and motion [B, 2, H, W], the same floating dtype (float
// or double) and device, and a device this build has kernels for. The text
// names the offending argument and its shape. (A string, not absl::Status,
// so that this library builds with nothing but LibTorch: tools/gpu compiles
// it on a machine without Abseil. Model code turns it into a Status.)
std::string WarpArgumentError(const at::Tensor& input,
                              const at::Tensor& motion);

// The warp, differentiable. Throws c10::Error with WarpArgumentError's text
// on bad arguments (it sits inside model forwards, where LibTorch's
// convention is an exception); callers that take user data validate first.
at::Tensor WarpByMotion(const at::Tensor& input, const at::Tensor& motion);

}  // namespace mapn

#endif  // MAPN_OPS_WARP_H_
