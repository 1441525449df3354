// The Simple Baseline encoder (resnet.h): torchvision's names and tensor
// counts, output shapes, MAC accounting against the module's own weights,
// its options (depth and width refused by name) and the static
// OutputChannels() the pipeline wires with.
#include "mapn/model/resnet.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/model_test_fixtures.h"

namespace mapn::model {
namespace {

TEST(EncoderTest, TorchvisionNamesShapesAndCounts) {
  // torchvision's state_dict sizes minus fc.weight and fc.bias.
  const std::map<int64_t, size_t> expected_tensors = {
      {18, 120}, {34, 216}, {50, 318}};
  for (const auto& [depth, count] : expected_tensors) {
    SimpleBaselineEncoderOptions options = TinyEncoderOptions();
    options.depth = depth;
    SimpleBaselineEncoder encoder(options);
    const auto tensors = TensorMap(*encoder);
    EXPECT_EQ(tensors.size(), count) << depth;
    for (const char* name :
         {"conv1.weight", "bn1.running_var", "bn1.num_batches_tracked",
          "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
          "layer2.0.downsample.1.running_mean", "layer4.1.bn2.bias"}) {
      EXPECT_TRUE(tensors.count(name)) << depth << " " << name;
    }
    EXPECT_EQ(tensors.count("layer1.0.conv3.weight"), depth == 50 ? 1u : 0u);
    EXPECT_EQ(tensors.count("layer1.0.downsample.0.weight"),
              depth == 50 ? 1u : 0u);
    // 8 x width for the basic blocks, 32 x width for the bottlenecks.
    EXPECT_EQ(encoder->channels(), depth == 50 ? 128 : 32) << depth;
    EXPECT_EQ(encoder->options().depth, depth);
    encoder->eval();
    const at::Tensor x = encoder->Extract(at::rand({2, 3, 64, 96}));
    EXPECT_EQ(x.sizes(), (std::vector<int64_t>{2, encoder->channels(), 2, 3}));
  }
}

// The analytic MAC count against one derived from the module's own weights:
// each convolution's weight size times the pixels it produces.
TEST(EncoderTest, MacsMatchTheModuleStructure) {
  for (int64_t depth : {18, 50}) {
    SimpleBaselineEncoderOptions options = TinyEncoderOptions();
    options.depth = depth;
    SimpleBaselineEncoder encoder(options);
    double macs = 0;
    for (const auto& p : encoder->named_parameters()) {
      const std::string& name = p.key();
      if (p.value().dim() != 4) continue;  // batch norm
      int64_t side = 0;
      if (name == "conv1.weight") {
        side = 64;
      } else {
        const int stage = name[5] - '0';  // "layerN.B...."
        side = 32 >> (stage - 1);
        // Bottleneck v1.5: a stage's first 1 x 1 runs before the stride.
        if (depth == 50 && stage > 1 && name.rfind(".0.conv1.", 8) == 6) {
          side *= 2;
        }
      }
      macs += static_cast<double>(p.value().numel()) * side * side;
    }
    EXPECT_DOUBLE_EQ(encoder->Macs(128).true_macs, macs) << depth;
  }
}

// The pipeline wires its propagator and head with OutputChannels() instead
// of building an encoder: it must say what channels() of one built from
// the same options says.
TEST(EncoderTest, OutputChannelsIsWhatTheBuiltEncoderGives) {
  for (int64_t depth : {18, 34, 50}) {
    for (int64_t width : {1, 4, 6}) {
      const SimpleBaselineEncoderOptions options{.depth = depth,
                                                 .width = width};
      EXPECT_EQ(SimpleBaselineEncoderImpl::OutputChannels(options),
                SimpleBaselineEncoder(options)->channels())
          << depth << " " << width;
    }
  }
}

TEST(EncoderTest, InvalidOptionsAreRefusedByName) {
  SimpleBaselineEncoderOptions options = TinyEncoderOptions();
  options.depth = 101;
  EXPECT_EQ(Message(options.Validate()), "depth must be 18, 34 or 50, got 101");
  try {
    SimpleBaselineEncoder encoder(options);
    ADD_FAILURE() << "an encoder of depth 101 was built";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace())
                  .find("SimpleBaselineEncoder: depth must be 18, 34 or 50"),
              std::string::npos)
        << e.what_without_backtrace();
  }
  options = TinyEncoderOptions();
  options.width = 0;
  EXPECT_NE(Message(options.Validate()).find("width must be in [1, 1024]"),
            std::string::npos);
  EXPECT_TRUE(TinyEncoderOptions().Validate().ok());
}

}  // namespace
}  // namespace mapn::model
