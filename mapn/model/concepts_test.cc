// Conformance of every component to its concept, checked at compile time,
// and near misses that must not conform: for each requirement of
// concepts.h, a type that differs from a conforming one (GoodExtractor,
// GoodPropagator, GoodPolicy, GoodHead) in that detail only. The runtime
// tests check what the compiler cannot: the Pipeline registers its four
// components by name, and components are named as checkpoints record them.
#include "mapn/model/concepts.h"

#include <ATen/ATen.h>

#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/compositions.h"

namespace mapn::model {
namespace {

// Every implementation.
static_assert(FeatureExtractor<SimpleBaselineEncoder>);
static_assert(StatePropagator<MotionWarpConvLstm>);
static_assert(StatePropagator<NoWarpConvLstm>);
static_assert(StatePropagator<PassThrough>);
static_assert(StatePropagator<MotionWarpResetConvLstm>);
static_assert(StatePropagator<NoWarpResetConvLstm>);
// Only the resetting ConvLSTMs replace their state on keyframes.
static_assert(KeyframeResettingPropagator<MotionWarpResetConvLstm>);
static_assert(KeyframeResettingPropagator<NoWarpResetConvLstm>);
static_assert(!KeyframeResettingPropagator<MotionWarpConvLstm>);
static_assert(!KeyframeResettingPropagator<PassThrough>);
static_assert(SkipPolicy<ResidualGate>);
static_assert(SkipPolicy<FrameGate>);
static_assert(SkipPolicy<ResidualGateNoPe>);
static_assert(SkipPolicy<ResidualGateNoTemporalNoPe>);
static_assert(SkipPolicy<CausalResidualGate>);
static_assert(SkipPolicy<AlwaysExtract>);
static_assert(SkipPolicy<NeverExtract>);
static_assert(SkipPolicy<FixedIntervalKeyframes>);
static_assert(SkipPolicy<ResidualEnergyGate>);
static_assert(HeatmapHead<DeconvHead>);

// Every options struct.
static_assert(ComponentOptions<NoOptions>);
static_assert(ComponentOptions<SimpleBaselineEncoderOptions>);
static_assert(ComponentOptions<ConvLstmOptions>);
static_assert(ComponentOptions<LearnedGateOptions>);
static_assert(ComponentOptions<FixedIntervalKeyframesOptions>);
static_assert(ComponentOptions<ResidualEnergyGateOptions>);
static_assert(ComponentOptions<DeconvHeadOptions>);

// Causality is part of the type: only these can drive a PipelineStream.
static_assert(!CausalSkipPolicy<ResidualGate>);
static_assert(!CausalSkipPolicy<FrameGate>);
static_assert(!CausalSkipPolicy<ResidualGateNoPe>);
static_assert(CausalSkipPolicy<ResidualGateNoTemporalNoPe>);
static_assert(CausalSkipPolicy<CausalResidualGate>);
static_assert(CausalSkipPolicy<AlwaysExtract>);
static_assert(CausalSkipPolicy<NeverExtract>);
static_assert(CausalSkipPolicy<FixedIntervalKeyframes>);
static_assert(CausalSkipPolicy<ResidualEnergyGate>);

// So is learning: the trainer's stages 3 and 4 ask kLearned.
static_assert(ResidualGate::Impl::kLearned);
static_assert(FrameGate::Impl::kLearned);
static_assert(ResidualGateNoPe::Impl::kLearned);
static_assert(ResidualGateNoTemporalNoPe::Impl::kLearned);
static_assert(CausalResidualGate::Impl::kLearned);
static_assert(!AlwaysExtract::Impl::kLearned);
static_assert(!NeverExtract::Impl::kLearned);
static_assert(!FixedIntervalKeyframes::Impl::kLearned);
static_assert(!ResidualEnergyGate::Impl::kLearned);

// Components are not interchangeable across roles.
static_assert(!FeatureExtractor<DeconvHead>);
static_assert(!HeatmapHead<SimpleBaselineEncoder>);
static_assert(!SkipPolicy<MotionWarpConvLstm>);
static_assert(!StatePropagator<ResidualGate>);

// The module, not its holder, does not conform: components are used
// through holders (shared ownership, `->`).
static_assert(!FeatureExtractor<SimpleBaselineEncoderImpl>);
static_assert(!HeatmapHead<DeconvHeadImpl>);

// Every named composition is a Pipeline of conforming parts, a module and
// a type that carries its name; a Pipeline alone carries none.
static_assert(TorchModuleHolder<Mapn>);
static_assert(TorchModuleHolder<IFrameOnlyNoWarp>);
static_assert(TorchModuleHolder<PerFrameSimpleBaseline>);
static_assert(NamedComposition<Mapn>);
static_assert(NamedComposition<CausalMapn>);
static_assert(PipelineModel<Mapn::Base>);
static_assert(!NamedComposition<Mapn::Base>);

// Near misses. Declarations suffice: concepts check signatures only.

// Requirements a to c (a module holder with options), shared by the near
// misses below that are not about them.
class WithOptions : public torch::nn::Module {
 public:
  using Options = NoOptions;
  explicit WithOptions(const Options& /*options*/ = {}) {}
  const Options& options() const;
};

// A conforming extractor, to show the near misses below differ only in the
// detail each names.
class GoodExtractorImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(GoodExtractor);
static_assert(FeatureExtractor<GoodExtractor>);

// Right methods, but not a torch module.
struct PlainExtractor {
  using Options = NoOptions;
  explicit PlainExtractor(const Options& options);
  const Options& options() const;
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
static_assert(!FeatureExtractor<PlainExtractor>);

// Extract returns nothing.
class VoidExtractImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  void Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(VoidExtract);
static_assert(!FeatureExtractor<VoidExtract>);

// No stride().
class NoStrideImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(NoStride);
static_assert(!FeatureExtractor<NoStride>);

// channels() not callable on a const extractor.
class MutableChannelsImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels();
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(MutableChannels);
static_assert(!FeatureExtractor<MutableChannels>);

// Requirement b: no Options type (the pre-options constructor from one
// number).
class NoOptionsTypeImpl : public torch::nn::Module {
 public:
  explicit NoOptionsTypeImpl(int64_t channels);
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(NoOptionsType);
static_assert(!FeatureExtractor<NoOptionsType>);

// Requirement b: Options that do not model ComponentOptions.
struct LooseOptions {  // no Fields(), no Validate()
  int64_t channels = 8;
};
struct BoolValidateOptions {  // Validate() says no more than yes or no
  static constexpr auto Fields() {
    return std::tuple{OptionField{"channels", &BoolValidateOptions::channels}};
  }
  bool Validate() const;
  int64_t channels = 8;
};
struct NoDefaultOptions {  // no documented defaults
  explicit NoDefaultOptions(int64_t c) : channels(c) {}
  static constexpr auto Fields() {
    return std::tuple{OptionField{"channels", &NoDefaultOptions::channels}};
  }
  absl::Status Validate() const;
  int64_t channels;
};
static_assert(!ComponentOptions<LooseOptions>);
static_assert(!ComponentOptions<BoolValidateOptions>);
static_assert(!ComponentOptions<NoDefaultOptions>);
static_assert(!ComponentOptions<int>);

template <typename O>
class ExtractorWithOptionsImpl : public torch::nn::Module {
 public:
  using Options = O;
  explicit ExtractorWithOptionsImpl(const Options& options);
  const Options& options() const;
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
template <typename O>
class ExtractorWithOptions
    : public torch::nn::ModuleHolder<ExtractorWithOptionsImpl<O>> {
 public:
  using torch::nn::ModuleHolder<ExtractorWithOptionsImpl<O>>::ModuleHolder;
};
static_assert(FeatureExtractor<ExtractorWithOptions<NoOptions>>);
static_assert(!FeatureExtractor<ExtractorWithOptions<LooseOptions>>);
static_assert(!FeatureExtractor<ExtractorWithOptions<BoolValidateOptions>>);

// Requirement c: no options() (a checkpoint could not store them).
class NoOptionsAccessorImpl : public torch::nn::Module {
 public:
  using Options = NoOptions;
  explicit NoOptionsAccessorImpl(const Options& options);
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(NoOptionsAccessor);
static_assert(!FeatureExtractor<NoOptionsAccessor>);

// Requirement c: not constructible from its Options (a checkpoint could
// not rebuild it).
class NotFromOptionsImpl : public torch::nn::Module {
 public:
  using Options = NoOptions;
  explicit NotFromOptionsImpl(int64_t channels);
  const Options& options() const;
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(NotFromOptions);
static_assert(!FeatureExtractor<NotFromOptions>);

// A conforming propagator.
class GoodPropagatorImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  using State = LstmState;
  State Init(const at::Tensor& x0);
  State Step(const State& s, const at::Tensor& motion, const at::Tensor& x);
  at::Tensor Output(const State& s);
  int64_t in_channels() const;
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(GoodPropagator);
static_assert(StatePropagator<GoodPropagator>);

// No State type.
class StatelessImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  LstmState Init(const at::Tensor& x0);
  LstmState Step(const LstmState& s, const at::Tensor& motion,
                 const at::Tensor& x);
  at::Tensor Output(const LstmState& s);
  int64_t in_channels() const;
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(Stateless);
static_assert(!StatePropagator<Stateless>);

// Step without motion: a propagator must take the motion field.
class NoMotionImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  using State = LstmState;
  State Init(const at::Tensor& x0);
  State Step(const State& s, const at::Tensor& x);
  at::Tensor Output(const State& s);
  int64_t in_channels() const;
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(NoMotion);
static_assert(!StatePropagator<NoMotion>);

// A state that cannot be copied.
struct MoveOnlyState {
  MoveOnlyState() = default;
  MoveOnlyState(MoveOnlyState&&) = default;
  MoveOnlyState& operator=(MoveOnlyState&&) = default;
  MoveOnlyState(const MoveOnlyState&) = delete;
  MoveOnlyState& operator=(const MoveOnlyState&) = delete;
};
class MoveOnlyPropImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  using State = MoveOnlyState;
  State Init(const at::Tensor& x0);
  State Step(const State& s, const at::Tensor& motion, const at::Tensor& x);
  at::Tensor Output(const State& s);
  int64_t in_channels() const;
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(MoveOnlyProp);
static_assert(!StatePropagator<MoveOnlyProp>);

// No in_channels(): the pipeline could not check its wiring.
class UncheckedPropagatorImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  using State = LstmState;
  State Init(const at::Tensor& x0);
  State Step(const State& s, const at::Tensor& motion, const at::Tensor& x);
  at::Tensor Output(const State& s);
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(UncheckedPropagator);
static_assert(!StatePropagator<UncheckedPropagator>);

// Claims to reset on keyframes but has no gated step: training could not
// give the gate its gradient, so it is an ordinary propagator.
class ClaimsResetImpl : public GoodPropagatorImpl {
 public:
  using GoodPropagatorImpl::GoodPropagatorImpl;
  static constexpr bool kKeyframeResets = true;
};
TORCH_MODULE(ClaimsReset);
static_assert(StatePropagator<ClaimsReset>);
static_assert(!KeyframeResettingPropagator<ClaimsReset>);

// A gated step with kKeyframeResets false (an additive propagator that
// happens to have one) is not resetting either; with it true, it is.
template <bool kResets>
class GatedImpl : public GoodPropagatorImpl {
 public:
  using GoodPropagatorImpl::GoodPropagatorImpl;
  static constexpr bool kKeyframeResets = kResets;
  State StepGated(const State& s, const at::Tensor& motion, const at::Tensor& x,
                  const at::Tensor& g);
};
class NotResetting : public torch::nn::ModuleHolder<GatedImpl<false>> {
 public:
  using torch::nn::ModuleHolder<GatedImpl<false>>::ModuleHolder;
};
class Resetting : public torch::nn::ModuleHolder<GatedImpl<true>> {
 public:
  using torch::nn::ModuleHolder<GatedImpl<true>>::ModuleHolder;
};
static_assert(!KeyframeResettingPropagator<NotResetting>);
static_assert(KeyframeResettingPropagator<Resetting>);

// A conforming policy.
class GoodPolicyImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(GoodPolicy);
static_assert(SkipPolicy<GoodPolicy>);
static_assert(CausalSkipPolicy<GoodPolicy>);

// No kCausal: a policy must say whether it can run on a live stream.
class NoCausalImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  static constexpr bool kLearned = false;
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(NoCausal);
static_assert(!SkipPolicy<NoCausal>);

// kCausal that is not a compile-time constant.
class RuntimeCausalImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  static bool kCausal;
  static constexpr bool kLearned = false;
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(RuntimeCausal);
static_assert(!SkipPolicy<RuntimeCausal>);

// No kLearned: a policy must say whether training fits it (the trainer
// no longer guesses from a parameter count).
class NoLearnedImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  static constexpr bool kCausal = true;
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(NoLearned);
static_assert(!SkipPolicy<NoLearned>);

// kLearned that is not a compile-time constant.
class RuntimeLearnedImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  static constexpr bool kCausal = true;
  static bool kLearned;
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(RuntimeLearned);
static_assert(!SkipPolicy<RuntimeLearned>);

// Decide returns a bare tensor instead of GateOutput.
class TensorDecideImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;
  at::Tensor Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(TensorDecide);
static_assert(!SkipPolicy<TensorDecide>);

// A conforming head.
class GoodHeadImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  at::Tensor Decode(const at::Tensor& features);
  int64_t in_channels() const;
  int64_t out_channels() const;
  int64_t upsampling() const;
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(GoodHead);
static_assert(HeatmapHead<GoodHead>);

// Macs returns a double, not a MacCount.
class DoubleMacsHeadImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  at::Tensor Decode(const at::Tensor& features);
  int64_t in_channels() const;
  int64_t out_channels() const;
  int64_t upsampling() const;
  double Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(DoubleMacsHead);
static_assert(!HeatmapHead<DoubleMacsHead>);

// No upsampling().
class NoUpsamplingImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  at::Tensor Decode(const at::Tensor& features);
  int64_t in_channels() const;
  int64_t out_channels() const;
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(NoUpsampling);
static_assert(!HeatmapHead<NoUpsampling>);

// No in_channels(): the pipeline could not check its wiring.
class UncheckedHeadImpl : public WithOptions {
 public:
  using WithOptions::WithOptions;
  at::Tensor Decode(const at::Tensor& features);
  int64_t out_channels() const;
  int64_t upsampling() const;
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(UncheckedHead);
static_assert(!HeatmapHead<UncheckedHead>);

TEST(ConceptsTest, PipelineRegistersItsFourComponentsByName) {
  Mapn::Options options;
  options.input_size = 64;
  options.extractor.width = 4;
  options.head.width = 8;
  Mapn model(options);
  std::vector<std::string> names;
  for (const auto& child : model->named_children()) {
    names.push_back(child.key());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"extractor", "propagator",
                                             "policy", "head"}));
  // The pipeline owns every component's parameters.
  size_t sum = 0;
  for (const auto& child : model->children()) sum += child->parameters().size();
  EXPECT_EQ(model->parameters().size(), sum);
  EXPECT_GT(sum, 0u);
  EXPECT_EQ(model->name(), Mapn::Impl::TypeName());
}

// What checkpoints record and version-1 files are converted by.
TEST(ConceptsTest, ComponentsAreNamedByTheirAlias) {
  EXPECT_EQ(ComponentName<SimpleBaselineEncoder>(), "SimpleBaselineEncoder");
  EXPECT_EQ(ComponentName<MotionWarpConvLstm>(), "MotionWarpConvLstm");
  EXPECT_EQ(ComponentName<NoWarpConvLstm>(), "NoWarpConvLstm");
  EXPECT_EQ(ComponentName<PassThrough>(), "PassThrough");
  EXPECT_EQ(ComponentName<ResidualGateNoPe>(), "ResidualGateNoPe");
  EXPECT_EQ(ComponentName<FixedIntervalKeyframes>(), "FixedIntervalKeyframes");
  EXPECT_EQ(ComponentName<DeconvHead>(), "DeconvHead");
}

}  // namespace
}  // namespace mapn::model
