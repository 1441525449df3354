#include <cuda_runtime.h>

#include <cstdint>

#include "mapn/ops/cuda/warp_kernels.h"

namespace mapn::cuda {
namespace {

constexpr int kThreads = 256;

// Bilinear corners of (sx, sy), in the order of torch::grid_sample: (x0, y0),
// (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1). Corners outside get weight 0
// and index -1 (never read). The range test also rejects NaN before any
// float-to-int conversion.
template <typename T>
struct Corners {
  int64_t index[4];
  T weight[4];
  T dweight_dx[4];
  T dweight_dy[4];
};

template <typename T>
__device__ __forceinline__ void Locate(T sx, T sy, int64_t height,
                                       int64_t width, Corners<T>& c) {
  if (!(sx >= T(-1) && sx <= T(width) && sy >= T(-1) && sy <= T(height))) {
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      c.index[k] = -1;
      c.weight[k] = c.dweight_dx[k] = c.dweight_dy[k] = T(0);
    }
    return;
  }
  const T floor_x = floor(sx);
  const T floor_y = floor(sy);
  const int64_t x0 = static_cast<int64_t>(floor_x);
  const int64_t y0 = static_cast<int64_t>(floor_y);
  const T fx = sx - floor_x;
  const T fy = sy - floor_y;
  const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1};
  const int64_t ys[4] = {y0, y0, y0 + 1, y0 + 1};
  const T w[4] = {(T(1) - fx) * (T(1) - fy), fx * (T(1) - fy), (T(1) - fx) * fy,
                  fx * fy};
  const T dx[4] = {-(T(1) - fy), T(1) - fy, -fy, fy};
  const T dy[4] = {-(T(1) - fx), -fx, T(1) - fx, fx};
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const bool inside =
        xs[k] >= 0 && xs[k] < width && ys[k] >= 0 && ys[k] < height;
    c.index[k] = inside ? ys[k] * width + xs[k] : -1;
    c.weight[k] = inside ? w[k] : T(0);
    c.dweight_dx[k] = inside ? dx[k] : T(0);
    c.dweight_dy[k] = inside ? dy[k] : T(0);
  }
}

// One thread per output element (b, c, y, x).
template <typename T>
__global__ void WarpForwardKernel(const T* __restrict__ input,
                                  const T* __restrict__ motion, WarpShape s,
                                  T* __restrict__ out) {
  const int64_t plane = s.height * s.width;
  const int64_t total = s.batch * s.channels * plane;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       i < total; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = i % plane;
    const int64_t bc = i / plane;
    const int64_t b = bc / s.channels;
    const int64_t x = p % s.width;
    const int64_t y = p / s.width;
    const T* mv = motion + b * 2 * plane;
    Corners<T> c;
    Locate(static_cast<T>(x) + mv[p], static_cast<T>(y) + mv[plane + p],
           s.height, s.width, c);
    const T* src = input + bc * plane;
    T value = T(0);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      if (c.index[k] >= 0) value += c.weight[k] * src[c.index[k]];
    }
    out[i] = value;
  }
}

// One thread per pixel (b, y, x) and channel group: the thread loops over
// the channels g, g + groups, g + 2 groups, ... It adds its share of the
// motion gradient atomically (exactly one add per pixel, hence deterministic,
// when groups == 1) and scatters the input gradient with atomics.
template <typename T>
__global__ void WarpBackwardKernel(const T* __restrict__ grad_out,
                                   const T* __restrict__ input,
                                   const T* __restrict__ motion, WarpShape s,
                                   int64_t groups, T* __restrict__ grad_input,
                                   T* __restrict__ grad_motion) {
  const int64_t plane = s.height * s.width;
  const int64_t total = s.batch * groups * plane;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       i < total; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = i % plane;
    const int64_t group = (i / plane) % groups;
    const int64_t b = i / (plane * groups);
    const int64_t x = p % s.width;
    const int64_t y = p / s.width;
    const T* mv = motion + b * 2 * plane;
    Corners<T> c;
    Locate(static_cast<T>(x) + mv[p], static_cast<T>(y) + mv[plane + p],
           s.height, s.width, c);
    T gx = T(0);
    T gy = T(0);
    for (int64_t ch = group; ch < s.channels; ch += groups) {
      const int64_t offset = (b * s.channels + ch) * plane;
      const T g = grad_out[offset + p];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        if (c.index[k] < 0) continue;
        if (grad_motion != nullptr) {
          const T v = input[offset + c.index[k]];
          gx += g * v * c.dweight_dx[k];
          gy += g * v * c.dweight_dy[k];
        }
        if (grad_input != nullptr) {
          atomicAdd(grad_input + offset + c.index[k], c.weight[k] * g);
        }
      }
    }
    if (grad_motion != nullptr) {
      atomicAdd(grad_motion + b * 2 * plane + p, gx);
      atomicAdd(grad_motion + b * 2 * plane + plane + p, gy);
    }
  }
}

