#include "mapn/train/datasets.h"

#include "absl/strings/str_cat.h"
#include "mapn/data/jhmdb.h"
#include "mapn/data/penn_action.h"

namespace mapn::train {

std::string DatasetNameList() { return "synthpose, penn_action, jhmdb"; }

absl::StatusOr<Split> SplitFromName(const std::string& name) {
  if (name == "train") return Split::kTrain;
  if (name == "test") return Split::kTest;
  if (name == "all") return Split::kAll;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown subset '", name, "'; expected train, test or all"));
}

absl::StatusOr<PoseDataset> LoadDatasetByName(const std::string& name,
                                              const std::string& root,
                                              int jhmdb_split, Split subset) {
  if (name == "synthpose" || name == "penn_action") {
    PennActionOptions options;
    options.split = subset;
    return LoadPennAction(root, options);
  }
  if (name == "jhmdb" || name == "sub_jhmdb") {
    if (jhmdb_split < 1 || jhmdb_split > 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("Sub-JHMDB has splits 1, 2 and 3, not ", jhmdb_split));
    }
    SubJhmdbOptions options;
    options.split = jhmdb_split;
    options.subset = subset;
    return LoadSubJhmdb(root, options);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown dataset '", name, "'; expected one of ", DatasetNameList()));
}

}  // namespace mapn::train
