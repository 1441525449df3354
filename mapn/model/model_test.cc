// The components and their composition: shapes and names, the equations of
// the paper, what each ablation changes, MAC accounting against the modules'
// own structure, and that skipped frames are really skipped.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/compositions.h"
#include "mapn/model/concepts.h"
#include "mapn/ops/warp.h"

namespace mapn::model {
namespace {

ModelConfig TinyConfig() {
  ModelConfig c;
  c.backbone_width = 4;  // 32 feature channels (ResNet-18/34)
  c.input_size = 64;     // 2 x 2 feature maps, 16 x 16 heatmaps
  c.joints = 3;
  c.head_channels = 8;
  c.gate_conv1_channels = 4;
  c.gate_conv2_channels = 8;
  c.gate_pe_dims = 4;
  c.gate_temporal_channels = 8;
  c.keyframe_interval = 3;
  return c;
}

GopBatch RandomBatch(int64_t b, int64_t t, int64_t s, uint64_t seed) {
  at::manual_seed(seed);
  GopBatch batch;
  batch.rgb = at::rand({b, t, 3, s, s});
  batch.motion = at::randn({b, t, 2, s, s}) * 6.0;
  batch.motion.select(1, 0).zero_();
  batch.residual = at::randn({b, t, 3, s, s}) * 0.05;
  batch.residual.select(1, 0).zero_();
  batch.valid = at::ones({b, t}, at::kBool);
  return batch;
}

at::Tensor Floats(const std::vector<float>& values) {
  return at::tensor(values);
}

double MaxDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

std::map<std::string, at::Tensor> TensorMap(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value();
  for (const auto& p : m.named_buffers()) out[p.key()] = p.value();
  return out;
}

void CopyWeights(const torch::nn::Module& from, torch::nn::Module& to) {
  const auto source = TensorMap(from);
  const at::NoGradGuard no_grad;
  for (auto& [name, tensor] : TensorMap(to)) {
    ASSERT_TRUE(source.count(name)) << name;
    tensor.copy_(source.at(name));
  }
}

// ----------------------------------------------------------------------------
// Test components: an extractor that counts the frames it sees and a policy
// that replays given decisions. They also show that the concepts admit
// components written outside mapn/model.

class CountingExtractorImpl : public torch::nn::Module {
 public:
  explicit CountingExtractorImpl(int64_t channels) : channels_(channels) {
    proj_ = register_module(
        "proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, channels, 1)));
  }
  at::Tensor Extract(const at::Tensor& rgb) {
    rows_seen += rgb.size(0);
    return proj_->forward(at::avg_pool2d(rgb, {32, 32}, {32, 32}));
  }
  int64_t channels() const { return channels_; }
  int64_t stride() const { return 32; }
  MacCount Macs(int64_t size) const {
    return ConvMacs(3, channels_, 1, 1, size / 32, size / 32);
  }
  int64_t rows_seen = 0;

 private:
  int64_t channels_;
  torch::nn::Conv2d proj_{nullptr};
};
TORCH_MODULE(CountingExtractor);

class ScriptedPolicyImpl : public torch::nn::Module {
 public:
  static constexpr bool kCausal = true;
  GateOutput Decide(const GopBatch& batch, GateMode /*mode*/) {
    return {ApplyKeyframeAndPadding(decisions, batch.valid), at::Tensor()};
  }
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  at::Tensor decisions;  // float [B, T]
};
TORCH_MODULE(ScriptedPolicy);

static_assert(FeatureExtractor<CountingExtractor>);
static_assert(CausalSkipPolicy<ScriptedPolicy>);

using CountingPipeline =
    Pipeline<CountingExtractor, MotionWarpConvLstm, ScriptedPolicy, DeconvHead>;

// ----------------------------------------------------------------------------
// Encoder.

TEST(EncoderTest, TorchvisionNamesShapesAndCounts) {
  // torchvision's state_dict sizes minus fc.weight and fc.bias.
  const std::map<int, size_t> expected_tensors = {
      {18, 120}, {34, 216}, {50, 318}};
  for (const auto& [depth, count] : expected_tensors) {
    ModelConfig c = TinyConfig();
    c.backbone_depth = depth;
    SimpleBaselineEncoder encoder(c);
    const auto tensors = TensorMap(*encoder);
    EXPECT_EQ(tensors.size(), count) << depth;
    for (const char* name :
         {"conv1.weight", "bn1.running_var", "bn1.num_batches_tracked",
          "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
          "layer2.0.downsample.1.running_mean", "layer4.1.bn2.bias"}) {
      EXPECT_TRUE(tensors.count(name)) << depth << " " << name;
    }
    EXPECT_EQ(tensors.count("layer1.0.conv3.weight"), depth == 50 ? 1u : 0u);
    EXPECT_EQ(tensors.count("layer1.0.downsample.0.weight"),
              depth == 50 ? 1u : 0u);
    EXPECT_EQ(encoder->channels(), FeatureChannels(c));
    encoder->eval();
    const at::Tensor x = encoder->Extract(at::rand({2, 3, 64, 96}));
    EXPECT_EQ(x.sizes(), (std::vector<int64_t>{2, encoder->channels(), 2, 3}));
  }
}

// The analytic MAC count against one derived from the module's own weights:
// each convolution's weight size times the pixels it produces.
TEST(EncoderTest, MacsMatchTheModuleStructure) {
  for (int depth : {18, 50}) {
    ModelConfig c = TinyConfig();
    c.backbone_depth = depth;
    c.input_size = 128;
    SimpleBaselineEncoder encoder(c);
    double macs = 0;
    for (const auto& p : encoder->named_parameters()) {
      const std::string& name = p.key();
      if (p.value().dim() != 4) continue;  // batch norm
      int64_t side = 0;
      if (name == "conv1.weight") {
        side = 64;
      } else {
        const int stage = name[5] - '0';  // "layerN.B...."
        side = 32 >> (stage - 1);
        // Bottleneck v1.5: a stage's first 1 x 1 runs before the stride.
        if (depth == 50 && stage > 1 && name.rfind(".0.conv1.", 8) == 6) {
          side *= 2;
        }
      }
      macs += static_cast<double>(p.value().numel()) * side * side;
    }
    EXPECT_DOUBLE_EQ(encoder->Macs(128).true_macs, macs) << depth;
  }
}

// ----------------------------------------------------------------------------
// Head.

TEST(HeadTest, OfficialNamesShapesAndInit) {
  const ModelConfig c = TinyConfig();
  DeconvHead head(c);
  const auto tensors = TensorMap(*head);
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"deconv_layers.0.weight", {32, 8, 4, 4}},
      {"deconv_layers.1.weight", {8}},
      {"deconv_layers.1.running_mean", {8}},
      {"deconv_layers.3.weight", {8, 8, 4, 4}},
      {"deconv_layers.4.bias", {8}},
      {"deconv_layers.6.weight", {8, 8, 4, 4}},
      {"deconv_layers.7.running_var", {8}},
      {"final_layer.weight", {3, 8, 1, 1}},
      {"final_layer.bias", {3}}};
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(tensors.count(name)) << name;
    EXPECT_EQ(tensors.at(name).sizes(), shape) << name;
  }
  EXPECT_EQ(tensors.count("deconv_layers.0.bias"), 0u);  // no bias
  EXPECT_LT(tensors.at("deconv_layers.0.weight").std().item<double>(), 0.002);
  EXPECT_EQ(tensors.at("final_layer.bias").abs().sum().item<double>(), 0.0);
  EXPECT_EQ(head->Decode(at::rand({2, 32, 2, 3})).sizes(),
            (std::vector<int64_t>{2, 3, 16, 24}));
  // Macs: the deconvolutions at their input resolution (2x2, 4x4, 8x8), the
  // 1 x 1 at 16 x 16.
  const double macs =
      32.0 * 8 * 16 * 4 + 8.0 * 8 * 16 * 16 + 8.0 * 8 * 16 * 64 + 8.0 * 3 * 256;
  EXPECT_DOUBLE_EQ(head->Macs(2, 2).true_macs, macs);
}

