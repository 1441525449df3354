// File: any_pipeline.h
//
// AnyPipeline: any composition behind one type, for the code that must not
// be compiled once per composition (training, evaluation, estimation, the
// command line) or that learns the composition only at run time (from a
// checkpoint). It owns its model (sharing it, as module holders do, with
// whoever built it) and offers what those callers need: the module and its
// four children, the composition's name and options, the facts of its
// wiring (input size, joints, heatmap size), whether its policy learns or
// is causal, the training forward, the inference run, keypoints from the
// head's maps, its costs, and the per-frame baseline with the same
// extractor and head, the reference every speed-up is measured against.
//
// Any other implementation of AnyPipeline::Interface (a stand-in in a
// test, a model run elsewhere) can be wrapped too.
//
// Example:
//
//   AnyPipeline model(Mapn(Mapn::Options{}), "mapn");
//   model.module().eval();
//   MAPN_ASSIGN_OR_RETURN(RunResult run, model.Run(batch));
//   MAPN_ASSIGN_OR_RETURN(at::Tensor keypoints,
//                         model.Keypoints(run.heatmaps.flatten(0, 1)));
//   AnyPipeline baseline = model.PerFrameBaseline();  // shares the weights
#ifndef MAPN_MODEL_ANY_PIPELINE_H_
#define MAPN_MODEL_ANY_PIPELINE_H_

#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/flops.h"
#include "mapn/model/options_json.h"
#include "mapn/model/pipeline.h"
#include "mapn/model/pipeline_support.h"
#include "mapn/model/policies.h"
#include "mapn/model/propagators.h"
#include "mapn/video/gop.h"

namespace mapn::model {

class AnyPipeline {
 public:
  // Empty; every accessor but empty() needs a model.
  AnyPipeline() = default;

  // What a model must do to be an AnyPipeline; Pipelines get it from the
  // constructor below.
  struct Interface {
    explicit Interface(std::string name) : composition(std::move(name)) {}
    virtual ~Interface() = default;
    virtual torch::nn::Module& module() = 0;
    virtual torch::nn::Module& extractor() = 0;
    virtual torch::nn::Module& propagator() = 0;
    virtual torch::nn::Module& policy() = 0;
    virtual torch::nn::Module& head() = 0;
    virtual PipelineOptionValues OptionValues() const = 0;
    virtual int64_t input_size() const = 0;
    virtual int64_t joints() const = 0;
    virtual int64_t heatmap_size() const = 0;
    virtual bool learned_policy() const = 0;
    virtual bool causal() const = 0;
    virtual MacCount baseline_macs_per_frame() const = 0;
    virtual absl::StatusOr<RunResult> Run(const GopBatch& batch) = 0;
    virtual absl::StatusOr<ForwardResult> Forward(
        const GopBatch& batch, const ForwardOptions& options) = 0;
    virtual absl::StatusOr<at::Tensor> Keypoints(const at::Tensor& maps) = 0;
    virtual AnyPipeline PerFrameBaseline() = 0;

    std::string composition;
  };

  // Wraps `model` (shared, not copied) under the name `composition`.
  template <PipelineModel Model>
  AnyPipeline(Model model, std::string composition)
      : self_(std::make_shared<Holder<Model>>(std::move(model),
                                              std::move(composition))) {}

  // Wraps another implementation.
  explicit AnyPipeline(std::shared_ptr<Interface> implementation)
      : self_(std::move(implementation)) {}

  bool empty() const { return self_ == nullptr; }

  // The composition's name ("mapn") and type ("Pipeline<...>").
  const std::string& composition() const { return self_->composition; }
  std::string type_name() const { return self_->module().name(); }
  // The options it would be rebuilt from (options_json.h), wiring resolved.
  std::string options_json() const {
    return PipelineOptionsToJson(self_->OptionValues());
  }

  int64_t input_size() const { return self_->input_size(); }
  int64_t joints() const { return self_->joints(); }
  int64_t heatmap_size() const { return self_->heatmap_size(); }
  // The policy's kLearned and kCausal.
  bool learned_policy() const { return self_->learned_policy(); }
  bool causal() const { return self_->causal(); }