// Channel groups for the backward pass: enough threads to fill the GPU when
// the map is small (8 x 8 feature maps with 512 to 2048 channels), at least
// 16 channels per thread so the atomics on the motion gradient stay few.
int64_t ChannelGroups(const WarpShape& s) {
  constexpr int64_t kTargetThreads = 1 << 17;
  const int64_t pixels = s.batch * s.height * s.width;
  if (pixels <= 0) return 1;
  int64_t groups = kTargetThreads / pixels;
  const int64_t max_groups = (s.channels + 15) / 16;
  if (groups > max_groups) groups = max_groups;
  return groups > 1 ? groups : 1;
}

int Blocks(int64_t work) {
  // A grid-stride loop covers the rest; 65535 blocks saturate any GPU.
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

const char* CheckShape(const WarpShape& s) {
  if (s.batch < 0 || s.channels < 0 || s.height < 0 || s.width < 0) {
    return "WarpShape has a negative dimension";
  }
  return nullptr;
}

const char* LastError() {
  const cudaError_t status = cudaGetLastError();
  return status == cudaSuccess ? nullptr : cudaGetErrorString(status);
}

template <typename T>
const char* Forward(const T* input, const T* motion, const WarpShape& s, T* out,
                    void* stream) {
  if (const char* error = CheckShape(s)) return error;
  if (s.numel() == 0) return nullptr;
  WarpForwardKernel<T>
      <<<Blocks(s.numel()), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
          input, motion, s, out);
  return LastError();
}

template <typename T>
const char* Backward(const T* grad_out, const T* input, const T* motion,
                     const WarpShape& s, T* grad_input, T* grad_motion,
                     void* stream) {
  if (const char* error = CheckShape(s)) return error;
  const cudaStream_t st = static_cast<cudaStream_t>(stream);
  cudaError_t status = cudaSuccess;
  if (grad_input != nullptr && s.numel() > 0) {
    status = cudaMemsetAsync(grad_input, 0, sizeof(T) * s.numel(), st);
    if (status != cudaSuccess) return cudaGetErrorString(status);
  }
  if (grad_motion != nullptr && s.batch * s.plane() > 0) {
    status = cudaMemsetAsync(grad_motion, 0,
                             sizeof(T) * 2 * s.batch * s.plane(), st);
    if (status != cudaSuccess) return cudaGetErrorString(status);
  }
  if (s.numel() == 0 || (grad_input == nullptr && grad_motion == nullptr)) {
    return nullptr;
  }
  const int64_t groups = ChannelGroups(s);
  WarpBackwardKernel<T>
      <<<Blocks(s.batch * groups * s.plane()), kThreads, 0, st>>>(
          grad_out, input, motion, s, groups, grad_input, grad_motion);
  return LastError();
}

// Device buffers freed on scope exit, for the host wrappers.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  cudaError_t Allocate(size_t bytes) {
    return cudaMalloc(&ptr_, bytes > 0 ? bytes : 1);
  }
  float* get() const { return static_cast<float*>(ptr_); }

 private:
  void* ptr_ = nullptr;
};

}  // namespace

const char* WarpForward(const float* input, const float* motion,
                        const WarpShape& shape, float* out, void* stream) {
  return Forward(input, motion, shape, out, stream);
}

const char* WarpForward(const double* input, const double* motion,
                        const WarpShape& shape, double* out, void* stream) {
  return Forward(input, motion, shape, out, stream);
}

