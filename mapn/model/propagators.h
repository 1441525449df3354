// File: propagators.h
//
// StatePropagators (concepts.h): what carries information from the keyframe
// to the frames whose features were skipped.
//
//   MotionWarpConvLstm  the paper's Motion Compensated ConvLSTM, eqs. (3)-(11):
//                       h and c are warped with the codec's motion vectors
//                       (mapn/ops/warp.h) before the LSTM update.
//   NoWarpConvLstm      the same LSTM without the warp (Table 1, row a).
//   MotionWarpResetConvLstm, NoWarpResetConvLstm
//                       the same two, but a keyframe REPLACES the state
//                       (h = c = x_t, as eq. (3) does for frame 0) instead
//                       of entering the LSTM as its input: a keyframe then
//                       gives exactly the per-frame model's output, costs
//                       no LSTM step, and a gate has a clear gain to learn
//                       from. Used on pretrained encoders, where the
//                       features are the teacher's (docs/training.md).
//   PassThrough         no recurrence: the output is the frame's own
//                       features, or the last extracted ones when a frame
//                       is skipped (the per-frame Simple Baseline).
//
// ConvLSTM details the paper leaves open (docs/architecture.md): the four
// gate convolutions of eqs. (6)-(9) are one k x k convolution from C to 4C
// channels (k = ConvLstmOptions::kernel, 3 by default), applied to the SUM
// x_t + h'_{t-1} as the equations write it; the empty input O is x_t = 0; the
// forget-gate bias starts at 1 so the keyframe's memory survives early
// training. The motion field arrives at input resolution and is resampled
// to the state's resolution by average pooling over stride x stride blocks
// and division by the stride (vectors in feature pixels); the stride is
// read off the sizes (S / h).
//
// Example:
//
//   MotionWarpConvLstm lstm(ConvLstmOptions{.in_channels = 512});
//   LstmState s = lstm->Init(x0);                  // h0 = c0 = x0
//   s = lstm->Step(s, motion_t, /*x=*/at::Tensor());  // skipped frame
//   at::Tensor h = lstm->Output(s);
//   MotionWarpResetConvLstm reset(ConvLstmOptions{.in_channels = 512});
//   s = reset->Step(s, motion_t, x_t);  // a keyframe: h = c = x_t
#ifndef MAPN_MODEL_PROPAGATORS_H_
#define MAPN_MODEL_PROPAGATORS_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "mapn/model/flops.h"
#include "mapn/model/options.h"

namespace mapn::model {

// Motion [B, 2, S, S] in input pixels -> [B, 2, S/stride, S/stride] in
// feature pixels: the mean vector of each stride x stride block, / stride.
at::Tensor MotionToFeatureScale(const at::Tensor& motion, int64_t stride);

// Whether the ConvLSTM warps its state with the motion vectors.
enum class StateWarp { kMotion, kNone };

// What a keyframe's features do: enter the LSTM update as its input x_t
// (eqs. (6)-(9), the paper) or replace the state (h = c = x_t).
enum class KeyframeInput { kAdd, kReset };

struct LstmState {
  at::Tensor h;  // [B, C, h, w]
  at::Tensor c;  // [B, C, h, w]
};

struct ConvLstmOptions {
  // C, the width of the features and of the state: eq. (3), h0 = c0 = x0,
  // makes it the extractor's channels(). 0: wired by the Pipeline.
  int64_t in_channels = 0;
  // The gate convolution's kernel (odd; 3 is the usual ConvLSTM's, 1 cuts a
  // wide state's cost k^2 times).
  int64_t kernel = 3;

  static constexpr auto Fields() {
    return std::tuple{OptionField{"in_channels", &ConvLstmOptions::in_channels},
                      OptionField{"kernel", &ConvLstmOptions::kernel}};
  }
  absl::Status Validate() const;
};

template <StateWarp kWarp, KeyframeInput kKeyframe = KeyframeInput::kAdd>
class ConvLstmImpl : public torch::nn::Module {
 public:
  using State = LstmState;
  using Options = ConvLstmOptions;
  static constexpr bool kKeyframeResets = kKeyframe == KeyframeInput::kReset;

