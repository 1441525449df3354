// Affine2D algebra and ResampleWindow / CropWindow / ToGopBatch on windows
// whose content is known, so that every geometric case (crop, scale, flip,
// rotation, outside the picture) has an exact expected answer.
#include "mapn/video/resample.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/full.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace mapn {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A window of T frames, H x W, where rgb = x + 2y (channel 0), motion is a
// constant (dx, dy), intra is set on the left half and the residual equals
// the x coordinate.
GopWindow MakeWindow(int64_t t, int64_t h, int64_t w, float dx, float dy) {
  GopWindow win;
  win.frames.assign(static_cast<size_t>(t), FrameMeta{});
  for (int64_t i = 0; i < t; ++i) {
    win.frames[static_cast<size_t>(i)] =
        FrameMeta{i, i == 0 ? FrameType::kI : FrameType::kP, i / 25.0, i == 0};
  }
  win.num_valid = t;
  const at::Tensor x = at::arange(w, at::kFloat).view({1, w}).expand({h, w});
  const at::Tensor y = at::arange(h, at::kFloat).view({h, 1}).expand({h, w});
  win.rgb = x.add(y.mul(2))
                .clamp(0, 255)
                .to(at::kByte)
                .view({1, 1, h, w})
                .expand({t, 3, h, w})
                .contiguous();
  win.motion = at::zeros({t, 2, h, w}, at::kFloat);
  win.motion.select(1, 0).fill_(dx);
  win.motion.select(1, 1).fill_(dy);
  win.intra =
      x.lt(w / 2.0).view({1, 1, h, w}).expand({t, 1, h, w}).contiguous();
  win.residual = x.view({1, 1, h, w}).expand({t, 3, h, w}).contiguous();
  win.valid = at::ones({t}, at::kBool);
  return win;
}

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
}

TEST(ResampleTest, IdentityKeepsEverything) {
  const GopWindow w = MakeWindow(3, 8, 8, 1.5f, -0.5f);
  absl::StatusOr<GopWindow> out = ResampleWindow(w, Affine2D::Identity(), 8);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->rgb.equal(w.rgb));
  EXPECT_TRUE(out->motion.allclose(w.motion));
  EXPECT_TRUE(out->intra.equal(w.intra));
  EXPECT_TRUE(out->residual.allclose(w.residual));
  EXPECT_TRUE(out->valid.equal(w.valid));
  EXPECT_EQ(out->frames[1].index, 1);
}

