// File: pck.h
//
// PCK@0.2, the accuracy measure of the paper's tables: a predicted joint is
// correct when its distance to the ground truth is at most alpha * L, with
// L = max(width, height) of that frame's person box and alpha = 0.2.
// Results are reported per joint group in the paper's column order (Head,
// Sho., Elb., Wri., Hip, Knee, Ank.) plus Mean, as an aligned text table,
// CSV and JSON.
//
// Conventions (docs/data.md, "PCK"):
//   * Which joints count: Penn Action (and SynthPose) only visible joints,
//     Sub-JHMDB all 15 (PckOptionsFor picks by dataset name).
//   * A group's value is the average of its joints' PCKs (left and right
//     weigh the same); JHMDB's Head is the face joint, neck and belly appear
//     only in the Mean.
//   * Mean, by default (PckMean::kPerJoint): the average of the per-joint
//     PCKs over all joints of the set (mmpose's convention). With it the
//     paper's Mean column follows from its other columns for Penn Action
//     (Table 3, ours ResNet-18: (98.9 + 2 * (98.7 + 96.9 + 96.3 + 98.4 +
//     98.0 + 97.4)) / 13 = 97.7) and, with neck and belly, for Sub-JHMDB.
//     PckMean::kPooled divides all hits by all counted joints instead (and
//     pools the groups likewise).
//   * A joint that never counted (say, always invisible) has no PCK; it is
//     left out of its group and of the per-joint mean, and shows as "-" /
//     empty / null.
//   * Predictions and labels of different joint sets (MoveNet's COCO-17
//     against JHMDB's 15): PckAccumulator::Across maps both onto the set
//     CommonJointSet picks (mapn/data/joint_mapping.h) and counts there; a
//     derived label joint is visible when all its sources are. The table's
//     caption says which mapping was used.
//
// Example:
//
//   PckAccumulator pck(PennActionJoints(), PckOptionsFor("penn_action"));
//   for (...) MAPN_RETURN_IF_ERROR(pck.AddSequence(predicted, sequence));
//   PckResult row = pck.Result("ours");
//   std::cout << FormatPckTable({row});
//   MAPN_RETURN_IF_ERROR(WritePckCsv("pck.csv", {row}));
//
//   // MoveNet's 17 COCO keypoints against JHMDB labels:
//   MAPN_ASSIGN_OR_RETURN(PckAccumulator across,
//                         PckAccumulator::Across(CocoJoints(), JhmdbJoints(),
//                                                PckOptionsFor("jhmdb")));
//   MAPN_RETURN_IF_ERROR(across.AddFrame(coco_xy, jhmdb_xy, visible, box));
#ifndef MAPN_EVAL_PCK_H_
#define MAPN_EVAL_PCK_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/data/joint_mapping.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/geometry/box.h"

namespace mapn {

enum class PckVisibility : uint8_t { kVisibleOnly, kAllJoints };
enum class PckMean : uint8_t { kPerJoint, kPooled };

struct PckOptions {
  double alpha = 0.2;
  PckVisibility visibility = PckVisibility::kVisibleOnly;
  PckMean mean = PckMean::kPerJoint;
};

// The dataset's convention: kAllJoints for "sub_jhmdb" and "jhmdb",
// kVisibleOnly otherwise; alpha 0.2, per-joint mean.
PckOptions PckOptionsFor(const std::string& dataset);

// One row of a PCK table. Values are percentages; NaN where nothing counted.
struct PckResult {
  std::string label;
  std::string joint_set;
  // How predictions and labels reached joint_set ("coco predictions mapped
  // to jhmdb"); empty when both were in it.
  std::string mapping;
  PckOptions options;
  std::vector<std::string> group_names;
  std::vector<double> groups;
  double mean = 0;
  std::vector<std::string> joint_names;
  std::vector<int64_t> joint_hits;
  std::vector<int64_t> joint_counts;
  int64_t frames = 0;
};

class PckAccumulator {
 public:
  explicit PckAccumulator(JointSet joints, PckOptions options = {});

  // Predictions in `predicted`'s joints against labels in `truth`'s,
  // counted in the set CommonJointSet picks (the labels' own when the
  // predictions map onto it). InvalidArgument naming both sets when no
  // mapping joins them.
  static absl::StatusOr<PckAccumulator> Across(const JointSet& predicted,
                                               const JointSet& truth,
                                               PckOptions options = {});

  // One frame: `predicted` holds the predicted set's (x, y) pairs, `truth`
  // the labels' pairs and `visible` their flags (ignored under kAllJoints;
  // the sets are one and the same unless made by Across), `box` the frame's
  // ground-truth box. A non-finite prediction counts as a miss.
  absl::Status AddFrame(std::span<const float> predicted,
                        std::span<const float> truth,
                        std::span<const uint8_t> visible, const Box& box);
  // A whole sequence; `predicted` is [T, J, 2] like truth.joints.
  absl::Status AddSequence(std::span<const float> predicted,
                           const PoseSequence& truth);
  // Adds another accumulator's counts (same joint set and options).
  absl::Status Merge(const PckAccumulator& other);

  PckResult Result(const std::string& label) const;

  // The set PCK counts in.
  const JointSet& joints() const { return joints_; }
  const PckOptions& options() const { return options_; }
  // The mappings Across chose; nullopt for a plain accumulator.
  const std::optional<CommonJoints>& across() const { return across_; }

 private:
  absl::Status AddCommonFrame(std::span<const float> predicted,
                              std::span<const float> truth,
                              std::span<const uint8_t> visible, const Box& box);

  JointSet joints_;
  PckOptions options_;
  std::optional<CommonJoints> across_;
  std::vector<int64_t> hits_;
  std::vector<int64_t> counts_;
  int64_t frames_ = 0;
};

// The column-wise average of rows of the same joint set and options (the
// three Sub-JHMDB splits); counts and frames are summed.
absl::StatusOr<PckResult> AveragePck(std::span<const PckResult> rows,
                                     const std::string& label);

// An aligned text table with a caption line naming alpha, the visibility
// rule and the mean convention, one row per result.
std::string FormatPckTable(std::span<const PckResult> rows);
// "label,Head,...,Mean,frames", one line per row, percentages with 2
// decimals; empty cells where nothing counted.
std::string PckCsv(std::span<const PckResult> rows);
// {"metric": "PCK", "rows": [{"label", "joint_set", "alpha", "visibility",
// "mean_convention", "groups": {name: value}, "group_order", "mean",
// "joints": {name: {"pck", "hits", "count"}}, "frames"}]}; null where
// nothing counted. Per-joint "pck" is hits / count.
std::string PckJson(std::span<const PckResult> rows);

// Both written atomically.
absl::Status WritePckCsv(const std::string& path,
                         std::span<const PckResult> rows);
absl::Status WritePckJson(const std::string& path,
                          std::span<const PckResult> rows);

}  // namespace mapn

#endif  // MAPN_EVAL_PCK_H_
