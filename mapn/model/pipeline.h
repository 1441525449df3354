// File: pipeline.h
//
// Pipeline<Extractor, Propagator, Policy, Head>: the Motion Adaptive Pose Net
// as a composition of the four concepts of concepts.h, checked at compile
// time. For each window of a GOP:
//
//   1. the policy decides, for the whole window, which frames get features
//      (frame 0, the keyframe, always does);
//   2. the keyframe's features initialise the state (h0 = c0 = x0);
//   3. for each later frame the extractor runs only where the decision is 1
//      (really skipped elsewhere: not run and multiplied by zero), and the
//      propagator warps its state with the frame's motion vectors and takes
//      the features or the empty input O (a KeyframeResettingPropagator's
//      keyframe replaces the state with the features instead);
//   4. the head decodes every frame's state into heatmaps.
//
// Run() is inference (hard decisions, no autograd, per-frame MACs of what
// actually ran); it extracts all the frames a window's decisions select in
// one batch before stepping through the window. Forward() is training: heatmaps
// and g_mix for eq. (15), with x_t = Extract(F_t) * g_mix (eq. (14)), optional
// decision overrides and the single-frame stage-1 mode. Keypoints() turns
// heatmaps into keypoints in input pixels. PipelineStream runs a causal
// composition frame by frame, for live streams, with the results of Run(). The
// paper's composition and the ablations are named in compositions.h.
//
// Options and wiring. A pipeline is built from PipelineOptions: the input
// size and each component's own options (options.h). A component's
// "in_channels" left at 0 is wired to the extractor's channels(); whatever
// is given explicitly is checked when the pipeline is built, as are the
// input size against the extractor's stride and any component's
// ValidateInputSize(), each mismatch a clear error naming both sides. The
// number of joints is the head's (out_channels(), or joints() where a head
// has it). Components are built head first and extractor last, the order
// in which mapn has always drawn initial weights from the generator, so a
// seed gives the same model as it did.
//
// The Pipeline is itself a module: its children are registered as
// "extractor", "propagator", "policy" and "head", so parameters(),
// train()/eval(), to(device) and checkpoints (checkpoint.h) cover all four.
// Run() does not switch modes: call eval() before inference.
//
// Example:
//
//   Mapn::Options options;                    // compositions.h
//   options.extractor.depth = 34;
//   options.head.out_channels = 15;           // Sub-JHMDB's joints
//   MAPN_ASSIGN_OR_RETURN(Mapn model, MakeModel<Mapn>(options));
//   model->eval();
//   MAPN_ASSIGN_OR_RETURN(RunResult result, model->Run(batch));
//   // result.heatmaps [B, T, 15, S/4, S/4], result.decisions [B, T]
#ifndef MAPN_MODEL_PIPELINE_H_
#define MAPN_MODEL_PIPELINE_H_

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/concepts.h"
#include "mapn/model/flops.h"
#include "mapn/model/options.h"
#include "mapn/model/options_json.h"
#include "mapn/model/pipeline_support.h"
#include "mapn/pose/keypoints.h"
#include "mapn/video/gop.h"

namespace mapn::model {

// Run() extracts the frames its decisions select in batches of at most this
// many (a window's worth): enough to keep the cores busy, small enough that
// a large batch of windows does not hold every frame's activations at once.
inline constexpr int64_t kExtractBatch = 12;

template <FeatureExtractor Extractor, StatePropagator Propagator,
          SkipPolicy Policy, HeatmapHead Head>
struct PipelineOptions {
  using ExtractorOptions = typename Extractor::ContainedType::Options;
  using PropagatorOptions = typename Propagator::ContainedType::Options;
  using PolicyOptions = typename Policy::ContainedType::Options;
  using HeadOptions = typename Head::ContainedType::Options;