  // Throws c10::Error for invalid options or in_channels 0.
  explicit ConvLstmImpl(const Options& options);
  static std::string TypeName() {
    if constexpr (kKeyframeResets) {
      return kWarp == StateWarp::kMotion ? "MotionWarpResetConvLstm"
                                         : "NoWarpResetConvLstm";
    }
    return kWarp == StateWarp::kMotion ? "MotionWarpConvLstm"
                                       : "NoWarpConvLstm";
  }

  // Eq. (3): h0 = c0 = x0.
  State Init(const at::Tensor& x0);
  // Eqs. (4)-(11). `x` undefined is the empty input O. With kReset, rows
  // of `x` that are all zero are the empty input (the pipeline zero-fills
  // the rows it skipped) and every other row replaces the state.
  State Step(const State& state, const at::Tensor& motion, const at::Tensor& x);
  // kReset only (KeyframeResettingPropagator): g float [B] is each row's
  // keyframe weight, 0 or 1 in value and carrying the gate's gradient in
  // training; returns g * (x, x) + (1 - g) * (the state propagated with the
  // empty input), so dLoss/dg is the loss's change from making the frame a
  // keyframe.
  State StepGated(const State& state, const at::Tensor& motion,
                  const at::Tensor& x,
                  const at::Tensor& g) requires(kKeyframeResets);
  at::Tensor Output(const State& state) { return state.h; }
  int64_t in_channels() const { return options_.in_channels; }
  MacCount Macs(int64_t h, int64_t w) const;
  const Options& options() const { return options_; }

 private:
  // Warp (kMotion) and one LSTM update with input `x` (undefined: O).
  State Update(const State& state, const at::Tensor& motion,
               const at::Tensor& x);

  Options options_;
  torch::nn::Conv2d gates_{nullptr};
};

template <StateWarp kWarp, KeyframeInput kKeyframe = KeyframeInput::kAdd>
class ConvLstm
    : public torch::nn::ModuleHolder<ConvLstmImpl<kWarp, kKeyframe>> {
 public:
  using torch::nn::ModuleHolder<ConvLstmImpl<kWarp, kKeyframe>>::ModuleHolder;
  using Impl = ConvLstmImpl<kWarp, kKeyframe>;
};

using MotionWarpConvLstm = ConvLstm<StateWarp::kMotion>;
using NoWarpConvLstm = ConvLstm<StateWarp::kNone>;
using MotionWarpResetConvLstm =
    ConvLstm<StateWarp::kMotion, KeyframeInput::kReset>;
using NoWarpResetConvLstm = ConvLstm<StateWarp::kNone, KeyframeInput::kReset>;

extern template class ConvLstmImpl<StateWarp::kMotion, KeyframeInput::kAdd>;
extern template class ConvLstmImpl<StateWarp::kNone, KeyframeInput::kAdd>;
extern template class ConvLstmImpl<StateWarp::kMotion, KeyframeInput::kReset>;
extern template class ConvLstmImpl<StateWarp::kNone, KeyframeInput::kReset>;

struct FeatureState {
  at::Tensor h;  // the features of the last frame that was extracted
};

class PassThroughImpl : public torch::nn::Module {
 public:
  using State = FeatureState;
  using Options = NoOptions;

  explicit PassThroughImpl(const Options& /*options*/ = {})
      : torch::nn::Module(TypeName()) {}
  static std::string TypeName() { return "PassThrough"; }

  State Init(const at::Tensor& x0) { return {x0}; }
  // The frame's features, or the previous ones for a skipped frame.
  State Step(const State& state, const at::Tensor& /*motion*/,
             const at::Tensor& x) {
    return x.defined() ? State{x} : state;
  }
  at::Tensor Output(const State& state) { return state.h; }
  int64_t in_channels() const { return 0; }  // any width
  MacCount Macs(int64_t /*h*/, int64_t /*w*/) const { return {}; }
  const Options& options() const { return options_; }

 private:
  Options options_;
};
TORCH_MODULE(PassThrough);

}  // namespace mapn::model

#endif  // MAPN_MODEL_PROPAGATORS_H_
