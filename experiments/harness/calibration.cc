#include "experiments/harness/calibration.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"

namespace mapn::experiments {

int64_t IntervalForKeyframePercent(double percent) {
  if (!(percent > 0)) return 1;
  return std::max<int64_t>(1, std::llround(100.0 / percent));
}

absl::StatusOr<double> ThresholdForKeyframePercent(
    const std::vector<std::vector<float>>& energies, double percent) {
  if (!(percent >= 0 && percent <= 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat("keyframe percent must be in [0, 100], got ", percent));
  }
  std::vector<float> p_frames;
  int64_t frames = 0;
  int64_t windows = 0;
  for (const std::vector<float>& window : energies) {
    if (window.empty()) continue;
    ++windows;
    frames += static_cast<int64_t>(window.size());
    p_frames.insert(p_frames.end(), window.begin() + 1, window.end());
  }
  if (frames == 0) {
    return absl::InvalidArgumentError(
        "no frames to calibrate the energy threshold on");
  }
  // Keyframes wanted among the P-frames (frame 0 of each window is one
  // already).
  const int64_t wanted = std::clamp<int64_t>(
      std::llround(percent / 100.0 * static_cast<double>(frames)) - windows, 0,
      static_cast<int64_t>(p_frames.size()));
  std::sort(p_frames.begin(), p_frames.end(), std::greater<float>());
  if (p_frames.empty()) return 0.0;
  if (wanted == 0) {
    // Above the largest energy: no P-frame passes "energy > threshold".
    return static_cast<double>(p_frames.front()) * 1.0001 + 1e-9;
  }
  if (wanted == static_cast<int64_t>(p_frames.size())) {
    return std::max(0.0, static_cast<double>(p_frames.back()) * 0.9999);
  }
  // Midway between the last frame in and the first frame out.
  return 0.5 * (static_cast<double>(p_frames[wanted - 1]) +
                static_cast<double>(p_frames[wanted]));
}

absl::StatusOr<std::vector<std::vector<float>>> ResidualEnergies(
    train::PoseWindows& windows) {
  std::vector<std::vector<float>> energies;
  constexpr int64_t kBatch = 4;
  for (int64_t first = 0; first < windows.size(); first += kBatch) {
    std::vector<int64_t> ids;
    for (int64_t id = first; id < std::min(first + kBatch, windows.size());
         ++id) {
      ids.push_back(id);
    }
    MAPN_ASSIGN_OR_RETURN(train::PoseBatch batch, windows.Batch(ids));
    // What ResidualEnergyGate compares with its threshold.
    const at::Tensor energy =
        batch.inputs.residual.abs().mean({2, 3, 4}).contiguous();
    const at::Tensor valid = batch.inputs.valid.to(at::kBool).contiguous();
    const float* e = energy.data_ptr<float>();
    const bool* v = valid.data_ptr<bool>();
    const int64_t length = energy.size(1);
    for (int64_t b = 0; b < energy.size(0); ++b) {
      std::vector<float> window;
      for (int64_t t = 0; t < length; ++t) {
        if (v[b * length + t]) window.push_back(e[b * length + t]);
      }
      energies.push_back(std::move(window));
    }
  }
  return energies;
}

absl::StatusOr<double> CalibrateEnergyThreshold(train::PoseWindows& windows,
                                                double percent) {
  MAPN_ASSIGN_OR_RETURN(std::vector<std::vector<float>> energies,
                        ResidualEnergies(windows));
  return ThresholdForKeyframePercent(energies, percent);
}

}  // namespace mapn::experiments