TEST(HeadTest, PhaseConvolutionsEqualTheTransposedConvolution) {
  at::manual_seed(20);
  for (const auto& [c, o, h, w] : std::vector<std::array<int64_t, 4>>{
           {3, 5, 1, 1}, {8, 4, 3, 5}, {16, 8, 8, 8}}) {
    const at::Tensor x = at::randn({2, c, h, w}).requires_grad_(true);
    const at::Tensor weight = at::randn({c, o, 4, 4}).requires_grad_(true);
    const at::Tensor fast = ConvTranspose4x4Stride2(x, weight);
    const at::Tensor reference =
        at::conv_transpose2d(x, weight, {}, /*stride=*/2, /*padding=*/1);
    ASSERT_EQ(fast.sizes(), reference.sizes());
    EXPECT_LT(MaxDiff(fast, reference), 1e-4);
    const at::Tensor g = at::randn_like(reference);
    const auto gf = torch::autograd::grad({fast}, {x, weight}, {g});
    const auto gr = torch::autograd::grad({reference}, {x, weight}, {g});
    EXPECT_LT(MaxDiff(gf[0], gr[0]), 1e-4);
    EXPECT_LT(MaxDiff(gf[1], gr[1]), 1e-4);
  }
  // Decode equals the official layer sequence run module by module.
  DeconvHead head(TinyConfig());
  head->eval();
  const at::Tensor features = at::randn({1, 32, 2, 2});
  at::Tensor x = features;
  for (const auto& child : head->named_children()) {
    if (child.key() == "deconv_layers") {
      x = child.value()->as<torch::nn::Sequential>()->forward(x);
    } else {
      x = child.value()->as<torch::nn::Conv2d>()->forward(x);
    }
  }
  EXPECT_LT(MaxDiff(head->Decode(features), x), 1e-6);
}

