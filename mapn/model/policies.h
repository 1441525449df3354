// File: policies.h
//
// SkipPolicies (concepts.h): which frames of a window get the expensive
// feature extraction. Every policy returns g_mix [B, T] with frame 0 = 1 (the
// keyframe) and padding frames = 0.
//
// Learned (section 3.4), one template with the design choices as parameters:
//   LearnedGate<GateInput, Temporal, PositionalEncoding>
//     input    |residual| (kResidual, the paper) or the decoded frame
//              (kFrame, Table 1 row d), average-pooled by
//              LearnedGateOptions::downsample (1/8);
//     2 x [3 x 3 stride-2 convolution, ReLU], global average pooling,
//     concatenated with the globally pooled raw input (mean |residual| or
//     mean RGB per channel, at full resolution);
//     sinusoidal position encoding of the frame index [39] (kOn),
//     concatenated;
//     2 temporal convolutions across the window (kCentered: frame t sees
//     t-1..t+1 per layer; kCausal: t-2..t, so a live stream can use it;
//     kNone: kernel 1, per frame), giving one logit per frame.
//   The logits become g_mix by improved semantic hashing (eqs. (12)-(14))
//   in training and 1(g > 0) at inference.
//   Aliases: ResidualGate (the paper's), FrameGate, ResidualGateNoPe,
//   ResidualGateNoTemporalNoPe (Table 2), CausalResidualGate.
//
// Training-free: AlwaysExtract, NeverExtract (keyframe only),
// FixedIntervalKeyframes (every interval-th frame), ResidualEnergyGate (mean
// |residual| > threshold).
//
// Every policy says whether it learns (kLearned: the trainer's stages 3 and
// 4 and the sparsity term of loss (15) apply) and whether it is causal.
//
// Example:
//
//   ResidualGate gate(LearnedGateOptions{});
//   GateOutput out = gate->Decide(batch, GateMode::kTraining);
//   at::Tensor sparsity = out.g_mix.sum();  // the l1 term of eq. (15)
#ifndef MAPN_MODEL_POLICIES_H_
#define MAPN_MODEL_POLICIES_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "mapn/model/concepts.h"
#include "mapn/model/flops.h"
#include "mapn/model/options.h"
#include "mapn/model/pipeline_support.h"
#include "mapn/video/gop.h"

namespace mapn::model {

// Eq. (13): max(0, min(1, 1.2 sigmoid(x) - 0.1)).
at::Tensor SaturatingSigmoid(const at::Tensor& x);

// Eqs. (12)-(14) on logits [B, T]. kTraining: g_eps = g + N(0, 1);
// g_c = SaturatingSigmoid(g_eps); g_d = 1(g_eps > 0) + g_c - g_c.detach()
// (straight-through); each window takes g_d or g_c with probability 1/2, as
// the reference implementation of [16] mixes per example. kInference:
// 1(g > 0). Uses LibTorch's global generator (seed it with
// at::manual_seed for reproducible training).
at::Tensor ImprovedSemanticHash(const at::Tensor& logits, GateMode mode);

// Sinusoidal position encoding [T, dims] of frame indices 0 .. T-1:
// (sin, cos) pairs at frequencies 10000^(-2i/dims), as in [39].
at::Tensor SinusoidalPositionEncoding(int64_t length, int64_t dims);

enum class GateInput { kResidual, kFrame };
enum class Temporal { kNone, kCentered, kCausal };
enum class PositionalEncoding { kOff, kOn };

struct LearnedGateOptions {
  // Residuals (or frames) are average-pooled by this factor first (the
  // paper's "downsample to 1/8"); it must divide the input size.
  int64_t downsample = 8;
  // Widths of the two 3 x 3 stride-2 convolutions: "extremely light".
  int64_t conv1_channels = 16;
  int64_t conv2_channels = 32;
  // Dimensions of the sinusoidal position encoding (designs with kOn).
  int64_t pe_dims = 8;
  // Width and kernel of the two temporal convolutions (kernel 1 is used
  // for Temporal::kNone whatever this says).
  int64_t temporal_channels = 32;
  int64_t temporal_kernel = 3;

  static constexpr auto Fields() {
    return std::tuple{
        OptionField{"downsample", &LearnedGateOptions::downsample},
        OptionField{"conv1_channels", &LearnedGateOptions::conv1_channels},
        OptionField{"conv2_channels", &LearnedGateOptions::conv2_channels},
        OptionField{"pe_dims", &LearnedGateOptions::pe_dims},
        OptionField{"temporal_channels",
                    &LearnedGateOptions::temporal_channels},
        OptionField{"temporal_kernel", &LearnedGateOptions::temporal_kernel}};
  }
  absl::Status Validate() const;
};

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
class LearnedGateImpl : public torch::nn::Module {
 public:
  using Options = LearnedGateOptions;
  static constexpr bool kCausal = kTemporal != Temporal::kCentered;
  static constexpr bool kLearned = true;

  // Throws c10::Error for invalid options.
  explicit LearnedGateImpl(const Options& options = {});
  // The alias for the designs named below, else LearnedGate<input,
  // temporal, pe>.
  static std::string TypeName();