  // S: Run() takes S x S frames; a multiple of the extractor's stride.
  int64_t input_size = 256;
  ExtractorOptions extractor = {};
  PropagatorOptions propagator = {};
  PolicyOptions policy = {};
  HeadOptions head = {};
};

template <FeatureExtractor Extractor, StatePropagator Propagator,
          SkipPolicy Policy, HeatmapHead Head>
class PipelineImpl : public torch::nn::Module {
 public:
  using Options = PipelineOptions<Extractor, Propagator, Policy, Head>;
  using State = typename Propagator::ContainedType::State;
  using ExtractorType = Extractor;
  using PropagatorType = Propagator;
  using PolicyType = Policy;
  using HeadType = Head;
  // Keyframes replace the propagator's state (propagators.h): training
  // mixes by the gate's weight and a keyframe is not charged a Step.
  static constexpr bool kKeyframeResets =
      KeyframeResettingPropagator<Propagator>;

  // Builds every component from its options (head first, extractor last)
  // and wires them. Throws c10::Error naming the option or the mismatch
  // (MakeModel returns a Status instead).
  explicit PipelineImpl(const Options& options = {})
      : torch::nn::Module(TypeName()), input_size_(options.input_size) {
    const Options wired = Wired(options);
    Head head(wired.head);
    Policy policy(wired.policy);
    Propagator propagator(wired.propagator);
    Extractor extractor(wired.extractor);
    Register(std::move(extractor), std::move(propagator), std::move(policy),
             std::move(head));
  }

  // Composes components built elsewhere (a head for another task, say) for
  // S x S frames; checks the wiring like the other constructor.
  PipelineImpl(int64_t input_size, Extractor extractor, Propagator propagator,
               Policy policy, Head head)
      : torch::nn::Module(TypeName()), input_size_(input_size) {
    Register(std::move(extractor), std::move(propagator), std::move(policy),
             std::move(head));
  }

  // "Pipeline<SimpleBaselineEncoder, MotionWarpConvLstm, ResidualGate,
  // DeconvHead>": also the module's name(), which checkpoints record.
  static std::string TypeName() {
    return "Pipeline<" + ComponentName<Extractor>() + ", " +
           ComponentName<Propagator>() + ", " + ComponentName<Policy>() + ", " +
           ComponentName<Head>() + ">";
  }

  // OK when every component's options are valid (the message names the
  // role and the field); the wiring is checked when the pipeline is built.
  static absl::Status Validate(const Options& options);

  // The options this pipeline would be rebuilt from: the input size and
  // each component's options(), with wired fields resolved.
  Options options() const {
    return Options{input_size_, extractor_->options(), propagator_->options(),
                   policy_->options(), head_->options()};
  }
  int64_t input_size() const { return input_size_; }
  // Keypoints per frame: the head's joints(), else its out_channels().
  int64_t joints() const {
    if constexpr (requires { head_->joints(); }) {
      return head_->joints();
    } else {
      return head_->out_channels();
    }
  }
  int64_t FeatureSize() const { return input_size_ / extractor_->stride(); }
  // H of the H x H maps the head outputs.
  int64_t heatmap_size() const { return FeatureSize() * head_->upsampling(); }

  Extractor& extractor() { return extractor_; }
  Propagator& propagator() { return propagator_; }
  Policy& policy() { return policy_; }
  Head& head() { return head_; }

  // Inference over a batch of windows; see the file comment.
  absl::StatusOr<RunResult> Run(const GopBatch& batch);

  // Training forward; see ForwardOptions.
  absl::StatusOr<ForwardResult> Forward(const GopBatch& batch,
                                        const ForwardOptions& options = {});

  // Keypoints of the head's maps [N, C, H, W] (frames flattened): [N,
  // joints(), 3] with (x, y) in input pixels and a score; InvalidArgument
  // naming the shapes when the maps are not this head's.
  absl::StatusOr<at::Tensor> Keypoints(const at::Tensor& maps);

