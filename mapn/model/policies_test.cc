// The skip policies (policies.h): eq. (13), improved semantic hashing
// (eqs. (12)-(14)) with its straight-through gradient, the learned gate's
// keyframe, padding and shapes, the temporal receptive field of each gate
// design, position encoding, the frame gate's input, MACs against the
// module's weights, the training-free policies (and their documented
// defaults), and the options: the input size check (ValidateInputSize),
// invalid values refused by name, the names checkpoints record.
#include "mapn/model/policies.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/model_test_fixtures.h"

namespace mapn::model {
namespace {

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
  ResidualGate gate(TinyGateOptions());
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
  ResidualGate centered(TinyGateOptions());
  CausalResidualGate causal(TinyGateOptions());
  ResidualGateNoTemporalNoPe per_frame(TinyGateOptions());
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
  GopBatch batch = RandomBatch(1, 6, 64, 6);
  batch.residual = batch.residual.select(1, 2)
                       .unsqueeze(1)
                       .expand({1, 6, 3, 64, 64})
                       .contiguous();
  CausalResidualGate with_pe(TinyGateOptions());
  ResidualGateNoTemporalNoPe without(TinyGateOptions());
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
  FrameGate gate(TinyGateOptions());
  const GopBatch batch = RandomBatch(1, 4, 64, 7);
  GopBatch other_residual = batch;
  other_residual.residual = at::rand_like(batch.residual);
  GopBatch other_rgb = batch;
  other_rgb.rgb = at::rand_like(batch.rgb);
  EXPECT_TRUE(at::equal(gate->Logits(batch), gate->Logits(other_residual)));
  EXPECT_FALSE(at::equal(gate->Logits(batch), gate->Logits(other_rgb)));
}

TEST(PolicyTest, GateMacsMatchTheModuleStructure) {
  // At 256 x 256: 32 x 32 after pooling, 16 x 16, 8 x 8.
  ResidualGate gate(TinyGateOptions());
  const auto p = TensorMap(*gate);
  const double t = 12;
  const double expected =
      t * (p.at("conv1.weight").numel() * 16.0 * 16 +
           p.at("conv2.weight").numel() * 8.0 * 8) +
      t * (p.at("temporal1.weight").numel() + p.at("temporal2.weight").numel());
  EXPECT_DOUBLE_EQ(gate->Macs(256, 12).true_macs, expected);
  EXPECT_EQ(p.at("temporal1.weight").size(1), 8 + 3 + 4);  // conv2 + raw + PE
  ResidualGateNoTemporalNoPe plain(TinyGateOptions());
  EXPECT_EQ(TensorMap(*plain).at("temporal1.weight").sizes(),
            (std::vector<int64_t>{8, 11, 1}));
}

TEST(PolicyTest, TrainingFreePolicies) {
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
  EXPECT_EQ(row(AlwaysExtract()->Decide(batch, m)),
            (std::vector<float>{1, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(row(NeverExtract()->Decide(batch, m)),
            (std::vector<float>{1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(row(FixedIntervalKeyframes(FixedIntervalKeyframesOptions{3})
                    ->Decide(batch, m)),
            (std::vector<float>{1, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(
      row(ResidualEnergyGate(ResidualEnergyGateOptions{0.1})->Decide(batch, m)),
      (std::vector<float>{1, 0, 1, 0, 0, 1, 0}));
  // The defaults are the documented ones: every 4th frame, threshold 0.02
  // (which frame 4's 0.05 passes).
  EXPECT_EQ(row(FixedIntervalKeyframes()->Decide(batch, m)),
            (std::vector<float>{1, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(row(ResidualEnergyGate()->Decide(batch, m)),
            (std::vector<float>{1, 0, 1, 0, 1, 1, 0}));
}

// The gate average-pools its input by `downsample`, which must divide the
// frames: the pipeline asks it through ValidateInputSize when it is built.
TEST(PolicyTest, LearnedGateChecksTheInputSize) {
  LearnedGateOptions options = TinyGateOptions();
  options.downsample = 5;
  ResidualGate gate(options);
  EXPECT_TRUE(gate->ValidateInputSize(80).ok());
  const absl::Status status = gate->ValidateInputSize(96);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(status),
            "ResidualGate pools its input by downsample = 5, which does not "
            "divide input_size 96");
  EXPECT_TRUE(ResidualGate(TinyGateOptions())->ValidateInputSize(96).ok());
}

TEST(PolicyTest, InvalidOptionsAreRefusedByName) {
  LearnedGateOptions gate = TinyGateOptions();
  gate.pe_dims = 3;
  EXPECT_EQ(Message(gate.Validate()),
            "pe_dims must be even and at least 2 (sin/cos pairs), got 3");
  EXPECT_THROW(ResidualGate{gate}, c10::Error);
  gate = TinyGateOptions();
  gate.temporal_kernel = 2;
  EXPECT_NE(Message(gate.Validate()).find("temporal_kernel must be odd"),
            std::string::npos);
  gate = TinyGateOptions();
  gate.downsample = 0;
  EXPECT_NE(Message(gate.Validate()).find("downsample must be at least 1"),
            std::string::npos);
  gate = TinyGateOptions();
  gate.conv2_channels = 0;
  EXPECT_NE(Message(gate.Validate()).find("conv2_channels"), std::string::npos);

  EXPECT_EQ(Message(FixedIntervalKeyframesOptions{0}.Validate()),
            "interval must be at least 1, got 0");
  EXPECT_THROW(FixedIntervalKeyframes{FixedIntervalKeyframesOptions{0}},
               c10::Error);
  EXPECT_NE(Message(ResidualEnergyGateOptions{-1}.Validate()).find("threshold"),
            std::string::npos);
  EXPECT_FALSE(ResidualEnergyGateOptions{std::nan("")}.Validate().ok());
  EXPECT_TRUE(ResidualEnergyGateOptions{0}.Validate().ok());
}

// Checkpoints and messages name a gate by its alias (version-1 files are
// converted by these names, legacy_config.cc).
TEST(PolicyTest, GateDesignsAreNamed) {
  EXPECT_EQ(ResidualGate::Impl::TypeName(), "ResidualGate");
  EXPECT_EQ(FrameGate::Impl::TypeName(), "FrameGate");
  EXPECT_EQ(ResidualGateNoPe::Impl::TypeName(), "ResidualGateNoPe");
  EXPECT_EQ(ResidualGateNoTemporalNoPe::Impl::TypeName(),
            "ResidualGateNoTemporalNoPe");
  EXPECT_EQ(CausalResidualGate::Impl::TypeName(), "CausalResidualGate");
  EXPECT_EQ(ComponentName<ResidualGate>(), "ResidualGate");
}

}  // namespace
}  // namespace mapn::model
