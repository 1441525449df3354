// The Pipeline (pipeline.h): Run's shapes, decisions and padding; skipped
// frames really skipped and MACs saying what ran; policies breaking their
// contract reported; what each ablation changes; the training forward
// (decision overrides, the gradient through the gate, the single-frame
// stage); streaming a causal model reproducing Run; bad batches and options
// as statuses. And what the options brought: in_channels 0 wired to the
// extractor's channels, mismatches refused naming both sides, the input
// size checked against the stride and the gate's pooling, MakeModel's
// status, joints and keypoints from the head (through its own decoder where
// it has one), and the order components draw their initial weights in.
#include "mapn/model/pipeline.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/compositions.h"
#include "mapn/model/model_test_fixtures.h"

namespace mapn::model {
namespace {

// The tiny models' 2 x 2 feature map.
constexpr int64_t kFeatureSize = kTinyInputSize / 32;

CountingPipeline MakeCountingPipeline() {
  return CountingPipeline(CountingOptions());
}

TEST(PipelineTest, RunShapesDecisionsAndPadding) {
  Mapn model(TinyOptions<Mapn>());
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
  CountingPipeline model = MakeCountingPipeline();
  model->eval();
  GopBatch batch = RandomBatch(2, 6, 64, 10);
  batch.valid[1][5] = false;
  model->policy()->decisions =
      Floats({0.f, 1, 0, 0, 1, 1, /*row 1:*/ 0, 0, 1, 0, 0, 1}).view({2, 6});
  model->extractor()->rows_seen = 0;
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

// A propagator whose keyframes replace its state: every extracted frame's
// heatmaps are the per-frame model's, a keyframe row is not charged a step,
// training with Run's decisions reproduces Run, and the gate's gradient
// flows through the gated step.
TEST(PipelineTest, ResettingPropagatorMakesKeyframesPerFrame) {
  using ResetPipeline = Pipeline<CountingExtractor, MotionWarpResetConvLstm,
                                 ScriptedPolicy, DeconvHead>;
  static_assert(ResetPipeline::Impl::kKeyframeResets);
  static_assert(!CountingPipeline::Impl::kKeyframeResets);
  const CountingPipeline::Options counting = CountingOptions();
  ResetPipeline::Options reset_options;
  reset_options.input_size = counting.input_size;
  reset_options.extractor = counting.extractor;
  reset_options.head = counting.head;
  ResetPipeline model(reset_options);
  model->eval();
  {
    // Heatmaps of a size that shows a difference (the head starts near 0).
    const at::NoGradGuard no_grad;
    TensorMap(*model).at("head.final_layer.weight").normal_(0.0, 1.0);
  }
  GopBatch batch = RandomBatch(2, 6, 64, 21);
  model->policy()->decisions =
      Floats({0.f, 1, 0, 0, 1, 1, /*row 1:*/ 0, 0, 1, 0, 0, 0}).view({2, 6});
  const absl::StatusOr<RunResult> run = model->Run(batch);
  ASSERT_TRUE(run.ok()) << run.status();
  const at::Tensor per_frame =
      model->head()
          ->Decode(model->extractor()->Extract(batch.rgb.flatten(0, 1)))
          .view(run->heatmaps.sizes());
  const MacCount extract = model->extractor()->Macs(64);
  const MacCount step = model->propagator()->Macs(2, 2);
  const MacCount head = model->head()->Macs(2, 2);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 6; ++t) {
      const bool keyframe = run->decisions[b][t].item<float>() > 0;
      const double diff = MaxDiff(run->heatmaps[b][t], per_frame[b][t]) /
                          per_frame[b][t].abs().max().item<double>();
      if (keyframe) {
        EXPECT_LT(diff, 1e-5) << b << " " << t;
      } else {
        EXPECT_GT(diff, 1e-2) << b << " " << t;  // propagated, not per-frame
      }
      const MacCount want =
          keyframe ? extract + head : (t > 0 ? step + head : head);
      EXPECT_EQ(run->macs(b, t), want) << b << " " << t;
    }
  }
  ForwardOptions options;
  options.decisions = run->decisions;
  const auto forward = model->Forward(batch, options);
  ASSERT_TRUE(forward.ok()) << forward.status();
  EXPECT_LT(MaxDiff(forward->heatmaps, run->heatmaps), 1e-5);