  // Cost of one frame of each component at the configured input size (the
  // propagator and head on the extractor's feature map).
  MacCount ExtractorMacs() const { return extractor_->Macs(input_size_); }
  MacCount PropagatorMacs() const {
    const int64_t f = FeatureSize();
    return propagator_->Macs(f, f);
  }
  MacCount HeadMacs() const {
    const int64_t f = FeatureSize();
    return head_->Macs(f, f);
  }
  MacCount PolicyMacs(int64_t length) const {
    return policy_->Macs(input_size_, length);
  }

  // One frame at time t of a window, for PipelineStream: extracts where
  // `extract` (bool [B]) is set, then StepFrame. Returns the heatmaps
  // [B, J, H, W]; `extracted` gets the number of rows that went through the
  // extractor.
  at::Tensor InferFrame(const at::Tensor& rgb, const at::Tensor& motion,
                        const at::Tensor& extract, bool first, State& state,
                        int64_t* extracted);
  // Steps or initialises `state` with the features `x` ([B, C, h, w], zero
  // in the rows `extracted` (bool [B]) leaves out, or undefined: the empty
  // input O for every row) and decodes.
  at::Tensor StepFrame(const at::Tensor& x, const at::Tensor& extracted,
                       const at::Tensor& motion, bool first, State& state);

 private:
  // One propagator step; `x` and `extracted` as for StepFrame. A resetting
  // propagator is told which rows were extracted rather than left to infer
  // it from zero rows.
  State Advance(const State& state, const at::Tensor& motion,
                const at::Tensor& x, const at::Tensor& extracted) {
    if constexpr (kKeyframeResets) {
      if (x.defined()) {
        return propagator_->StepGated(
            state, motion, x, extracted.to(x.device(), x.scalar_type()));
      }
    }
    return propagator_->Step(state, motion, x);
  }

  // `options` with every "in_channels" of 0 set to the extractor's
  // channels(); throws c10::Error for invalid options.
  static Options Wired(Options options);
  // channels() of an extractor built from `options`: its static
  // OutputChannels() where it has one, else one built and dropped with the
  // generator's state restored, so wiring draws no random numbers.
  static int64_t ExtractorChannels(
      const typename Options::ExtractorOptions& options);
  void Register(Extractor extractor, Propagator propagator, Policy policy,
                Head head);

  int64_t input_size_;
  Extractor extractor_{nullptr};
  Propagator propagator_{nullptr};
  Policy policy_{nullptr};
  Head head_{nullptr};
};

template <FeatureExtractor Extractor, StatePropagator Propagator,
          SkipPolicy Policy, HeatmapHead Head>
class Pipeline : public torch::nn::ModuleHolder<
                     PipelineImpl<Extractor, Propagator, Policy, Head>> {
 public:
  using Impl = PipelineImpl<Extractor, Propagator, Policy, Head>;
  using Options = typename Impl::Options;
  using torch::nn::ModuleHolder<Impl>::ModuleHolder;
};

// A model holder with options: a Pipeline or a named composition.
template <typename Model>
concept PipelineModel = TorchModuleHolder<Model> && requires {
  typename Model::Options;
  typename Model::Impl;
};

// Validates `options` and builds the model; InvalidArgument naming the
// option or the wiring mismatch otherwise.
template <PipelineModel Model>
absl::StatusOr<Model> MakeModel(const typename Model::Options& options) {
  MAPN_RETURN_IF_ERROR(Model::Impl::Validate(options));
  try {
    return Model(options);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(e.what_without_backtrace());
  }
}

// Named option values (options_json.h) of a pipeline's options, and back:
// values not given keep their defaults, an unknown name or a bad value is
// an error naming `what`, the role and the field.
template <PipelineModel Model>
PipelineOptionValues ToOptionValues(const typename Model::Options& options) {
  PipelineOptionValues values;
  values.input_size = options.input_size;
  values.components = {
      OptionValues(options.extractor), OptionValues(options.propagator),
      OptionValues(options.policy), OptionValues(options.head)};
  return values;
}

template <PipelineModel Model>
absl::StatusOr<typename Model::Options> FromOptionValues(
    const PipelineOptionValues& values, const std::string& what) {
  using Options = typename Model::Options;
  Options options;
  if (values.input_size != 0) options.input_size = values.input_size;
  const std::string prefix = what.empty() ? "" : absl::StrCat(what, ": ");
  MAPN_ASSIGN_OR_RETURN(options.extractor,
                        OptionsFromValues<typename Options::ExtractorOptions>(
                            values.components[0], prefix + "extractor"));
  MAPN_ASSIGN_OR_RETURN(options.propagator,
                        OptionsFromValues<typename Options::PropagatorOptions>(
                            values.components[1], prefix + "propagator"));
  MAPN_ASSIGN_OR_RETURN(options.policy,
                        OptionsFromValues<typename Options::PolicyOptions>(
                            values.components[2], prefix + "policy"));
  MAPN_ASSIGN_OR_RETURN(options.head,
                        OptionsFromValues<typename Options::HeadOptions>(
                            values.components[3], prefix + "head"));
  return options;
}

// Runs a pipeline with a causal policy frame by frame. Within a window the
// policy re-decides on the frames so far (its decision for the newest frame
// is final because it cannot depend on later ones), which costs a growing
// prefix of policy work per frame: that cost is what `macs` reports.
template <FeatureExtractor Extractor, StatePropagator Propagator,
          CausalSkipPolicy Policy, HeatmapHead Head>
class PipelineStream {
 public:
  using Model = Pipeline<Extractor, Propagator, Policy, Head>;

