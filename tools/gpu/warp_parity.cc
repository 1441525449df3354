// The CUDA warp against the CPU warp and torch::grid_sample, on CUDA tensors
// through mapn::WarpByMotion (forward and both gradients), plus timings.
// Built and run by tools/gpu/check_cuda.sh on a GPU machine without Bazel or
// gtest: a plain main that prints a table and exits non-zero on any failure.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "mapn/ops/warp.h"

namespace {

struct Case {
  int64_t b, c, h, w;
  double max_motion;
};

torch::Tensor GridSampleWarp(const torch::Tensor& input,
                             const torch::Tensor& motion) {
  const int64_t h = input.size(2);
  const int64_t w = input.size(3);
  const auto opts = motion.options();
  const torch::Tensor xs = torch::arange(w, opts).view({1, 1, w});
  const torch::Tensor ys = torch::arange(h, opts).view({1, h, 1});
  const torch::Tensor gx = (xs + motion.select(1, 0)) * (2.0 / (w - 1)) - 1.0;
  const torch::Tensor gy = (ys + motion.select(1, 1)) * (2.0 / (h - 1)) - 1.0;
  return torch::grid_sampler(input, torch::stack({gx, gy}, 3), 0, 0, true);
}

double MaxAbs(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.cpu().to(torch::kDouble) - b.cpu().to(torch::kDouble))
      .abs()
      .max()
      .item<double>();
}

double Scale(const torch::Tensor& t) {
  return std::max(1.0, t.abs().max().item<double>());
}

struct Grads {
  torch::Tensor out, grad_input, grad_motion;
};

Grads Run(const torch::Tensor& input, const torch::Tensor& motion,
          const torch::Tensor& grad_out, bool use_grid_sample) {
  torch::Tensor x = input.detach().clone().requires_grad_(true);
  torch::Tensor m = motion.detach().clone().requires_grad_(true);
  torch::Tensor y =
      use_grid_sample ? GridSampleWarp(x, m) : mapn::WarpByMotion(x, m);
  const auto grads = torch::autograd::grad({y}, {x, m}, {grad_out});
  return {y.detach(), grads[0], grads[1]};
}

// Mean milliseconds of `fn` over `iters` runs after a warm-up, synchronising
// the GPU around the timed region when `cuda` is set.
double TimeMs(const std::function<void()>& fn, bool cuda, int iters) {
  fn();
  if (cuda) torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) fn();
  if (cuda) torch::cuda::synchronize();
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(end - start).count() / iters;
}

}  // namespace

