#include "mapn/viz/flow_color.h"

#include <ATen/ops/empty.h>

#include <array>
#include <cmath>
#include <vector>

#include "mapn/video/gop.h"

namespace mapn {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The Middlebury wheel: red-yellow 15, yellow-green 6, green-cyan 4,
// cyan-blue 11, blue-magenta 13, magenta-red 6 steps.
const std::vector<std::array<float, 3>>& Wheel() {
  static const std::vector<std::array<float, 3>>* wheel = [] {
    auto* w = new std::vector<std::array<float, 3>>();
    const int steps[6] = {15, 6, 4, 11, 13, 6};
    for (int i = 0; i < steps[0]; ++i)
      w->push_back({255, 255.0f * i / steps[0], 0});
    for (int i = 0; i < steps[1]; ++i)
      w->push_back({255 - 255.0f * i / steps[1], 255, 0});
    for (int i = 0; i < steps[2]; ++i)
      w->push_back({0, 255, 255.0f * i / steps[2]});
    for (int i = 0; i < steps[3]; ++i)
      w->push_back({0, 255 - 255.0f * i / steps[3], 255});
    for (int i = 0; i < steps[4]; ++i)
      w->push_back({255.0f * i / steps[4], 0, 255});
    for (int i = 0; i < steps[5]; ++i)
      w->push_back({255, 0, 255 - 255.0f * i / steps[5]});
    return w;
  }();
  return *wheel;
}

}  // namespace

void FlowColor(float u, float v, float max_magnitude, uint8_t rgb[3]) {
  const auto& wheel = Wheel();
  const int n = static_cast<int>(wheel.size());
  const float scale = max_magnitude > 0 ? max_magnitude : 1.0f;
  // + 0.0f turns -0 into +0: atan2 tells them apart (pi vs -pi), and the
  // two ends of the wheel are not quite the same colour.
  const float fu = u / scale + 0.0f, fv = v / scale + 0.0f;
  const float rad = std::sqrt(fu * fu + fv * fv);
  const float angle =
      static_cast<float>(std::atan2(-fv, -fu) / kPi);  // [-1, 1]
  const float fk = (angle + 1.0f) / 2.0f * static_cast<float>(n - 1);
  const int k0 = static_cast<int>(std::floor(fk)) % n;
  const int k1 = (k0 + 1) % n;
  const float f = fk - std::floor(fk);
  for (int c = 0; c < 3; ++c) {
    float col =
        ((1 - f) * wheel[static_cast<size_t>(k0)][static_cast<size_t>(c)] +
         f * wheel[static_cast<size_t>(k1)][static_cast<size_t>(c)]) /
        255.0f;
    col = rad <= 1.0f ? 1.0f - rad * (1.0f - col) : col * 0.75f;
    rgb[c] =
        static_cast<uint8_t>(std::lround(255.0f * std::clamp(col, 0.0f, 1.0f)));
  }
}

float MaxMotionMagnitude(const at::Tensor& motion) {
  if (!motion.defined() || motion.numel() == 0) return 0.0f;
  const at::Tensor m = motion.to(at::kFloat).contiguous();
  const int64_t plane = m.size(-1) * m.size(-2);
  const int64_t fields = m.numel() / (2 * plane);
  const float* p = m.data_ptr<float>();
  float best = 0.0f;
  for (int64_t f = 0; f < fields; ++f) {
    const float* dx = p + f * 2 * plane;
    const float* dy = dx + plane;
    for (int64_t i = 0; i < plane; ++i) {
      best = std::max(best, std::sqrt(dx[i] * dx[i] + dy[i] * dy[i]));
    }
  }
  return best;
}

at::Tensor MotionToColor(const at::Tensor& motion, const at::Tensor& intra,
                         float max_magnitude) {
  const at::Tensor m = motion.to(at::kFloat).contiguous();
  const int64_t h = m.size(1), w = m.size(2), plane = h * w;
  const float scale = max_magnitude > 0 ? max_magnitude : MaxMotionMagnitude(m);
  at::Tensor out = at::empty({3, h, w}, at::kByte);
  uint8_t* o = out.data_ptr<uint8_t>();
  const float* dx = m.data_ptr<float>();
  const float* dy = dx + plane;
  const at::Tensor in =
      intra.defined() ? intra.to(at::kBool).contiguous() : at::Tensor();
  const bool* intra_p = in.defined() ? in.data_ptr<bool>() : nullptr;
  for (int64_t i = 0; i < plane; ++i) {
    uint8_t rgb[3] = {0, 0, 0};
    if (intra_p == nullptr || !intra_p[i]) {
      // Content motion is the negated prediction offset.
      FlowColor(-dx[i], -dy[i], scale > 0 ? scale : 1.0f, rgb);
    }
    for (int c = 0; c < 3; ++c) o[c * plane + i] = rgb[c];
  }
  return out;
}

at::Tensor MotionToColor(const at::Tensor& motion, const at::Tensor& intra,
                         float max_magnitude, int64_t height, int64_t width) {
  // Colour the blocks, then spread the colours: 64 times fewer colours to
  // compute than per pixel.
  return ExpandBlocks(MotionToColor(motion, intra, max_magnitude), height,
                      width);
}

at::Tensor ColorWheelLegend(int size) {
  const int64_t n = std::max(size, 2);
  at::Tensor out = at::empty({3, n, n}, at::kByte);
  uint8_t* o = out.data_ptr<uint8_t>();
  const float half = static_cast<float>(n - 1) / 2.0f;
  for (int64_t y = 0; y < n; ++y) {
    for (int64_t x = 0; x < n; ++x) {
      uint8_t rgb[3];
      FlowColor(static_cast<float>(x) - half, static_cast<float>(y) - half,
                half, rgb);
      for (int c = 0; c < 3; ++c) o[(c * n + y) * n + x] = rgb[c];
    }
  }
  return out;
}

}  // namespace mapn
