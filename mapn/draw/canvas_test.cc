#include "mapn/draw/canvas.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace mapn {
namespace {

int CountColored(const Canvas& c, Rgb color) {
  int n = 0;
  for (int y = 0; y < c.height(); ++y) {
    for (int x = 0; x < c.width(); ++x) {
      const Rgb p = c.At(x, y);
      if (p.r == color.r && p.g == color.g && p.b == color.b) ++n;
    }
  }
  return n;
}

TEST(CanvasTest, BackgroundAndTensorRoundTrip) {
  Canvas c(7, 5, Rgb{10, 20, 30});
  const at::Tensor t = c.ToTensor();
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, 5, 7}));
  EXPECT_EQ(t[1][4][6].item<uint8_t>(), 20);
  c.Blend(3, 2, Rgb{200, 0, 0}, 1.0f);
  const Canvas back = Canvas::FromTensor(c.ToTensor());
  EXPECT_EQ(back.At(3, 2).r, 200);
  EXPECT_EQ(back.At(2, 2).r, 10);
}

TEST(CanvasTest, ThickLineCoversItsCapsuleOnly) {
  Canvas c(40, 40);
  c.DrawLine(5, 20, 35, 20, 5, Rgb{255, 255, 255});
  // Fully covered along the axis, untouched far away.
  EXPECT_EQ(c.At(20, 20).r, 255);
  EXPECT_EQ(c.At(20, 22).r, 255);
  EXPECT_EQ(c.At(20, 26).r, 0);
  EXPECT_EQ(c.At(0, 0).r, 0);
  // Anti-aliased edge: partially covered pixel.
  Canvas d(20, 20);
  d.DrawLine(2, 10.25f, 18, 10.25f, 2, Rgb{255, 255, 255});
  const int edge = d.At(10, 11).r;  // 0.75 px from the axis
  EXPECT_GT(edge, 0);
  EXPECT_LT(edge, 255);
}

TEST(CanvasTest, DiscAreaMatchesPiRSquared) {
  Canvas c(100, 100);
  c.FillDisc(50, 50, 20, Rgb{255, 255, 255});
  double area = 0;
  for (int y = 0; y < 100; ++y) {
    for (int x = 0; x < 100; ++x) area += c.At(x, y).r / 255.0;
  }
  EXPECT_NEAR(area, 3.14159 * 400, 20);
}

TEST(CanvasTest, TextDrawsGlyphPixelsAndClips) {
  Canvas c(60, 20);
  c.DrawText(1, 1, "PCK 9", 2, Rgb{0, 255, 0});
  EXPECT_GT(CountColored(c, Rgb{0, 255, 0}), 40);
  EXPECT_EQ(Canvas::TextWidth("PCK 9", 2), 60);
  EXPECT_EQ(Canvas::TextWidth("ab\nlonger", 1), 36);
  // Off-canvas drawing must not crash or wrap around.
  c.DrawText(55, 15, "XYZ", 3, Rgb{255, 0, 0});
  c.DrawLine(-100, -100, 500, 500, 3, Rgb{1, 2, 3});
  c.FillRect(-5, -5, 1000, 2, Rgb{9, 9, 9});
}

TEST(CanvasTest, PasteClipsAtTheBorders) {
  Canvas big(10, 10);
  Canvas small(4, 4, Rgb{50, 60, 70});
  big.Paste(small, 8, -2);
  EXPECT_EQ(big.At(9, 0).g, 60);
  EXPECT_EQ(big.At(9, 2).g, 0);
  EXPECT_EQ(big.At(7, 0).g, 0);
}

}  // namespace
}  // namespace mapn
