#include <cuda_runtime.h>

#include "mapn/ops/cuda/device_kernels.h"

namespace mapn::cuda {
namespace {

__global__ void AffineIotaKernel(float scale, float offset, int n,
                                 float* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = scale * static_cast<float>(i) + offset;
}

}  // namespace

int DeviceCount(const char** error) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (error != nullptr) *error = cudaGetErrorString(status);
    cudaGetLastError();  // clear the sticky error
    return 0;
  }
  if (error != nullptr) *error = nullptr;
  return count;
}

const char* AffineIotaOnDevice(float scale, float offset, int n,
                               float* host_out) {
  float* device = nullptr;
  cudaError_t status = cudaMalloc(&device, sizeof(float) * n);
  if (status != cudaSuccess) return cudaGetErrorString(status);
  constexpr int kThreads = 256;
  AffineIotaKernel<<<(n + kThreads - 1) / kThreads, kThreads>>>(scale, offset,
                                                                 n, device);
  status = cudaGetLastError();
  if (status == cudaSuccess) {
    status = cudaMemcpy(host_out, device, sizeof(float) * n,
                        cudaMemcpyDeviceToHost);
  }
  cudaFree(device);
  return status == cudaSuccess ? nullptr : cudaGetErrorString(status);
}

}  // namespace mapn::cuda