int main() {
  if (!torch::cuda::is_available()) {
    std::printf("FAIL: torch::cuda::is_available() is false\n");
    return 1;
  }
  torch::manual_seed(0);
  const std::vector<Case> cases = {
      {1, 1, 5, 7, 3.0},     {2, 3, 16, 16, 4.0},  {3, 8, 9, 13, 10.0},
      {4, 64, 8, 8, 2.0},    {2, 512, 8, 8, 3.0},  {1, 3, 256, 256, 20.0},
      {8, 256, 64, 64, 6.0}, {1, 2048, 8, 8, 1.5},
  };
  const torch::Device device(torch::kCUDA, 0);
  bool ok = true;
  std::printf("%-18s %10s %10s %10s %10s %10s | %9s %9s %9s %9s\n",
              "B x C x H x W", "fwd_cpu", "gin_cpu", "gmv_cpu", "fwd_grid",
              "gmv_grid", "cpu_fwd_ms", "gpu_fwd_ms", "cpu_f+b_ms",
              "gpu_f+b_ms");
  for (const Case& k : cases) {
    const torch::Tensor input = torch::rand({k.b, k.c, k.h, k.w});
    const torch::Tensor motion =
        (torch::rand({k.b, 2, k.h, k.w}) * 2 - 1) * k.max_motion;
    const torch::Tensor grad_out = torch::randn({k.b, k.c, k.h, k.w});

    const Grads cpu = Run(input, motion, grad_out, false);
    const Grads on_gpu =
        Run(input.to(device), motion.to(device), grad_out.to(device), false);
    const Grads grid =
        Run(input.to(device), motion.to(device), grad_out.to(device), true);

    // The same float arithmetic in a different order: 1e-5 absolute on
    // values and on the input gradient (a few terms per element); the motion
    // gradient sums C channels, so its bound is relative to its magnitude.
    const double fwd_cpu = MaxAbs(on_gpu.out, cpu.out);
    const double gin_cpu = MaxAbs(on_gpu.grad_input, cpu.grad_input);
    const double gmv_cpu =
        MaxAbs(on_gpu.grad_motion, cpu.grad_motion) / Scale(cpu.grad_motion);
    // grid_sample normalises coordinates to [-1, 1] and back in float, which
    // costs a few ulps of position: a looser bound.
    const double fwd_grid = MaxAbs(on_gpu.out, grid.out);
    const double gmv_grid =
        MaxAbs(on_gpu.grad_motion, grid.grad_motion) / Scale(grid.grad_motion);
    const bool case_ok = fwd_cpu <= 1e-5 && gin_cpu <= 1e-5 &&
                         gmv_cpu <= 1e-5 && fwd_grid <= 1e-4 &&
                         gmv_grid <= 1e-3;
    ok = ok && case_ok;

    const torch::Tensor gi = input.to(device), gm = motion.to(device);
    const int iters = k.c * k.h * k.w * k.b > 4'000'000 ? 5 : 20;
    const double cpu_fwd =
        TimeMs([&] { mapn::WarpByMotion(input, motion); }, false, iters);
    const double gpu_fwd =
        TimeMs([&] { mapn::WarpByMotion(gi, gm); }, true, iters * 5);
    const double cpu_fb =
        TimeMs([&] { Run(input, motion, grad_out, false); }, false, iters);
    const torch::Tensor gg = grad_out.to(device);
    const double gpu_fb =
        TimeMs([&] { Run(gi, gm, gg, false); }, true, iters * 5);

    char label[64];
    std::snprintf(label, sizeof(label), "%lldx%lldx%lldx%lld",
                  static_cast<long long>(k.b), static_cast<long long>(k.c),
                  static_cast<long long>(k.h), static_cast<long long>(k.w));
    std::printf(
        "%-18s %10.2e %10.2e %10.2e %10.2e %10.2e | %9.3f %9.3f %9.3f %9.3f "
        "%s\n",
        label, fwd_cpu, gin_cpu, gmv_cpu, fwd_grid, gmv_grid, cpu_fwd, gpu_fwd,
        cpu_fb, gpu_fb, case_ok ? "ok" : "FAIL");
  }

  // Zero motion is the identity and an integer shift is exact on the GPU too.
  {
    const torch::Tensor input = torch::randn({2, 5, 12, 10}).to(device);
    torch::Tensor motion = torch::zeros({2, 2, 12, 10}).to(device);
    const bool identity =
        torch::equal(mapn::WarpByMotion(input, motion), input);
    motion.select(1, 0).fill_(2.0);
    motion.select(1, 1).fill_(-3.0);
    torch::Tensor expected = torch::zeros_like(input);
    expected.slice(2, 3, 12).slice(3, 0, 8).copy_(
        input.slice(2, 0, 9).slice(3, 2, 10));
    const bool shift =
        torch::equal(mapn::WarpByMotion(input, motion), expected);
    std::printf("zero motion identity: %s; integer shift exact: %s\n",
                identity ? "ok" : "FAIL", shift ? "ok" : "FAIL");
    ok = ok && identity && shift;
  }
  // Bad arguments are reported, not crashed on.
  {
    bool threw = false;
    try {
      mapn::WarpByMotion(torch::zeros({1, 3, 4, 4}).to(device),
                         torch::zeros({1, 2, 4, 4}));
    } catch (const c10::Error&) {
      threw = true;
    }
    std::printf("device mismatch rejected: %s\n", threw ? "ok" : "FAIL");
    ok = ok && threw;
  }
  std::printf("%s\n", ok ? "CUDA warp parity: PASS" : "CUDA warp parity: FAIL");
  return ok ? 0 : 1;
}
