#include "mapn/model/policies.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

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

absl::Status LearnedGateOptions::Validate() const {
  if (downsample < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("downsample must be at least 1, got ", downsample));
  }
  if (conv1_channels < 1 || conv2_channels < 1 || temporal_channels < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "conv1_channels, conv2_channels and temporal_channels must all be at "
        "least 1, got ",
        conv1_channels, ", ", conv2_channels, ", ", temporal_channels));
  }
  if (pe_dims < 2 || pe_dims % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pe_dims must be even and at least 2 (sin/cos pairs), got ", pe_dims));
  }
  if (temporal_kernel < 1 || temporal_kernel % 2 == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "temporal_kernel must be odd and positive, got ", temporal_kernel));
  }
  return absl::OkStatus();
}

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
LearnedGateImpl<kInput, kTemporal, kPe>::LearnedGateImpl(const Options& options)
    : torch::nn::Module(TypeName()),
      options_(options),
      temporal_kernel_(kTemporal == Temporal::kNone ? 1
                                                    : options.temporal_kernel) {
  const absl::Status status = options.Validate();
  TORCH_CHECK(status.ok(), TypeName(), ": ", status.message());
  conv1_ = register_module(
      "conv1", nn::Conv2d(nn::Conv2dOptions(3, options.conv1_channels, 3)
                              .stride(2)
                              .padding(1)));
  conv2_ = register_module(
      "conv2", nn::Conv2d(nn::Conv2dOptions(options.conv1_channels,
                                            options.conv2_channels, 3)
                              .stride(2)
                              .padding(1)));
  const int64_t features =
      options.conv2_channels + 3 +
      (kPe == PositionalEncoding::kOn ? options.pe_dims : 0);
  temporal1_ = register_module(
      "temporal1", nn::Conv1d(nn::Conv1dOptions(
                       features, options.temporal_channels, temporal_kernel_)));
  temporal2_ = register_module(
      "temporal2", nn::Conv1d(nn::Conv1dOptions(options.temporal_channels, 1,
                                                temporal_kernel_)));
}

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
absl::Status LearnedGateImpl<kInput, kTemporal, kPe>::ValidateInputSize(
    int64_t input_size) const {
  if (input_size % options_.downsample != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        TypeName(), " pools its input by downsample = ", options_.downsample,
        ", which does not divide input_size ", input_size));
  }
  return absl::OkStatus();
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
  const int64_t d = options_.downsample;
  at::Tensor x = d > 1 ? at::avg_pool2d(frames, {d, d}, {d, d}) : frames;
  x = at::relu(conv1_->forward(x));
  x = at::relu(conv2_->forward(x));
  x = at::cat({x.mean({2, 3}), raw_pooled}, 1);  // [B*T, D]
  x = x.view({b, t, -1});
  if constexpr (kPe == PositionalEncoding::kOn) {
    const at::Tensor pe = SinusoidalPositionEncoding(t, options_.pe_dims)
                              .to(x.options())
                              .unsqueeze(0)
                              .expand({b, t, options_.pe_dims});
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
  const int64_t s0 = input_size / options_.downsample;
  const int64_t s1 = ConvOut(s0, 3, 2, 1);
  const int64_t s2 = ConvOut(s1, 3, 2, 1);
  const int64_t features =
      options_.conv2_channels + 3 +
      (kPe == PositionalEncoding::kOn ? options_.pe_dims : 0);
  MacCount per_frame =
      ConvMacs(3, options_.conv1_channels, 3, 3, s1, s1) +
      ConvMacs(options_.conv1_channels, options_.conv2_channels, 3, 3, s2, s2);
  const MacCount temporal =
      ConvMacs(features, options_.temporal_channels, 1, temporal_kernel_, 1,
               length) +
      ConvMacs(options_.temporal_channels, 1, 1, temporal_kernel_, 1, length);
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

absl::Status FixedIntervalKeyframesOptions::Validate() const {
  if (interval < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("interval must be at least 1, got ", interval));
  }
  return absl::OkStatus();
}

FixedIntervalKeyframesImpl::FixedIntervalKeyframesImpl(const Options& options)
    : torch::nn::Module(TypeName()), options_(options) {
  const absl::Status status = options.Validate();
  TORCH_CHECK(status.ok(), TypeName(), ": ", status.message());
}

GateOutput FixedIntervalKeyframesImpl::Decide(const GopBatch& batch,
                                              GateMode /*mode*/) {
  const int64_t t = batch.valid.size(1);
  const at::Tensor index = at::arange(t, at::kLong);
  const at::Tensor row =
      (index.remainder(options_.interval) == 0).to(at::kFloat);
  const at::Tensor g =
      row.unsqueeze(0).expand({batch.valid.size(0), t}).to(batch.rgb.device());
  return {ApplyKeyframeAndPadding(g, batch.valid), at::Tensor()};
}

absl::Status ResidualEnergyGateOptions::Validate() const {
  if (!(threshold >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("threshold must be a number >= 0, got ", threshold));
  }
  return absl::OkStatus();
}

ResidualEnergyGateImpl::ResidualEnergyGateImpl(const Options& options)
    : torch::nn::Module(TypeName()), options_(options) {
  const absl::Status status = options.Validate();
  TORCH_CHECK(status.ok(), TypeName(), ": ", status.message());
}

GateOutput ResidualEnergyGateImpl::Decide(const GopBatch& batch,
                                          GateMode /*mode*/) {
  const at::Tensor energy = batch.residual.abs().mean({2, 3, 4});  // [B, T]
  return {ApplyKeyframeAndPadding((energy > options_.threshold).to(at::kFloat),
                                  batch.valid),
          at::Tensor()};
}

}  // namespace mapn::model
