// File: deconv_head.h
//
// Simple Baseline's head, a HeatmapHead (concepts.h): three 4 x 4 stride-2
// transposed convolutions (no bias) to head_channels, each followed by batch
// norm and ReLU, then a 1 x 1 convolution (with bias) to J heatmaps. The
// names are those of the official code (deconv_layers.0 .. deconv_layers.8,
// final_layer), and so is the initialisation: N(0, 0.001) weights, zero
// biases, batch norm 1 / 0. A stride-32 feature map comes out at stride 4
// (64 x 64 heatmaps for a 256 x 256 input).
//
// The transposed convolutions run as four 2 x 2 convolutions, one per output
// phase, interleaved (ConvTranspose4x4Stride2): the same result and the same
// multiply-adds, but LibTorch's CPU transposed convolution is about seven
// times slower than its convolution, which made the head cost more than the
// encoder.
//
// Example:
//
//   DeconvHead head(DeconvHeadOptions{.in_channels = 512, .out_channels = 13});
//   at::Tensor heatmaps = head->Decode(h);   // [B, 13, 8h, 8w]
#ifndef MAPN_MODEL_DECONV_HEAD_H_
#define MAPN_MODEL_DECONV_HEAD_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "mapn/model/flops.h"
#include "mapn/model/options.h"

namespace mapn::model {

// ConvTranspose2d(kernel 4, stride 2, padding 1, no bias) of input
// [B, C, H, W] with a transposed-convolution weight [C, O, 4, 4], computed as
// four phase convolutions: output (2m + a, 2n + b) only sees input rows
// {m - 1, m} (a = 0, kernel rows 3, 1) or {m, m + 1} (a = 1, rows 2, 0),
// and the same for columns. Differentiable. -> [B, O, 2H, 2W].
at::Tensor ConvTranspose4x4Stride2(const at::Tensor& input,
                                   const at::Tensor& weight);

struct DeconvHeadOptions {
  // Width of the features it decodes. 0: wired by the Pipeline to the
  // extractor's channels().
  int64_t in_channels = 0;
  // Width of the three deconvolutions (Simple Baseline's 256).
  int64_t width = 256;
  // Output maps: one heatmap per joint (13 Penn Action, 15 Sub-JHMDB), or
  // the channels of any other per-pixel output.
  int64_t out_channels = 13;

  static constexpr auto Fields() {
    return std::tuple{
        OptionField{"in_channels", &DeconvHeadOptions::in_channels},
        OptionField{"width", &DeconvHeadOptions::width},
        OptionField{"out_channels", &DeconvHeadOptions::out_channels}};
  }
  absl::Status Validate() const;
};

class DeconvHeadImpl : public torch::nn::Module {
 public:
  using Options = DeconvHeadOptions;

  // Throws c10::Error for invalid options or in_channels 0.
  explicit DeconvHeadImpl(const Options& options);
  static std::string TypeName() { return "DeconvHead"; }

  // [B, in_channels, h, w] -> [B, out_channels(), 8h, 8w].
  at::Tensor Decode(const at::Tensor& features);
  at::Tensor forward(const at::Tensor& features) { return Decode(features); }
  int64_t in_channels() const { return options_.in_channels; }
  int64_t out_channels() const { return options_.out_channels; }
  int64_t upsampling() const { return 8; }
  MacCount Macs(int64_t h, int64_t w) const;
  const Options& options() const { return options_; }

 private:
  Options options_;
  torch::nn::Sequential deconv_layers_{nullptr};
  std::vector<torch::nn::ConvTranspose2d> deconvs_;
  std::vector<torch::nn::BatchNorm2d> norms_;
  torch::nn::Conv2d final_layer_{nullptr};
};
TORCH_MODULE(DeconvHead);

}  // namespace mapn::model

#endif  // MAPN_MODEL_DECONV_HEAD_H_
