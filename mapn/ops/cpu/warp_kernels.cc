#include "mapn/ops/cpu/warp_kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace mapn::cpu {
namespace {

// Rows per parallel task: enough work per task to amortise the scheduling.
int64_t RowGrain(int64_t width) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, width));
}

// The four bilinear taps of one output pixel: in-plane indices (clamped to 0
// where the corner is outside, so the read is always legal) and weights
// (zero where the corner is outside, which makes the padding zeros).
template <typename T>
struct Tap {
  int64_t index[4];
  T weight[4];
};

// The taps plus the derivatives of the weights with respect to the sampling
// position, for the motion gradient.
template <typename T>
struct DerivTap {
  int64_t index[4];
  T weight[4];
  T dweight_dx[4];
  T dweight_dy[4];
};

// Fills `tap` for sampling position (sx, sy) in a height x width plane. The
// corners are ordered (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1),
// as in torch::grid_sample, so both give the same sums in the same order.
template <typename T, typename TapT>
void Locate(T sx, T sy, int64_t height, int64_t width, TapT& tap) {
  auto clear = [&] {
    for (int k = 0; k < 4; ++k) {
      tap.index[k] = 0;
      tap.weight[k] = T(0);
      if constexpr (requires { tap.dweight_dx; }) {
        tap.dweight_dx[k] = T(0);
        tap.dweight_dy[k] = T(0);
      }
    }
  };
  // No corner of the 2 x 2 neighbourhood can be inside beyond these bounds;
  // the comparison also rejects NaN before any float-to-int conversion.
  if (!(sx >= T(-1) && sx <= T(width) && sy >= T(-1) && sy <= T(height))) {
    clear();
    return;
  }
  const T floor_x = std::floor(sx);
  const T floor_y = std::floor(sy);
  const int64_t x0 = static_cast<int64_t>(floor_x);
  const int64_t y0 = static_cast<int64_t>(floor_y);
  const T fx = sx - floor_x;
  const T fy = sy - floor_y;
  const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1};
  const int64_t ys[4] = {y0, y0, y0 + 1, y0 + 1};
  const T w[4] = {(T(1) - fx) * (T(1) - fy), fx * (T(1) - fy), (T(1) - fx) * fy,
                  fx * fy};
  for (int k = 0; k < 4; ++k) {
    const bool inside =
        xs[k] >= 0 && xs[k] < width && ys[k] >= 0 && ys[k] < height;
    tap.index[k] = inside ? ys[k] * width + xs[k] : 0;
    tap.weight[k] = inside ? w[k] : T(0);
    if constexpr (requires { tap.dweight_dx; }) {
      const T dx[4] = {-(T(1) - fy), T(1) - fy, -fy, fy};
      const T dy[4] = {-(T(1) - fx), -fx, T(1) - fx, fx};
      tap.dweight_dx[k] = inside ? dx[k] : T(0);
      tap.dweight_dy[k] = inside ? dy[k] : T(0);
    }
  }
}

// Taps of every pixel of every batch element: [batch, height, width].
template <typename T>
std::vector<Tap<T>> BuildPlan(const T* motion, const WarpShape& s) {
  std::vector<Tap<T>> plan(static_cast<size_t>(s.batch * s.plane()));
  const int64_t plane = s.plane();
  at::parallel_for(0, s.batch * s.height, RowGrain(s.width),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t row = begin; row < end; ++row) {
                       const int64_t b = row / s.height;
                       const int64_t y = row % s.height;
                       const T* mx = motion + (b * 2) * plane + y * s.width;
                       const T* my = mx + plane;
                       Tap<T>* taps = plan.data() + row * s.width;
                       for (int64_t x = 0; x < s.width; ++x) {
                         Locate(static_cast<T>(x) + mx[x],
                                static_cast<T>(y) + my[x], s.height, s.width,
                                taps[x]);
                       }
                     }
                   });
  return plan;
}

}  // namespace

template <typename T>
void WarpForward(const T* input, const T* motion, const WarpShape& s, T* out) {
  if (s.numel() == 0) return;
  const std::vector<Tap<T>> plan = BuildPlan(motion, s);
  const int64_t plane = s.plane();
  at::parallel_for(
      0, s.batch * s.channels * s.height, RowGrain(s.width),
      [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          const int64_t bc = row / s.height;  // b * channels + c
          const int64_t b = bc / s.channels;
          const int64_t y = row % s.height;
          const T* src = input + bc * plane;
          const Tap<T>* taps = plan.data() + (b * s.height + y) * s.width;
          T* dst = out + row * s.width;
          for (int64_t x = 0; x < s.width; ++x) {
            const Tap<T>& t = taps[x];
            dst[x] =
                t.weight[0] * src[t.index[0]] + t.weight[1] * src[t.index[1]] +
                t.weight[2] * src[t.index[2]] + t.weight[3] * src[t.index[3]];
          }
        }
      });
}

