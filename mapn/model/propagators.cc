#include "mapn/model/propagators.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/init.h>

#include "absl/strings/str_cat.h"
#include "mapn/ops/warp.h"

namespace mapn::model {

at::Tensor MotionToFeatureScale(const at::Tensor& motion, int64_t stride) {
  TORCH_CHECK(motion.dim() == 4 && motion.size(1) == 2,
              "motion must be [B, 2, S, S], got ", motion.sizes());
  TORCH_CHECK(stride >= 1 && motion.size(2) % stride == 0 &&
                  motion.size(3) % stride == 0,
              "motion of size ", motion.size(2), " x ", motion.size(3),
              " does not divide into stride ", stride);
  if (stride == 1) return motion;
  return at::avg_pool2d(motion, {stride, stride}, {stride, stride}) /
         static_cast<double>(stride);
}

absl::Status ConvLstmOptions::Validate() const {
  if (in_channels < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "in_channels must be >= 0 (0: the extractor's), got ", in_channels));
  }
  if (kernel < 1 || kernel % 2 == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel must be odd and positive (same-size padding), got ", kernel));
  }
  return absl::OkStatus();
}

template <StateWarp kWarp, KeyframeInput kKeyframe>
ConvLstmImpl<kWarp, kKeyframe>::ConvLstmImpl(const Options& options)
    : torch::nn::Module(TypeName()), options_(options) {
  const absl::Status status = ValidateToBuild(options);
  TORCH_CHECK(status.ok(), TypeName(), ": ", status.message());
  const int64_t channels = options.in_channels;
  const int64_t kernel = options.kernel;
  gates_ = register_module(
      "gates",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 4 * channels, kernel)
                            .padding(kernel / 2)
                            .bias(true)));
  // Gate order in the 4C outputs: input, forget, output, candidate.
  at::NoGradGuard no_grad;
  gates_->bias.zero_();
  gates_->bias.slice(0, channels, 2 * channels).fill_(1.0);
}

template <StateWarp kWarp, KeyframeInput kKeyframe>
LstmState ConvLstmImpl<kWarp, kKeyframe>::Init(const at::Tensor& x0) {
  return {x0, x0};
}

template <StateWarp kWarp, KeyframeInput kKeyframe>
LstmState ConvLstmImpl<kWarp, kKeyframe>::Step(const LstmState& state,
                                               const at::Tensor& motion,
                                               const at::Tensor& x) {
  if constexpr (kKeyframeResets) {
    if (!x.defined()) return Update(state, motion, at::Tensor());
    // A row is a keyframe unless the pipeline zero-filled it (the empty
    // input O); features of a real frame are never all zero.
    const at::Tensor keyframe = x.detach().flatten(1).ne(0).any(1);
    return StepGated(state, motion, x, keyframe.to(x.scalar_type()));
  } else {
    return Update(state, motion, x);
  }
}

template <StateWarp kWarp, KeyframeInput kKeyframe>
LstmState ConvLstmImpl<kWarp, kKeyframe>::StepGated(
    const LstmState& state, const at::Tensor& motion, const at::Tensor& x,
    const at::Tensor& g) requires(kKeyframeResets) {
  TORCH_CHECK(g.dim() == 1 && g.size(0) == x.size(0), TypeName(),
              ": keyframe weights must be [", x.size(0), "], got ", g.sizes());
  // Every row a keyframe and no gradient to carry: no LSTM step at all.
  if (!g.requires_grad() && g.min().item<double>() == 1.0) return {x, x};
  const LstmState propagated = Update(state, motion, at::Tensor());
  const at::Tensor w = g.to(x.scalar_type()).view({-1, 1, 1, 1});
  return {w * x + (1 - w) * propagated.h, w * x + (1 - w) * propagated.c};
}

template <StateWarp kWarp, KeyframeInput kKeyframe>
LstmState ConvLstmImpl<kWarp, kKeyframe>::Update(const LstmState& state,
                                                 const at::Tensor& motion,
                                                 const at::Tensor& x) {
  at::Tensor h = state.h;
  at::Tensor c = state.c;
  if constexpr (kWarp == StateWarp::kMotion) {
    const int64_t stride = motion.size(2) / h.size(2);
    const at::Tensor flow = MotionToFeatureScale(motion, stride);
    h = WarpByMotion(h, flow);  // eq. (4)
    c = WarpByMotion(c, flow);  // eq. (5)
  }
  const at::Tensor z = x.defined() ? x + h : h;
  const std::vector<at::Tensor> gates = gates_->forward(z).chunk(4, 1);
  const at::Tensor i = at::sigmoid(gates[0]);  // eq. (6)
  const at::Tensor f = at::sigmoid(gates[1]);  // eq. (7)
  const at::Tensor o = at::sigmoid(gates[2]);  // eq. (8)
  const at::Tensor g = at::tanh(gates[3]);     // eq. (9)
  const at::Tensor c_next = f * c + i * g;     // eq. (10)
  return {o * at::tanh(c_next), c_next};       // eq. (11)
}

template <StateWarp kWarp, KeyframeInput kKeyframe>
MacCount ConvLstmImpl<kWarp, kKeyframe>::Macs(int64_t h, int64_t w) const {
  return ConvLstmStepMacs(options_.in_channels, options_.kernel, h, w,
                          kWarp == StateWarp::kMotion);
}

template class ConvLstmImpl<StateWarp::kMotion, KeyframeInput::kAdd>;
template class ConvLstmImpl<StateWarp::kNone, KeyframeInput::kAdd>;
template class ConvLstmImpl<StateWarp::kMotion, KeyframeInput::kReset>;
template class ConvLstmImpl<StateWarp::kNone, KeyframeInput::kReset>;

}  // namespace mapn::model
