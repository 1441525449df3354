// The Simple Baseline head (deconv_head.h): the official names, shapes and
// initialisation, MACs per layer, the phase convolutions against LibTorch's
// transposed convolution (values and gradients), and its options: in_channels
// 0 is for pipelines only, the widths are refused by name.
#include "mapn/model/deconv_head.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/model_test_fixtures.h"

namespace mapn::model {
namespace {

TEST(HeadTest, OfficialNamesShapesAndInit) {
  DeconvHead head(TinyHeadOptions());
  const auto tensors = TensorMap(*head);
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"deconv_layers.0.weight", {32, 8, 4, 4}},
      {"deconv_layers.1.weight", {8}},
      {"deconv_layers.1.running_mean", {8}},
      {"deconv_layers.3.weight", {8, 8, 4, 4}},
      {"deconv_layers.4.bias", {8}},
      {"deconv_layers.6.weight", {8, 8, 4, 4}},
      {"deconv_layers.7.running_var", {8}},
      {"final_layer.weight", {3, 8, 1, 1}},
      {"final_layer.bias", {3}}};
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(tensors.count(name)) << name;
    EXPECT_EQ(tensors.at(name).sizes(), shape) << name;
  }
  EXPECT_EQ(tensors.count("deconv_layers.0.bias"), 0u);  // no bias
  EXPECT_LT(tensors.at("deconv_layers.0.weight").std().item<double>(), 0.002);
  EXPECT_EQ(tensors.at("final_layer.bias").abs().sum().item<double>(), 0.0);
  EXPECT_EQ(head->Decode(at::rand({2, 32, 2, 3})).sizes(),
            (std::vector<int64_t>{2, 3, 16, 24}));
  EXPECT_EQ(head->in_channels(), 32);
  EXPECT_EQ(head->out_channels(), 3);
  EXPECT_EQ(head->upsampling(), 8);
  // Macs: the deconvolutions at their input resolution (2x2, 4x4, 8x8), the
  // 1 x 1 at 16 x 16.
  const double macs =
      32.0 * 8 * 16 * 4 + 8.0 * 8 * 16 * 16 + 8.0 * 8 * 16 * 64 + 8.0 * 3 * 256;
  EXPECT_DOUBLE_EQ(head->Macs(2, 2).true_macs, macs);
}

TEST(HeadTest, PhaseConvolutionsEqualTheTransposedConvolution) {
  at::manual_seed(20);
  for (const auto& [c, o, h, w] : std::vector<std::array<int64_t, 4>>{
           {3, 5, 1, 1}, {8, 4, 3, 5}, {16, 8, 8, 8}}) {
    const at::Tensor x = at::randn({2, c, h, w}).requires_grad_(true);
    const at::Tensor weight = at::randn({c, o, 4, 4}).requires_grad_(true);
    const at::Tensor fast = ConvTranspose4x4Stride2(x, weight);
    const at::Tensor reference =
        at::conv_transpose2d(x, weight, {}, /*stride=*/2, /*padding=*/1);
    ASSERT_EQ(fast.sizes(), reference.sizes());
    EXPECT_LT(MaxDiff(fast, reference), 1e-4);
    const at::Tensor g = at::randn_like(reference);
    const auto gf = torch::autograd::grad({fast}, {x, weight}, {g});
    const auto gr = torch::autograd::grad({reference}, {x, weight}, {g});
    EXPECT_LT(MaxDiff(gf[0], gr[0]), 1e-4);
    EXPECT_LT(MaxDiff(gf[1], gr[1]), 1e-4);
  }
  // Decode equals the official layer sequence run module by module.
  DeconvHead head(TinyHeadOptions());
  head->eval();
  const at::Tensor features = at::randn({1, 32, 2, 2});
  at::Tensor x = features;
  for (const auto& child : head->named_children()) {
    if (child.key() == "deconv_layers") {
      x = child.value()->as<torch::nn::Sequential>()->forward(x);
    } else {
      x = child.value()->as<torch::nn::Conv2d>()->forward(x);
    }
  }
  EXPECT_LT(MaxDiff(head->Decode(features), x), 1e-6);
}

// in_channels 0 means "wired by the pipeline"; a head built alone has no
// extractor to take it from and must say so rather than build a 0-wide
// layer.
TEST(HeadTest, UnwiredOrInvalidOptionsAreRefusedByName) {
  DeconvHeadOptions options = TinyHeadOptions();
  options.in_channels = 0;
  EXPECT_TRUE(options.Validate().ok());  // valid in a pipeline
  try {
    DeconvHead head(options);
    ADD_FAILURE() << "a head with in_channels 0 was built alone";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace())
                  .find("DeconvHead: in_channels is 0, which only a Pipeline "
                        "can wire"),
              std::string::npos)
        << e.what_without_backtrace();
  }
  options = TinyHeadOptions();
  options.out_channels = 0;
  EXPECT_EQ(Message(options.Validate()),
            "out_channels must be at least 1, got 0");
  EXPECT_THROW(DeconvHead{options}, c10::Error);
  options = TinyHeadOptions();
  options.width = -2;
  EXPECT_EQ(Message(options.Validate()), "width must be at least 1, got -2");
  options = TinyHeadOptions();
  options.in_channels = -1;
  EXPECT_NE(Message(options.Validate()).find("in_channels must be >= 0"),
            std::string::npos);
}

}  // namespace
}  // namespace mapn::model
