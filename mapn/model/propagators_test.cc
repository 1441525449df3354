// The state propagators (propagators.h): motion resampled to the feature
// grid, the ConvLSTM against eqs. (3)-(11), the warp moving h and c by the
// motion vectors, the resetting ConvLSTM (a keyframe replaces the state, a
// zero row propagates, the gated step's gradient is the keyframe's gain),
// PassThrough holding the last features, and the options:
// in_channels() reported, in_channels 0 for pipelines only, an even kernel
// refused by name.
#include "mapn/model/propagators.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/model_test_fixtures.h"
#include "mapn/ops/warp.h"

namespace mapn::model {
namespace {

ConvLstmOptions Lstm8() { return {.in_channels = 8, .kernel = 3}; }

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
  MotionWarpConvLstm lstm(Lstm8());
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
  MotionWarpConvLstm warp(Lstm8());
  NoWarpConvLstm no_warp(Lstm8());
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

TEST(PropagatorTest, ResetConvLstmReplacesTheStateOnKeyframeRows) {
  at::manual_seed(3);
  MotionWarpConvLstm add(Lstm8());
  MotionWarpResetConvLstm reset(Lstm8());
  CopyWeights(*add, *reset);
  EXPECT_EQ(reset->TypeName(), "MotionWarpResetConvLstm");
  EXPECT_EQ(NoWarpResetConvLstm(Lstm8())->TypeName(), "NoWarpResetConvLstm");
  const LstmState s{at::randn({2, 8, 4, 4}), at::randn({2, 8, 4, 4})};
  at::Tensor motion = at::zeros({2, 2, 128, 128});
  motion.select(1, 0).fill_(32.0);
  // No input: the same warp and LSTM update as the additive ConvLSTM.
  const LstmState propagated = add->Step(s, motion, at::Tensor());
  const LstmState none = reset->Step(s, motion, at::Tensor());
  EXPECT_TRUE(at::equal(none.h, propagated.h));
  EXPECT_TRUE(at::equal(none.c, propagated.c));
  // Row 0 a keyframe, row 1 zero-filled (skipped): row 0 becomes x, row 1
  // is propagated as if it had no input.
  at::Tensor x = at::randn({2, 8, 4, 4});
  x[1].zero_();
  const LstmState mixed = reset->Step(s, motion, x);
  EXPECT_TRUE(at::equal(mixed.h[0], x[0]));
  EXPECT_TRUE(at::equal(mixed.c[0], x[0]));
  EXPECT_LT(MaxDiff(mixed.h[1], propagated.h[1]), 1e-6);
  EXPECT_LT(MaxDiff(mixed.c[1], propagated.c[1]), 1e-6);
  // Every row a keyframe: the state is x itself.
  const at::Tensor all = at::randn({2, 8, 4, 4});
  EXPECT_TRUE(at::equal(reset->Step(s, motion, all).h, all));
}

TEST(PropagatorTest, GatedResetStepCarriesTheKeyframeGainAsGradient) {
  at::manual_seed(4);
  MotionWarpResetConvLstm reset(Lstm8());
  const LstmState s{at::randn({2, 8, 4, 4}), at::randn({2, 8, 4, 4})};
  const at::Tensor motion = at::zeros({2, 2, 128, 128});
  const at::Tensor x = at::randn({2, 8, 4, 4});
  const at::Tensor g = at::tensor({1.0f, 0.0f}).requires_grad_(true);
  const LstmState out = reset->StepGated(s, motion, x, g);
  const LstmState propagated = reset->Step(s, motion, at::Tensor());
  EXPECT_TRUE(at::allclose(out.h[0], x[0]));
  EXPECT_TRUE(at::allclose(out.h[1], propagated.h[1]));
  // d sum(h) / d g = sum(x - propagated h), per row.
  out.h.sum().backward();
  const at::Tensor expected = (x - propagated.h).detach().flatten(1).sum(1);
  EXPECT_LT(MaxDiff(g.grad(), expected), 1e-4);
  EXPECT_NE(Message([&] {
              try {
                reset->StepGated(s, motion, x, at::ones({3}));
              } catch (const c10::Error& e) {
                return absl::InvalidArgumentError(e.what_without_backtrace());
              }
              return absl::OkStatus();
            }())
                .find("keyframe weights must be [2]"),
            std::string::npos);
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
  EXPECT_EQ(pass->in_channels(), 0);  // any width: the pipeline checks none
}

TEST(PropagatorTest, InChannelsAndMacsFollowTheOptions) {
  const ConvLstmOptions options{.in_channels = 8, .kernel = 1};
  MotionWarpConvLstm warp(options);
  NoWarpConvLstm no_warp(options);
  EXPECT_EQ(warp->in_channels(), 8);
  EXPECT_EQ(warp->options().kernel, 1);
  EXPECT_EQ(TensorMap(*warp).at("gates.weight").sizes(),
            (std::vector<int64_t>{32, 8, 1, 1}));
  // The gate convolution's MACs, plus the warp of h and c only where there
  // is one.
  EXPECT_DOUBLE_EQ(no_warp->Macs(4, 5).true_macs, 8.0 * 32 * 20);
  EXPECT_DOUBLE_EQ(
      warp->Macs(4, 5).true_macs,
      no_warp->Macs(4, 5).true_macs + WarpMacs(8, 4, 5).true_macs * 2);
}

TEST(PropagatorTest, UnwiredOrInvalidOptionsAreRefusedByName) {
  ConvLstmOptions options = Lstm8();
  options.in_channels = 0;
  EXPECT_TRUE(options.Validate().ok());  // valid in a pipeline
  try {
    MotionWarpConvLstm lstm(options);
    ADD_FAILURE() << "a ConvLSTM with in_channels 0 was built alone";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace())
                  .find("MotionWarpConvLstm: in_channels is 0"),
              std::string::npos)
        << e.what_without_backtrace();
  }
  options = Lstm8();
  options.kernel = 4;
  EXPECT_EQ(Message(options.Validate()),
            "kernel must be odd and positive (same-size padding), got 4");
  try {
    NoWarpConvLstm lstm(options);
    ADD_FAILURE() << "a ConvLSTM with kernel 4 was built";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace())
                  .find("NoWarpConvLstm: kernel must be odd"),
              std::string::npos)
        << e.what_without_backtrace();
  }
  options = Lstm8();
  options.in_channels = -3;
  EXPECT_NE(Message(options.Validate()).find("in_channels must be >= 0"),
            std::string::npos);
}

}  // namespace
}  // namespace mapn::model
