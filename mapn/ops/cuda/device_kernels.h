// File: device_kernels.h
//
// Plain-C++ entry points into the nvcc-compiled device code that is not tied
// to one operator: the device query and a self-check kernel. Declared here
// without CUDA types so g++-compiled code can call them; only linked when the
// build has --config=cuda (MAPN_WITH_CUDA). Use mapn/ops/cuda_device.h, which
// also works in CPU-only builds, rather than this header.
#ifndef MAPN_OPS_CUDA_DEVICE_KERNELS_H_
#define MAPN_OPS_CUDA_DEVICE_KERNELS_H_

namespace mapn::cuda {

// Number of visible CUDA devices; 0 when the driver or a device is missing.
// `error` (may be null) receives the CUDA error string in that case.
int DeviceCount(const char** error);

// Runs out[i] = scale * i + offset on device 0 for i < n and copies the result
// to `host_out`. Returns nullptr on success, else the CUDA error string.
const char* AffineIotaOnDevice(float scale, float offset, int n,
                               float* host_out);

}  // namespace mapn::cuda

#endif  // MAPN_OPS_CUDA_DEVICE_KERNELS_H_
