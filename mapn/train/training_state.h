// File: training_state.h
//
// What the trainer writes after every epoch so that a run can stop and go
// on: the model's tensors (parameters and buffers) with its type and config,
// the Adam state of every trained parameter, the stage, the number of
// finished epochs, the per-epoch losses and the options the stage was
// started with. Written atomically (a temporary file, then a rename), in
// PyTorch's pickle format like mapn/model/checkpoint.h, so an interrupted
// write leaves the previous epoch's file in place.
//
// Also here: loading weights into a model from either kind of file.
// LoadMatchingWeights copies every tensor the file and the model share by
// name (a stage-1 Simple Baseline's "extractor.*" and "head.*" into a MAPN,
// whose propagator and gate keep their initial values); LoadAllWeights
// requires the file to cover the model exactly (evaluation).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(WeightsReport report,
//                         LoadMatchingWeights("baseline.ckpt", *model,
//                                             {"extractor.", "head."}));
//   MAPN_ASSIGN_OR_RETURN(CheckpointSummary file,
//                         ReadCheckpointSummary("mapn.ckpt"));
//   // file.type_name names the composition (model/registry.h).
#ifndef MAPN_TRAIN_TRAINING_STATE_H_
#define MAPN_TRAIN_TRAINING_STATE_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/model_config.h"
#include "mapn/model/state_dict_file.h"

namespace mapn::train {

// Adam's state of one parameter.
struct AdamSlot {
  std::string name;  // the parameter's dotted path in the model
  int64_t step = 0;
  at::Tensor exp_avg;
  at::Tensor exp_avg_sq;
};

struct TrainingState {
  std::string model_type;  // PipelineImpl::TypeName()
  model::ModelConfig model_config;
  std::vector<model::NamedTensor> model_tensors;
  int stage = 0;  // 1 to 4
  int64_t epochs_done = 0;
  std::vector<double> epoch_losses;  // one per finished epoch
  std::string options_json;          // TrainOptionsToJson of the stage
  std::vector<AdamSlot> optimizer;
};

absl::Status WriteTrainingState(const std::string& path,
                                const TrainingState& state);
// NotFound when the file does not exist; InvalidArgument naming the file
// when it is not a training state.
absl::StatusOr<TrainingState> ReadTrainingState(const std::string& path);

// The type, config and tensors of a model checkpoint (model/checkpoint.h)
// or of a training state: whatever `path` holds.
struct CheckpointSummary {
  std::string type_name;
  model::ModelConfig config;
  std::vector<model::NamedTensor> tensors;
  bool training_state = false;
  int stage = 0;  // training states only
  int64_t epochs_done = 0;
};
absl::StatusOr<CheckpointSummary> ReadCheckpointSummary(
    const std::string& path);

struct WeightsReport {
  int64_t loaded = 0;
  std::vector<std::string> kept;    // model tensors the file lacks
  std::vector<std::string> unused;  // file tensors the model lacks
};

// Copies every tensor of the file at `path` (either kind) that `module` has
// under the same name. A shared name with different shapes is an error
// naming both shapes, as is a model tensor under one of
// `required_prefixes` that the file lacks, or a file that shares nothing
// with the model. Nothing changes on error.
absl::StatusOr<WeightsReport> LoadMatchingWeights(
    const std::string& path, torch::nn::Module& module,
    const std::vector<std::string>& required_prefixes = {});

// Copies `tensors` into `module`, which they must cover exactly (same
// names, same shapes); `what` names the source in messages.
absl::Status AssignAllTensors(torch::nn::Module& module,
                              const std::vector<model::NamedTensor>& tensors,
                              const std::string& what);

// Builds a Model from the file's config and loads every tensor. The file's
// type must be Model's. `edit_config` may change fields that shape no
// tensor before the model is built (a training-free policy's
// keyframe_interval or energy_threshold, say).
template <typename Model>
absl::StatusOr<Model> LoadModelFromAnyCheckpoint(
    const std::string& path,
    const std::function<void(model::ModelConfig&)>& edit_config = {}) {
  absl::StatusOr<CheckpointSummary> file = ReadCheckpointSummary(path);
  if (!file.ok()) return file.status();
  if (file->type_name != Model::Impl::TypeName()) {
    return absl::FailedPreconditionError("checkpoint '" + path + "' holds a " +
                                         file->type_name + ", not a " +
                                         Model::Impl::TypeName());
  }
  if (edit_config) edit_config(file->config);
  absl::Status valid = model::ValidateModelConfig(file->config);
  if (!valid.ok()) return valid;
  Model model(file->config);
  absl::Status status =
      AssignAllTensors(*model, file->tensors, "checkpoint '" + path + "'");
  if (!status.ok()) return status;
  return model;
}

}  // namespace mapn::train

#endif  // MAPN_TRAIN_TRAINING_STATE_H_
