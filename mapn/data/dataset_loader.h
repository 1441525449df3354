// File: dataset_loader.h
//
// The compile-time interface an experiment uses to get its labelled videos:
// a PoseDatasetLoader knows its dataset's name and joint set and loads a
// PoseDataset from a root directory. Experiments are templates over a
// loader, so a Penn Action run and a Sub-JHMDB run are different types and a
// loader that lacks a piece fails to compile.
//
// Requirements of PoseDatasetLoader<L>:
//   1. L::kName is a constant convertible to std::string_view, the
//      PoseDataset::name the loader produces.
//   2. L::Joints() returns the loader's `const JointSet&`.
//   3. `loader.Load(root)` on a const L returns absl::StatusOr<PoseDataset>.
//   4. L::Options names its options struct and L is constructible from it.
//
// Example:
//
//   template <PoseDatasetLoader Loader>
//   absl::Status Evaluate(const Loader& loader, const std::string& root) {
//     MAPN_ASSIGN_OR_RETURN(PoseDataset data, loader.Load(root));
//     PckAccumulator pck(Loader::Joints(), PckOptionsFor(data.name));
//     ...
//   }
//   Evaluate(SubJhmdbLoader({.split = 2, .subset = Split::kTest}), root);
#ifndef MAPN_DATA_DATASET_LOADER_H_
#define MAPN_DATA_DATASET_LOADER_H_

#include <concepts>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "mapn/data/jhmdb.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/penn_action.h"
#include "mapn/data/pose_sequence.h"

namespace mapn {

template <typename L>
concept PoseDatasetLoader = std::constructible_from<L, typename L::Options> &&
    requires(const L& loader, const std::string& root) {
  { L::kName } -> std::convertible_to<std::string_view>;
  { L::Joints() } -> std::same_as<const JointSet&>;
  { loader.Load(root) } -> std::same_as<absl::StatusOr<PoseDataset>>;
};

// Penn Action, and SynthPose output (same layout).
struct PennActionLoader {
  using Options = PennActionOptions;
  static constexpr std::string_view kName = "penn_action";
  static const JointSet& Joints() { return PennActionJoints(); }

  explicit PennActionLoader(Options o = {}) : options(std::move(o)) {}
  absl::StatusOr<PoseDataset> Load(const std::string& root) const {
    return LoadPennAction(root, options);
  }
  Options options;
};

struct SubJhmdbLoader {
  using Options = SubJhmdbOptions;
  static constexpr std::string_view kName = "sub_jhmdb";
  static const JointSet& Joints() { return JhmdbJoints(); }

  explicit SubJhmdbLoader(Options o = {}) : options(std::move(o)) {}
  absl::StatusOr<PoseDataset> Load(const std::string& root) const {
    return LoadSubJhmdb(root, options);
  }
  Options options;
};

}  // namespace mapn

#endif  // MAPN_DATA_DATASET_LOADER_H_
