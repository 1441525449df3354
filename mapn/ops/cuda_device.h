// File: cuda_device.h
//
// Whether this binary carries CUDA kernels and whether a GPU is usable. Works
// in every build: without --config=cuda, BuiltWithCuda() is false and
// CudaDeviceCount() is 0.
//
// Example:
//
//   if (mapn::CudaDeviceCount() > 0) { /* run the CUDA warp */ }
#ifndef MAPN_OPS_CUDA_DEVICE_H_
#define MAPN_OPS_CUDA_DEVICE_H_

#include <string>

namespace mapn {

// True when the build compiled the CUDA kernels (--config=cuda).
bool BuiltWithCuda();

// Usable CUDA devices: 0 in CPU-only builds or when no GPU or driver is found.
int CudaDeviceCount();

// Why CudaDeviceCount() is 0, for messages ("built without --config=cuda",
// "no CUDA-capable device is detected", ...); empty when a device exists.
std::string CudaUnavailableReason();

}  // namespace mapn

#endif  // MAPN_OPS_CUDA_DEVICE_H_
