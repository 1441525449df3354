// File: checkpoint.h
//
// Weights in and out of any composition. A checkpoint holds every parameter
// and buffer by its dotted module path ("extractor.layer1.0.conv1.weight"),
// the pipeline's type name, the name of its composition (compositions.h)
// and its options (options_json.h); it is written atomically
// (mapn/core/atomic_file.h) in PyTorch's zip/pickle format
// (torch::pickle_save), so Python reads it too: a dict with "format",
// "version", "type", "composition", "options" (JSON) and "tensors", loaded
// with `with torch.serialization.safe_globals(
// [torch.jit._pickle.restore_type_tag]): torch.load(path)` (checked with
// PyTorch 2.11). A training state (mapn/train/training_state.h) holds the
// same under "model", and ReadModelFile reads either. Files of version 1
// (one ModelConfig for the whole model) are read too: their config is
// turned into per-component options (legacy_config.h).
//
// Loading checks every tensor before changing anything: a missing,
// unexpected or mis-shaped tensor is an error naming it (and both shapes),
// and the model is left untouched. Building the model a file describes is
// LoadPipeline's (composition.h).
//
// ImportTorchvisionResNet() loads a torchvision ResNet state_dict (a file of
// Python's torch.save, read by state_dict_file.h) into a
// SimpleBaselineEncoder, whose names are torchvision's: fc.* is skipped, a
// missing num_batches_tracked (files of torchvision < 0.4) too; anything
// else missing, unexpected or mis-shaped is an error naming it.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(ModelFile file, ReadModelFile("mapn.ckpt"));
//   // file.composition == "mapn", file.options_json == {"input_size": ...}
//   MAPN_RETURN_IF_ERROR(
//       AssignTensors(module, file.tensors, "checkpoint 'mapn.ckpt'")
//           .status());
//   MAPN_RETURN_IF_ERROR(ImportTorchvisionResNet("resnet18.pth", encoder));
#ifndef MAPN_MODEL_CHECKPOINT_H_
#define MAPN_MODEL_CHECKPOINT_H_

#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/state_dict_file.h"

namespace mapn::model {

// What a checkpoint or a training state says about its model.
struct ModelFile {
  std::string type_name;             // PipelineImpl::TypeName()
  std::string composition;           // its name in a CompositionTable; empty in
                                     // version-1 files, which did not record it
  std::string options_json;          // PipelineOptionsToJson
  std::vector<NamedTensor> tensors;  // parameters and buffers
  // Training states only.
  bool training_state = false;
  int stage = 0;
  int64_t epochs_done = 0;
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

// Writes `model` as a checkpoint (its training fields are not written).
absl::Status WriteCheckpoint(const std::string& path, const ModelFile& model);

// Reads a checkpoint or a training state, of any version; errors name the
// file and what is wrong with it.
absl::StatusOr<ModelFile> ReadModelFile(const std::string& path);

struct WeightsReport {
  int64_t loaded = 0;
  std::vector<std::string> kept;    // model tensors the file lacks
  std::vector<std::string> unused;  // file tensors the model lacks
};

// Copies every tensor of the file at `path` (either kind) that `module` has
// under the same name: a stage-1 Simple Baseline's "extractor.*" and
// "head.*" into a MAPN, whose propagator and gate keep their initial
// values. A shared name with different shapes is an error naming both
// shapes, as is a model tensor under one of `required_prefixes` that the
// file lacks, or a file that shares nothing with the model. Nothing changes
// on error.
absl::StatusOr<WeightsReport> LoadMatchingWeights(
    const std::string& path, torch::nn::Module& module,
    const std::vector<std::string>& required_prefixes = {});

struct ImportReport {
  int64_t loaded = 0;                // tensors copied
  std::vector<std::string> skipped;  // in one side only, by design
};

absl::StatusOr<ImportReport> ImportTorchvisionResNet(
    const std::string& path, torch::nn::Module& encoder);

}  // namespace mapn::model

#endif  // MAPN_MODEL_CHECKPOINT_H_
