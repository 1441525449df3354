// File: datasets.h
//
// Loads a labelled dataset by the name the command line and the experiments
// use: "synthpose" (SynthPose written in Penn Action's layout, with its
// prebuilt MPEG-4 videos), "penn_action", or "jhmdb" (Sub-JHMDB, one of its
// three splits). The subset picks the train or test sequences.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(PoseDataset test,
//                         LoadDatasetByName("jhmdb", root, 2, Split::kTest));
#ifndef MAPN_TRAIN_DATASETS_H_
#define MAPN_TRAIN_DATASETS_H_

#include <string>

#include "absl/status/statusor.h"
#include "mapn/data/pose_sequence.h"

namespace mapn::train {

// "synthpose, penn_action, jhmdb".
std::string DatasetNameList();

// `jhmdb_split` (1 to 3) matters for "jhmdb" only. InvalidArgument for an
// unknown name or split, naming them; the loaders' errors otherwise.
absl::StatusOr<PoseDataset> LoadDatasetByName(const std::string& name,
                                              const std::string& root,
                                              int jhmdb_split, Split subset);

// "train", "test" or "all"; InvalidArgument otherwise.
absl::StatusOr<Split> SplitFromName(const std::string& name);

}  // namespace mapn::train

#endif  // MAPN_TRAIN_DATASETS_H_
