#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "mapn/geometry/affine.h"
#include "mapn/geometry/box.h"

namespace mapn {
namespace {

constexpr double kPi = 3.14159265358979323846;

void ExpectNear(const Affine2D& a, const Affine2D& b) {
  EXPECT_NEAR(a.a, b.a, 1e-9);
  EXPECT_NEAR(a.b, b.b, 1e-9);
  EXPECT_NEAR(a.c, b.c, 1e-9);
  EXPECT_NEAR(a.d, b.d, 1e-9);
  EXPECT_NEAR(a.tx, b.tx, 1e-9);
  EXPECT_NEAR(a.ty, b.ty, 1e-9);
}

TEST(Affine2DTest, ComposeInvertApply) {
  const Affine2D s = Affine2D::Scale(2, 3);
  const Affine2D t = Affine2D::Translation(5, -1);
  double x, y;
  s.Compose(t).Apply(1, 1, &x, &y);  // t first: (6, 0), then s: (12, 0)
  EXPECT_DOUBLE_EQ(x, 12);
  EXPECT_DOUBLE_EQ(y, 0);
  t.Then(s).Apply(1, 1, &x, &y);
  EXPECT_DOUBLE_EQ(x, 12);
  const Affine2D r = Affine2D::RotationAbout(0.7, 10, 20);
  ExpectNear(r.Compose(*r.Inverse()), Affine2D::Identity());
  ExpectNear(
      s.Compose(t).Compose(r).Inverse()->Compose(s.Compose(t).Compose(r)),
      Affine2D::Identity());
  EXPECT_FALSE(Affine2D::Scale(0, 1).Inverse().has_value());
  // A quarter turn counter-clockwise on screen: right -> up (y decreases).
  Affine2D::RotationAbout(kPi / 2, 0, 0).Apply(1, 0, &x, &y);
  EXPECT_NEAR(x, 0, 1e-12);
  EXPECT_NEAR(y, -1, 1e-12);
  Affine2D::FlipX(10).Apply(0, 4, &x, &y);
  EXPECT_DOUBLE_EQ(x, 9);
  EXPECT_DOUBLE_EQ(y, 4);
  // Displacements ignore the translation.
  Affine2D::Translation(7, 7).Compose(s).ApplyLinear(1, 1, &x, &y);
  EXPECT_DOUBLE_EQ(x, 2);
  EXPECT_DOUBLE_EQ(y, 3);
}

TEST(Affine2DTest, BoxToSquareMapsPixelCentresAndEdges) {
  // A 100 x 50 box at (10, 20) onto a 4 x 4 output: output pixel q covers
  // source [x1 + q * 25, x1 + (q + 1) * 25) horizontally.
  const Affine2D m = BoxToSquare(Box{10, 20, 110, 70}, 4);
  double x, y;
  m.Apply(-0.5, -0.5, &x, &y);  // the output's top-left edge
  EXPECT_DOUBLE_EQ(x, 10 - 0.5);
  EXPECT_DOUBLE_EQ(y, 20 - 0.5);
  m.Apply(3.5, 3.5, &x, &y);  // its bottom-right edge
  EXPECT_DOUBLE_EQ(x, 110 - 0.5);
  EXPECT_DOUBLE_EQ(y, 70 - 0.5);
  m.Apply(0, 0, &x, &y);  // the first pixel's centre
  EXPECT_DOUBLE_EQ(x, 10 + 12.5 - 0.5);
  EXPECT_DOUBLE_EQ(y, 20 + 6.25 - 0.5);
}

TEST(BoxTest, IntersectionOverUnion) {
  EXPECT_FLOAT_EQ(IntersectionOverUnion(Box{0, 0, 10, 10}, Box{5, 0, 15, 10}),
                  50.0f / 150.0f);
  EXPECT_EQ(IntersectionOverUnion(Box{0, 0, 10, 10}, Box{10, 0, 20, 10}), 0);
  EXPECT_EQ(IntersectionOverUnion(Box{0, 0, 0, 10}, Box{0, 0, 0, 10}), 0);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(IntersectionOverUnion(Box{nan, 0, 10, 10}, Box{0, 0, 10, 10}), 0);
}

TEST(BoxTest, ExpandBoxKeepsTheCentre) {
  const Box wide{0, 0, 40, 10};
  CropBoxOptions o;
  o.aspect = 2;  // width twice the height
  o.scale = 1;
  const Box b = ExpandBox(wide, o);
  EXPECT_FLOAT_EQ(b.width(), 40);
  EXPECT_FLOAT_EQ(b.height(), 20);
  EXPECT_FLOAT_EQ(b.y1, -5);
  o.aspect = 0;
  o.scale = 2;
  const Box c = ExpandBox(wide, o);
  EXPECT_FLOAT_EQ(c.x1, -20);
  EXPECT_FLOAT_EQ(c.height(), 20);
  // The defaults: square, 1.25 x the longer side.
  const Box d = ExpandBox(Box{0, 0, 10, 40});
  EXPECT_FLOAT_EQ(d.width(), 50);
  EXPECT_FLOAT_EQ(d.height(), 50);
  EXPECT_FLOAT_EQ(d.x1 + d.x2, 10);
}

}  // namespace
}  // namespace mapn
