// File: loaded_model.h
//
// Any composition loaded from a checkpoint whose type is only known at run
// time (the checkpoint records it): the model lives here, and the rest of
// the program sees its type-erased train::ModelHandle. Optionally also the
// per-frame Simple Baseline with the same encoder and head weights, so a
// run can measure the speed-up against it on the same input.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(LoadedModel model,
//                         LoadedModel::Load("mapn.ckpt", /*with_baseline=*/true));
//   model.handle().run(batch);
//   model.baseline_handle().run(batch);
#ifndef MAPN_ESTIMATE_LOADED_MODEL_H_
#define MAPN_ESTIMATE_LOADED_MODEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "mapn/train/model_handle.h"

namespace mapn {

class LoadedModel {
 public:
  // Reads the checkpoint (a model checkpoint or a training state), builds
  // its composition and loads every tensor; errors name the file and what
  // is wrong (unknown composition, missing or mis-shaped tensors).
  static absl::StatusOr<LoadedModel> Load(const std::string& path,
                                          bool with_baseline);

  const train::ModelHandle& handle() const { return handle_; }
  bool has_baseline() const { return baseline_ != nullptr; }
  const train::ModelHandle& baseline_handle() const { return baseline_handle_; }
  // The registry name ("mapn", "causal_mapn", ...).
  const std::string& composition() const { return composition_; }
  // Whether the policy decides frame t from frames <= t only.
  bool causal() const { return causal_; }

 private:
  LoadedModel() = default;

  std::shared_ptr<void> model_;     // the Pipeline holder
  std::shared_ptr<void> baseline_;  // a PerFrameSimpleBaseline, or null
  train::ModelHandle handle_;
  train::ModelHandle baseline_handle_;
  std::string composition_;
  bool causal_ = false;
};

}  // namespace mapn

#endif  // MAPN_ESTIMATE_LOADED_MODEL_H_
