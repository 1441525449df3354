// File: checkpoint.h
//
// Weights in and out of any composition. Checkpoints hold every parameter
// and buffer by its dotted module path ("extractor.layer1.0.conv1.weight"),
// the ModelConfig and the composition's type name; they are written
// atomically (mapn/core/atomic_file.h) in PyTorch's zip/pickle format
// (torch::pickle_save), so Python reads them too: a dict with "format",
// "version", "type", "config" (JSON) and "tensors", loaded with
// `with torch.serialization.safe_globals([torch.jit._pickle.restore_type_tag]):
// torch.load(path)` (checked with PyTorch 2.11). Loading
// checks the type and the config first, then every tensor, before changing
// anything: a missing, unexpected or mis-shaped tensor is an error naming
// it (and both shapes), and the model is left untouched.
//
// ImportTorchvisionResNet() loads a torchvision ResNet state_dict (a file of
// Python's torch.save, read by state_dict_file.h) into a
// SimpleBaselineEncoder, whose names are torchvision's: fc.* is skipped, a
// missing num_batches_tracked (files of torchvision < 0.4) too; anything
// else missing, unexpected or mis-shaped is an error naming it.
//
// Example:
//
//   Mapn model(config);
//   MAPN_RETURN_IF_ERROR(ImportTorchvisionResNet("resnet18.pth",
//                                                *model->extractor()));
//   MAPN_RETURN_IF_ERROR(SaveModel("mapn.ckpt", model));
//   MAPN_ASSIGN_OR_RETURN(Mapn loaded, LoadModel<Mapn>("mapn.ckpt"));
#ifndef MAPN_MODEL_CHECKPOINT_H_
#define MAPN_MODEL_CHECKPOINT_H_

#include <torch/nn/module.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/model_config.h"
#include "mapn/model/state_dict_file.h"

namespace mapn::model {

struct CheckpointContents {
  std::string type_name;  // torch::nn::Module::name() of the saved module
  ModelConfig config;
  std::vector<NamedTensor> tensors;  // parameters and buffers
};

// Parameters, then buffers, of `module` and its children by dotted path.
std::vector<NamedTensor> ModuleTensors(const torch::nn::Module& module);

// How AssignTensors treats a name found on one side only. By default every
// model tensor must be in the source and every source tensor in the model.
struct TensorMatching {
  // A model tensor the source lacks stays as it is when this says so.
  std::function<bool(const std::string&)> may_be_absent;
  // A source tensor the model lacks is ignored when this says so.
  std::function<bool(const std::string&)> may_be_extra;
  // Appended to the message about a shape mismatch.
  std::string mismatch_hint;
};

struct AssignReport {
  int64_t loaded = 0;
  std::vector<std::string> absent;  // model tensors left as they were
  std::vector<std::string> extra;   // source tensors ignored
};

// Copies `source` into the tensors of `module` with the same dotted names,
// after checking all of them: a shape mismatch, a missing or an unexpected
// tensor (per `matching`) or a name given twice is an error naming it, and
// the module is then left untouched. `what` names the source in messages
// ("checkpoint 'm.ckpt'").
absl::StatusOr<AssignReport> AssignTensors(
    torch::nn::Module& module, const std::vector<NamedTensor>& source,
    const std::string& what, const TensorMatching& matching = {});

// "a, b, c, d, e and 3 more": names for a message.
std::string NameList(const std::vector<std::string>& names);

absl::Status WriteCheckpoint(const std::string& path,
                             const CheckpointContents& contents);
absl::StatusOr<CheckpointContents> ReadCheckpoint(const std::string& path);

absl::Status SaveCheckpoint(const std::string& path,
                            const torch::nn::Module& module,
                            const ModelConfig& config);

// Loads into `module`, which must have been built from `config`.
absl::Status LoadCheckpoint(const std::string& path, torch::nn::Module& module,
                            const ModelConfig& config);

// For Pipelines (anything with ->config()).
template <typename Model>
absl::Status SaveModel(const std::string& path, Model& model) {
  return SaveCheckpoint(path, *model, model->config());
}

// Builds a Model from the checkpoint's config and loads its weights.
template <typename Model>
absl::StatusOr<Model> LoadModel(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(CheckpointContents contents, ReadCheckpoint(path));
  MAPN_RETURN_IF_ERROR(ValidateModelConfig(contents.config));
  Model model(contents.config);
  MAPN_RETURN_IF_ERROR(LoadCheckpoint(path, *model, contents.config));
  return model;
}

struct ImportReport {
  int64_t loaded = 0;                // tensors copied
  std::vector<std::string> skipped;  // in one side only, by design
};

absl::StatusOr<ImportReport> ImportTorchvisionResNet(
    const std::string& path, torch::nn::Module& encoder);

}  // namespace mapn::model

#endif  // MAPN_MODEL_CHECKPOINT_H_
