#include "mapn/ops/cuda_device.h"

#ifdef MAPN_WITH_CUDA
#include "mapn/ops/cuda/device_kernels.h"
#endif

namespace mapn {

bool BuiltWithCuda() {
#ifdef MAPN_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int CudaDeviceCount() {
#ifdef MAPN_WITH_CUDA
  return cuda::DeviceCount(nullptr);
#else
  return 0;
#endif
}

std::string CudaUnavailableReason() {
#ifdef MAPN_WITH_CUDA
  const char* error = nullptr;
  if (cuda::DeviceCount(&error) > 0) return "";
  return error != nullptr ? error : "no CUDA device";
#else
  return "built without --config=cuda";
#endif
}

}  // namespace mapn
