#include "mapn/data/pose_sequence.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace mapn {

const char* SplitName(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kTest:
      return "test";
    case Split::kAll:
      return "all";
  }
  return "?";
}

absl::Status PoseSequence::Validate() const {
  const std::string where = absl::StrCat(dataset, " sequence '", id, "'");
  if (num_frames <= 0 || num_joints <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", num_frames, " frames and ", num_joints,
                     " joints; both must be positive"));
  }
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": frame size ", width, "x", height, " is not positive"));
  }
  const size_t tj = static_cast<size_t>(num_frames) * num_joints;
  if (joints.size() != 2 * tj || visible.size() != tj ||
      boxes.size() != static_cast<size_t>(num_frames)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": ", joints.size(), " joint coordinates, ", visible.size(),
        " visibility flags and ", boxes.size(), " boxes for ", num_frames,
        " frames of ", num_joints, " joints"));
  }
  for (size_t i = 0; i < joints.size(); ++i) {
    if (!std::isfinite(joints[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": joint coordinate ", i % 2 == 0 ? "x" : "y",
                       " of frame ", i / 2 / num_joints, ", joint ",
                       i / 2 % num_joints, " is not finite"));
    }
  }
  for (size_t t = 0; t < boxes.size(); ++t) {
    const Box& b = boxes[t];
    if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) ||
        !std::isfinite(b.y2)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": box of frame ", t, " is not finite"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> RepairBoxes(std::vector<Box>& boxes,
                                const std::vector<bool>& valid) {
  auto usable = [&](size_t t) {
    const Box& b = boxes[t];
    return (t >= valid.size() || valid[t]) && b.x2 > b.x1 && b.y2 > b.y1;
  };
  std::vector<bool> ok(boxes.size());
  int64_t first_ok = -1;
  for (size_t t = 0; t < boxes.size(); ++t) {
    ok[t] = usable(t);
    if (ok[t] && first_ok < 0) first_ok = static_cast<int64_t>(t);
  }
  if (first_ok < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("none of ", boxes.size(), " boxes is valid"));
  }
  int repaired = 0;
  for (size_t t = 0; t < boxes.size(); ++t) {
    if (ok[t]) continue;
    boxes[t] =
        static_cast<int64_t>(t) < first_ok ? boxes[first_ok] : boxes[t - 1];
    ++repaired;
  }
  return repaired;
}

int64_t PoseDataset::TotalFrames() const {
  int64_t total = 0;
  for (const PoseSequence& seq : sequences) total += seq.num_frames;
  return total;
}

}  // namespace mapn
