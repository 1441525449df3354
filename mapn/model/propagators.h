// File: propagators.h
//
// StatePropagators (concepts.h): what carries information from the keyframe
// to the frames whose features were skipped.
//
//   MotionWarpConvLstm  the paper's Motion Compensated ConvLSTM, eqs. (3)-(11):
//                       h and c are warped with the codec's motion vectors
//                       (mapn/ops/warp.h) before the LSTM update.
//   NoWarpConvLstm      the same LSTM without the warp (Table 1, row a).
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

template <StateWarp kWarp>
class ConvLstmImpl : public torch::nn::Module {
 public:
  using State = LstmState;
  using Options = ConvLstmOptions;

  // Throws c10::Error for invalid options or in_channels 0.
  explicit ConvLstmImpl(const Options& options);
  static std::string TypeName() {
    return kWarp == StateWarp::kMotion ? "MotionWarpConvLstm"
                                       : "NoWarpConvLstm";
  }

  // Eq. (3): h0 = c0 = x0.
  State Init(const at::Tensor& x0);
  // Eqs. (4)-(11). `x` undefined is the empty input O.
  State Step(const State& state, const at::Tensor& motion, const at::Tensor& x);
  at::Tensor Output(const State& state) { return state.h; }
  int64_t in_channels() const { return options_.in_channels; }
  MacCount Macs(int64_t h, int64_t w) const;
  const Options& options() const { return options_; }

 private:
  Options options_;
  torch::nn::Conv2d gates_{nullptr};
};

template <StateWarp kWarp>
class ConvLstm : public torch::nn::ModuleHolder<ConvLstmImpl<kWarp>> {
 public:
  using torch::nn::ModuleHolder<ConvLstmImpl<kWarp>>::ModuleHolder;
  using Impl = ConvLstmImpl<kWarp>;
};

using MotionWarpConvLstm = ConvLstm<StateWarp::kMotion>;
using NoWarpConvLstm = ConvLstm<StateWarp::kNone>;

extern template class ConvLstmImpl<StateWarp::kMotion>;
extern template class ConvLstmImpl<StateWarp::kNone>;

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
