#include "mapn/ops/warp.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <vector>

#include "gtest/gtest.h"
#include "mapn/ops/cpu/warp_kernels.h"
#include "mapn/ops/cuda_device.h"
#include "mapn/ops/warp_shape.h"

#ifdef MAPN_WITH_CUDA
#include "mapn/ops/cuda/warp_kernels.h"
#endif

namespace mapn {
namespace {

// torch::grid_sample's view of the same warp: normalised coordinates with
// align_corners = true, so -1 and +1 are the centres of the border pixels.
at::Tensor GridSampleWarp(const at::Tensor& input, const at::Tensor& motion) {
  const int64_t h = input.size(2);
  const int64_t w = input.size(3);
  const auto opts = motion.options();
  const at::Tensor xs = at::arange(w, opts).view({1, 1, w});
  const at::Tensor ys = at::arange(h, opts).view({1, h, 1});
  const at::Tensor gx = (xs + motion.select(1, 0)) * (2.0 / (w - 1)) - 1.0;
  const at::Tensor gy = (ys + motion.select(1, 1)) * (2.0 / (h - 1)) - 1.0;
  const at::Tensor grid = at::stack({gx, gy}, 3);
  return at::grid_sampler(input, grid, /*interpolation_mode=*/0,
                          /*padding_mode=*/0, /*align_corners=*/true);
}

double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

struct Case {
  int64_t b, c, h, w;
  double max_motion;
};

// Random input and motion; motion up to +-max_motion pixels, so some samples
// fall outside and exercise the zero padding.
std::pair<at::Tensor, at::Tensor> RandomCase(const Case& k, uint64_t seed,
                                             at::ScalarType type) {
  at::manual_seed(seed);
  const at::Tensor input = at::rand({k.b, k.c, k.h, k.w}, at::kDouble);
  const at::Tensor motion =
      (at::rand({k.b, 2, k.h, k.w}, at::kDouble) * 2 - 1) * k.max_motion;
  return {input.to(type), motion.to(type)};
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {{1, 1, 5, 7, 3.0},
                                          {2, 3, 16, 16, 4.0},
                                          {3, 8, 9, 13, 10.0},
                                          {1, 16, 32, 24, 2.5},
                                          {2, 4, 64, 64, 40.0}};
  return cases;
}

TEST(WarpTest, ForwardMatchesGridSample) {
  for (const Case& k : Cases()) {
    auto [input, motion] = RandomCase(k, 7, at::kFloat);
    const at::Tensor ours = WarpByMotion(input, motion);
    const at::Tensor reference =
        GridSampleWarp(input.to(at::kDouble), motion.to(at::kDouble));
    EXPECT_LE(MaxAbsDiff(ours, reference), 1e-5)
        << k.b << "x" << k.c << "x" << k.h << "x" << k.w;
  }
}

TEST(WarpTest, BackwardMatchesGridSample) {
  for (const Case& k : Cases()) {
    auto [input_f, motion_f] = RandomCase(k, 11, at::kFloat);
    at::manual_seed(12);
    const at::Tensor grad_out =
        at::rand({k.b, k.c, k.h, k.w}, at::kDouble) * 2 - 1;

    const at::Tensor input = input_f.clone().requires_grad_(true);
    const at::Tensor motion = motion_f.clone().requires_grad_(true);
    const auto ours =
        torch::autograd::grad({WarpByMotion(input, motion)}, {input, motion},
                              {grad_out.to(at::kFloat)});

    const at::Tensor input_d =
        input_f.to(at::kDouble).detach().requires_grad_(true);
    const at::Tensor motion_d =
        motion_f.to(at::kDouble).detach().requires_grad_(true);
    const auto reference = torch::autograd::grad(
        {GridSampleWarp(input_d, motion_d)}, {input_d, motion_d}, {grad_out});

    EXPECT_LE(MaxAbsDiff(ours[0], reference[0]), 1e-5)
        << "grad input " << k.b << "x" << k.c << "x" << k.h << "x" << k.w;
    EXPECT_LE(MaxAbsDiff(ours[1], reference[1]), 1e-5)
        << "grad motion " << k.b << "x" << k.c << "x" << k.h << "x" << k.w;
  }
}

TEST(WarpTest, DoubleMatchesGridSampleToRounding) {
  const Case k{2, 5, 11, 17, 6.0};
  auto [input_v, motion_v] = RandomCase(k, 3, at::kDouble);
  const at::Tensor input = input_v.requires_grad_(true);
  const at::Tensor motion = motion_v.requires_grad_(true);
  const at::Tensor ours = WarpByMotion(input, motion);
  const at::Tensor reference = GridSampleWarp(input, motion);
  EXPECT_LE(MaxAbsDiff(ours, reference), 1e-12);
  const at::Tensor grad_out = at::rand_like(ours);
  const auto g_ours =
      torch::autograd::grad({ours}, {input, motion}, {grad_out});
  const auto g_ref =
      torch::autograd::grad({reference}, {input, motion}, {grad_out});
  EXPECT_LE(MaxAbsDiff(g_ours[0], g_ref[0]), 1e-12);
  EXPECT_LE(MaxAbsDiff(g_ours[1], g_ref[1]), 1e-12);
}

TEST(WarpTest, ZeroMotionIsIdentity) {
  at::manual_seed(5);
  const at::Tensor input = at::randn({2, 6, 10, 14});
  const at::Tensor motion = at::zeros({2, 2, 10, 14});
  EXPECT_TRUE(at::equal(WarpByMotion(input, motion), input));
}

TEST(WarpTest, IntegerMotionIsExactShift) {
  at::manual_seed(6);
  const int64_t h = 9, w = 12, dx = 3, dy = -2;
  const at::Tensor input = at::randn({1, 4, h, w});
  at::Tensor motion = at::zeros({1, 2, h, w});
  motion.select(1, 0).fill_(static_cast<double>(dx));
  motion.select(1, 1).fill_(static_cast<double>(dy));
  // out(y, x) = input(y + dy, x + dx), zero where that is outside.
  at::Tensor expected = at::zeros_like(input);
  expected.slice(2, -dy, h)
      .slice(3, 0, w - dx)
      .copy_(input.slice(2, 0, h + dy).slice(3, dx, w));
  EXPECT_TRUE(at::equal(WarpByMotion(input, motion), expected));
}

TEST(WarpTest, FarOutsideAndNonFiniteMotionReadZeros) {
  const at::Tensor input = at::ones({1, 2, 4, 4});
  at::Tensor motion = at::zeros({1, 2, 4, 4});
  motion[0][0][0][0] = 1e9;
  motion[0][1][1][1] = -1e9;
  motion[0][0][2][2] = std::numeric_limits<float>::quiet_NaN();
  motion[0][1][3][3] = std::numeric_limits<float>::infinity();
  const at::Tensor out = WarpByMotion(input, motion);
  EXPECT_EQ(out[0][0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(out[0][1][1][1].item<float>(), 0.0f);
  EXPECT_EQ(out[0][0][2][2].item<float>(), 0.0f);
  EXPECT_EQ(out[0][1][3][3].item<float>(), 0.0f);
  EXPECT_EQ(out[0][0][0][1].item<float>(), 1.0f);
}

TEST(WarpTest, NonContiguousInputsAndPartialGradients) {
  at::manual_seed(8);
  const at::Tensor base = at::rand({2, 8, 8, 3});
  const at::Tensor input = base.permute({0, 3, 1, 2});  // [2, 3, 8, 8] view
  ASSERT_FALSE(input.is_contiguous());
  const at::Tensor motion = at::randn({2, 2, 8, 8});
  EXPECT_LE(MaxAbsDiff(WarpByMotion(input, motion),
                       WarpByMotion(input.contiguous(), motion)),
            0.0);
  // Only the input needs a gradient: the motion gradient is not computed.
  const at::Tensor x = input.contiguous().requires_grad_(true);
  const at::Tensor g =
      torch::autograd::grad({WarpByMotion(x, motion).sum()}, {x})[0];
  const at::Tensor x_ref = input.to(at::kDouble).requires_grad_(true);
  const at::Tensor g_ref = torch::autograd::grad(
      {GridSampleWarp(x_ref, motion.to(at::kDouble)).sum()}, {x_ref})[0];
  EXPECT_LE(MaxAbsDiff(g, g_ref), 1e-5);
}

TEST(WarpTest, BadArgumentsAreNamed) {
  const at::Tensor input = at::zeros({1, 3, 4, 5});
  auto message = [](const at::Tensor& in, const at::Tensor& mv) {
    return WarpArgumentError(in, mv);
  };
  EXPECT_EQ(WarpArgumentError(input, at::zeros({1, 2, 4, 5})), "");
  EXPECT_NE(message(at::zeros({3, 4, 5}), at::zeros({1, 2, 4, 5}))
                .find("input must be [B, C, H, W], got [3, 4, 5]"),
            std::string::npos);
  EXPECT_NE(message(input, at::zeros({1, 2, 5, 4})).find("got [1, 2, 5, 4]"),
            std::string::npos);
  EXPECT_NE(message(input.to(at::kInt), at::zeros({1, 2, 4, 5}))
                .find("float32 or float64"),
            std::string::npos);
  EXPECT_NE(
      message(input, at::zeros({1, 2, 4, 5}, at::kDouble)).find("motion dtype"),
      std::string::npos);
  EXPECT_THROW(WarpByMotion(input, at::zeros({1, 3, 4, 5})), c10::Error);
}

// The CUDA kernels against the CPU kernels, through host pointers so that it
// runs with the CPU-only LibTorch of the Bazel build. tools/gpu/check_cuda.sh
// checks the same on CUDA tensors through WarpByMotion.
TEST(WarpCudaTest, KernelsMatchCpu) {
  if (CudaDeviceCount() == 0) {
    GTEST_SKIP() << "CUDA warp parity not run: " << CudaUnavailableReason();
  }
#ifdef MAPN_WITH_CUDA
  for (const Case& k : Cases()) {
    auto [input, motion] = RandomCase(k, 21, at::kFloat);
    const at::Tensor grad_out = at::randn({k.b, k.c, k.h, k.w});
    const WarpShape shape{k.b, k.c, k.h, k.w};
    at::Tensor cpu_out = at::empty_like(input);
    at::Tensor gpu_out = at::empty_like(input);
    cpu::WarpForward(input.data_ptr<float>(), motion.data_ptr<float>(), shape,
                     cpu_out.data_ptr<float>());
    const char* error =
        cuda::WarpForwardHost(input.data_ptr<float>(), motion.data_ptr<float>(),
                              shape, gpu_out.data_ptr<float>());
    ASSERT_EQ(error, nullptr) << error;
    EXPECT_LE(MaxAbsDiff(cpu_out, gpu_out), 1e-5);

    at::Tensor cpu_gi = at::empty_like(input), gpu_gi = at::empty_like(input);
    at::Tensor cpu_gm = at::empty_like(motion), gpu_gm = at::empty_like(motion);
    cpu::WarpBackward(grad_out.data_ptr<float>(), input.data_ptr<float>(),
                      motion.data_ptr<float>(), shape, cpu_gi.data_ptr<float>(),
                      cpu_gm.data_ptr<float>());
    error = cuda::WarpBackwardHost(
        grad_out.data_ptr<float>(), input.data_ptr<float>(),
        motion.data_ptr<float>(), shape, gpu_gi.data_ptr<float>(),
        gpu_gm.data_ptr<float>());
    ASSERT_EQ(error, nullptr) << error;
    EXPECT_LE(MaxAbsDiff(cpu_gi, gpu_gi), 1e-5);
    EXPECT_LE(MaxAbsDiff(cpu_gm, gpu_gm), 1e-4);
  }
#endif
}

}  // namespace
}  // namespace mapn
