#include "mapn/model/deconv_head.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>

#include "absl/strings/str_cat.h"

namespace mapn::model {

namespace nn = torch::nn;

at::Tensor ConvTranspose4x4Stride2(const at::Tensor& input,
                                   const at::Tensor& weight) {
  TORCH_CHECK(input.dim() == 4 && weight.dim() == 4 &&
                  weight.size(0) == input.size(1) && weight.size(2) == 4 &&
                  weight.size(3) == 4,
              "ConvTranspose4x4Stride2: input ", input.sizes(), ", weight ",
              weight.sizes());
  // Kernel taps per output phase, in input order (row m - 1 or m first).
  const int64_t taps[2][2] = {{3, 1}, {2, 0}};
  std::vector<at::Tensor> rows;
  for (int a = 0; a < 2; ++a) {
    std::vector<at::Tensor> phases;
    for (int b = 0; b < 2; ++b) {
      const at::Tensor rows_index =
          at::tensor({taps[a][0], taps[a][1]}, at::kLong).to(weight.device());
      const at::Tensor cols_index =
          at::tensor({taps[b][0], taps[b][1]}, at::kLong).to(weight.device());
      const at::Tensor kernel = weight.index_select(2, rows_index)
                                    .index_select(3, cols_index)
                                    .transpose(0, 1);  // [O, C, 2, 2]
      // Pad (left, right, top, bottom): phase 0 reaches back one pixel.
      const at::Tensor padded = at::constant_pad_nd(
          input,
          {b == 0 ? 1 : 0, b == 0 ? 0 : 1, a == 0 ? 1 : 0, a == 0 ? 0 : 1});
      phases.push_back(at::conv2d(padded, kernel));
    }
    rows.push_back(at::stack(phases, -1));  // [B, O, H, W, 2 (b)]
  }
  const at::Tensor out = at::stack(rows, 3);  // [B, O, H, 2 (a), W, 2 (b)]
  return out.reshape(
      {input.size(0), weight.size(1), 2 * input.size(2), 2 * input.size(3)});
}

absl::Status DeconvHeadOptions::Validate() const {
  if (in_channels < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "in_channels must be >= 0 (0: the extractor's), got ", in_channels));
  }
  if (width < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("width must be at least 1, got ", width));
  }
  if (out_channels < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("out_channels must be at least 1, got ", out_channels));
  }
  return absl::OkStatus();
}

DeconvHeadImpl::DeconvHeadImpl(const Options& options)
    : torch::nn::Module(TypeName()), options_(options) {
  const absl::Status status = ValidateToBuild(options);
  TORCH_CHECK(status.ok(), TypeName(), ": ", status.message());
  const int64_t in_channels = options.in_channels;
  const int64_t head_channels = options.width;
  const int64_t out_channels = options.out_channels;
  nn::Sequential layers;
  int64_t in = in_channels;
  for (int i = 0; i < 3; ++i) {
    nn::ConvTranspose2d deconv(nn::ConvTranspose2dOptions(in, head_channels, 4)
                                   .stride(2)
                                   .padding(1)
                                   .output_padding(0)
                                   .bias(false));
    nn::init::normal_(deconv->weight, 0.0, 0.001);
    nn::BatchNorm2d bn(head_channels);
    nn::init::ones_(bn->weight);
    nn::init::zeros_(bn->bias);
    layers->push_back(deconv);
    layers->push_back(bn);
    deconvs_.push_back(deconv);
    norms_.push_back(bn);
    layers->push_back(nn::ReLU(nn::ReLUOptions(true)));
    in = head_channels;
  }
  deconv_layers_ = register_module("deconv_layers", layers);
  final_layer_ = register_module(
      "final_layer",
      nn::Conv2d(nn::Conv2dOptions(head_channels, out_channels, 1).bias(true)));
  nn::init::normal_(final_layer_->weight, 0.0, 0.001);
  nn::init::zeros_(final_layer_->bias);
}

at::Tensor DeconvHeadImpl::Decode(const at::Tensor& features) {
  // deconv_layers_ holds the parameters under the official names; its
  // layers run here with the fast transposed convolution.
  at::Tensor x = features;
  for (size_t i = 0; i < deconvs_.size(); ++i) {
    x = at::relu(
        norms_[i]->forward(ConvTranspose4x4Stride2(x, deconvs_[i]->weight)));
  }
  return final_layer_->forward(x);
}

MacCount DeconvHeadImpl::Macs(int64_t h, int64_t w) const {
  return DeconvHeadMacs(options_.in_channels, options_.width,
                        options_.out_channels, h, w);
}

}  // namespace mapn::model
