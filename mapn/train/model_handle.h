// File: model_handle.h
//
// A non-owning, type-erased view of any Pipeline (mapn/model/pipeline.h) for
// the trainer and the evaluator: the module and its four children, the
// config, the training forward and the inference run, and the per-frame
// costs. The training and evaluation loops are compiled once against this
// view instead of once per composition; Train<Model>() and Evaluate<Model>()
// build it. The model must outlive the handle.
//
// Example:
//
//   Mapn model(config);
//   ModelHandle handle = MakeModelHandle(model);
//   handle.policy->parameters();   // the gate's weights
#ifndef MAPN_TRAIN_MODEL_HANDLE_H_
#define MAPN_TRAIN_MODEL_HANDLE_H_

#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "mapn/model/flops.h"
#include "mapn/model/model_config.h"
#include "mapn/model/pipeline_support.h"
#include "mapn/video/gop.h"

namespace mapn::train {

struct ModelHandle {
  torch::nn::Module* module = nullptr;  // the whole pipeline
  torch::nn::Module* extractor = nullptr;
  torch::nn::Module* propagator = nullptr;
  torch::nn::Module* policy = nullptr;
  torch::nn::Module* head = nullptr;
  model::ModelConfig config;
  std::string type_name;     // PipelineImpl::TypeName(), as checkpoints record
  int64_t heatmap_size = 0;  // H = S / stride * upsampling
  // One frame through the extractor and the head: the per-frame Simple
  // Baseline's cost at this config, the reference of the MACs ratio.
  model::MacCount baseline_macs_per_frame;
  std::function<absl::StatusOr<model::ForwardResult>(
      const GopBatch&, const model::ForwardOptions&)>
      forward;
  std::function<absl::StatusOr<model::RunResult>(const GopBatch&)> run;
};

template <typename Model>
ModelHandle MakeModelHandle(Model& model) {
  auto& impl = *model;
  ModelHandle handle;
  handle.module = &impl;
  handle.extractor = impl.extractor().ptr().get();
  handle.propagator = impl.propagator().ptr().get();
  handle.policy = impl.policy().ptr().get();
  handle.head = impl.head().ptr().get();
  handle.config = impl.config();
  handle.type_name = impl.name();
  handle.heatmap_size = impl.FeatureSize() * impl.head()->upsampling();
  handle.baseline_macs_per_frame = impl.ExtractorMacs() + impl.HeadMacs();
  handle.forward = [&impl](const GopBatch& batch,
                           const model::ForwardOptions& options) {
    return impl.Forward(batch, options);
  };
  handle.run = [&impl](const GopBatch& batch) { return impl.Run(batch); };
  return handle;
}

}  // namespace mapn::train

#endif  // MAPN_TRAIN_MODEL_HANDLE_H_
