#include "mapn/pose/keypoints.h"

#include <ATen/ATen.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "mapn/pose/heatmaps.h"

namespace mapn {
namespace {

std::string Shape(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string out = "[";
  for (int64_t d = 0; d < t.dim(); ++d) {
    absl::StrAppend(&out, d > 0 ? ", " : "", t.size(d));
  }
  return out + "]";
}

}  // namespace

at::Tensor InputToHeatmap(const at::Tensor& xy, int64_t input_size,
                          int64_t heatmap_size) {
  const double k = static_cast<double>(heatmap_size) / input_size;
  return (xy + 0.5) * k - 0.5;
}

at::Tensor HeatmapToInput(const at::Tensor& xy, int64_t input_size,
                          int64_t heatmap_size) {
  const double k = static_cast<double>(input_size) / heatmap_size;
  return (xy + 0.5) * k - 0.5;
}

absl::Status CheckMaps(const at::Tensor& maps, int64_t channels, int64_t size,
                       std::string_view head) {
  if (maps.defined() && maps.dim() == 4 && maps.size(1) == channels &&
      maps.size(2) == size && maps.size(3) == size &&
      maps.scalar_type() == at::kFloat) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      std::string(head), " should give float maps [N, ", channels, ", ", size,
      ", ", size, "], got ", Shape(maps),
      maps.defined() ? absl::StrCat(" of ", c10::toString(maps.scalar_type()))
                     : ""));
}

absl::Status CheckKeypoints(const at::Tensor& keypoints, int64_t n,
                            int64_t joints, std::string_view head) {
  if (keypoints.defined() && keypoints.dim() == 3 && keypoints.size(0) == n &&
      keypoints.size(1) == joints && keypoints.size(2) == 3 &&
      keypoints.scalar_type() == at::kFloat) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(head), " should decode float keypoints [", n,
                   ", ", joints, ", 3], got ", Shape(keypoints)));
}

absl::StatusOr<at::Tensor> HeatmapKeypoints(const at::Tensor& heatmaps,
                                            int64_t joints, int64_t input_size,
                                            int64_t heatmap_size) {
  absl::Status shape =
      CheckMaps(heatmaps, joints, heatmap_size, "the heatmap head");
  if (!shape.ok()) return shape;
  const DecodedJoints decoded = DecodeHeatmaps(heatmaps);
  return at::cat({HeatmapToInput(decoded.coords, input_size, heatmap_size),
                  decoded.confidence.unsqueeze(-1)},
                 -1);
}

at::Tensor MapToInputKeypoints(const at::Tensor& keypoints, int64_t input_size,
                               int64_t map_size) {
  return at::cat(
      {HeatmapToInput(keypoints.narrow(-1, 0, 2), input_size, map_size),
       keypoints.narrow(-1, 2, 1)},
      -1);
}

at::Tensor ToSourcePixels(const at::Tensor& keypoints, const Affine2D& m) {
  const at::Tensor k = keypoints.to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor x = k.select(-1, 0);
  const at::Tensor y = k.select(-1, 1);
  // In double, as Affine2D::Apply computes, then back to float.
  const at::Tensor xd = x.to(at::kDouble);
  const at::Tensor yd = y.to(at::kDouble);
  const at::Tensor sx = xd * m.a + yd * m.b + m.tx;
  const at::Tensor sy = xd * m.c + yd * m.d + m.ty;
  return at::stack({sx.to(at::kFloat), sy.to(at::kFloat), k.select(-1, 2)}, -1);
}

}  // namespace mapn