  // `window_length` >= 1: a new window starts at every keyframe and after
  // this many frames (the reader's T).
  PipelineStream(Model model, int64_t window_length)
      : model_(std::move(model)), window_length_(window_length) {
    TORCH_CHECK(window_length >= 1, "window_length must be >= 1, got ",
                window_length);
  }

  absl::StatusOr<StreamOutput> Push(const StreamFrame& frame);

  // Frames pushed into the current window so far.
  int64_t position() const { return t_; }

 private:
  Model model_;
  int64_t window_length_;
  int64_t t_ = 0;
  std::vector<at::Tensor> rgb_, motion_, residual_;
  typename Propagator::ContainedType::State state_;
};

// ---------------------------------------------------------------------------
// Implementation.

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
absl::Status PipelineImpl<E, P, S, H>::Validate(const Options& options) {
  if (options.input_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("input_size must be positive, got ", options.input_size));
  }
  const auto check = [](const char* role, const absl::Status& status) {
    if (status.ok()) return status;
    return absl::InvalidArgumentError(
        absl::StrCat(role, ".", status.message()));
  };
  MAPN_RETURN_IF_ERROR(check("extractor", options.extractor.Validate()));
  MAPN_RETURN_IF_ERROR(check("propagator", options.propagator.Validate()));
  MAPN_RETURN_IF_ERROR(check("policy", options.policy.Validate()));
  MAPN_RETURN_IF_ERROR(check("head", options.head.Validate()));
  return absl::OkStatus();
}

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
int64_t PipelineImpl<E, P, S, H>::ExtractorChannels(
    const typename Options::ExtractorOptions& options) {
  using Impl = typename E::ContainedType;
  if constexpr (requires { Impl::OutputChannels(options); }) {
    return Impl::OutputChannels(options);
  } else {
    // The lock is held around get_state() and set_state() only: building
    // the extractor draws its weights, which takes the same (non-recursive)
    // mutex, so holding it across the construction deadlocks.
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    at::Tensor saved;
    {
      const std::lock_guard<std::mutex> lock(generator.mutex());
      saved = generator.get_state();
    }
    const int64_t channels = E(options)->channels();
    {
      const std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(saved);
    }
    return channels;
  }
}

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
typename PipelineImpl<E, P, S, H>::Options PipelineImpl<E, P, S, H>::Wired(
    Options options) {
  const absl::Status valid = Validate(options);
  TORCH_CHECK(valid.ok(), TypeName(), ": ", valid.message());
  if (InChannelsOf(options.propagator) == 0 ||
      InChannelsOf(options.head) == 0) {
    const int64_t channels = ExtractorChannels(options.extractor);
    WireInChannels(options.propagator, channels);
    WireInChannels(options.head, channels);
  }
  return options;
}

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
void PipelineImpl<E, P, S, H>::Register(E extractor, P propagator, S policy,
                                        H head) {
  WiringFacts facts;
  facts.input_size = input_size_;
  facts.extractor = ComponentName<E>();
  facts.extractor_channels = extractor->channels();
  facts.extractor_stride = extractor->stride();
  facts.propagator = ComponentName<P>();
  facts.propagator_in_channels = propagator->in_channels();
  facts.head = ComponentName<H>();
  facts.head_in_channels = head->in_channels();
  absl::Status wiring = CheckWiring(facts);
  const auto input_size_check = [&](const auto& component) {
    if constexpr (requires { component->ValidateInputSize(input_size_); }) {
      if (wiring.ok()) wiring = component->ValidateInputSize(input_size_);
    }
  };
  input_size_check(extractor);
  input_size_check(propagator);
  input_size_check(policy);
  input_size_check(head);
  TORCH_CHECK(wiring.ok(), TypeName(), ": ", wiring.message());
  extractor_ = register_module("extractor", std::move(extractor));
  propagator_ = register_module("propagator", std::move(propagator));
  policy_ = register_module("policy", std::move(policy));
  head_ = register_module("head", std::move(head));
}

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
absl::StatusOr<at::Tensor> PipelineImpl<E, P, S, H>::Keypoints(
    const at::Tensor& maps) {
  const int64_t map_size = heatmap_size();
  if constexpr (requires { head_->Keypoints(maps); }) {
    MAPN_RETURN_IF_ERROR(
        CheckMaps(maps, head_->out_channels(), map_size, ComponentName<H>()));
    const at::Tensor keypoints = head_->Keypoints(maps);
    MAPN_RETURN_IF_ERROR(
        CheckKeypoints(keypoints, maps.size(0), joints(), ComponentName<H>()));
    return MapToInputKeypoints(keypoints, input_size_, map_size);
  } else {
    // HeatmapKeypoints checks the shape too, but could only call the head
    // "the heatmap head"; the message should say which head it is.
    MAPN_RETURN_IF_ERROR(
        CheckMaps(maps, joints(), map_size, ComponentName<H>()));
    return HeatmapKeypoints(maps, joints(), input_size_, map_size);
  }
}

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
at::Tensor PipelineImpl<E, P, S, H>::InferFrame(const at::Tensor& rgb,
                                                const at::Tensor& motion,
                                                const at::Tensor& extract,
                                                bool first, State& state,
                                                int64_t* extracted) {
  const int64_t b = rgb.size(0);
  int64_t count = 0;
  const at::Tensor index = TrueIndices(extract, &count);
  at::Tensor x;  // undefined: the empty input O for every row
  if (count == b) {
    x = extractor_->Extract(rgb);
  } else if (count > 0) {
    x = ScatterRows(extractor_->Extract(rgb.index_select(0, index)), index, b);
  }
  *extracted = count;
  TORCH_CHECK(!first || count == b,
              "frame 0 must be extracted for every window");
  return StepFrame(x, extract, motion, first, state);
}

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
at::Tensor PipelineImpl<E, P, S, H>::StepFrame(const at::Tensor& x,
                                               const at::Tensor& extracted,
                                               const at::Tensor& motion,
                                               bool first, State& state) {
  if (first) {
    state = propagator_->Init(x);
  } else {
    state = Advance(state, motion, x, extracted);
  }
  return head_->Decode(propagator_->Output(state));
}

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
absl::StatusOr<RunResult> PipelineImpl<E, P, S, H>::Run(const GopBatch& batch) {
  MAPN_RETURN_IF_ERROR(ValidateGopBatch(batch, input_size_));
  const at::NoGradGuard no_grad;
  const int64_t b = batch.batch_size();
  const int64_t t_len = batch.length();

  const GateOutput gate = policy_->Decide(batch, GateMode::kInference);
  MAPN_RETURN_IF_ERROR(
      ValidateDecisions(gate.g_mix, batch, ComponentName<S>()));
  const at::Tensor decisions = gate.g_mix.to(at::kFloat);
  const at::Tensor valid_cpu = batch.valid.cpu();
  const at::Tensor run_cpu = (decisions.cpu() > 0.5).logical_and(valid_cpu);

  RunResult result;
  result.length = t_len;
  result.decisions = run_cpu.to(at::kFloat).to(batch.rgb.device());
  result.frame_macs.assign(static_cast<size_t>(b * t_len), MacCount{});
  const MacCount extractor_macs = ExtractorMacs();
  const MacCount step_macs = PropagatorMacs();
  const MacCount head_macs = HeadMacs();
  const MacCount policy_macs = PolicyMacs(t_len);
  for (int64_t row = 0; row < b; ++row) {
    const int64_t n_valid = valid_cpu[row].sum().item<int64_t>();
    for (int64_t t = 0; t < t_len; ++t) {
      if (valid_cpu[row][t].item<bool>()) {
        result.frame_macs[row * t_len + t] +=
            policy_macs * (1.0 / static_cast<double>(n_valid));
      }
    }
  }

  // The decisions are known for the whole window, so the extractor runs
  // on all the frames they select at once, in batches of up to
  // kExtractBatch: one frame's small layers leave a second core idle
  // (docs/models.md, "Cost and speed").
  const at::Tensor selected = run_cpu.flatten().nonzero().flatten();
  const int64_t n_selected = selected.numel();
  TORCH_CHECK(run_cpu.select(1, 0).all().item<bool>(),
              "frame 0 must be extracted for every window");
  std::vector<at::Tensor> feature_chunks;
  const at::Tensor rgb_flat = batch.rgb.flatten(0, 1);
  for (int64_t k = 0; k < n_selected; k += kExtractBatch) {
    const int64_t n = std::min(kExtractBatch, n_selected - k);
    feature_chunks.push_back(extractor_->Extract(rgb_flat.index_select(
        0, selected.slice(0, k, k + n).to(rgb_flat.device()))));
  }
  const at::Tensor features =
      feature_chunks.empty() ? at::Tensor() : at::cat(feature_chunks, 0);
  // Where each (row, t) found its features in `features`, or -1.
  std::vector<int64_t> feature_of(static_cast<size_t>(b * t_len), -1);
  {
    auto sel = selected.accessor<int64_t, 1>();
    for (int64_t k = 0; k < n_selected; ++k) feature_of[sel[k]] = k;
  }

  // The propagator steps frame by frame; the head, which needs nothing
  // but each frame's state, decodes them all in one batch afterwards.
  State state;
  std::vector<at::Tensor> outputs;  // [B, C, h, w] per stepped frame
  std::vector<int64_t> stepped;     // their t
  for (int64_t t = 0; t < t_len; ++t) {
    const at::Tensor valid_t = valid_cpu.select(1, t);
    if (!valid_t.any().item<bool>()) continue;  // padding: no compute
    std::vector<int64_t> rows, picks;
    for (int64_t row = 0; row < b; ++row) {
      const int64_t k = feature_of[static_cast<size_t>(row * t_len + t)];
      if (k >= 0) {
        rows.push_back(row);
        picks.push_back(k);
      }
    }
    at::Tensor x;  // undefined: the empty input O for every row
    at::Tensor extracted;
    if (!picks.empty()) {
      const at::Tensor pick =
          at::tensor(picks, at::kLong).to(features.device());
      x = features.index_select(0, pick);
      const at::Tensor row_index = at::tensor(rows, at::kLong);
      extracted = at::zeros({b}, at::kBool).index_fill_(0, row_index, true);
      if (static_cast<int64_t>(rows.size()) < b) {
        x = ScatterRows(x, row_index.to(x.device()), b);
      }
    }
    state = t == 0 ? propagator_->Init(x)
                   : Advance(state, batch.motion.select(1, t), x, extracted);
    outputs.push_back(propagator_->Output(state));
    stepped.push_back(t);
    for (int64_t row = 0; row < b; ++row) {
      MacCount& macs = result.frame_macs[row * t_len + t];
      const bool run = run_cpu[row][t].item<bool>();
      if (run) macs += extractor_macs;
      if (t > 0 && !(kKeyframeResets && run)) macs += step_macs;
      macs += head_macs;
    }
  }
  // [steps * B, ...] in (t, row) order -> [B, T, J, H, W], zero where a
  // frame is padding.
  const at::Tensor decoded = head_->Decode(at::cat(outputs, 0));
  const int64_t steps = static_cast<int64_t>(stepped.size());
  const at::Tensor per_step = decoded
                                  .reshape({steps, b, decoded.size(1),
                                            decoded.size(2), decoded.size(3)})
                                  .transpose(0, 1);
  at::Tensor heat = per_step;
  if (steps < t_len) {
    heat =
        at::zeros({b, t_len, decoded.size(1), decoded.size(2), decoded.size(3)},
                  decoded.options());
    heat.index_copy_(1, at::tensor(stepped, at::kLong).to(heat.device()),
                     per_step);
  }
  const at::Tensor mask = valid_cpu.to(heat.device())
                              .to(heat.scalar_type())
                              .view({b, t_len, 1, 1, 1});
  result.heatmaps = (heat * mask).contiguous();
  return result;
}

