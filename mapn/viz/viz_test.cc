#include <ATen/ops/full.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/zeros.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "mapn/video/gop.h"
#include "mapn/viz/flow_color.h"
#include "mapn/viz/panels.h"
#include "mapn/viz/png.h"

namespace mapn {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

TEST(PngTest, RoundTripsRgb) {
  const at::Tensor image = at::randint(0, 256, {3, 17, 23}, at::kByte);
  const std::string path = TempPath("roundtrip.png");
  ASSERT_TRUE(WritePng(path, image).ok());
  absl::StatusOr<at::Tensor> back = ReadPng(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->equal(image));
}

TEST(PngTest, RefusesWrongShapesAndNamesMissingFiles) {
  EXPECT_FALSE(EncodePng(at::zeros({2, 4, 4}, at::kByte)).ok());
  EXPECT_FALSE(EncodePng(at::zeros({3, 4, 4}, at::kFloat)).ok());
  absl::StatusOr<at::Tensor> missing = ReadPng(TempPath("absent.png"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("absent.png"), std::string::npos);
}

TEST(FlowColorTest, ZeroIsWhiteAndSaturationGrowsWithMagnitude) {
  uint8_t rgb[3];
  FlowColor(0, 0, 4, rgb);
  EXPECT_EQ(rgb[0], 255);
  EXPECT_EQ(rgb[1], 255);
  EXPECT_EQ(rgb[2], 255);
  uint8_t half[3], full[3];
  FlowColor(2, 0, 4, half);
  FlowColor(4, 0, 4, full);
  // Moving right is red on the Middlebury wheel; stronger is less white.
  EXPECT_GT(full[0], full[2]);
  EXPECT_LT(full[1] + full[2], half[1] + half[2]);
}

TEST(FlowColorTest, DrawsContentMotionAndBlackIntra) {
  at::Tensor motion = at::zeros({2, 1, 2}, at::kFloat);
  motion[0][0][0] = -3.0f;  // predicted from 3 px left: content moved right
  at::Tensor intra = at::zeros({1, 1, 2}, at::kBool);
  intra[0][0][1] = true;
  const at::Tensor picture = MotionToColor(motion, intra, 3.0f);
  uint8_t right[3];
  FlowColor(3, 0, 3, right);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(picture[c][0][0].item<uint8_t>(), right[c]);
    EXPECT_EQ(picture[c][0][1].item<uint8_t>(), 0);
  }
  EXPECT_FLOAT_EQ(MaxMotionMagnitude(motion), 3.0f);
}

TEST(FlowColorTest, DrawsBlockMotionOverEachBlocksPixels) {
  // A 20 x 12 picture: 3 x 2 blocks of 8 pixels, the last ones cut off.
  at::Tensor motion = at::zeros({2, 2, 3}, at::kFloat);
  motion[1][1][2] = 2.0f;  // block (2, 1): content moved up
  at::Tensor intra = at::zeros({1, 2, 3}, at::kBool);
  intra[0][0][1] = true;  // block (1, 0)
  const at::Tensor picture = MotionToColor(motion, intra, 2.0f, 12, 20);
  EXPECT_EQ(picture.sizes(), (std::vector<int64_t>{3, 12, 20}));
  uint8_t up[3];
  FlowColor(0, -2, 2, up);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(picture[c][8][16].item<uint8_t>(), up[c]);
    EXPECT_EQ(picture[c][11][19].item<uint8_t>(), up[c]);
    EXPECT_EQ(picture[c][7][19].item<uint8_t>(), 255);  // no motion: white
    EXPECT_EQ(picture[c][0][8].item<uint8_t>(), 0);     // intra: black
    EXPECT_EQ(picture[c][7][15].item<uint8_t>(), 0);
    EXPECT_EQ(picture[c][0][16].item<uint8_t>(), 255);
  }
  // The per-pixel drawing of the expanded field is the same picture.
  EXPECT_TRUE(picture.equal(MotionToColor(ExpandBlocks(motion, 12, 20),
                                          ExpandBlocks(intra, 12, 20), 2.0f)));
}

TEST(PanelsTest, StacksWithGapsAndCentresResiduals) {
  const at::Tensor a = at::zeros({3, 4, 5}, at::kByte);
  const at::Tensor b = at::zeros({3, 6, 2}, at::kByte);
  const at::Tensor row = HStack({a, b}, 3);
  EXPECT_EQ(row.size(1), 6);
  EXPECT_EQ(row.size(2), 5 + 3 + 2);
  EXPECT_EQ(row[0][0][6].item<uint8_t>(), 255);  // the gap
  EXPECT_EQ(row[0][5][0].item<uint8_t>(), 255);  // padding below a
  const at::Tensor column = VStack({a, a}, 1);
  EXPECT_EQ(column.size(1), 9);
  const at::Tensor residual = at::full({3, 1, 3}, 0.0f);
  residual[0][0][1] = 200.0f;
  residual[0][0][2] = -10.0f;
  const at::Tensor image = ResidualToImage(residual, 1.0f);
  EXPECT_EQ(image[0][0][0].item<uint8_t>(), 128);
  EXPECT_EQ(image[0][0][1].item<uint8_t>(), 255);
  EXPECT_EQ(image[0][0][2].item<uint8_t>(), 118);
  // An int16 residual (the Y or U, V planes of a GopWindow) draws the same.
  EXPECT_TRUE(ResidualToImage(residual.to(at::kShort), 1.0f).equal(image));
}

TEST(FlowColorTest, LegendIsWhiteAtTheCentre) {
  const at::Tensor legend = ColorWheelLegend(65);
  EXPECT_EQ(legend.size(1), 65);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(legend[c][32][32].item<uint8_t>(), 255);
}

}  // namespace
}  // namespace mapn
