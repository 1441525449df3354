// File: warp_shape.h
//
// The shape of one motion-warp call, shared by the CPU kernels
// (cpu/warp_kernels.h), the CUDA kernels (cuda/warp_kernels.h) and the
// tensor front (warp.h). A plain struct so that nvcc-compiled code can use it
// without any torch header.
//
// Example:
//
//   const WarpShape shape{.batch = 2, .channels = 64, .height = 8, .width = 8};
//   cpu::WarpForward(input, motion, shape, out);
#ifndef MAPN_OPS_WARP_SHAPE_H_
#define MAPN_OPS_WARP_SHAPE_H_

#include <cstdint>

namespace mapn {

// input/output: [batch, channels, height, width]; motion: [batch, 2, height,
// width], channel 0 = dx, channel 1 = dy, in pixels of the input. All
// contiguous (row-major).
struct WarpShape {
  int64_t batch = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;

  int64_t plane() const { return height * width; }
  int64_t numel() const { return batch * channels * height * width; }
};

}  // namespace mapn

#endif  // MAPN_OPS_WARP_SHAPE_H_