  // With a learned gate, training reaches the gate through the mix.
  using ResetMapn = Pipeline<SimpleBaselineEncoder, MotionWarpResetConvLstm,
                             ResidualGate, DeconvHead>;
  ResetMapn gated(TinyOptions<ResetMapn>());
  gated->train();
  const auto out = gated->Forward(RandomBatch(2, 4, 64, 22));
  ASSERT_TRUE(out.ok()) << out.status();
  (out->heatmaps.square().mean() + 0.1 * out->g_mix.sum()).backward();
  const at::Tensor grad = TensorMap(*gated).at("policy.conv1.weight").grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
}

// A policy that breaks its contract is reported, not crashed on.
class BrokenPolicyImpl : public torch::nn::Module {
 public:
  using Options = NoOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;
  explicit BrokenPolicyImpl(const Options& /*options*/ = {}) {}
  static std::string TypeName() { return "BrokenPolicy"; }
  GateOutput Decide(const GopBatch& batch, GateMode /*mode*/) {
    return {wrong_shape ? at::ones({1, 1}) : at::zeros(batch.valid.sizes()),
            at::Tensor()};
  }
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  const Options& options() const { return options_; }
  bool wrong_shape = false;

 private:
  Options options_;
};
TORCH_MODULE(BrokenPolicy);

TEST(PipelineTest, PoliciesBreakingTheContractAreStatuses) {
  Pipeline<CountingExtractor, MotionWarpConvLstm, BrokenPolicy, DeconvHead>
      model(64, CountingExtractor(), MotionWarpConvLstm(ConvLstmOptions{16, 3}),
            BrokenPolicy(), DeconvHead(DeconvHeadOptions{16, 8, 3}));
  const GopBatch batch = RandomBatch(2, 3, 64, 30);
  auto run = model->Run(batch);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(Message(run.status()).find("BrokenPolicy did not select frame 0"),
            std::string::npos)
      << run.status();
  model->policy()->wrong_shape = true;
  const auto forward = model->Forward(batch);
  ASSERT_FALSE(forward.ok());
  EXPECT_NE(Message(forward.status())
                .find("BrokenPolicy returned g_mix of shape [1, 1]"),
            std::string::npos)
      << forward.status();
}

TEST(PipelineTest, PerFrameBaselineIsExtractorAndHeadOnEachFrame) {
  PerFrameSimpleBaseline model(TinyOptions<PerFrameSimpleBaseline>());
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
  IFrameOnlyWarp warp(TinyOptions<IFrameOnlyWarp>());
  IFrameOnlyNoWarp no_warp(TinyOptions<IFrameOnlyNoWarp>());
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
  const auto c = warp->Run(batch);
  const auto d = no_warp->Run(batch);
  ASSERT_TRUE(c.ok() && d.ok());
  EXPECT_TRUE(at::equal(d->heatmaps, b->heatmaps));
  // (The head starts with N(0, 0.001) weights: compare relative to scale.)
  EXPECT_GT(MaxDiff(c->heatmaps.slice(1, 1), b->heatmaps.slice(1, 1)),
            1e-3 * b->heatmaps.abs().max().item<double>());
  EXPECT_TRUE(at::equal(c->heatmaps.select(1, 0), b->heatmaps.select(1, 0)));
}

TEST(PipelineTest, TrainingForwardWithRunDecisionsReproducesRun) {
  Mapn model(TinyOptions<Mapn>());
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
  Mapn model(TinyOptions<Mapn>());
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
  CountingPipeline model = MakeCountingPipeline();
  model->train();
  model->extractor()->rows_seen = 0;
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
  EXPECT_NE(Message(bad.status()).find("decisions has shape [2, 5]"),
            std::string::npos);
}

TEST(PipelineTest, SingleFrameForwardIsTheSimpleBaseline) {
  Mapn model(TinyOptions<Mapn>());
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
  at::manual_seed(17);
  CausalMapn model(TinyOptions<CausalMapn>());
  model->eval();
  const GopBatch first = RandomBatch(1, 6, 64, 17);
  const GopBatch second = RandomBatch(1, 6, 64, 18);
  // Bias the gate so that some frames extract and some do not: the logits
  // of the first window's later frames are split in half, between two of
  // them (a threshold on one would leave the decision to rounding).
  {
    const at::NoGradGuard no_grad;
    const at::Tensor logits = std::get<0>(
        model->policy()->Logits(first).slice(1, 1).flatten().sort());
    const int64_t k = logits.numel() / 2;
    TensorMap(*model)
        .at("policy.temporal2.bias")
        .sub_((logits[k - 1] + logits[k]) / 2);
  }
  CausalMapnStream stream(model, /*window_length=*/6);
  at::Tensor all_decisions = at::zeros({2, 6});
  for (int64_t w = 0; w < 2; ++w) {
    const GopBatch& batch = w == 0 ? first : second;
    const auto run = model->Run(batch);
    ASSERT_TRUE(run.ok()) << run.status();
    all_decisions[w] = run->decisions[0];
    for (int64_t t = 0; t < 6; ++t) {
      StreamFrame frame;
      frame.rgb = batch.rgb.select(1, t);
      frame.motion = batch.motion.select(1, t);
      frame.residual = batch.residual.select(1, t);
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
  // The bias did what it was for: the comparison covered both kinds of
  // frame after the keyframes.
  const at::Tensor later = all_decisions.slice(1, 1);
  EXPECT_GT(later.sum().item<float>(), 0.0f);
  EXPECT_LT(later.sum().item<float>(), static_cast<float>(later.numel()));
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
  EXPECT_NE(Message(bad.status()).find("StreamFrame.rgb has shape"),
            std::string::npos);
}

TEST(PipelineTest, BadBatchesAndOptionsAreStatuses) {
  Mapn model(TinyOptions<Mapn>());
  GopBatch batch = RandomBatch(1, 3, 32, 19);
  auto run = model->Run(batch);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(Message(run.status())
                .find("GopBatch.rgb has shape [1, 3, 3, 32, 32]; expected "
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
  EXPECT_NE(Message(run.status()).find("GopBatch.motion has dtype Double"),
            std::string::npos)
      << run.status();
  batch.motion = at::Tensor();
  EXPECT_FALSE(model->Forward(batch).ok());

  Mapn::Options bad = TinyOptions<Mapn>();
  bad.extractor.depth = 20;
  const absl::StatusOr<Mapn> made = MakeModel<Mapn>(bad);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(made.status()),
            "extractor.depth must be 18, 34 or 50, got 20");
  bad = TinyOptions<Mapn>();
  bad.input_size = 0;
  EXPECT_EQ(Message(MakeModel<Mapn>(bad).status()),
            "input_size must be positive, got 0");
  EXPECT_TRUE(MakeModel<Mapn>(TinyOptions<Mapn>()).ok());
}

// ---------------------------------------------------------------------------
// Wiring.

// The error MakeModel<Model>(options) returns, or "" when it builds.
template <PipelineModel Model>
std::string MakeError(const typename Model::Options& options) {
  const absl::StatusOr<Model> made = MakeModel<Model>(options);
  if (made.ok()) return "";
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  return Message(made.status());
}

TEST(WiringTest, InChannelsZeroIsWiredToTheExtractors) {
  // Through SimpleBaselineEncoder's static OutputChannels().
  const Mapn::Options options = TinyOptions<Mapn>();
  ASSERT_EQ(options.propagator.in_channels, 0);
  ASSERT_EQ(options.head.in_channels, 0);
  Mapn model(options);
  EXPECT_EQ(model->propagator()->in_channels(), kTinyChannels);
  EXPECT_EQ(model->head()->in_channels(), kTinyChannels);
  // options() is what a checkpoint stores: the wiring resolved.
  EXPECT_EQ(model->options().propagator.in_channels, kTinyChannels);
  EXPECT_EQ(model->options().head.in_channels, kTinyChannels);
  EXPECT_EQ(model->options().input_size, kTinyInputSize);
  EXPECT_EQ(model->options().extractor.width, 4);

  // Through a throwaway extractor (CountingExtractor has no
  // OutputChannels()).
  CountingPipeline::Options counting = CountingOptions();
  counting.extractor.channels = 24;
  CountingPipeline built(counting);
  EXPECT_EQ(built->propagator()->in_channels(), 24);
  EXPECT_EQ(built->head()->in_channels(), 24);
  // The throwaway extractor is not the one the pipeline keeps.
  EXPECT_EQ(built->extractor()->rows_seen, 0);
  EXPECT_EQ(TensorMap(*built).count("extractor.proj.weight"), 1u);
}

TEST(WiringTest, ExplicitInChannelsThatMatchAreAccepted) {
  Mapn::Options options = TinyOptions<Mapn>();
  options.propagator.in_channels = kTinyChannels;
  options.head.in_channels = kTinyChannels;
  EXPECT_EQ(MakeError<Mapn>(options), "");
  // PassThrough takes any width (in_channels() 0): nothing to check.
  EXPECT_EQ(
      MakeError<PerFrameSimpleBaseline>(TinyOptions<PerFrameSimpleBaseline>()),
      "");
}

TEST(WiringTest, PropagatorMismatchNamesBothSides) {
  Mapn::Options options = TinyOptions<Mapn>();
  options.propagator.in_channels = 16;
  EXPECT_EQ(MakeError<Mapn>(options),
            Mapn::Impl::TypeName() +
                ": SimpleBaselineEncoder gives 32 channels but "
                "MotionWarpConvLstm takes 16 (propagator.in_channels; 0 wires "
                "it to the extractor's)");
  EXPECT_THROW(Mapn{options}, c10::Error);
}

TEST(WiringTest, HeadMismatchNamesBothSides) {
  Mapn::Options options = TinyOptions<Mapn>();
  options.head.in_channels = 64;
  const std::string error = MakeError<Mapn>(options);
  EXPECT_NE(error.find("SimpleBaselineEncoder gives 32 channels but "
                       "DeconvHead decodes 64 (head.in_channels"),
            std::string::npos)
      << error;
  // A wider encoder with the head left at 0 is wired, not refused.
  options.head.in_channels = 0;
  options.extractor.width = 8;
  EXPECT_EQ(MakeError<Mapn>(options), "");
}

TEST(WiringTest, InputSizeMustBeAMultipleOfTheStride) {
  Mapn::Options options = TinyOptions<Mapn>();
  options.input_size = 80;
  EXPECT_NE(MakeError<Mapn>(options).find(
                "input_size 80 is not a positive multiple of "
                "SimpleBaselineEncoder's stride 32"),
            std::string::npos);
  options.input_size = 16;  // positive, but smaller than one stride
  EXPECT_NE(MakeError<Mapn>(options).find("input_size 16 is not a positive "
                                          "multiple"),
            std::string::npos);
  options.input_size = 96;
  EXPECT_EQ(MakeError<Mapn>(options), "");
}

// The gate's pooling constrains the frame size, not the extractor: the
// pipeline asks the component (ValidateInputSize) and gives its answer.
TEST(WiringTest, LearnedGateDownsampleMustDivideTheInputSize) {
  Mapn::Options options = TinyOptions<Mapn>();
  options.input_size = 96;
  options.policy.downsample = 5;
  EXPECT_NE(MakeError<Mapn>(options).find(
                "ResidualGate pools its input by downsample = 5, which does "
                "not divide input_size 96"),
            std::string::npos);
  options.policy.downsample = 3;
  EXPECT_EQ(MakeError<Mapn>(options), "");
  // Policies without the hook are not asked.
  FixedIntervalWarp::Options fixed = TinyOptions<FixedIntervalWarp>();
  fixed.input_size = 96;
  EXPECT_EQ(MakeError<FixedIntervalWarp>(fixed), "");
}

// Components built elsewhere are checked as those built from options.
TEST(WiringTest, ComponentsBuiltElsewhereAreCheckedToo) {
  try {
    CountingPipeline model(
        64, CountingExtractor(), MotionWarpConvLstm(ConvLstmOptions{8, 3}),
        ScriptedPolicy(), DeconvHead(DeconvHeadOptions{16, 8, 3}));
    ADD_FAILURE() << "a 16-channel extractor was wired to an 8-channel LSTM";
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    EXPECT_NE(what.find("gives 16 channels but MotionWarpConvLstm takes 8"),
              std::string::npos)
        << what;
  }
  EXPECT_THROW(CountingPipeline(48, CountingExtractor(),
                                MotionWarpConvLstm(ConvLstmOptions{16, 3}),
                                ScriptedPolicy(),
                                DeconvHead(DeconvHeadOptions{16, 8, 3})),
               c10::Error);
}

TEST(WiringTest, JointsComeFromTheHead) {
  Mapn::Options options = TinyOptions<Mapn>();
  options.head.out_channels = 5;
  Mapn model(options);
  model->eval();
  EXPECT_EQ(model->joints(), 5);
  EXPECT_EQ(model->heatmap_size(), kTinyHeatmapSize);
  EXPECT_EQ(model->FeatureSize(), kFeatureSize);
  const auto run = model->Run(RandomBatch(1, 2, 64, 21));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->heatmaps.size(2), 5);
}

// ---------------------------------------------------------------------------
// Keypoints.

TEST(KeypointsTest, HeatmapPeaksBecomeInputPixels) {
  Mapn model(TinyOptions<Mapn>());
  at::Tensor maps = at::zeros({2, kTinyJoints, 16, 16});
  maps[0][0][7][5] = 0.9;  // row y = 7, column x = 5
  maps[1][2][0][15] = 0.4;
  const absl::StatusOr<at::Tensor> keypoints = model->Keypoints(maps);
  ASSERT_TRUE(keypoints.ok()) << keypoints.status();
  EXPECT_EQ(keypoints->sizes(), (std::vector<int64_t>{2, kTinyJoints, 3}));
  // Map pixel k covers input pixels [4k - 1/2, 4k + 7/2): its centre is
  // 4k + 3/2 (a 64 x 64 input, 16 x 16 maps).
  EXPECT_FLOAT_EQ((*keypoints)[0][0][0].item<float>(), 21.5f);
  EXPECT_FLOAT_EQ((*keypoints)[0][0][1].item<float>(), 29.5f);
  EXPECT_FLOAT_EQ((*keypoints)[0][0][2].item<float>(), 0.9f);
  EXPECT_FLOAT_EQ((*keypoints)[1][2][0].item<float>(), 61.5f);
  EXPECT_FLOAT_EQ((*keypoints)[1][2][1].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ((*keypoints)[1][2][2].item<float>(), 0.4f);
}

TEST(KeypointsTest, MapsOfAnotherShapeNameTheHead) {
  Mapn model(TinyOptions<Mapn>());
  const absl::StatusOr<at::Tensor> wrong_joints =
      model->Keypoints(at::zeros({2, 4, 16, 16}));
  ASSERT_FALSE(wrong_joints.ok());
  EXPECT_EQ(wrong_joints.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(wrong_joints.status())
                .find("DeconvHead should give float maps [N, 3, 16, 16], got "
                      "[2, 4, 16, 16]"),
            std::string::npos)
      << wrong_joints.status();
  const absl::StatusOr<at::Tensor> wrong_size =
      model->Keypoints(at::zeros({2, 3, 32, 32}));
  ASSERT_FALSE(wrong_size.ok());
  EXPECT_NE(Message(wrong_size.status()).find("DeconvHead"), std::string::npos)
      << wrong_size.status();
}

// A head whose maps are not one heatmap per joint: one map, two keypoints
// (its peak, and a fixed point whose score is the map's mean), decoded by
// its own Keypoints().
struct PeakPairHeadOptions {
  int64_t in_channels = 0;  // wired by the pipeline
  static constexpr auto Fields() {
    return std::tuple{
        OptionField{"in_channels", &PeakPairHeadOptions::in_channels}};
  }
  absl::Status Validate() const { return absl::OkStatus(); }
};

class PeakPairHeadImpl : public torch::nn::Module {
 public:
  using Options = PeakPairHeadOptions;
  explicit PeakPairHeadImpl(const Options& options) : options_(options) {}
  static std::string TypeName() { return "PeakPairHead"; }
  at::Tensor Decode(const at::Tensor& features) {
    return features.mean(1, /*keepdim=*/true)
        .repeat_interleave(8, 2)
        .repeat_interleave(8, 3);
  }
  int64_t in_channels() const { return options_.in_channels; }
  int64_t out_channels() const { return 1; }
  int64_t upsampling() const { return 8; }
  MacCount Macs(int64_t /*h*/, int64_t /*w*/) const { return {}; }
  const Options& options() const { return options_; }

  int64_t joints() const { return 2; }
  // maps [N, 1, H, W] -> [N, 2, 3] in map pixels.
  at::Tensor Keypoints(const at::Tensor& maps) {
    const int64_t n = maps.size(0);
    const int64_t w = maps.size(3);
    const auto [peak, index] = maps.flatten(1).max(1);
    const at::Tensor first =
        at::stack({(index % w).to(at::kFloat),
                   at::floor_divide(index, w).to(at::kFloat), peak},
                  1);
    const at::Tensor second = at::stack(
        {at::full({n}, 3.0), at::full({n}, 1.0), maps.mean({1, 2, 3})}, 1);
    at::Tensor out = at::stack({first, second}, 1);
    return wrong_shape ? out.narrow(1, 0, 1) : out;
  }
  bool wrong_shape = false;

 private:
  Options options_;
};
TORCH_MODULE(PeakPairHead);
static_assert(HeatmapHead<PeakPairHead>);

using PeakPairPipeline =
    Pipeline<CountingExtractor, PassThrough, AlwaysExtract, PeakPairHead>;

TEST(KeypointsTest, AHeadsOwnDecoderIsUsed) {
  PeakPairPipeline::Options options;
  options.input_size = 64;
  PeakPairPipeline model(options);
  EXPECT_EQ(model->head()->in_channels(), 16);  // wired
  EXPECT_EQ(model->joints(), 2);                // joints(), not out_channels()
  model->eval();
  const auto run = model->Run(RandomBatch(1, 2, 64, 22));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->heatmaps.sizes(), (std::vector<int64_t>{1, 2, 1, 16, 16}));

  at::Tensor maps = at::zeros({1, 1, 16, 16});
  maps[0][0][2][9] = 0.8;  // y = 2, x = 9
  const absl::StatusOr<at::Tensor> keypoints = model->Keypoints(maps);
  ASSERT_TRUE(keypoints.ok()) << keypoints.status();
  ASSERT_EQ(keypoints->sizes(), (std::vector<int64_t>{1, 2, 3}));
  // The head's map pixels, moved to input pixels (centre 4k + 3/2); the
  // scores are the head's.
  EXPECT_FLOAT_EQ((*keypoints)[0][0][0].item<float>(), 37.5f);
  EXPECT_FLOAT_EQ((*keypoints)[0][0][1].item<float>(), 9.5f);
  EXPECT_FLOAT_EQ((*keypoints)[0][0][2].item<float>(), 0.8f);
  EXPECT_FLOAT_EQ((*keypoints)[0][1][0].item<float>(), 13.5f);
  EXPECT_FLOAT_EQ((*keypoints)[0][1][1].item<float>(), 5.5f);
  EXPECT_FLOAT_EQ((*keypoints)[0][1][2].item<float>(), 0.8f / 256);

  // Its maps are still checked against its out_channels(), and its
  // keypoints against its joints(), each error naming it.
  const absl::StatusOr<at::Tensor> two_maps =
      model->Keypoints(at::zeros({1, 2, 16, 16}));
  ASSERT_FALSE(two_maps.ok());
  EXPECT_NE(Message(two_maps.status())
                .find("PeakPairHead should give float maps [N, 1, 16, 16]"),
            std::string::npos)
      << two_maps.status();
  model->head()->wrong_shape = true;
  const absl::StatusOr<at::Tensor> short_keypoints = model->Keypoints(maps);
  ASSERT_FALSE(short_keypoints.ok());
  EXPECT_NE(Message(short_keypoints.status())
                .find("PeakPairHead should decode float keypoints [1, 2, 3], "
                      "got [1, 1, 3]"),
            std::string::npos)
      << short_keypoints.status();
}

// ---------------------------------------------------------------------------
// Initial weights.

// Seeds must keep giving the weights they gave before components had
// options: the pipeline builds head, policy, propagator, extractor, in that
// order, from LibTorch's global generator.
TEST(ConstructionOrderTest, ASeedGivesTheWeightsOfComponentsBuiltHeadFirst) {
  at::manual_seed(41);
  Mapn model(TinyOptions<Mapn>());
  const at::Tensor after_model = at::rand({8});
  at::manual_seed(41);
  DeconvHead head(TinyHeadOptions());
  ResidualGate policy(TinyGateOptions());
  MotionWarpConvLstm propagator(TinyLstmOptions());
  SimpleBaselineEncoder extractor(TinyEncoderOptions());
  const at::Tensor after_hand = at::rand({8});
  EXPECT_TRUE(SameTensors(*model->head(), *head));
  EXPECT_TRUE(SameTensors(*model->policy(), *policy));
  EXPECT_TRUE(SameTensors(*model->propagator(), *propagator));
  EXPECT_TRUE(SameTensors(*model->extractor(), *extractor));
  // Nothing else drew from the generator.
  EXPECT_TRUE(at::equal(after_model, after_hand));
  // Another seed gives other weights: the comparison above can fail.
  at::manual_seed(42);
  Mapn other(TinyOptions<Mapn>());
  EXPECT_FALSE(SameTensors(*other->head(), *head));
  EXPECT_FALSE(SameTensors(*other->extractor(), *extractor));
}

// Wiring through a throwaway extractor builds one more extractor than the
// pipeline keeps; the generator's state is restored after it, so the
// weights are those of the four components built by hand.
TEST(ConstructionOrderTest, WiringDrawsNoRandomNumbers) {
  at::manual_seed(43);
  CountingPipeline model(CountingOptions());
  const at::Tensor after_model = at::rand({8});
  at::manual_seed(43);
  DeconvHead head(DeconvHeadOptions{16, 8, 3});
  ScriptedPolicy policy;
  MotionWarpConvLstm propagator(ConvLstmOptions{16, 3});
  CountingExtractor extractor(CountingExtractorOptions{16});
  const at::Tensor after_hand = at::rand({8});
  EXPECT_TRUE(SameTensors(*model->head(), *head));
  EXPECT_TRUE(SameTensors(*model->propagator(), *propagator));
  EXPECT_TRUE(SameTensors(*model->extractor(), *extractor));
  EXPECT_TRUE(at::equal(after_model, after_hand));
}

}  // namespace
}  // namespace mapn::model
