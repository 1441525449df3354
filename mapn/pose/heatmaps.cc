#include "mapn/pose/heatmaps.h"

#include <ATen/ATen.h>

namespace mapn {

HeatmapTargets MakeGaussianTargets(const at::Tensor& joints,
                                   const at::Tensor& visible, int64_t height,
                                   int64_t width, double sigma) {
  TORCH_CHECK(joints.dim() == 3 && joints.size(2) == 2,
              "joints must be [N, J, 2], got ", joints.sizes());
  TORCH_CHECK(visible.dim() == 2 && visible.size(0) == joints.size(0) &&
                  visible.size(1) == joints.size(1),
              "visible must be [N, J] matching joints, got ", visible.sizes());
  const at::Tensor xy = joints.to(at::kFloat);
  const at::Tensor x = xy.select(2, 0).unsqueeze(-1).unsqueeze(-1);
  const at::Tensor y = xy.select(2, 1).unsqueeze(-1).unsqueeze(-1);
  const at::Tensor xs =
      at::arange(width, xy.options()).view({1, 1, 1, width});
  const at::Tensor ys =
      at::arange(height, xy.options()).view({1, 1, height, 1});
  const double inv = 1.0 / (2.0 * sigma * sigma);
  at::Tensor heatmaps = at::exp(-((xs - x).square() + (ys - y).square()) * inv);

  // As the Simple Baseline: a joint whose 3-sigma square misses the map
  // entirely does not supervise (its target would be all zeros).
  const double r = 3.0 * sigma;
  const at::Tensor jx = xy.select(2, 0);
  const at::Tensor jy = xy.select(2, 1);
  const at::Tensor inside = (jx + r >= 0) & (jx - r < width) & (jy + r >= 0) &
                            (jy - r < height);
  const at::Tensor weights = (visible.to(at::kBool) & inside).to(at::kFloat);
  heatmaps = heatmaps * weights.unsqueeze(-1).unsqueeze(-1);
  return {heatmaps, weights};
}

at::Tensor WeightedHeatmapMse(const at::Tensor& pred, const at::Tensor& target,
                              const at::Tensor& weights) {
  TORCH_CHECK(pred.sizes() == target.sizes(), "prediction ", pred.sizes(),
              " and target ", target.sizes(), " differ");
  const at::Tensor w = weights.to(pred.dtype()).unsqueeze(-1).unsqueeze(-1);
  return 0.5 * ((pred - target) * w).square().mean();
}

DecodedJoints DecodeHeatmaps(const at::Tensor& heatmaps) {
  TORCH_CHECK(heatmaps.dim() == 4, "heatmaps must be [N, J, H, W], got ",
              heatmaps.sizes());
  const at::Tensor maps = heatmaps.detach().to(at::kFloat).contiguous();
  const int64_t n = maps.size(0), j = maps.size(1), h = maps.size(2),
                w = maps.size(3);
  const at::Tensor flat = maps.view({n, j, h * w});
  auto [maxval, argmax] = flat.max(/*dim=*/2);
  at::Tensor px = (argmax % w).to(at::kFloat);
  at::Tensor py = at::floor_divide(argmax, w).to(at::kFloat);

  // Quarter-pixel refinement towards the larger neighbour, where both
  // neighbours exist (the Simple Baseline's get_final_preds).
  const at::Tensor xi = argmax % w;
  const at::Tensor yi = at::floor_divide(argmax, w);
  auto value_at = [&](const at::Tensor& yy, const at::Tensor& xx) {
    const at::Tensor idx = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1));
    return flat.gather(2, idx.unsqueeze(-1)).squeeze(-1);
  };
  const at::Tensor dx = value_at(yi, xi + 1) - value_at(yi, xi - 1);
  const at::Tensor dy = value_at(yi + 1, xi) - value_at(yi - 1, xi);
  const at::Tensor inner_x = (xi > 0) & (xi < w - 1);
  const at::Tensor inner_y = (yi > 0) & (yi < h - 1);
  px = px + at::where(inner_x, at::sign(dx) * 0.25, at::zeros_like(px));
  py = py + at::where(inner_y, at::sign(dy) * 0.25, at::zeros_like(py));
  return {at::stack({px, py}, 2), maxval};
}

}  // namespace mapn
