// File: warp_kernels.h
//
// CUDA kernels of the motion warp (semantics in mapn/ops/warp.h), behind a
// plain-C++ API on raw pointers so that g++-compiled code can call them and
// no torch header reaches nvcc. Only linked when the build has
// --config=cuda (MAPN_WITH_CUDA); mapn/ops/warp.h dispatches to them for CUDA
// tensors, and the *Host variants let a CPU-only LibTorch build test them.
//
// Every function returns nullptr on success, else the CUDA error string
// (argument errors, allocation failures and launch errors are all checked).
//
// Example:
//
//   if (const char* error = mapn::cuda::WarpForward(in, mv, shape, out,
//                                                   /*stream=*/nullptr)) {
//     return absl::InternalError(error);
//   }
#ifndef MAPN_OPS_CUDA_WARP_KERNELS_H_
#define MAPN_OPS_CUDA_WARP_KERNELS_H_

#include "mapn/ops/warp_shape.h"

namespace mapn::cuda {

// Device pointers; `stream` is a cudaStream_t (nullptr: the legacy default
// stream). The launch is asynchronous on that stream.
const char* WarpForward(const float* input, const float* motion,
                        const WarpShape& shape, float* out, void* stream);
const char* WarpForward(const double* input, const double* motion,
                        const WarpShape& shape, double* out, void* stream);

// Overwrites grad_input and grad_motion (either may be null to skip it).
// Both are accumulated with atomics (the motion gradient only when the
// feature map is small and has many channels), so their low bits may differ
// from run to run.
const char* WarpBackward(const float* grad_out, const float* input,
                         const float* motion, const WarpShape& shape,
                         float* grad_input, float* grad_motion, void* stream);
const char* WarpBackward(const double* grad_out, const double* input,
                         const double* motion, const WarpShape& shape,
                         double* grad_input, double* grad_motion, void* stream);

// Host pointers: copies to device 0, runs the kernels, copies back and
// synchronises. For tests and tools built against a CPU-only LibTorch.
const char* WarpForwardHost(const float* input, const float* motion,
                            const WarpShape& shape, float* out);
const char* WarpBackwardHost(const float* grad_out, const float* input,
                             const float* motion, const WarpShape& shape,
                             float* grad_input, float* grad_motion);

}  // namespace mapn::cuda

#endif  // MAPN_OPS_CUDA_WARP_KERNELS_H_