template <FeatureExtractor E, StatePropagator P, SkipPolicy S, HeatmapHead H>
absl::StatusOr<ForwardResult> PipelineImpl<E, P, S, H>::Forward(
    const GopBatch& batch, const ForwardOptions& options) {
  MAPN_RETURN_IF_ERROR(ValidateGopBatch(batch, input_size_));
  const int64_t b = batch.batch_size();
  const int64_t t_len = batch.length();
  const at::Tensor valid_flat = batch.valid.flatten();
  const at::Tensor mask = batch.valid.to(at::kFloat).view({b, t_len, 1, 1, 1});

  ForwardResult result;
  if (options.single_frame) {
    // Stage 1: the Simple Baseline on every valid frame.
    int64_t count = 0;
    const at::Tensor index = TrueIndices(valid_flat, &count);
    const at::Tensor rgb = batch.rgb.flatten(0, 1).index_select(0, index);
    const at::Tensor heat =
        ScatterRows(head_->Decode(extractor_->Extract(rgb)), index, b * t_len);
    result.heatmaps =
        heat.view({b, t_len, heat.size(1), heat.size(2), heat.size(3)});
    result.g_mix = batch.valid.to(at::kFloat);
    return result;
  }

  at::Tensor g;
  if (options.decisions.defined()) {
    if (options.decisions.sizes() != batch.valid.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ForwardOptions.decisions has shape ", ShapeString(options.decisions),
          "; expected ", ShapeString(batch.valid)));
    }
    g = ApplyKeyframeAndPadding(
        options.decisions.to(batch.rgb.device(), at::kFloat), batch.valid);
  } else {
    GateOutput gate = policy_->Decide(batch, options.gate_mode);
    MAPN_RETURN_IF_ERROR(
        ValidateDecisions(gate.g_mix, batch, ComponentName<S>()));
    g = gate.g_mix;
    result.logits = gate.logits;
  }

  at::Tensor features = options.features;
  if (features.defined()) {
    const int64_t f = FeatureSize();
    if (features.dim() != 5 || features.size(0) != b ||
        features.size(1) != t_len ||
        features.size(2) != extractor_->channels() || features.size(3) != f ||
        features.size(4) != f) {
      return absl::InvalidArgumentError(
          absl::StrCat("ForwardOptions.features has shape ",
                       ShapeString(features), "; expected [", b, ", ", t_len,
                       ", ", extractor_->channels(), ", ", f, ", ", f, "]"));
    }
    features = features.to(batch.rgb.device(), at::kFloat);
  } else {
    // Extract where the features can matter: every valid frame when g
    // carries a gradient (the straight-through estimator needs Extract(F_t)
    // even where g_mix is 0), else only the frames with g_mix != 0.
    at::Tensor needed = valid_flat;
    if (!g.requires_grad()) {
      needed = needed.logical_and(g.detach().flatten() != 0);
    }
    int64_t count = 0;
    const at::Tensor index = TrueIndices(needed, &count);
    const at::Tensor features_rows =
        extractor_->Extract(batch.rgb.flatten(0, 1).index_select(0, index));
    features = ScatterRows(features_rows, index, b * t_len)
                   .view({b, t_len, features_rows.size(1),
                          features_rows.size(2), features_rows.size(3)});
  }

  std::vector<at::Tensor> outputs;
  outputs.reserve(static_cast<size_t>(t_len));
  State state;
  for (int64_t t = 0; t < t_len; ++t) {
    const at::Tensor g_t = g.select(1, t);
    const at::Tensor x =
        features.select(1, t) * g_t.view({b, 1, 1, 1});  // eq. (14)
    if (t == 0) {
      state = propagator_->Init(x);
    } else if constexpr (kKeyframeResets) {
      state = propagator_->StepGated(state, batch.motion.select(1, t),
                                     features.select(1, t), g_t);
    } else {
      state = propagator_->Step(state, batch.motion.select(1, t), x);
    }
    outputs.push_back(propagator_->Output(state));
  }
  const at::Tensor heat = head_->Decode(at::stack(outputs, 1).flatten(0, 1));
  result.heatmaps =
      heat.view({b, t_len, heat.size(1), heat.size(2), heat.size(3)}) * mask;
  result.g_mix = g;
  return result;
}

