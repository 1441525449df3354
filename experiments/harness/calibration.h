// File: calibration.h
//
// Table 3 compares MAPN with two training-free policies run at MAPN's own
// keyframe rate: fixed-interval keyframes and the residual-energy gate.
// This turns a measured rate into their settings: the interval whose
// keyframes come nearest it, and the energy threshold that extracts that
// share of the training split's frames (frame 0 of every window is always
// extracted, so the other keyframes are the P-frames of highest energy).
//
// Example:
//
//   const int64_t interval = IntervalForKeyframePercent(29.0);  // 3
//   MAPN_ASSIGN_OR_RETURN(double threshold,
//                         CalibrateEnergyThreshold(train_windows, 29.0));
//   // "policy.interval=3", "policy.threshold=<threshold>"
#ifndef MAPN_EXPERIMENTS_HARNESS_CALIBRATION_H_
#define MAPN_EXPERIMENTS_HARNESS_CALIBRATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/train/pose_windows.h"

namespace mapn::experiments {

// The keyframe interval whose fixed-interval policy comes nearest the rate
// `percent` asks for: round(100 / percent), at least 1.
int64_t IntervalForKeyframePercent(double percent);

// The threshold above which the ResidualEnergyGate extracts `percent` of the
// valid frames, given every window's per-frame energies: frame 0 of each
// window is always extracted, so the remaining keyframes are the P-frames of
// highest energy. `energies[w]` holds window w's valid frames in order.
// InvalidArgument without frames or for a percent outside [0, 100].
absl::StatusOr<double> ThresholdForKeyframePercent(
    const std::vector<std::vector<float>>& energies, double percent);

// What ResidualEnergyGate compares with its threshold, mean |residual| of
// each valid frame, for every window of `windows` (no augmentation).
absl::StatusOr<std::vector<std::vector<float>>> ResidualEnergies(
    train::PoseWindows& windows);

// ThresholdForKeyframePercent on the ResidualEnergies of `windows`.
absl::StatusOr<double> CalibrateEnergyThreshold(train::PoseWindows& windows,
                                                double percent);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_CALIBRATION_H_