  GateOutput Decide(const GopBatch& batch, GateMode mode);
  // The raw logits g [B, T] (before keyframe/padding are imposed).
  at::Tensor Logits(const GopBatch& batch);
  MacCount Macs(int64_t input_size, int64_t length) const;
  // The pooling must divide the frames.
  absl::Status ValidateInputSize(int64_t input_size) const;
  const Options& options() const { return options_; }

 private:
  Options options_;
  int64_t temporal_kernel_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Conv1d temporal1_{nullptr}, temporal2_{nullptr};
};

template <GateInput kInput, Temporal kTemporal, PositionalEncoding kPe>
class LearnedGate
    : public torch::nn::ModuleHolder<LearnedGateImpl<kInput, kTemporal, kPe>> {
 public:
  using torch::nn::ModuleHolder<
      LearnedGateImpl<kInput, kTemporal, kPe>>::ModuleHolder;
  using Impl = LearnedGateImpl<kInput, kTemporal, kPe>;
};

// The paper's Residual Driven Dynamic Gate (Table 1 e, Table 2 last row).
using ResidualGate = LearnedGate<GateInput::kResidual, Temporal::kCentered,
                                 PositionalEncoding::kOn>;
// Table 1 d: the same gate on the decoded P-frames.
using FrameGate = LearnedGate<GateInput::kFrame, Temporal::kCentered,
                              PositionalEncoding::kOn>;
// Table 2: temporal convolution, no position encoding.
using ResidualGateNoPe = LearnedGate<GateInput::kResidual, Temporal::kCentered,
                                     PositionalEncoding::kOff>;
// Table 2: neither (each frame decided from its own residual).
using ResidualGateNoTemporalNoPe =
    LearnedGate<GateInput::kResidual, Temporal::kNone,
                PositionalEncoding::kOff>;
// Beyond the paper: frame t decided from residuals <= t (live streams).
using CausalResidualGate = LearnedGate<GateInput::kResidual, Temporal::kCausal,
                                       PositionalEncoding::kOn>;

extern template class LearnedGateImpl<GateInput::kResidual, Temporal::kCentered,
                                      PositionalEncoding::kOn>;
extern template class LearnedGateImpl<GateInput::kFrame, Temporal::kCentered,
                                      PositionalEncoding::kOn>;
extern template class LearnedGateImpl<GateInput::kResidual, Temporal::kCentered,
                                      PositionalEncoding::kOff>;
extern template class LearnedGateImpl<GateInput::kResidual, Temporal::kNone,
                                      PositionalEncoding::kOff>;
extern template class LearnedGateImpl<GateInput::kResidual, Temporal::kCausal,
                                      PositionalEncoding::kOn>;

// Extracts every valid frame (Table 1 c; the per-frame baseline).
class AlwaysExtractImpl : public torch::nn::Module {
 public:
  using Options = NoOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;

  explicit AlwaysExtractImpl(const Options& /*options*/ = {})
      : torch::nn::Module(TypeName()) {}
  static std::string TypeName() { return "AlwaysExtract"; }
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  const Options& options() const { return options_; }

 private:
  Options options_;
};
TORCH_MODULE(AlwaysExtract);

// Extracts the keyframe only (Table 1 a, b).
class NeverExtractImpl : public torch::nn::Module {
 public:
  using Options = NoOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;

  explicit NeverExtractImpl(const Options& /*options*/ = {})
      : torch::nn::Module(TypeName()) {}
  static std::string TypeName() { return "NeverExtract"; }
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  const Options& options() const { return options_; }

 private:
  Options options_;
};
TORCH_MODULE(NeverExtract);

struct FixedIntervalKeyframesOptions {
  // Frames 0, k, 2k, ... of each window are extracted.
  int64_t interval = 4;

  static constexpr auto Fields() {
    return std::tuple{
        OptionField{"interval", &FixedIntervalKeyframesOptions::interval}};
  }
  absl::Status Validate() const;
};

// Extracts frames 0, k, 2k, ... of each window (k = interval).
class FixedIntervalKeyframesImpl : public torch::nn::Module {
 public:
  using Options = FixedIntervalKeyframesOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;

  explicit FixedIntervalKeyframesImpl(const Options& options = {});
  static std::string TypeName() { return "FixedIntervalKeyframes"; }
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  int64_t interval() const { return options_.interval; }
  const Options& options() const { return options_; }

 private:
  Options options_;
};
TORCH_MODULE(FixedIntervalKeyframes);

struct ResidualEnergyGateOptions {
  // A frame is extracted when its mean absolute residual (grey levels /
  // 255, over all channels and pixels) exceeds this.
  double threshold = 0.02;

  static constexpr auto Fields() {
    return std::tuple{
        OptionField{"threshold", &ResidualEnergyGateOptions::threshold}};
  }
  absl::Status Validate() const;
};

// Extracts a frame when its mean absolute residual exceeds the threshold.
// Training-free and causal. Costs no multiply-adds (one pass of absolute
// sums, not counted).
class ResidualEnergyGateImpl : public torch::nn::Module {
 public:
  using Options = ResidualEnergyGateOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;

  explicit ResidualEnergyGateImpl(const Options& options = {});
  static std::string TypeName() { return "ResidualEnergyGate"; }
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  double threshold() const { return options_.threshold; }
  const Options& options() const { return options_; }

 private:
  Options options_;
};
TORCH_MODULE(ResidualEnergyGate);

}  // namespace mapn::model

#endif  // MAPN_MODEL_POLICIES_H_