// ----------------------------------------------------------------------------
// Propagators.

TEST(PropagatorTest, MotionIsAveragedPerBlockAndScaledByStride) {
  at::Tensor motion = at::zeros({1, 2, 64, 64});
  motion.select(1, 0).fill_(32.0);
  motion.select(1, 1).fill_(-64.0);
  const at::Tensor flow = MotionToFeatureScale(motion, 32);
  EXPECT_EQ(flow.sizes(), (std::vector<int64_t>{1, 2, 2, 2}));
  EXPECT_TRUE(at::allclose(flow.select(1, 0), at::ones({1, 2, 2})));
  EXPECT_TRUE(at::allclose(flow.select(1, 1), -2 * at::ones({1, 2, 2})));
  // A field moving only the top-left quarter of the top-left block.
  motion.zero_();
  motion.select(1, 0).slice(1, 0, 16).slice(2, 0, 16).fill_(64.0);
  const at::Tensor partial = MotionToFeatureScale(motion, 32);
  EXPECT_FLOAT_EQ(partial[0][0][0][0].item<float>(), 0.5f);  // 64/4/32
  EXPECT_FLOAT_EQ(partial[0][0][1][1].item<float>(), 0.0f);
}

TEST(PropagatorTest, ConvLstmFollowsEquations3To11) {
  at::manual_seed(1);
  MotionWarpConvLstm lstm(8, 3);
  const at::Tensor x0 = at::randn({2, 8, 3, 3});
  const LstmState s0 = lstm->Init(x0);
  EXPECT_TRUE(at::equal(s0.h, x0));
  EXPECT_TRUE(at::equal(s0.c, x0));
  // Zero motion: the warp is the identity and the step is eqs. (6)-(11).
  const at::Tensor x1 = at::randn({2, 8, 3, 3});
  const LstmState s1 = lstm->Step(s0, at::zeros({2, 2, 96, 96}), x1);
  const auto params = TensorMap(*lstm);
  const at::Tensor gates = at::conv2d(x1 + x0, params.at("gates.weight"),
                                      params.at("gates.bias"), 1, 1);
  const auto g = gates.chunk(4, 1);
  const at::Tensor c1 =
      at::sigmoid(g[1]) * x0 + at::sigmoid(g[0]) * at::tanh(g[3]);
  const at::Tensor h1 = at::sigmoid(g[2]) * at::tanh(c1);
  EXPECT_LT(MaxDiff(s1.c, c1), 1e-6);
  EXPECT_LT(MaxDiff(s1.h, h1), 1e-6);
  EXPECT_TRUE(at::equal(lstm->Output(s1), s1.h));
  // The forget gate starts open (bias 1), the others neutral.
  EXPECT_EQ(params.at("gates.bias").slice(0, 8, 16).min().item<float>(), 1.0f);
  EXPECT_EQ(params.at("gates.bias").slice(0, 0, 8).abs().max().item<float>(),
            0.0f);
}

TEST(PropagatorTest, WarpMovesBothStatesByTheMotionVectors) {
  at::manual_seed(2);
  MotionWarpConvLstm warp(8, 3);
  NoWarpConvLstm no_warp(8, 3);
  CopyWeights(*warp, *no_warp);
  const LstmState s{at::randn({1, 8, 4, 4}), at::randn({1, 8, 4, 4})};
  const at::Tensor x = at::randn({1, 8, 4, 4});
  // Zero motion: warp and no warp agree exactly.
  const at::Tensor zero = at::zeros({1, 2, 128, 128});
  EXPECT_TRUE(at::equal(warp->Step(s, zero, x).h, no_warp->Step(s, zero, x).h));
  // One feature pixel right, one down (32 input pixels each): the warped
  // LSTM equals the plain one on states shifted by the same field, h and c.
  at::Tensor motion = at::zeros({1, 2, 128, 128});
  motion.select(1, 0).fill_(32.0);
  motion.select(1, 1).fill_(-32.0);
  at::Tensor flow = at::zeros({1, 2, 4, 4});
  flow.select(1, 0).fill_(1.0);
  flow.select(1, 1).fill_(-1.0);
  const LstmState shifted{WarpByMotion(s.h, flow), WarpByMotion(s.c, flow)};
  const LstmState a = warp->Step(s, motion, x);
  const LstmState b = no_warp->Step(shifted, motion, x);
  EXPECT_LT(MaxDiff(a.h, b.h), 1e-6);
  EXPECT_LT(MaxDiff(a.c, b.c), 1e-6);
  EXPECT_GT(MaxDiff(a.h, no_warp->Step(s, motion, x).h), 1e-3);
  // The empty input O is x = 0.
  EXPECT_TRUE(at::equal(warp->Step(s, motion, at::Tensor()).h,
                        warp->Step(s, motion, at::zeros_like(x)).h));
}

