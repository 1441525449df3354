#include "mapn/model/policies.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <string>
#include <vector>

namespace mapn::model {
namespace {

namespace nn = torch::nn;

int64_t ConvOut(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

// [B, T] of 1 for frame 0 and 0 elsewhere, in the dtype and device of `like`.
at::Tensor KeyframeOnly(const at::Tensor& valid) {
  at::Tensor g = at::zeros(valid.sizes(), valid.options().dtype(at::kFloat));
  g.select(1, 0).fill_(1.0);
  return g;
}

}  // namespace

at::Tensor SaturatingSigmoid(const at::Tensor& x) {
  return at::clamp(1.2 * at::sigmoid(x) - 0.1, 0.0, 1.0);
}

at::Tensor ImprovedSemanticHash(const at::Tensor& logits, GateMode mode) {
  if (mode == GateMode::kInference) return (logits > 0).to(logits.dtype());
  const at::Tensor noisy = logits + at::randn_like(logits);  // eq. (12)
  const at::Tensor soft = SaturatingSigmoid(noisy);          // eq. (13)
  // Straight-through: the value of 1(g_eps > 0), the gradient of g_c. The
  // zero term is added last so the forward value stays exactly 0 or 1.
  const at::Tensor hard =
      (noisy > 0).to(logits.dtype()) + (soft - soft.detach());
  const at::Tensor pick_hard =
      at::rand({logits.size(0), 1}, logits.options()) < 0.5;
  return at::where(pick_hard, hard, soft);
}

at::Tensor SinusoidalPositionEncoding(int64_t length, int64_t dims) {
  TORCH_CHECK(dims >= 2 && dims % 2 == 0,
              "position encoding dims must be even, got ", dims);
  at::Tensor pe = at::zeros({length, dims});
  auto acc = pe.accessor<float, 2>();
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t i = 0; i < dims / 2; ++i) {
      const double frequency =
          std::pow(10000.0, -2.0 * static_cast<double>(i) / dims);
      acc[t][2 * i] = static_cast<float>(std::sin(t * frequency));
      acc[t][2 * i + 1] = static_cast<float>(std::cos(t * frequency));
    }
  }
  return pe;
}

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
LearnedGateImpl<kInput, kTemporal, kPe>::LearnedGateImpl(
    const ModelConfig& config)
    : torch::nn::Module(TypeName()),
      config_(config),
      temporal_kernel_(
          kTemporal == Temporal::kNone ? 1 : config.gate_temporal_kernel) {
  const absl::Status status = ValidateModelConfig(config);
  TORCH_CHECK(status.ok(), std::string(status.message()));
  conv1_ = register_module(
      "conv1", nn::Conv2d(nn::Conv2dOptions(3, config.gate_conv1_channels, 3)
                              .stride(2)
                              .padding(1)));
  conv2_ = register_module(
      "conv2", nn::Conv2d(nn::Conv2dOptions(config.gate_conv1_channels,
                                            config.gate_conv2_channels, 3)
                              .stride(2)
                              .padding(1)));
  const int64_t features =
      config.gate_conv2_channels + 3 +
      (kPe == PositionalEncoding::kOn ? config.gate_pe_dims : 0);
  temporal1_ = register_module(
      "temporal1",
      nn::Conv1d(nn::Conv1dOptions(features, config.gate_temporal_channels,
                                   temporal_kernel_)));
  temporal2_ = register_module(
      "temporal2", nn::Conv1d(nn::Conv1dOptions(config.gate_temporal_channels,
                                                1, temporal_kernel_)));
}

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
std::string LearnedGateImpl<kInput, kTemporal, kPe>::TypeName() {
  const bool residual = kInput == GateInput::kResidual;
  const bool pe = kPe == PositionalEncoding::kOn;
  if (kTemporal == Temporal::kCentered && pe) {
    return residual ? "ResidualGate" : "FrameGate";
  }
  if (residual && kTemporal == Temporal::kCentered) return "ResidualGateNoPe";
  if (residual && kTemporal == Temporal::kNone && !pe) {
    return "ResidualGateNoTemporalNoPe";
  }
  if (residual && kTemporal == Temporal::kCausal && pe) {
    return "CausalResidualGate";
  }
  const char* temporal = kTemporal == Temporal::kNone       ? "none"
                         : kTemporal == Temporal::kCentered ? "centered"
                                                            : "causal";
  return std::string("LearnedGate<") + (residual ? "residual" : "frame") +
         ", " + temporal + ", " + (pe ? "pe" : "no-pe") + ">";
}

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
at::Tensor LearnedGateImpl<kInput, kTemporal, kPe>::Logits(
    const GopBatch& batch) {
  const at::Tensor source =
      kInput == GateInput::kResidual ? batch.residual : batch.rgb;
  const int64_t b = source.size(0);
  const int64_t t = source.size(1);
  at::Tensor frames = source.flatten(0, 1);  // [B*T, 3, S, S]
  // The gate cares how much the motion compensation missed and where, not
  // the sign of the error: signed residuals would cancel in the pooling.
  if (kInput == GateInput::kResidual) frames = frames.abs();
  const at::Tensor raw_pooled = frames.mean({2, 3});  // [B*T, 3]
  const int64_t d = config_.gate_downsample;
  at::Tensor x = d > 1 ? at::avg_pool2d(frames, {d, d}, {d, d}) : frames;
  x = at::relu(conv1_->forward(x));
  x = at::relu(conv2_->forward(x));
  x = at::cat({x.mean({2, 3}), raw_pooled}, 1);  // [B*T, D]
  x = x.view({b, t, -1});
  if constexpr (kPe == PositionalEncoding::kOn) {
    const at::Tensor pe = SinusoidalPositionEncoding(t, config_.gate_pe_dims)
                              .to(x.options())
                              .unsqueeze(0)
                              .expand({b, t, config_.gate_pe_dims});
    x = at::cat({x, pe}, 2);
  }
  x = x.transpose(1, 2);  // [B, D, T]
  auto pad = [this](const at::Tensor& v) {
    const int64_t k = temporal_kernel_;
    if (k == 1) return v;
    if constexpr (kTemporal == Temporal::kCausal) {
      return at::constant_pad_nd(v, {k - 1, 0});
    } else {
      return at::constant_pad_nd(v, {(k - 1) / 2, (k - 1) / 2});
    }
  };
  x = at::relu(temporal1_->forward(pad(x)));
  x = temporal2_->forward(pad(x));  // [B, 1, T]
  return x.squeeze(1);
}

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
GateOutput LearnedGateImpl<kInput, kTemporal, kPe>::Decide(
    const GopBatch& batch, GateMode mode) {
  const at::Tensor logits = Logits(batch);
  return {
      ApplyKeyframeAndPadding(ImprovedSemanticHash(logits, mode), batch.valid),
      logits};
}

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
MacCount LearnedGateImpl<kInput, kTemporal, kPe>::Macs(int64_t input_size,
                                                       int64_t length) const {
  const int64_t s0 = input_size / config_.gate_downsample;
  const int64_t s1 = ConvOut(s0, 3, 2, 1);
  const int64_t s2 = ConvOut(s1, 3, 2, 1);
  const int64_t features =
      config_.gate_conv2_channels + 3 +
      (kPe == PositionalEncoding::kOn ? config_.gate_pe_dims : 0);
  MacCount per_frame = ConvMacs(3, config_.gate_conv1_channels, 3, 3, s1, s1) +
                       ConvMacs(config_.gate_conv1_channels,
                                config_.gate_conv2_channels, 3, 3, s2, s2);
  const MacCount temporal = ConvMacs(features, config_.gate_temporal_channels,
                                     1, temporal_kernel_, 1, length) +
                            ConvMacs(config_.gate_temporal_channels, 1, 1,
                                     temporal_kernel_, 1, length);
  return per_frame * static_cast<double>(length) + temporal;
}