template <FeatureExtractor E, StatePropagator P, CausalSkipPolicy S,
          HeatmapHead H>
absl::StatusOr<StreamOutput> PipelineStream<E, P, S, H>::Push(
    const StreamFrame& frame) {
  auto& model = *model_;
  MAPN_RETURN_IF_ERROR(ValidateStreamFrame(frame, model.input_size()));
  const at::NoGradGuard no_grad;
  if (frame.keyframe || t_ == 0 || t_ >= window_length_) {
    t_ = 0;
    rgb_.clear();
    motion_.clear();
    residual_.clear();
  }
  rgb_.push_back(frame.rgb);
  motion_.push_back(frame.motion);
  residual_.push_back(frame.residual);
  const int64_t b = frame.rgb.size(0);

  GopBatch prefix;
  prefix.rgb = at::stack(rgb_, 1);
  prefix.motion = at::stack(motion_, 1);
  prefix.residual = at::stack(residual_, 1);
  prefix.valid = at::ones({b, t_ + 1}, frame.rgb.options().dtype(at::kBool));
  const GateOutput gate = model.policy()->Decide(prefix, GateMode::kInference);
  MAPN_RETURN_IF_ERROR(
      ValidateDecisions(gate.g_mix, prefix, ComponentName<S>()));
  const at::Tensor decision = gate.g_mix.select(1, t_).to(at::kFloat);

  int64_t extracted = 0;
  StreamOutput out;
  out.heatmap = model.InferFrame(frame.rgb, frame.motion, decision > 0.5,
                                 t_ == 0, state_, &extracted);
  out.decision = (decision > 0.5).to(at::kFloat);
  out.macs = model.PolicyMacs(t_ + 1) + model.HeadMacs();
  if (t_ > 0) {
    // A resetting propagator's keyframe rows skip the LSTM step.
    const int64_t stepped = model.kKeyframeResets ? b - extracted : b;
    out.macs += model.PropagatorMacs() *
                (static_cast<double>(stepped) / static_cast<double>(b));
  }
  out.macs += model.ExtractorMacs() *
              (static_cast<double>(extracted) / static_cast<double>(b));
  ++t_;
  return out;
}

}  // namespace mapn::model

#endif  // MAPN_MODEL_PIPELINE_H_