TEST(PropagatorTest, PassThroughHoldsTheLastFeatures) {
  PassThrough pass;
  const at::Tensor x0 = at::randn({1, 4, 2, 2});
  const at::Tensor x1 = at::randn({1, 4, 2, 2});
  FeatureState s = pass->Init(x0);
  s = pass->Step(s, at::zeros({1, 2, 64, 64}), at::Tensor());
  EXPECT_TRUE(at::equal(pass->Output(s), x0));
  s = pass->Step(s, at::zeros({1, 2, 64, 64}), x1);
  EXPECT_TRUE(at::equal(pass->Output(s), x1));
  EXPECT_EQ(pass->Macs(8, 8).true_macs, 0.0);
}

// ----------------------------------------------------------------------------
// Policies.

TEST(PolicyTest, SaturatingSigmoidIsEquation13) {
  const at::Tensor x = at::tensor({-100.0f, -1.0f, 0.0f, 1.0f, 100.0f});
  const at::Tensor y = SaturatingSigmoid(x);
  EXPECT_FLOAT_EQ(y[0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(y[2].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(y[4].item<float>(), 1.0f);
  EXPECT_NEAR(y[3].item<float>(), 1.2 / (1 + std::exp(-1.0)) - 0.1, 1e-6);
}

TEST(PolicyTest, ImprovedSemanticHashing) {
  at::manual_seed(3);
  const at::Tensor logits = at::randn({400, 6}) * 2;
  EXPECT_TRUE(at::equal(ImprovedSemanticHash(logits, GateMode::kInference),
                        (logits > 0).to(at::kFloat)));

  const at::Tensor g = logits.clone().requires_grad_(true);
  const at::Tensor mix = ImprovedSemanticHash(g, GateMode::kTraining);
  EXPECT_GE(mix.min().item<float>(), 0.0f);
  EXPECT_LE(mix.max().item<float>(), 1.0f);
  // Each window is either all hard (0/1) or soft; about half are hard.
  const at::Tensor binary = (mix == 0).logical_or(mix == 1).all(1);
  const double hard_share = binary.to(at::kFloat).mean().item<double>();
  EXPECT_GT(hard_share, 0.4);
  EXPECT_LT(hard_share, 0.6);
  // Noise: hard decisions disagree with sign(g) for some frames (N(0, 1)
  // moves logits of |g| < ~2 across zero), but rarely where |g| is large.
  const at::Tensor hard_rows = binary.nonzero().flatten();
  const at::Tensor hard = mix.detach().index_select(0, hard_rows);
  const at::Tensor sign =
      (logits.index_select(0, hard_rows) > 0).to(at::kFloat);
  const at::Tensor flipped = hard != sign;
  const at::Tensor large = logits.index_select(0, hard_rows).abs() > 4;
  EXPECT_GT(flipped.to(at::kFloat).mean().item<double>(), 0.05);
  EXPECT_EQ(flipped.logical_and(large).sum().item<int64_t>(), 0);
  // Straight-through: hard rows get the soft gradient, which is positive
  // where the saturating sigmoid is not saturated.
  const at::Tensor grad = torch::autograd::grad({mix.sum()}, {g})[0];
  EXPECT_GE(grad.min().item<float>(), 0.0f);
  EXPECT_GT(grad.index_select(0, hard_rows).sum().item<float>(), 0.0f);
}

TEST(PolicyTest, LearnedGateKeyframePaddingAndShapes) {
  const ModelConfig c = TinyConfig();
  ResidualGate gate(c);
  GopBatch batch = RandomBatch(2, 6, 64, 4);
  batch.valid[1][4] = false;
  batch.valid[1][5] = false;
  for (GateMode mode : {GateMode::kTraining, GateMode::kInference}) {
    const GateOutput out = gate->Decide(batch, mode);
    EXPECT_EQ(out.g_mix.sizes(), (std::vector<int64_t>{2, 6}));
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 6}));
    EXPECT_TRUE(at::equal(out.g_mix.select(1, 0), at::ones({2})));
    EXPECT_EQ(out.g_mix[1][4].item<float>(), 0.0f);
    EXPECT_EQ(out.g_mix[1][5].item<float>(), 0.0f);
  }
  const GateOutput eval = gate->Decide(batch, GateMode::kInference);
  EXPECT_TRUE(at::equal(eval.g_mix.slice(1, 1, 4),
                        (eval.logits.slice(1, 1, 4) > 0).to(at::kFloat)));
}