  torch::nn::Module& module() const { return self_->module(); }
  torch::nn::Module& extractor() const { return self_->extractor(); }
  torch::nn::Module& propagator() const { return self_->propagator(); }
  torch::nn::Module& policy() const { return self_->policy(); }
  torch::nn::Module& head() const { return self_->head(); }

  // One frame through the extractor and the head: the per-frame baseline's
  // cost, the reference of every MACs ratio.
  MacCount baseline_macs_per_frame() const {
    return self_->baseline_macs_per_frame();
  }

  absl::StatusOr<RunResult> Run(const GopBatch& batch) const {
    return self_->Run(batch);
  }
  absl::StatusOr<ForwardResult> Forward(
      const GopBatch& batch, const ForwardOptions& options = {}) const {
    return self_->Forward(batch, options);
  }
  // PipelineImpl::Keypoints: maps [N, C, H, W] -> [N, joints(), 3] in input
  // pixels.
  absl::StatusOr<at::Tensor> Keypoints(const at::Tensor& maps) const {
    return self_->Keypoints(maps);
  }

  // The same extractor and head modules (not copies) behind PassThrough and
  // AlwaysExtract, named "per-frame <composition>".
  AnyPipeline PerFrameBaseline() const { return self_->PerFrameBaseline(); }

  // Writes a checkpoint (checkpoint.h) of the model, its composition's
  // name and its options.
  absl::Status Save(const std::string& path) const {
    return WriteCheckpoint(path, ModelFile{.type_name = type_name(),
                                           .composition = composition(),
                                           .options_json = options_json(),
                                           .tensors = ModuleTensors(module())});
  }

  // The model itself when it is a `Model`, else nullptr.
  template <PipelineModel Model>
  Model* As() const {
    auto* holder = dynamic_cast<Holder<Model>*>(self_.get());
    return holder == nullptr ? nullptr : &holder->model;
  }

 private:
  template <PipelineModel Model>
  struct Holder final : Interface {
    using Impl = typename Model::Impl;

    Holder(Model m, std::string name)
        : Interface(std::move(name)), model(std::move(m)) {}

    torch::nn::Module& module() override { return *model; }
    torch::nn::Module& extractor() override {
      return *model->extractor().ptr();
    }
    torch::nn::Module& propagator() override {
      return *model->propagator().ptr();
    }
    torch::nn::Module& policy() override { return *model->policy().ptr(); }
    torch::nn::Module& head() override { return *model->head().ptr(); }
    PipelineOptionValues OptionValues() const override {
      return ToOptionValues<Model>(model->options());
    }
    int64_t input_size() const override { return model->input_size(); }
    int64_t joints() const override { return model->joints(); }
    int64_t heatmap_size() const override { return model->heatmap_size(); }
    bool learned_policy() const override {
      return Impl::PolicyType::ContainedType::kLearned;
    }
    bool causal() const override {
      return Impl::PolicyType::ContainedType::kCausal;
    }
    MacCount baseline_macs_per_frame() const override {
      return model->ExtractorMacs() + model->HeadMacs();
    }
    absl::StatusOr<RunResult> Run(const GopBatch& batch) override {
      return model->Run(batch);
    }
    absl::StatusOr<ForwardResult> Forward(
        const GopBatch& batch, const ForwardOptions& options) override {
      return model->Forward(batch, options);
    }
    absl::StatusOr<at::Tensor> Keypoints(const at::Tensor& maps) override {
      return model->Keypoints(maps);
    }
    AnyPipeline PerFrameBaseline() override {
      using Baseline = Pipeline<typename Impl::ExtractorType, PassThrough,
                                AlwaysExtract, typename Impl::HeadType>;
      Baseline baseline(model->input_size(), model->extractor(), PassThrough(),
                        AlwaysExtract(), model->head());
      return AnyPipeline(std::move(baseline), "per-frame " + composition);
    }

    Model model;
  };

  std::shared_ptr<Interface> self_;
};

}  // namespace mapn::model

#endif  // MAPN_MODEL_ANY_PIPELINE_H_
