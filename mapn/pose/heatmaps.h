// File: heatmaps.h
//
// Joint positions <-> heatmaps, as the Simple Baseline does it: training
// targets are unnormalised Gaussians (peak 1, sigma 2 heatmap pixels) with a
// per-joint weight that is 0 for invisible joints or joints whose Gaussian
// falls outside the map; predictions are decoded by the arg-max moved a
// quarter pixel towards the higher neighbour.
//
// Coordinates are in heatmap pixels with pixel centres at integers: a joint
// at x = 3.0 peaks exactly on column 3. To go from an S x S crop to a
// heatmap of S/4, divide crop coordinates by 4 (CropToHeatmapScale()).
//
// Example:
//
//   HeatmapTargets t = MakeGaussianTargets(joints, visible, 64, 64);
//   at::Tensor loss = WeightedHeatmapMse(predicted, t.heatmaps, t.weights);
//   DecodedJoints d = DecodeHeatmaps(predicted.detach());
#ifndef MAPN_POSE_HEATMAPS_H_
#define MAPN_POSE_HEATMAPS_H_

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace mapn {

struct HeatmapTargets {
  at::Tensor heatmaps;  // float32 [N, J, H, W]
  at::Tensor weights;   // float32 [N, J], 1 for joints that supervise
};

// joints: float [N, J, 2] (x, y) in heatmap pixels; visible: bool or float
// [N, J]. sigma in heatmap pixels (2 in the paper's setting).
HeatmapTargets MakeGaussianTargets(const at::Tensor& joints,
                                   const at::Tensor& visible, int64_t height,
                                   int64_t width, double sigma = 2.0);

// Mean over joints and pixels of weight_j * (pred - target)^2, the Simple
// Baseline's JointsMSELoss (it also halves the squared error; so do we, so
// loss values are comparable with the official code). pred and target:
// [N, J, H, W]; weights: [N, J].
at::Tensor WeightedHeatmapMse(const at::Tensor& pred, const at::Tensor& target,
                              const at::Tensor& weights);

struct DecodedJoints {
  at::Tensor coords;      // float32 [N, J, 2] (x, y) in heatmap pixels
  at::Tensor confidence;  // float32 [N, J], the heatmap maximum
};

// Arg-max per joint, refined a quarter pixel towards the larger neighbour.
DecodedJoints DecodeHeatmaps(const at::Tensor& heatmaps);

}  // namespace mapn

#endif  // MAPN_POSE_HEATMAPS_H_
