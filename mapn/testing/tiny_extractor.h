// File: tiny_extractor.h
//
// A FeatureExtractor small enough for tests that train or run whole
// pipelines in seconds: three 3 x 3 stride-2 convolutions with ReLU, stride
// 8, no batch norm (so data-parallel training can match one process
// exactly). The reuse test composes it with a mask head, the distributed
// training test with a heatmap head.
//
// Example:
//
//   using Tiny = model::Composition<"tiny", testing::TinyExtractor,
//                                   model::MotionWarpConvLstm,
//                                   model::ResidualEnergyGate, MyHead>;
#ifndef MAPN_TESTING_TINY_EXTRACTOR_H_
#define MAPN_TESTING_TINY_EXTRACTOR_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "mapn/model/flops.h"
#include "mapn/model/options.h"

namespace mapn::testing {

struct TinyExtractorOptions {
  int64_t channels = 8;  // of every convolution
  static constexpr auto Fields() {
    return std::tuple{
        model::OptionField{"channels", &TinyExtractorOptions::channels}};
  }
  absl::Status Validate() const {
    return channels >= 1 ? absl::OkStatus()
                         : absl::InvalidArgumentError("channels must be >= 1");
  }
};

class TinyExtractorImpl : public torch::nn::Module {
 public:
  using Options = TinyExtractorOptions;
  explicit TinyExtractorImpl(const Options& options = {}) : options_(options) {
    const int64_t c = options.channels;
    for (int i = 0; i < 3; ++i) {
      convs_.push_back(register_module(
          "conv" + std::to_string(i),
          torch::nn::Conv2d(torch::nn::Conv2dOptions(i == 0 ? 3 : c, c, 3)
                                .stride(2)
                                .padding(1))));
    }
  }
  at::Tensor Extract(const at::Tensor& rgb) {
    at::Tensor x = rgb;
    for (auto& conv : convs_) x = at::relu(conv->forward(x));
    return x;
  }
  int64_t channels() const { return options_.channels; }
  int64_t stride() const { return 8; }
  model::MacCount Macs(int64_t size) const {
    const int64_t c = options_.channels;
    return model::ConvMacs(3, c, 3, 3, size / 2, size / 2) +
           model::ConvMacs(c, c, 3, 3, size / 4, size / 4) +
           model::ConvMacs(c, c, 3, 3, size / 8, size / 8);
  }
  const Options& options() const { return options_; }

 private:
  Options options_;
  std::vector<torch::nn::Conv2d> convs_;
};
TORCH_MODULE(TinyExtractor);

}  // namespace mapn::testing

#endif  // MAPN_TESTING_TINY_EXTRACTOR_H_