const char* WarpBackward(const float* grad_out, const float* input,
                         const float* motion, const WarpShape& shape,
                         float* grad_input, float* grad_motion, void* stream) {
  return Backward(grad_out, input, motion, shape, grad_input, grad_motion,
                  stream);
}

const char* WarpBackward(const double* grad_out, const double* input,
                         const double* motion, const WarpShape& shape,
                         double* grad_input, double* grad_motion,
                         void* stream) {
  return Backward(grad_out, input, motion, shape, grad_input, grad_motion,
                  stream);
}

const char* WarpForwardHost(const float* input, const float* motion,
                            const WarpShape& shape, float* out) {
  if (const char* error = CheckShape(shape)) return error;
  const size_t data_bytes = sizeof(float) * shape.numel();
  const size_t motion_bytes = sizeof(float) * 2 * shape.batch * shape.plane();
  DeviceBuffer d_input, d_motion, d_out;
  cudaError_t status = d_input.Allocate(data_bytes);
  if (status == cudaSuccess) status = d_motion.Allocate(motion_bytes);
  if (status == cudaSuccess) status = d_out.Allocate(data_bytes);
  if (status == cudaSuccess) {
    status =
        cudaMemcpy(d_input.get(), input, data_bytes, cudaMemcpyHostToDevice);
  }
  if (status == cudaSuccess) {
    status = cudaMemcpy(d_motion.get(), motion, motion_bytes,
                        cudaMemcpyHostToDevice);
  }
  if (status != cudaSuccess) return cudaGetErrorString(status);
  if (const char* error =
          Forward(d_input.get(), d_motion.get(), shape, d_out.get(), nullptr)) {
    return error;
  }
  status = cudaMemcpy(out, d_out.get(), data_bytes, cudaMemcpyDeviceToHost);
  return status == cudaSuccess ? nullptr : cudaGetErrorString(status);
}

const char* WarpBackwardHost(const float* grad_out, const float* input,
                             const float* motion, const WarpShape& shape,
                             float* grad_input, float* grad_motion) {
  if (const char* error = CheckShape(shape)) return error;
  const size_t data_bytes = sizeof(float) * shape.numel();
  const size_t motion_bytes = sizeof(float) * 2 * shape.batch * shape.plane();
  DeviceBuffer d_grad, d_input, d_motion, d_grad_input, d_grad_motion;
  cudaError_t status = d_grad.Allocate(data_bytes);
  if (status == cudaSuccess) status = d_input.Allocate(data_bytes);
  if (status == cudaSuccess) status = d_motion.Allocate(motion_bytes);
  if (status == cudaSuccess) status = d_grad_input.Allocate(data_bytes);
  if (status == cudaSuccess) status = d_grad_motion.Allocate(motion_bytes);
  if (status == cudaSuccess) {
    status =
        cudaMemcpy(d_grad.get(), grad_out, data_bytes, cudaMemcpyHostToDevice);
  }
  if (status == cudaSuccess) {
    status =
        cudaMemcpy(d_input.get(), input, data_bytes, cudaMemcpyHostToDevice);
  }
  if (status == cudaSuccess) {
    status = cudaMemcpy(d_motion.get(), motion, motion_bytes,
                        cudaMemcpyHostToDevice);
  }
  if (status != cudaSuccess) return cudaGetErrorString(status);
  if (const char* error = Backward(
          d_grad.get(), d_input.get(), d_motion.get(), shape,
          grad_input != nullptr ? d_grad_input.get() : nullptr,
          grad_motion != nullptr ? d_grad_motion.get() : nullptr, nullptr)) {
    return error;
  }
  if (grad_input != nullptr) {
    status = cudaMemcpy(grad_input, d_grad_input.get(), data_bytes,
                        cudaMemcpyDeviceToHost);
  }
  if (status == cudaSuccess && grad_motion != nullptr) {
    status = cudaMemcpy(grad_motion, d_grad_motion.get(), motion_bytes,
                        cudaMemcpyDeviceToHost);
  }
  return status == cudaSuccess ? nullptr : cudaGetErrorString(status);
}

}  // namespace mapn::cuda
