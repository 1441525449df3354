// File: keypoints.h
//
// From a head's maps to keypoints in the source frame's pixels: the one
// geometry and the one shape check that estimation and evaluation share
// (and training, for the targets). Three frames of coordinates meet here,
// all with pixel centres at integers:
//
//   map pixels     the head's H x H output;
//   input pixels   the S x S crop the model saw; map pixel k covers input
//                  pixels [k S/H - 1/2, (k + 1) S/H - 1/2), so
//                  map = (input + 1/2) H / S - 1/2    (InputToHeatmap)
//                  and back (HeatmapToInput), exactly;
//   source pixels  the video frame, through the crop's output -> source
//                  Affine2D (mapn/geometry/affine.h).
//
// Keypoints are float tensors [..., 3]: x, y and a score (the heatmap's
// peak, or what a head's own decoder reports).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(at::Tensor k,
//                         HeatmapKeypoints(maps, /*joints=*/13, 256, 64));
//   const at::Tensor in_frame = ToSourcePixels(k[0], BoxToSquare(box, 256));
#ifndef MAPN_POSE_KEYPOINTS_H_
#define MAPN_POSE_KEYPOINTS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/geometry/affine.h"

namespace mapn {

// Input (crop) pixels <-> map pixels for an S x S input and H x H maps;
// element-wise on any tensor of coordinates.
at::Tensor InputToHeatmap(const at::Tensor& input_xy, int64_t input_size,
                          int64_t heatmap_size);
at::Tensor HeatmapToInput(const at::Tensor& heatmap_xy, int64_t input_size,
                          int64_t heatmap_size);

// OK when `maps` is a float [N, channels, size, size] tensor; otherwise
// InvalidArgument naming `head` and both shapes.
absl::Status CheckMaps(const at::Tensor& maps, int64_t channels, int64_t size,
                       std::string_view head);

// OK when `keypoints` is a float [n, joints, 3] tensor; otherwise
// InvalidArgument naming `head` and both shapes.
absl::Status CheckKeypoints(const at::Tensor& keypoints, int64_t n,
                            int64_t joints, std::string_view head);

// Heatmaps [N, joints, H, H] of an S x S input -> keypoints [N, joints, 3]
// in input pixels: each map's arg-max moved a quarter pixel towards the
// higher neighbour (DecodeHeatmaps), its peak as the score. CheckMaps
// first.
absl::StatusOr<at::Tensor> HeatmapKeypoints(const at::Tensor& heatmaps,
                                            int64_t joints, int64_t input_size,
                                            int64_t heatmap_size);

// Keypoints [..., 3] in map pixels -> the same in input pixels.
at::Tensor MapToInputKeypoints(const at::Tensor& keypoints, int64_t input_size,
                               int64_t map_size);

// Keypoints [..., 3] in input pixels -> source pixels through
// `output_to_source`; the scores are kept. On the CPU, as float.
at::Tensor ToSourcePixels(const at::Tensor& keypoints,
                          const Affine2D& output_to_source);

}  // namespace mapn

#endif  // MAPN_POSE_KEYPOINTS_H_
