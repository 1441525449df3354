// File: warp_kernels.h
//
// CPU kernels of the motion warp (see mapn/ops/warp.h for the semantics):
// out(b, c, y, x) = bilinear(input(b, c), x + dx(b, y, x), y + dy(b, y, x)),
// with zeros outside the input. Plain pointers, no autograd: warp.h wraps
// them into a differentiable operator. Work is split over rows with
// at::parallel_for; the inner loops run over a precomputed per-pixel sampling
// plan (four clamped indices and four weights, zero for corners outside), so
// they are branch-free and contiguous in the output.
//
// Example:
//
//   std::vector<float> out(shape.numel());
//   mapn::cpu::WarpForward(input, motion, shape, out.data());
#ifndef MAPN_OPS_CPU_WARP_KERNELS_H_
#define MAPN_OPS_CPU_WARP_KERNELS_H_

#include "mapn/ops/warp_shape.h"

namespace mapn::cpu {

// T is float or double. `out` has shape.numel() elements.
template <typename T>
void WarpForward(const T* input, const T* motion, const WarpShape& shape,
                 T* out);

// Gradients of WarpForward given the gradient of its output. Either output
// pointer may be null to skip that gradient; both are overwritten (not
// accumulated). grad_motion has batch * 2 * height * width elements.
template <typename T>
void WarpBackward(const T* grad_out, const T* input, const T* motion,
                  const WarpShape& shape, T* grad_input, T* grad_motion);

}  // namespace mapn::cpu

#endif  // MAPN_OPS_CPU_WARP_KERNELS_H_
