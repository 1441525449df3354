// Conformance of every component to its concept, checked at compile time,
// and near misses that must not conform. The runtime test checks what the
// compiler cannot: the Pipeline registers its four components by name.
#include "mapn/model/concepts.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"
#include "mapn/model/compositions.h"

namespace mapn::model {
namespace {

// Every implementation.
static_assert(FeatureExtractor<SimpleBaselineEncoder>);
static_assert(StatePropagator<MotionWarpConvLstm>);
static_assert(StatePropagator<NoWarpConvLstm>);
static_assert(StatePropagator<PassThrough>);
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

// Components are not interchangeable across roles.
static_assert(!FeatureExtractor<DeconvHead>);
static_assert(!HeatmapHead<SimpleBaselineEncoder>);
static_assert(!SkipPolicy<MotionWarpConvLstm>);
static_assert(!StatePropagator<ResidualGate>);

// The module, not its holder, does not conform: components are used
// through holders (shared ownership, `->`).
static_assert(!FeatureExtractor<SimpleBaselineEncoderImpl>);
static_assert(!HeatmapHead<DeconvHeadImpl>);

// Near misses. Declarations suffice: concepts check signatures only.

// Right methods, but not a torch module.
struct PlainExtractor {
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
static_assert(!FeatureExtractor<PlainExtractor>);

// Extract returns nothing.
class VoidExtractImpl : public torch::nn::Module {
 public:
  void Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(VoidExtract);
static_assert(!FeatureExtractor<VoidExtract>);

// No stride().
class NoStrideImpl : public torch::nn::Module {
 public:
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(NoStride);
static_assert(!FeatureExtractor<NoStride>);

// channels() not callable on a const extractor.
class MutableChannelsImpl : public torch::nn::Module {
 public:
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels();
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(MutableChannels);
static_assert(!FeatureExtractor<MutableChannels>);

// A conforming extractor, to show the near misses above differ only in the
// detail each names.
class GoodExtractorImpl : public torch::nn::Module {
 public:
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const;
  int64_t stride() const;
  MacCount Macs(int64_t size) const;
};
TORCH_MODULE(GoodExtractor);
static_assert(FeatureExtractor<GoodExtractor>);

// No State type.
class StatelessImpl : public torch::nn::Module {
 public:
  LstmState Init(const at::Tensor& x0);
  LstmState Step(const LstmState& s, const at::Tensor& motion,
                 const at::Tensor& x);
  at::Tensor Output(const LstmState& s);
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(Stateless);
static_assert(!StatePropagator<Stateless>);

// Step without motion: a propagator must take the motion field.
class NoMotionImpl : public torch::nn::Module {
 public:
  using State = LstmState;
  State Init(const at::Tensor& x0);
  State Step(const State& s, const at::Tensor& x);
  at::Tensor Output(const State& s);
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
class MoveOnlyPropImpl : public torch::nn::Module {
 public:
  using State = MoveOnlyState;
  State Init(const at::Tensor& x0);
  State Step(const State& s, const at::Tensor& motion, const at::Tensor& x);
  at::Tensor Output(const State& s);
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(MoveOnlyProp);
static_assert(!StatePropagator<MoveOnlyProp>);

// No kCausal: a policy must say whether it can run on a live stream.
class NoCausalImpl : public torch::nn::Module {
 public:
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(NoCausal);
static_assert(!SkipPolicy<NoCausal>);

// kCausal that is not a compile-time constant.
class RuntimeCausalImpl : public torch::nn::Module {
 public:
  static bool kCausal;
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(RuntimeCausal);
static_assert(!SkipPolicy<RuntimeCausal>);

// Decide returns a bare tensor instead of GateOutput.
class TensorDecideImpl : public torch::nn::Module {
 public:
  static constexpr bool kCausal = true;
  at::Tensor Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t size, int64_t length) const;
};
TORCH_MODULE(TensorDecide);
static_assert(!SkipPolicy<TensorDecide>);

// Macs returns a double, not a MacCount.
class DoubleMacsHeadImpl : public torch::nn::Module {
 public:
  at::Tensor Decode(const at::Tensor& features);
  int64_t out_channels() const;
  int64_t upsampling() const;
  double Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(DoubleMacsHead);
static_assert(!HeatmapHead<DoubleMacsHead>);

// No upsampling().
class NoUpsamplingImpl : public torch::nn::Module {
 public:
  at::Tensor Decode(const at::Tensor& features);
  int64_t out_channels() const;
  MacCount Macs(int64_t h, int64_t w) const;
};
TORCH_MODULE(NoUpsampling);
static_assert(!HeatmapHead<NoUpsampling>);

// Every named composition is a Pipeline of conforming parts and a module.
static_assert(TorchModuleHolder<Mapn>);
static_assert(TorchModuleHolder<IFrameOnlyNoWarp>);
static_assert(TorchModuleHolder<PerFrameSimpleBaseline>);

TEST(ConceptsTest, PipelineRegistersItsFourComponentsByName) {
  ModelConfig config;
  config.backbone_width = 4;
  config.input_size = 64;
  config.head_channels = 8;
  Mapn model(config);
  std::vector<std::string> names;
  for (const auto& child : model->named_children())
    names.push_back(child.key());
  EXPECT_EQ(names, (std::vector<std::string>{"extractor", "propagator",
                                             "policy", "head"}));
  // The pipeline owns every component's parameters.
  size_t sum = 0;
  for (const auto& child : model->children()) sum += child->parameters().size();
  EXPECT_EQ(model->parameters().size(), sum);
  EXPECT_GT(sum, 0u);
}

}  // namespace
}  // namespace mapn::model
