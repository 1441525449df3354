#include "mapn/model/resnet.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/init.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace mapn::model {
namespace {

namespace nn = torch::nn;

nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                        .stride(stride)
                        .padding(kernel / 2)
                        .bias(false));
}

// torchvision's initialisation: Kaiming normal (fan_out, ReLU) convolutions,
// batch norm weight 1 and bias 0.
void InitConv(nn::Conv2d& conv) {
  nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
}

nn::BatchNorm2d Bn(int64_t channels) {
  nn::BatchNorm2d bn(channels);
  nn::init::ones_(bn->weight);
  nn::init::zeros_(bn->bias);
  return bn;
}

// The 1 x 1 projection of the shortcut, named downsample.0 / downsample.1.
nn::Sequential Downsample(int64_t in, int64_t out, int64_t stride) {
  nn::Conv2d conv = Conv(in, out, 1, stride);
  InitConv(conv);
  return nn::Sequential(conv, Bn(out));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t planes,
                               int64_t stride) {
  conv1_ = register_module("conv1", Conv(in_channels, planes, 3, stride));
  bn1_ = register_module("bn1", Bn(planes));
  conv2_ = register_module("conv2", Conv(planes, planes, 3, 1));
  bn2_ = register_module("bn2", Bn(planes));
  InitConv(conv1_);
  InitConv(conv2_);
  if (stride != 1 || in_channels != planes) {
    downsample_ =
        register_module("downsample", Downsample(in_channels, planes, stride));
  }
}

at::Tensor BasicBlockImpl::forward(const at::Tensor& x) {
  at::Tensor out = at::relu(bn1_->forward(conv1_->forward(x)));
  out = bn2_->forward(conv2_->forward(out));
  const at::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  return at::relu(out + identity);
}

BottleneckImpl::BottleneckImpl(int64_t in_channels, int64_t planes,
                               int64_t stride) {
  const int64_t out_channels = planes * 4;
  conv1_ = register_module("conv1", Conv(in_channels, planes, 1, 1));
  bn1_ = register_module("bn1", Bn(planes));
  conv2_ = register_module("conv2", Conv(planes, planes, 3, stride));
  bn2_ = register_module("bn2", Bn(planes));
  conv3_ = register_module("conv3", Conv(planes, out_channels, 1, 1));
  bn3_ = register_module("bn3", Bn(out_channels));
  InitConv(conv1_);
  InitConv(conv2_);
  InitConv(conv3_);
  if (stride != 1 || in_channels != out_channels) {
    downsample_ = register_module(
        "downsample", Downsample(in_channels, out_channels, stride));
  }
}

at::Tensor BottleneckImpl::forward(const at::Tensor& x) {
  at::Tensor out = at::relu(bn1_->forward(conv1_->forward(x)));
  out = at::relu(bn2_->forward(conv2_->forward(out)));
  out = bn3_->forward(conv3_->forward(out));
  const at::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  return at::relu(out + identity);
}

absl::Status SimpleBaselineEncoderOptions::Validate() const {
  if (depth != 18 && depth != 34 && depth != 50) {
    return absl::InvalidArgumentError(
        absl::StrCat("depth must be 18, 34 or 50, got ", depth));
  }
  if (width < 1 || width > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("width must be in [1, 1024], got ", width));
  }
  return absl::OkStatus();
}

int64_t SimpleBaselineEncoderImpl::OutputChannels(const Options& options) {
  return ResNetChannels(
      {.depth = static_cast<int>(options.depth), .base_width = options.width});
}

SimpleBaselineEncoderImpl::SimpleBaselineEncoderImpl(const Options& options)
    : torch::nn::Module(TypeName()),
      options_(options),
      shape_{.depth = static_cast<int>(options.depth),
             .base_width = options.width},
      channels_(ResNetChannels(shape_)) {
  const absl::Status status = options.Validate();
  TORCH_CHECK(status.ok(), "SimpleBaselineEncoder: ", status.message());
  const int64_t w = shape_.base_width;
  conv1_ = register_module(
      "conv1",
      nn::Conv2d(nn::Conv2dOptions(3, w, 7).stride(2).padding(3).bias(false)));
  InitConv(conv1_);
  bn1_ = register_module("bn1", Bn(w));

  const bool bottleneck = shape_.depth >= 50;
  int blocks[4] = {2, 2, 2, 2};
  if (shape_.depth != 18) {
    blocks[0] = 3;
    blocks[1] = 4;
    blocks[2] = 6;
    blocks[3] = 3;
  }
  int64_t in = w;
  nn::Sequential* layers[4] = {&layer1_, &layer2_, &layer3_, &layer4_};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = w << stage;
    nn::Sequential layer;
    for (int b = 0; b < blocks[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      if (bottleneck) {
        layer->push_back(Bottleneck(in, planes, stride));
        in = planes * 4;
      } else {
        layer->push_back(BasicBlock(in, planes, stride));
        in = planes;
      }
    }
    *layers[stage] =
        register_module("layer" + std::to_string(stage + 1), layer);
  }
}

at::Tensor SimpleBaselineEncoderImpl::Extract(const at::Tensor& rgb) {
  TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3,
              "SimpleBaselineEncoder: rgb must be [N, 3, S, S], got ",
              rgb.sizes());
  // ImageNet statistics, as torchvision's weights expect.
  const auto opts = rgb.options();
  const at::Tensor mean =
      at::tensor({0.485, 0.456, 0.406}, opts).view({1, 3, 1, 1});
  const at::Tensor inv_std =
      at::tensor({1 / 0.229, 1 / 0.224, 1 / 0.225}, opts).view({1, 3, 1, 1});
  at::Tensor x = (rgb - mean) * inv_std;
  x = at::relu(bn1_->forward(conv1_->forward(x)));
  x = at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
  x = layer1_->forward(x);
  x = layer2_->forward(x);
  x = layer3_->forward(x);
  return layer4_->forward(x);
}

MacCount SimpleBaselineEncoderImpl::Macs(int64_t input_size) const {
  return ResNetMacs(shape_, input_size);
}

}  // namespace mapn::model