template <typename T>
void WarpBackward(const T* grad_out, const T* input, const T* motion,
                  const WarpShape& s, T* grad_input, T* grad_motion) {
  const int64_t plane = s.plane();
  if (grad_input != nullptr) {
    std::fill(grad_input, grad_input + s.numel(), T(0));
  }
  if (grad_motion != nullptr) {
    std::fill(grad_motion, grad_motion + s.batch * 2 * plane, T(0));
  }
  if (s.numel() == 0) return;

  if (grad_input != nullptr) {
    // A scatter: pixels of one plane may hit the same input element, so the
    // work is split by plane and each plane is accumulated by one thread.
    const std::vector<Tap<T>> plan = BuildPlan(motion, s);
    at::parallel_for(0, s.batch * s.channels,
                     std::max<int64_t>(1, 16384 / plane),
                     [&](int64_t begin, int64_t end) {
                       for (int64_t bc = begin; bc < end; ++bc) {
                         const int64_t b = bc / s.channels;
                         const T* g = grad_out + bc * plane;
                         T* gi = grad_input + bc * plane;
                         const Tap<T>* taps = plan.data() + b * plane;
                         for (int64_t p = 0; p < plane; ++p) {
                           const Tap<T>& t = taps[p];
                           const T gp = g[p];
                           gi[t.index[0]] += t.weight[0] * gp;
                           gi[t.index[1]] += t.weight[1] * gp;
                           gi[t.index[2]] += t.weight[2] * gp;
                           gi[t.index[3]] += t.weight[3] * gp;
                         }
                       }
                     });
  }

  if (grad_motion != nullptr) {
    // A gather over channels per pixel: rows are independent.
    at::parallel_for(
        0, s.batch * s.height,
        std::max<int64_t>(1,
                          RowGrain(s.width) / std::max<int64_t>(1, s.channels)),
        [&](int64_t begin, int64_t end) {
          std::vector<DerivTap<T>> taps(static_cast<size_t>(s.width));
          std::vector<T> gx(static_cast<size_t>(s.width));
          std::vector<T> gy(static_cast<size_t>(s.width));
          for (int64_t row = begin; row < end; ++row) {
            const int64_t b = row / s.height;
            const int64_t y = row % s.height;
            const T* mx = motion + (b * 2) * plane + y * s.width;
            const T* my = mx + plane;
            for (int64_t x = 0; x < s.width; ++x) {
              Locate(static_cast<T>(x) + mx[x], static_cast<T>(y) + my[x],
                     s.height, s.width, taps[x]);
            }
            std::fill(gx.begin(), gx.end(), T(0));
            std::fill(gy.begin(), gy.end(), T(0));
            for (int64_t c = 0; c < s.channels; ++c) {
              const int64_t bc = b * s.channels + c;
              const T* src = input + bc * plane;
              const T* g = grad_out + bc * plane + y * s.width;
              for (int64_t x = 0; x < s.width; ++x) {
                const DerivTap<T>& t = taps[x];
                const T v0 = src[t.index[0]];
                const T v1 = src[t.index[1]];
                const T v2 = src[t.index[2]];
                const T v3 = src[t.index[3]];
                gx[x] += g[x] * (v0 * t.dweight_dx[0] + v1 * t.dweight_dx[1] +
                                 v2 * t.dweight_dx[2] + v3 * t.dweight_dx[3]);
                gy[x] += g[x] * (v0 * t.dweight_dy[0] + v1 * t.dweight_dy[1] +
                                 v2 * t.dweight_dy[2] + v3 * t.dweight_dy[3]);
              }
            }
            T* out_x = grad_motion + (b * 2) * plane + y * s.width;
            T* out_y = out_x + plane;
            std::copy(gx.begin(), gx.end(), out_x);
            std::copy(gy.begin(), gy.end(), out_y);
          }
        });
  }
}

template void WarpForward<float>(const float*, const float*, const WarpShape&,
                                 float*);
template void WarpForward<double>(const double*, const double*,
                                  const WarpShape&, double*);
template void WarpBackward<float>(const float*, const float*, const float*,
                                  const WarpShape&, float*, float*);
template void WarpBackward<double>(const double*, const double*, const double*,
                                   const WarpShape&, double*, double*);

}  // namespace mapn::cpu