TEST(ResampleTest, CropAndDownscaleRescalesVectors) {
  // A 32x32 box from (8, 4) down to 16x16: every output pixel covers 2x2
  // source pixels, so a displacement of (2, -1) source px is (1, -0.5).
  const GopWindow w = MakeWindow(2, 48, 64, 2.0f, -1.0f);
  const Box box{8, 4, 40, 36};
  absl::StatusOr<GopWindow> out = CropWindow(w, box, 16);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->rgb.sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
  EXPECT_FLOAT_EQ(out->motion[1][0][5][5].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(out->motion[1][1][5][5].item<float>(), -0.5f);
  // Output pixel q samples source x = 8 + 2q + 0.5: the residual (= x).
  EXPECT_FLOAT_EQ(out->residual[0][0][3][7].item<float>(), 8 + 14 + 0.5f);
  // rgb = x + 2y at (22.5, 4 + 6 + 0.5).
  EXPECT_EQ(out->rgb[0][1][3][7].item<uint8_t>(), std::lround(22.5 + 2 * 10.5));
  // Intra (x < 32) follows the nearest source pixel.
  EXPECT_TRUE(out->intra[1][0][0][11].item<bool>());   // x = 30.5 -> 30/31
  EXPECT_FALSE(out->intra[1][0][0][12].item<bool>());  // x = 32.5
}

TEST(ResampleTest, FlipNegatesHorizontalMotion) {
  const GopWindow w = MakeWindow(1, 8, 8, 1.5f, 0.25f);
  absl::StatusOr<GopWindow> out = ResampleWindow(w, Affine2D::FlipX(8), 8);
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ(out->motion[0][0][2][2].item<float>(), -1.5f);
  EXPECT_FLOAT_EQ(out->motion[0][1][2][2].item<float>(), 0.25f);
  EXPECT_EQ(out->rgb[0][0][0][0].item<uint8_t>(), 7);  // source x = 7
  EXPECT_FLOAT_EQ(out->residual[0][0][0][1].item<float>(), 6.0f);
}

TEST(ResampleTest, RotationTurnsVectorsWithThePicture) {
  // Output -> source is a quarter turn about the centre; a source vector
  // (1, 0) becomes M^-1 (1, 0) in the output.
  const GopWindow w = MakeWindow(1, 9, 9, 1.0f, 0.0f);
  const Affine2D m = Affine2D::RotationAbout(kPi / 2, 4, 4);
  absl::StatusOr<GopWindow> out = ResampleWindow(w, m, 9);
  ASSERT_TRUE(out.ok());
  double ex, ey;
  m.Inverse()->ApplyLinear(1, 0, &ex, &ey);
  EXPECT_NEAR(out->motion[0][0][4][4].item<float>(), ex, 1e-5);
  EXPECT_NEAR(out->motion[0][1][4][4].item<float>(), ey, 1e-5);
  EXPECT_NEAR(std::hypot(ex, ey), 1.0, 1e-9);
  // The content turned: output (4, 0) samples source m(4, 0) = (0, 4).
  double sx, sy;
  m.Apply(4, 0, &sx, &sy);
  EXPECT_NEAR(out->residual[0][0][0][4].item<float>(), sx, 1e-4);
}

TEST(ResampleTest, OutsideThePictureIsZero) {
  const GopWindow w = MakeWindow(1, 8, 8, 1.0f, 1.0f);
  // A box hanging 8 px off the left edge.
  absl::StatusOr<GopWindow> out = CropWindow(w, Box{-8, 0, 8, 16}, 16);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->rgb[0][0][2][2].item<uint8_t>(), 0);
  EXPECT_EQ(out->motion[0][0][2][2].item<float>(), 0.0f);
  EXPECT_FALSE(out->intra[0][0][2][2].item<bool>());
  EXPECT_EQ(out->residual[0][0][2][2].item<float>(), 0.0f);
  EXPECT_EQ(out->rgb[0][0][2][10].item<uint8_t>(), 2 + 4);  // source (2, 2)
  EXPECT_EQ(out->rgb[0][0][12][10].item<uint8_t>(), 0);     // below: y 12
}

TEST(ResampleTest, RejectsBadArguments) {
  const GopWindow w = MakeWindow(1, 8, 8, 0, 0);
  EXPECT_FALSE(ResampleWindow(w, Affine2D::Scale(0, 0), 4).ok());
  EXPECT_FALSE(ResampleWindow(w, Affine2D::Identity(), 0).ok());
  EXPECT_FALSE(CropWindow(w, Box{5, 5, 5, 9}, 4).ok());
  EXPECT_FALSE(CropWindow(w, Box{0, 0, NAN, 4}, 4).ok());
  GopWindow frames_only = w;
  frames_only.motion = at::Tensor();
  frames_only.intra = at::Tensor();
  frames_only.residual = at::Tensor();
  absl::StatusOr<GopWindow> out =
      ResampleWindow(frames_only, Affine2D::Identity(), 4);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->motion.defined());
}

TEST(GopBatchTest, StacksAndScales) {
  std::vector<GopWindow> windows = {MakeWindow(2, 4, 4, 1, 2),
                                    MakeWindow(2, 4, 4, 3, 4)};
  windows[1].valid[1] = false;
  absl::StatusOr<GopBatch> batch = ToGopBatch(windows);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->rgb.sizes(), (std::vector<int64_t>{2, 2, 3, 4, 4}));
  EXPECT_EQ(batch->batch_size(), 2);
  EXPECT_EQ(batch->length(), 2);
  EXPECT_EQ(batch->size(), 4);
  EXPECT_FLOAT_EQ(batch->rgb[0][0][0][1][3].item<float>(), (3 + 2) / 255.0f);
  EXPECT_FLOAT_EQ(batch->motion[1][0][1][2][2].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(batch->residual[0][1][2][0][3].item<float>(), 3 / 255.0f);
  EXPECT_FALSE(batch->valid[1][1].item<bool>());
  EXPECT_FALSE(ToGopBatch({}).ok());
  EXPECT_FALSE(ToGopBatch({MakeWindow(2, 4, 6, 0, 0)}).ok());  // not square
  EXPECT_FALSE(
      ToGopBatch({MakeWindow(2, 4, 4, 0, 0), MakeWindow(3, 4, 4, 0, 0)}).ok());
}

}  // namespace
}  // namespace mapn