// Which frames' residuals each gate design reads for the decision at t.
TEST(PolicyTest, TemporalReceptiveFieldPerDesign) {
  const ModelConfig c = TinyConfig();
  ResidualGate centered(c);
  CausalResidualGate causal(c);
  ResidualGateNoTemporalNoPe per_frame(c);
  const GopBatch batch = RandomBatch(1, 8, 64, 5);
  GopBatch changed = batch;
  changed.residual = batch.residual.clone();
  changed.residual.select(1, 4).mul_(5.0);
  auto changed_frames = [&](auto& gate) {
    const at::Tensor diff =
        (gate->Logits(batch) - gate->Logits(changed)).abs()[0];
    std::vector<int> frames;
    for (int t = 0; t < 8; ++t) {
      if (diff[t].template item<float>() > 0) frames.push_back(t);
    }
    return frames;
  };
  // Two kernel-3 layers: centred sees t-2..t+2, causal t-4..t.
  EXPECT_EQ(changed_frames(centered), (std::vector<int>{2, 3, 4, 5, 6}));
  EXPECT_EQ(changed_frames(causal), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(changed_frames(per_frame), (std::vector<int>{4}));
}

TEST(PolicyTest, PositionEncodingDistinguishesIdenticalFrames) {
  const ModelConfig c = TinyConfig();
  GopBatch batch = RandomBatch(1, 6, 64, 6);
  batch.residual = batch.residual.select(1, 2)
                       .unsqueeze(1)
                       .expand({1, 6, 3, 64, 64})
                       .contiguous();
  CausalResidualGate with_pe(c);
  ResidualGateNoTemporalNoPe without(c);
  const at::Tensor a = with_pe->Logits(batch)[0];
  const at::Tensor b = without->Logits(batch)[0];
  EXPECT_TRUE(at::allclose(b, b[0].expand({6})));
  // Frames 2.. see the same residual history but different positions.
  EXPECT_GT((a.slice(0, 2) - a[2]).abs().max().item<float>(), 1e-6);
  const at::Tensor pe = SinusoidalPositionEncoding(5, 4);
  EXPECT_FLOAT_EQ(pe[3][0].item<float>(), std::sin(3.0f));
  EXPECT_FLOAT_EQ(pe[3][1].item<float>(), std::cos(3.0f));
  EXPECT_NEAR(pe[3][2].item<float>(), std::sin(0.03), 1e-7);
}

TEST(PolicyTest, FrameGateReadsFramesNotResiduals) {
  const ModelConfig c = TinyConfig();
  FrameGate gate(c);
  const GopBatch batch = RandomBatch(1, 4, 64, 7);
  GopBatch other_residual = batch;
  other_residual.residual = at::rand_like(batch.residual);
  GopBatch other_rgb = batch;
  other_rgb.rgb = at::rand_like(batch.rgb);
  EXPECT_TRUE(at::equal(gate->Logits(batch), gate->Logits(other_residual)));
  EXPECT_FALSE(at::equal(gate->Logits(batch), gate->Logits(other_rgb)));
}

TEST(PolicyTest, GateMacsMatchTheModuleStructure) {
  ModelConfig c = TinyConfig();
  c.input_size = 256;  // 32 x 32 after pooling, 16 x 16, 8 x 8
  ResidualGate gate(c);
  const auto p = TensorMap(*gate);
  const double t = 12;
  const double expected =
      t * (p.at("conv1.weight").numel() * 16.0 * 16 +
           p.at("conv2.weight").numel() * 8.0 * 8) +
      t * (p.at("temporal1.weight").numel() + p.at("temporal2.weight").numel());
  EXPECT_DOUBLE_EQ(gate->Macs(256, 12).true_macs, expected);
  EXPECT_EQ(p.at("temporal1.weight").size(1), 8 + 3 + 4);  // conv2 + raw + PE
  ResidualGateNoTemporalNoPe plain(c);
  EXPECT_EQ(TensorMap(*plain).at("temporal1.weight").sizes(),
            (std::vector<int64_t>{8, 11, 1}));
}

TEST(PolicyTest, TrainingFreePolicies) {
  ModelConfig c = TinyConfig();
  c.keyframe_interval = 3;
  c.energy_threshold = 0.1;
  GopBatch batch = RandomBatch(1, 7, 64, 8);
  batch.valid[0][6] = false;
  batch.residual.zero_();
  batch.residual.select(1, 2).fill_(0.2);
  batch.residual.select(1, 5).fill_(-0.3);  // energy is |residual|
  batch.residual.select(1, 4).fill_(0.05);
  auto row = [](const GateOutput& out) {
    std::vector<float> v;
    for (int64_t t = 0; t < out.g_mix.size(1); ++t) {
      v.push_back(out.g_mix[0][t].item<float>());
    }
    EXPECT_FALSE(out.logits.defined());
    return v;
  };
  const GateMode m = GateMode::kInference;
  EXPECT_EQ(row(AlwaysExtract(c)->Decide(batch, m)),
            (std::vector<float>{1, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(row(NeverExtract(c)->Decide(batch, m)),
            (std::vector<float>{1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(row(FixedIntervalKeyframes(c)->Decide(batch, m)),
            (std::vector<float>{1, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(row(ResidualEnergyGate(c)->Decide(batch, m)),
            (std::vector<float>{1, 0, 1, 0, 0, 1, 0}));
}

// ----------------------------------------------------------------------------
// Pipelines.

TEST(PipelineTest, RunShapesDecisionsAndPadding) {
  const ModelConfig c = TinyConfig();
  Mapn model(c);
  model->eval();
  GopBatch batch = RandomBatch(2, 5, 64, 9);
  batch.valid[1][3] = false;
  batch.valid[1][4] = false;
  const absl::StatusOr<RunResult> result = model->Run(batch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->heatmaps.sizes(), (std::vector<int64_t>{2, 5, 3, 16, 16}));
  EXPECT_TRUE(at::equal(result->decisions.select(1, 0), at::ones({2})));
  EXPECT_EQ(result->decisions[1][3].item<float>(), 0.0f);
  EXPECT_EQ(result->heatmaps[1][3].abs().sum().item<float>(), 0.0f);
  EXPECT_GT(result->heatmaps[0][3].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(result->frame_macs.size(), 10u);
}

TEST(PipelineTest, SkippedFramesAreNotExtractedAndMacsSayWhatRan) {
  const ModelConfig c = TinyConfig();
  CountingPipeline model(c, CountingExtractor(16), MotionWarpConvLstm(16, 3),
                         ScriptedPolicy(), DeconvHead(16, 8, 3));
  model->eval();
  GopBatch batch = RandomBatch(2, 6, 64, 10);
  batch.valid[1][5] = false;
  model->policy()->decisions =
      Floats({0.f, 1, 0, 0, 1, 1, /*row 1:*/ 0, 0, 1, 0, 0, 1}).view({2, 6});
  const absl::StatusOr<RunResult> result = model->Run(batch);
  ASSERT_TRUE(result.ok()) << result.status();
  // Row 0: frames 0, 1, 4, 5; row 1: frames 0, 2 (frame 5 is padding).
  EXPECT_EQ(model->extractor()->rows_seen, 6);
  const at::Tensor expected =
      Floats({1.f, 1, 0, 0, 1, 1, /*row 1:*/ 1, 0, 1, 0, 0, 0}).view({2, 6});
  EXPECT_TRUE(at::equal(result->decisions, expected));

  const MacCount extract = model->extractor()->Macs(64);
  const MacCount step = model->propagator()->Macs(2, 2);
  const MacCount head = model->head()->Macs(2, 2);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 6; ++t) {
      MacCount want = head;
      if (expected[b][t].item<float>() > 0) want += extract;
      if (t > 0) want += step;
      EXPECT_EQ(result->macs(b, t), want) << b << " " << t;
    }
  }
  // An all-skip step feeds the empty input: one extraction per row only.
  model->extractor()->rows_seen = 0;
  model->policy()->decisions = at::zeros({2, 6});
  ASSERT_TRUE(model->Run(batch).ok());
  EXPECT_EQ(model->extractor()->rows_seen, 2);
}

// A policy that breaks its contract is reported, not crashed on.
class BrokenPolicyImpl : public torch::nn::Module {
 public:
  static constexpr bool kCausal = true;
  static std::string TypeName() { return "BrokenPolicy"; }
  GateOutput Decide(const GopBatch& batch, GateMode /*mode*/) {
    return {wrong_shape ? at::ones({1, 1}) : at::zeros(batch.valid.sizes()),
            at::Tensor()};
  }
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  bool wrong_shape = false;
};
TORCH_MODULE(BrokenPolicy);

TEST(PipelineTest, PoliciesBreakingTheContractAreStatuses) {
  const ModelConfig c = TinyConfig();
  Pipeline<CountingExtractor, MotionWarpConvLstm, BrokenPolicy, DeconvHead>
      model(c, CountingExtractor(16), MotionWarpConvLstm(16, 3), BrokenPolicy(),
            DeconvHead(16, 8, 3));
  const GopBatch batch = RandomBatch(2, 3, 64, 30);
  auto run = model->Run(batch);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("BrokenPolicy did not select frame 0"),
            std::string::npos)
      << run.status();
  model->policy()->wrong_shape = true;
  const auto forward = model->Forward(batch);
  ASSERT_FALSE(forward.ok());
  EXPECT_NE(forward.status().message().find(
                "BrokenPolicy returned g_mix of shape [1, 1]"),
            std::string::npos)
      << forward.status();
}

TEST(PipelineTest, PerFrameBaselineIsExtractorAndHeadOnEachFrame) {
  const ModelConfig c = TinyConfig();
  PerFrameSimpleBaseline model(c);
  model->eval();
  const GopBatch batch = RandomBatch(1, 4, 64, 11);
  const absl::StatusOr<RunResult> result = model->Run(batch);
  ASSERT_TRUE(result.ok()) << result.status();
  const at::NoGradGuard no_grad;
  for (int64_t t = 0; t < 4; ++t) {
    const at::Tensor direct = model->head()->Decode(
        model->extractor()->Extract(batch.rgb.select(1, t)));
    EXPECT_LT(MaxDiff(result->heatmaps.select(1, t), direct), 1e-6) << t;
    EXPECT_EQ(result->macs(0, t), model->ExtractorMacs() + model->HeadMacs());
  }
}

TEST(PipelineTest, WarpAblationDiffersOnlyThroughTheMotion) {
  const ModelConfig c = TinyConfig();
  IFrameOnlyWarp warp(c);
  IFrameOnlyNoWarp no_warp(c);
  CopyWeights(*warp, *no_warp);
  warp->eval();
  no_warp->eval();
  GopBatch batch = RandomBatch(1, 4, 64, 12);
  batch.motion.zero_();
  const auto a = warp->Run(batch);
  const auto b = no_warp->Run(batch);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(at::equal(a->heatmaps, b->heatmaps));
  batch.motion.fill_(20.0);
  const auto c2 = warp->Run(batch);
  const auto d = no_warp->Run(batch);
  EXPECT_TRUE(at::equal(d->heatmaps, b->heatmaps));
  // (The head starts with N(0, 0.001) weights: compare relative to scale.)
  EXPECT_GT(MaxDiff(c2->heatmaps.slice(1, 1), b->heatmaps.slice(1, 1)),
            1e-3 * b->heatmaps.abs().max().item<double>());
  EXPECT_TRUE(at::equal(c2->heatmaps.select(1, 0), b->heatmaps.select(1, 0)));
}

TEST(PipelineTest, TrainingForwardWithRunDecisionsReproducesRun) {
  const ModelConfig c = TinyConfig();
  Mapn model(c);
  model->eval();
  GopBatch batch = RandomBatch(2, 5, 64, 13);
  batch.valid[0][4] = false;
  const auto run = model->Run(batch);
  ASSERT_TRUE(run.ok()) << run.status();
  ForwardOptions options;
  options.decisions = run->decisions;
  const auto forward = model->Forward(batch, options);
  ASSERT_TRUE(forward.ok()) << forward.status();
  EXPECT_LT(MaxDiff(forward->heatmaps, run->heatmaps), 1e-5);
  EXPECT_TRUE(at::equal(forward->g_mix, run->decisions));
  // Gate-driven inference decisions equal the policy's own.
  options.decisions = at::Tensor();
  options.gate_mode = GateMode::kInference;
  const auto gated = model->Forward(batch, options);
  ASSERT_TRUE(gated.ok());
  EXPECT_TRUE(at::equal(gated->g_mix, run->decisions));
  EXPECT_LT(MaxDiff(gated->heatmaps, run->heatmaps), 1e-5);
}

TEST(PipelineTest, TrainingForwardIsDifferentiableThroughTheGate) {
  ModelConfig c = TinyConfig();
  Mapn model(c);
  model->train();
  const GopBatch batch = RandomBatch(2, 4, 64, 14);
  const auto out = model->Forward(batch);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->g_mix.requires_grad());
  EXPECT_TRUE(out->logits.defined());
  // Eq. (15): heatmap error plus lambda * |g_mix|_1.
  const at::Tensor loss =
      out->heatmaps.square().mean() + 0.1 * out->g_mix.sum();
  loss.backward();
  auto grad_norm = [&](const std::string& name) {
    const auto params = TensorMap(*model);
    const at::Tensor g = params.at(name).grad();
    return g.defined() ? g.abs().sum().item<double>() : 0.0;
  };
  EXPECT_GT(grad_norm("policy.conv1.weight"), 0.0);
  EXPECT_GT(grad_norm("policy.temporal2.bias"), 0.0);
  EXPECT_GT(grad_norm("extractor.conv1.weight"), 0.0);
  EXPECT_GT(grad_norm("propagator.gates.weight"), 0.0);
  EXPECT_GT(grad_norm("head.final_layer.weight"), 0.0);
}

TEST(PipelineTest, OverriddenDecisionsSkipExtractionInTraining) {
  const ModelConfig c = TinyConfig();
  CountingPipeline model(c, CountingExtractor(16), MotionWarpConvLstm(16, 3),
                         ScriptedPolicy(), DeconvHead(16, 8, 3));
  model->train();
  const GopBatch batch = RandomBatch(2, 6, 64, 15);
  ForwardOptions options;
  options.decisions =
      Floats({0.f, 0, 1, 0, 0, 1, /*row 1:*/ 1, 1, 0, 0, 0, 0}).view({2, 6});
  const auto out = model->Forward(batch, options);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(model->extractor()->rows_seen, 5);  // 3 + 2 (frames 0 forced)
  EXPECT_EQ(out->g_mix[0][0].item<float>(), 1.0f);
  options.decisions = at::zeros({2, 5});
  const auto bad = model->Forward(batch, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("decisions has shape [2, 5]"),
            std::string::npos);
}

TEST(PipelineTest, SingleFrameForwardIsTheSimpleBaseline) {
  const ModelConfig c = TinyConfig();
  Mapn model(c);
  model->eval();
  GopBatch batch = RandomBatch(1, 3, 64, 16);
  batch.valid[0][2] = false;
  ForwardOptions options;
  options.single_frame = true;
  const auto out = model->Forward(batch, options);
  ASSERT_TRUE(out.ok()) << out.status();
  const at::Tensor direct = model->head()->Decode(
      model->extractor()->Extract(batch.rgb.select(1, 1)));
  EXPECT_LT(MaxDiff(out->heatmaps.select(1, 1), direct), 1e-6);
  EXPECT_EQ(out->heatmaps[0][2].abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(at::equal(out->g_mix, Floats({1.f, 1, 0}).view({1, 3})));
}

TEST(PipelineTest, StreamingACausalModelReproducesRun) {
  ModelConfig c = TinyConfig();
  CausalMapn model(c);
  model->eval();
  // Bias the gate so that some frames extract and some do not.
  {
    const at::NoGradGuard no_grad;
    TensorMap(*model).at("policy.temporal2.bias").fill_(0.02);
  }
  const GopBatch first = RandomBatch(1, 6, 64, 17);
  const GopBatch second = RandomBatch(1, 6, 64, 18);
  CausalMapnStream stream(model, /*window_length=*/6);
  for (const GopBatch* batch : {&first, &second}) {
    const auto run = model->Run(*batch);
    ASSERT_TRUE(run.ok()) << run.status();
    for (int64_t t = 0; t < 6; ++t) {
      StreamFrame frame;
      frame.rgb = batch->rgb.select(1, t);
      frame.motion = batch->motion.select(1, t);
      frame.residual = batch->residual.select(1, t);
      frame.keyframe = t == 0;
      const auto out = stream.Push(frame);
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(out->decision[0].item<float>(),
                run->decisions[0][t].item<float>())
          << t;
      EXPECT_LT(MaxDiff(out->heatmap, run->heatmaps.select(1, t)), 1e-5) << t;
      // The policy re-runs on the prefix; the rest is what Run charges.
      const MacCount policy_share = model->PolicyMacs(6) * (1.0 / 6);
      EXPECT_DOUBLE_EQ(out->macs.true_macs - model->PolicyMacs(t + 1).true_macs,
                       run->macs(0, t).true_macs - policy_share.true_macs);
    }
  }
  // Without keyframe flags the stream still restarts after 6 frames.
  EXPECT_EQ(stream.position(), 6);
  StreamFrame frame;
  frame.rgb = first.rgb.select(1, 1);
  frame.motion = first.motion.select(1, 1);
  frame.residual = first.residual.select(1, 1);
  ASSERT_TRUE(stream.Push(frame).ok());
  EXPECT_EQ(stream.position(), 1);
  frame.rgb = at::zeros({1, 3, 32, 32});
  const auto bad = stream.Push(frame);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("StreamFrame.rgb has shape"),
            std::string::npos);
}

TEST(PipelineTest, BadBatchesAndConfigsAreStatuses) {
  const ModelConfig c = TinyConfig();
  Mapn model(c);
  GopBatch batch = RandomBatch(1, 3, 32, 19);
  auto run = model->Run(batch);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find(
                "GopBatch.rgb has shape [1, 3, 3, 32, 32]; expected "
                "[1, 3, 3, 64, 64]"),
            std::string::npos)
      << run.status();
  batch = RandomBatch(1, 3, 64, 19);
  batch.valid[0][0] = false;
  EXPECT_FALSE(model->Run(batch).ok());
  batch = RandomBatch(1, 3, 64, 19);
  batch.motion = batch.motion.to(at::kDouble);
  run = model->Run(batch);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("GopBatch.motion has dtype Double"),
            std::string::npos)
      << run.status();
  batch.motion = at::Tensor();
  EXPECT_FALSE(model->Forward(batch).ok());

  ModelConfig bad = c;
  bad.backbone_depth = 20;
  const absl::StatusOr<Mapn> made = MakeModel<Mapn>(bad);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("backbone_depth = 20"),
            std::string::npos);
  EXPECT_TRUE(MakeModel<Mapn>(c).ok());
}

}  // namespace
}  // namespace mapn::model