template class LearnedGateImpl<GateInput::kResidual, Temporal::kCentered,
                               PositionalEncoding::kOn>;
template class LearnedGateImpl<GateInput::kFrame, Temporal::kCentered,
                               PositionalEncoding::kOn>;
template class LearnedGateImpl<GateInput::kResidual, Temporal::kCentered,
                               PositionalEncoding::kOff>;
template class LearnedGateImpl<GateInput::kResidual, Temporal::kNone,
                               PositionalEncoding::kOff>;
template class LearnedGateImpl<GateInput::kResidual, Temporal::kCausal,
                               PositionalEncoding::kOn>;

GateOutput AlwaysExtractImpl::Decide(const GopBatch& batch, GateMode /*mode*/) {
  return {
      ApplyKeyframeAndPadding(
          at::ones(batch.valid.sizes(), batch.rgb.options().dtype(at::kFloat)),
          batch.valid),
      at::Tensor()};
}

GateOutput NeverExtractImpl::Decide(const GopBatch& batch, GateMode /*mode*/) {
  return {KeyframeOnly(batch.valid).to(batch.rgb.device()), at::Tensor()};
}

FixedIntervalKeyframesImpl::FixedIntervalKeyframesImpl(
    const ModelConfig& config)
    : FixedIntervalKeyframesImpl(config.keyframe_interval) {}

FixedIntervalKeyframesImpl::FixedIntervalKeyframesImpl(int64_t interval)
    : torch::nn::Module(TypeName()), interval_(interval) {
  TORCH_CHECK(interval >= 1, "keyframe interval must be >= 1, got ", interval);
}

GateOutput FixedIntervalKeyframesImpl::Decide(const GopBatch& batch,
                                              GateMode /*mode*/) {
  const int64_t t = batch.valid.size(1);
  const at::Tensor index = at::arange(t, at::kLong);
  const at::Tensor row = (index.remainder(interval_) == 0).to(at::kFloat);
  const at::Tensor g =
      row.unsqueeze(0).expand({batch.valid.size(0), t}).to(batch.rgb.device());
  return {ApplyKeyframeAndPadding(g, batch.valid), at::Tensor()};
}

ResidualEnergyGateImpl::ResidualEnergyGateImpl(const ModelConfig& config)
    : ResidualEnergyGateImpl(config.energy_threshold) {}

ResidualEnergyGateImpl::ResidualEnergyGateImpl(double threshold)
    : torch::nn::Module(TypeName()), threshold_(threshold) {
  TORCH_CHECK(threshold >= 0, "energy threshold must be >= 0, got ", threshold);
}

GateOutput ResidualEnergyGateImpl::Decide(const GopBatch& batch,
                                          GateMode /*mode*/) {
  const at::Tensor energy = batch.residual.abs().mean({2, 3, 4});  // [B, T]
  return {ApplyKeyframeAndPadding((energy > threshold_).to(at::kFloat),
                                  batch.valid),
          at::Tensor()};
}

}  // namespace mapn::model
