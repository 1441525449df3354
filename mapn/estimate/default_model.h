// File: default_model.h
//
// Where the model bundled with mapn lives: the checkpoints that `mapn
// estimate` uses without --checkpoint, trained by `mapn train` on SynthPose
// (docs/results.md has the command and its PCK). They travel as Bazel
// runfiles of the mapn binary; MAPN_MODEL_DIR overrides the folder.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(std::string path, DefaultCheckpointPath(false));
#ifndef MAPN_ESTIMATE_DEFAULT_MODEL_H_
#define MAPN_ESTIMATE_DEFAULT_MODEL_H_

#include <string>

#include "absl/status/statusor.h"

namespace mapn {

// File names inside mapn/estimate/models/.
inline constexpr char kDefaultCheckpoint[] = "synthpose_mapn.ckpt";
inline constexpr char kDefaultCausalCheckpoint[] = "synthpose_causal_mapn.ckpt";

// The bundled checkpoint (the causal-gate one when `causal`), or NotFound
// saying where it was looked for and that --checkpoint gives one.
absl::StatusOr<std::string> DefaultCheckpointPath(bool causal);

}  // namespace mapn

#endif  // MAPN_ESTIMATE_DEFAULT_MODEL_H_
