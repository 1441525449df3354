// File: resnet.h
//
// The Simple Baseline encoder: a torchvision ResNet-18/34/50 trunk (conv1 ..
// layer4, no pooling or classifier), a FeatureExtractor (concepts.h). Module
// and parameter names are torchvision's (conv1, bn1, layer1.0.conv1,
// layer2.0.downsample.0, ...), so a torchvision state_dict maps onto it 1:1
// (ImportTorchvisionResNet in checkpoint.h). Inputs are RGB in [0, 1];
// Extract() normalises with the ImageNet mean and std torchvision was trained
// with.
//
// Example:
//
//   SimpleBaselineEncoder encoder({.depth = 34});
//   at::Tensor x = encoder->Extract(rgb);  // [N, 512, S/32, S/32]
#ifndef MAPN_MODEL_RESNET_H_
#define MAPN_MODEL_RESNET_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "mapn/model/flops.h"
#include "mapn/model/options.h"

namespace mapn::model {

// torchvision's BasicBlock (ResNet-18/34): two 3 x 3 convolutions.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t planes, int64_t stride);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

// torchvision's Bottleneck (ResNet-50, "v1.5": the stride on the 3 x 3).
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

struct SimpleBaselineEncoderOptions {
  // torchvision ResNet depth: 18, 34 or 50.
  int64_t depth = 18;
  // Base width. torchvision's is 64 (required to import its weights);
  // smaller widths give CPU-trainable models of the same structure.
  int64_t width = 64;

  static constexpr auto Fields() {
    return std::tuple{
        OptionField{"depth", &SimpleBaselineEncoderOptions::depth},
        OptionField{"width", &SimpleBaselineEncoderOptions::width}};
  }
  absl::Status Validate() const;
};

class SimpleBaselineEncoderImpl : public torch::nn::Module {
 public:
  using Options = SimpleBaselineEncoderOptions;

  // Throws c10::Error when the options are invalid (MakeModel in
  // pipeline.h validates first and returns a Status).
  explicit SimpleBaselineEncoderImpl(const Options& options = {});
  static std::string TypeName() { return "SimpleBaselineEncoder"; }
  // channels() of an encoder built from `options`, without building it
  // (the pipeline wires its propagator and head with it).
  static int64_t OutputChannels(const Options& options);

  // rgb float [N, 3, S, S] in [0, 1] -> [N, channels(), S/32, S/32].
  at::Tensor Extract(const at::Tensor& rgb);
  at::Tensor forward(const at::Tensor& rgb) { return Extract(rgb); }
  int64_t channels() const { return channels_; }
  int64_t stride() const { return 32; }
  MacCount Macs(int64_t input_size) const;
  const Options& options() const { return options_; }

 private:
  Options options_;
  ResNetShape shape_;
  int64_t channels_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr},
      layer4_{nullptr};
};
TORCH_MODULE(SimpleBaselineEncoder);

}  // namespace mapn::model

#endif  // MAPN_MODEL_RESNET_H_
