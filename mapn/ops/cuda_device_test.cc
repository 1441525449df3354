#include "mapn/ops/cuda_device.h"

#include <vector>

#include "gtest/gtest.h"

#ifdef MAPN_WITH_CUDA
#include "mapn/ops/cuda/device_kernels.h"
#endif

namespace mapn {
namespace {

TEST(CudaDeviceTest, BuildFlagMatchesDefine) {
#ifdef MAPN_WITH_CUDA
  EXPECT_TRUE(BuiltWithCuda());
#else
  EXPECT_FALSE(BuiltWithCuda());
  EXPECT_EQ(CudaDeviceCount(), 0);
  EXPECT_EQ(CudaUnavailableReason(), "built without --config=cuda");
#endif
}

TEST(CudaDeviceTest, ReasonIsGivenExactlyWhenNoDevice) {
  EXPECT_EQ(CudaDeviceCount() == 0, !CudaUnavailableReason().empty());
}

#ifdef MAPN_WITH_CUDA
// With a GPU, the trivial kernel must produce exactly its CPU counterpart;
// without one, the launch must fail with an error rather than crash.
TEST(CudaDeviceTest, AffineIotaMatchesCpu) {
  constexpr int kN = 1000;
  std::vector<float> out(kN, -1.0f);
  const char* error = cuda::AffineIotaOnDevice(0.5f, 3.0f, kN, out.data());
  if (CudaDeviceCount() == 0) {
    EXPECT_NE(error, nullptr);
    return;
  }
  ASSERT_EQ(error, nullptr) << error;
  for (int i = 0; i < kN; ++i) EXPECT_EQ(out[i], 0.5f * i + 3.0f) << i;
}
#endif

}  // namespace
}  // namespace mapn
