#include "mapn/model/flops.h"

#include <cmath>

#include "gtest/gtest.h"

namespace mapn::model {
namespace {

constexpr double kSi = 1e9;

double RelErr(double value, double expected) {
  return std::abs(value - expected) / std::abs(expected);
}

MacCount SimpleBaseline(int depth, int64_t size, int64_t joints = 17) {
  const ResNetShape shape{.depth = depth, .base_width = 64};
  const int64_t f = size / 32;
  return ResNetMacs(shape, size) +
         DeconvHeadMacs(ResNetChannels(shape), 256, joints, f, f);
}

// Independent anchors: the ResNet paper / torchvision figures at 224 x 224
// (SI giga multiply-adds, trunk without the 1000-way classifier).
TEST(FlopsTest, ResNetTrunksMatchTorchvisionAt224) {
  EXPECT_LT(RelErr(ResNetMacs({18, 64}, 224).true_macs / kSi, 1.814), 0.005);
  EXPECT_LT(RelErr(ResNetMacs({34, 64}, 224).true_macs / kSi, 3.664), 0.005);
  EXPECT_LT(RelErr(ResNetMacs({50, 64}, 224).true_macs / kSi, 4.087), 0.005);
}

// Simple Baseline at 256 x 256 under the HRNet tool's convention: 7.72,
// 9.97, 11.99 (domain-facts.md); the paper's baseline row is 11.96.
TEST(FlopsTest, SimpleBaselineHrnetConvention) {
  EXPECT_LT(RelErr(SimpleBaseline(18, 256).hrnet_gmacs(), 7.72), 0.01);
  EXPECT_LT(RelErr(SimpleBaseline(34, 256).hrnet_gmacs(), 9.97), 0.01);
  EXPECT_LT(RelErr(SimpleBaseline(50, 256).hrnet_gmacs(), 11.99), 0.01);
  EXPECT_LT(RelErr(SimpleBaseline(50, 256).hrnet_gmacs(), 11.96), 0.01);
}

// True multiply-adds: 3.59 and 5.84 (in 2^30 units) for ResNet-18/34 and
// 7.23e9 (SI) for ResNet-50, as domain-facts.md lists them; see
// docs/architecture.md on the unit of that last figure.
TEST(FlopsTest, SimpleBaselineTrueMacs) {
  EXPECT_LT(RelErr(SimpleBaseline(18, 256).true_gmacs(), 3.59), 0.01);
  EXPECT_LT(RelErr(SimpleBaseline(34, 256).true_gmacs(), 5.84), 0.01);
  EXPECT_LT(RelErr(SimpleBaseline(50, 256).true_macs / kSi, 7.23), 0.01);
}

// The two conventions differ exactly by the transposed convolutions, each
// charged 4 x in the HRNet convention.
TEST(FlopsTest, ConventionsDifferOnlyByDeconvolutions) {
  const MacCount head = DeconvHeadMacs(512, 256, 13, 8, 8);
  const MacCount deconvs = DeconvMacs(512, 256, 4, 8, 8, 2) +
                           DeconvMacs(256, 256, 4, 16, 16, 2) +
                           DeconvMacs(256, 256, 4, 32, 32, 2);
  EXPECT_DOUBLE_EQ(deconvs.hrnet_macs, 4 * deconvs.true_macs);
  EXPECT_DOUBLE_EQ(head.hrnet_macs - head.true_macs,
                   deconvs.hrnet_macs - deconvs.true_macs);
  const MacCount trunk = ResNetMacs({34, 64}, 256);
  EXPECT_DOUBLE_EQ(trunk.true_macs, trunk.hrnet_macs);
}

TEST(FlopsTest, ConvAndWarpCounts) {
  EXPECT_EQ(ConvMacs(3, 64, 7, 7, 128, 128).true_macs,
            3.0 * 64 * 49 * 128 * 128);
  EXPECT_EQ(ConvMacs(32, 64, 3, 3, 10, 10, /*groups=*/2).true_macs,
            16.0 * 64 * 9 * 100);
  EXPECT_EQ(LinearMacs(10, 3).hrnet_macs, 30.0);
  const MacCount warp = WarpMacs(512, 8, 8);
  EXPECT_EQ(warp.true_macs, 4.0 * 512 * 64);
  EXPECT_EQ(warp.hrnet_macs, 0.0);
  const MacCount step = ConvLstmStepMacs(512, 3, 8, 8, /*warp=*/true);
  EXPECT_EQ(step.true_macs, 512.0 * 2048 * 9 * 64 + 2 * 4.0 * 512 * 64);
  EXPECT_EQ(ConvLstmStepMacs(512, 3, 8, 8, false).hrnet_macs, step.hrnet_macs);
}

TEST(FlopsTest, WidthScalesQuadratically) {
  const double full = ResNetMacs({18, 64}, 256).true_macs;
  const double half = ResNetMacs({18, 32}, 256).true_macs;
  // Every convolution but the first (3 input channels) scales by 1/4.
  const double stem_full = ConvMacs(3, 64, 7, 7, 128, 128).true_macs;
  const double stem_half = ConvMacs(3, 32, 7, 7, 128, 128).true_macs;
  EXPECT_NEAR((half - stem_half) / (full - stem_full), 0.25, 1e-12);
  EXPECT_EQ(ResNetChannels({50, 16}), 512);
}

}  // namespace
}  // namespace mapn::model
