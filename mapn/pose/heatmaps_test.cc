#include "mapn/pose/heatmaps.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace mapn {
namespace {

TEST(HeatmapsTest, TargetPeaksOnTheJointWithUnitHeight) {
  const at::Tensor joints = at::tensor({10.0f, 7.0f}).view({1, 1, 2});
  const at::Tensor visible = at::ones({1, 1}, at::kBool);
  HeatmapTargets t = MakeGaussianTargets(joints, visible, 16, 20);
  ASSERT_EQ(t.heatmaps.sizes(), (std::vector<int64_t>{1, 1, 16, 20}));
  EXPECT_FLOAT_EQ(t.heatmaps[0][0][7][10].item<float>(), 1.0f);
  // One pixel away: exp(-1 / (2 * 2^2)).
  EXPECT_NEAR(t.heatmaps[0][0][7][11].item<float>(), std::exp(-1.0 / 8), 1e-6);
  EXPECT_FLOAT_EQ(t.weights[0][0].item<float>(), 1.0f);
}

TEST(HeatmapsTest, InvisibleAndFarOutsideJointsDoNotSupervise) {
  const at::Tensor joints =
      at::tensor({5.0f, 5.0f, -20.0f, 5.0f, 5.0f, 5.0f}).view({1, 3, 2});
  const at::Tensor visible = at::tensor({1, 1, 0}).to(at::kBool).view({1, 3});
  HeatmapTargets t = MakeGaussianTargets(joints, visible, 16, 16);
  EXPECT_EQ(t.weights[0][0].item<float>(), 1.0f);
  EXPECT_EQ(t.weights[0][1].item<float>(), 0.0f);  // 3 sigma off the map
  EXPECT_EQ(t.weights[0][2].item<float>(), 0.0f);  // invisible
  EXPECT_EQ(t.heatmaps[0][2].abs().sum().item<float>(), 0.0f);
}

TEST(HeatmapsTest, DecodeRecoversJointsToAQuarterPixel) {
  const at::Tensor joints =
      at::tensor({12.3f, 20.6f, 40.0f, 9.0f, 0.0f, 63.0f}).view({1, 3, 2});
  const at::Tensor visible = at::ones({1, 3}, at::kBool);
  HeatmapTargets t = MakeGaussianTargets(joints, visible, 64, 64);
  DecodedJoints d = DecodeHeatmaps(t.heatmaps);
  for (int j = 0; j < 3; ++j) {
    for (int c = 0; c < 2; ++c) {
      EXPECT_NEAR(d.coords[0][j][c].item<float>(),
                  joints[0][j][c].item<float>(), 0.25 + 1e-6)
          << "joint " << j << " coord " << c;
    }
  }
  // Exactly on a pixel with symmetric neighbours: no shift.
  EXPECT_FLOAT_EQ(d.coords[0][1][0].item<float>(), 40.0f);
  EXPECT_NEAR(d.confidence[0][1].item<float>(), 1.0f, 1e-6);
}

TEST(HeatmapsTest, WeightedMseIgnoresUnweightedJoints) {
  const at::Tensor target = at::zeros({1, 2, 4, 4});
  at::Tensor pred = at::zeros({1, 2, 4, 4});
  pred[0][1].fill_(3.0);
  const at::Tensor weights = at::tensor({1.0f, 0.0f}).view({1, 2});
  EXPECT_FLOAT_EQ(WeightedHeatmapMse(pred, target, weights).item<float>(), 0);
  pred[0][0].fill_(2.0);
  // 0.5 * mean over 2*16 entries of (16 entries of 4) = 0.5 * 64 / 32 = 1.
  EXPECT_FLOAT_EQ(WeightedHeatmapMse(pred, target, weights).item<float>(), 1);
}

}  // namespace
}  // namespace mapn
