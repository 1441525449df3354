// File: default_model.h
//
// Where the models bundled with mapn live. `mapn estimate` without a model
// flag runs the real-people model: the Motion Adaptive Pose Net on MoveNet
// Lightning under the residual-energy gate, whose ConvLSTM `mapn distill`
// trained (a partial
// checkpoint: the pretrained encoder and head come from the model cache,
// movenet/pretrained.h's LoadOnPretrained). The SynthPose models, trained by
// `mapn train` (docs/results.md has the commands), serve the paper's
// experiments (`--model synthpose`, and --causal). They travel as Bazel
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
inline constexpr char kRealPeopleCheckpoint[] = "movenet_lightning_mapn.ckpt";
inline constexpr char kDefaultCheckpoint[] = "synthpose_mapn.ckpt";
inline constexpr char kDefaultCausalCheckpoint[] = "synthpose_causal_mapn.ckpt";

// The bundled file `name`, or NotFound saying where it was looked for and
// that --checkpoint gives one.
absl::StatusOr<std::string> BundledCheckpointPath(const std::string& name);

// The bundled SynthPose checkpoint (the causal-gate one when `causal`).
absl::StatusOr<std::string> DefaultCheckpointPath(bool causal);

}  // namespace mapn

#endif  // MAPN_ESTIMATE_DEFAULT_MODEL_H_
