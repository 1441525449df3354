// Affine2D algebra and ResampleWindow / CropWindow / ToGopBatch on windows
// whose content is known, so that every geometric case (crop, scale, flip,
// rotation, outside the picture) has an exact expected answer.
#include "mapn/video/resample.h"

#include <ATen/Context.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/full.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace mapn {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A window of T frames, H x W, where rgb = x + 2y (channel 0), motion is a
// constant (dx, dy), intra is set on the blocks that start in the left half
// and the residual equals the x coordinate (Y difference x, no chroma
// difference, full-range BT.601: RGB residual x in every channel).
GopWindow MakeWindow(int64_t t, int64_t h, int64_t w, float dx, float dy) {
  GopWindow win;
  win.frames.assign(static_cast<size_t>(t), FrameMeta{});
  for (int64_t i = 0; i < t; ++i) {
    win.frames[static_cast<size_t>(i)] =
        FrameMeta{i, i == 0 ? FrameType::kI : FrameType::kP, i / 25.0, i == 0,
                  YuvToRgb::Make(/*bt709=*/false, /*full_range=*/true)};
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
  const int64_t hb = MotionBlocks(h), wb = MotionBlocks(w);
  win.motion = at::zeros({t, 2, hb, wb}, at::kFloat);
  win.motion.select(1, 0).fill_(dx);
  win.motion.select(1, 1).fill_(dy);
  const at::Tensor bx = at::arange(wb, at::kFloat)
                            .mul(kMotionBlock)
                            .view({1, wb})
                            .expand({hb, wb});
  win.intra =
      bx.lt(w / 2.0).view({1, 1, hb, wb}).expand({t, 1, hb, wb}).contiguous();
  win.residual_y =
      x.to(at::kShort).view({1, 1, h, w}).expand({t, 1, h, w}).contiguous();
  win.residual_uv = at::zeros({t, 2, (h + 1) / 2, (w + 1) / 2}, at::kShort);
  win.valid = at::ones({t}, at::kBool);
  return win;
}

// The same window cropped to nothing: an identity resample.
ResampledWindow Resampled(int64_t t, int64_t size, float dx, float dy) {
  return *ResampleWindow(MakeWindow(t, size, size, dx, dy),
                         Affine2D::Identity(), static_cast<int>(size));
}

TEST(ResampleTest, IdentityKeepsEverything) {
  // 24 x 16: 3 x 2 blocks, intra on the first two columns; the identity
  // map onto 16 x 16 keeps the left 16 columns, per pixel.
  GopWindow w = MakeWindow(3, 16, 24, 1.5f, -0.5f);
  w.motion[1][0][1][1] = 4.0f;  // block (1, 1): pixels [8, 16) x [8, 16)
  absl::StatusOr<ResampledWindow> out =
      ResampleWindow(w, Affine2D::Identity(), 16);
  ASSERT_TRUE(out.ok()) << out.status();
  const GopWindow square = MakeWindow(3, 16, 16, 1.5f, -0.5f);
  absl::StatusOr<ResampledWindow> same =
      ResampleWindow(square, Affine2D::Identity(), 16);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->rgb.equal(square.rgb));
  for (int64_t t = 0; t < 3; ++t) {
    EXPECT_TRUE(same->motion[t].equal(DenseMotion(square, t)));
    EXPECT_TRUE(same->intra[t].equal(DenseIntra(square, t)));
  }
  for (int64_t t = 0; t < 3; ++t) {
    EXPECT_TRUE(same->residual[t].equal(DenseResidual(square, t)));
    EXPECT_TRUE(
        same->residual[t][2].equal(square.residual_y[t][0].to(at::kFloat)));
  }
  EXPECT_TRUE(same->valid.equal(square.valid));
  EXPECT_EQ(same->frames[1].index, 1);
  // Every pixel of the changed block, and only those, carry its vector.
  EXPECT_EQ(out->motion.sizes(), (std::vector<int64_t>{3, 2, 16, 16}));
  const at::Tensor dx = out->motion[1][0];
  EXPECT_TRUE(dx.slice(0, 8, 16).slice(1, 8, 16).eq(4.0f).all().item<bool>());
  EXPECT_EQ(dx.eq(4.0f).sum().item<int64_t>(), 64);
  EXPECT_FLOAT_EQ(dx[7][15].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(dx[8][7].item<float>(), 1.5f);
  EXPECT_TRUE(out->intra[0][0][15][15].item<bool>());
}

TEST(ResampleTest, MotionBlendsAcrossBlockEdgesAndIntraIsNearest) {
  // Two blocks side by side with vectors 1 and 5: a 2x upscale of the
  // middle 8 source columns blends them bilinearly at the block edge, as if
  // every pixel carried its block's vector.
  GopWindow w = MakeWindow(1, 8, 16, 1.0f, 0.0f);
  w.motion[0][0][0][1] = 5.0f;
  w.intra.fill_(false);
  w.intra[0][0][0][1] = true;
  // Output 16 px over source x in [4, 12): p = 4 + (q + 1/2) / 2 - 1/2.
  absl::StatusOr<ResampledWindow> out = CropWindow(w, Box{4, 0, 12, 8}, 16);
  ASSERT_TRUE(out.ok()) << out.status();
  // q = 7 samples x = 7.25: 0.75 * 1 + 0.25 * 5 = 2; q = 8 samples x = 7.75:
  // 4. Vectors scale by 2 (M^-1 = 2).
  EXPECT_FLOAT_EQ(out->motion[0][0][4][7].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(out->motion[0][0][4][8].item<float>(), 8.0f);
  EXPECT_FLOAT_EQ(out->motion[0][0][4][0].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(out->motion[0][0][4][15].item<float>(), 10.0f);
  // Intra follows the block of the nearest pixel: 7 and 8.
  EXPECT_FALSE(out->intra[0][0][4][7].item<bool>());
  EXPECT_TRUE(out->intra[0][0][4][8].item<bool>());
}

// The resampling ResampleWindow did when windows carried one vector and one
// float RGB residual per pixel, written out per output pixel: the fields are
// first expanded (DenseMotion, DenseIntra, DenseResidual), then sampled.
ResampledWindow ResampleDense(const GopWindow& w, const Affine2D& m, int size) {
  const int64_t t = w.length(), h = w.height(), wd = w.width();
  ResampledWindow out;
  out.motion = at::zeros({t, 2, size, size}, at::kFloat);
  out.intra = at::zeros({t, 1, size, size}, at::kBool);
  out.residual = at::zeros({t, 3, size, size}, at::kFloat);
  const Affine2D mi = *m.Inverse();
  for (int64_t f = 0; f < t; ++f) {
    const at::Tensor motion = DenseMotion(w, f), intra = DenseIntra(w, f);
    const at::Tensor residual = DenseResidual(w, f);
    const float* mo = motion.data_ptr<float>();
    const float* re = residual.data_ptr<float>();
    const bool* in = intra.data_ptr<bool>();
    for (int qy = 0; qy < size; ++qy) {
      for (int qx = 0; qx < size; ++qx) {
        double px, py;
        m.Apply(qx, qy, &px, &py);
        if (!(px >= -0.5 && px < wd - 0.5 && py >= -0.5 && py < h - 0.5)) {
          continue;
        }
        const double fx = std::floor(px), fy = std::floor(py);
        const float ax = static_cast<float>(px - fx),
                    ay = static_cast<float>(py - fy);
        auto cx = [&](int64_t v) { return std::clamp<int64_t>(v, 0, wd - 1); };
        auto cy = [&](int64_t v) { return std::clamp<int64_t>(v, 0, h - 1); };
        const int64_t x0 = cx(static_cast<int64_t>(fx)),
                      x1 = cx(static_cast<int64_t>(fx) + 1);
        const int64_t y0 = cy(static_cast<int64_t>(fy)),
                      y1 = cy(static_cast<int64_t>(fy) + 1);
        auto bilinear = [&](const float* p) {
          return (1 - ax) * (1 - ay) * p[y0 * wd + x0] +
                 ax * (1 - ay) * p[y0 * wd + x1] +
                 (1 - ax) * ay * p[y1 * wd + x0] + ax * ay * p[y1 * wd + x1];
        };
        for (int c = 0; c < 3; ++c) {
          out.residual[f][c][qy][qx] = bilinear(re + c * h * wd);
        }
        double ox, oy;
        mi.ApplyLinear(bilinear(mo), bilinear(mo + h * wd), &ox, &oy);
        out.motion[f][0][qy][qx] = static_cast<float>(ox);
        out.motion[f][1][qy][qx] = static_cast<float>(oy);
        const int64_t nx = cx(std::llround(px)), ny = cy(std::llround(py));
        out.intra[f][0][qy][qx] = in[ny * wd + nx];
      }
    }
  }
  return out;
}

TEST(ResampleTest, EqualsResamplingTheDenseFieldsBitForBit) {
  // Random block motion, intra blocks and YUV residuals on an odd-sized
  // picture (partial blocks, a last chroma column covering one pixel), two
  // colour matrices, and a crop with rotation, scale and flip: sampling the
  // compact fields must give exactly the floats of sampling the expanded
  // ones (training data does not change with the layout).
  const int64_t t = 2, h = 37, w = 45;
  GopWindow win = MakeWindow(t, h, w, 0, 0);
  at::manual_seed(7);
  win.motion = at::randint(-40, 40, win.motion.sizes(), at::kFloat).div_(4);
  win.intra = at::randint(0, 2, win.intra.sizes(), at::kBool);
  win.residual_y = at::randint(-255, 256, {t, 1, h, w}, at::kShort);
  win.residual_uv = at::randint(-255, 256, {t, 2, 19, 23}, at::kShort);
  win.frames[0].color = YuvToRgb::Make(/*bt709=*/true, /*full_range=*/false);
  win.frames[1].color = YuvToRgb::Make(/*bt709=*/false, /*full_range=*/false);
  const Affine2D m = BoxToSquare(Box{-3.5f, 2.25f, 41.0f, 39.5f}, 29)
                         .Compose(Affine2D::RotationAbout(0.37, 14, 14))
                         .Compose(Affine2D::FlipX(29));
  absl::StatusOr<ResampledWindow> got = ResampleWindow(win, m, 29);
  ASSERT_TRUE(got.ok()) << got.status();
  const ResampledWindow want = ResampleDense(win, m, 29);
  EXPECT_TRUE(got->motion.equal(want.motion));
  EXPECT_TRUE(got->intra.equal(want.intra));
  EXPECT_TRUE(got->residual.equal(want.residual));
  EXPECT_GT(want.residual.abs().gt(0).sum().item<int64_t>(), 1000);
  EXPECT_GT(want.intra.sum().item<int64_t>(), 100);
}

TEST(ResampleTest, CropAndDownscaleRescalesVectors) {
  // A 32x32 box from (8, 4) down to 16x16: every output pixel covers 2x2
  // source pixels, so a displacement of (2, -1) source px is (1, -0.5).
  const GopWindow w = MakeWindow(2, 48, 64, 2.0f, -1.0f);
  const Box box{8, 4, 40, 36};
  absl::StatusOr<ResampledWindow> out = CropWindow(w, box, 16);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->rgb.sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
  EXPECT_FLOAT_EQ(out->motion[1][0][5][5].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(out->motion[1][1][5][5].item<float>(), -0.5f);
  // Output pixel q samples source x = 8 + 2q + 0.5: the residual (= x).
  EXPECT_FLOAT_EQ(out->residual[0][0][3][7].item<float>(), 8 + 14 + 0.5f);
  // rgb = x + 2y at (22.5, 4 + 6 + 0.5).
  EXPECT_EQ(out->rgb[0][1][3][7].item<uint8_t>(), std::lround(22.5 + 2 * 10.5));
  // Intra (blocks left of x = 32) follows the nearest source pixel's block.
  EXPECT_TRUE(out->intra[1][0][0][11].item<bool>());   // x = 30.5 -> 30/31
  EXPECT_FALSE(out->intra[1][0][0][12].item<bool>());  // x = 32.5
}

TEST(ResampleTest, FlipNegatesHorizontalMotion) {
  const GopWindow w = MakeWindow(1, 8, 8, 1.5f, 0.25f);
  absl::StatusOr<ResampledWindow> out =
      ResampleWindow(w, Affine2D::FlipX(8), 8);
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
  absl::StatusOr<ResampledWindow> out = ResampleWindow(w, m, 9);
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
  absl::StatusOr<ResampledWindow> out = CropWindow(w, Box{-8, 0, 8, 16}, 16);
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
  frames_only.residual_y = at::Tensor();
  frames_only.residual_uv = at::Tensor();
  absl::StatusOr<ResampledWindow> out =
      ResampleWindow(frames_only, Affine2D::Identity(), 4);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->motion.defined());
  EXPECT_FALSE(out->residual.defined());
  // Tensors that do not follow gop.h: per-pixel motion, a float residual,
  // full-resolution chroma.
  GopWindow dense = w;
  dense.motion = at::zeros({1, 2, 8, 8}, at::kFloat);
  dense.intra = at::zeros({1, 1, 8, 8}, at::kBool);
  const absl::Status s =
      ResampleWindow(dense, Affine2D::Identity(), 4).status();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("block grid"), std::string::npos) << s;
  GopWindow float_residual = w;
  float_residual.residual_y = w.residual_y.to(at::kFloat);
  EXPECT_FALSE(ResampleWindow(float_residual, Affine2D::Identity(), 4).ok());
  GopWindow full_chroma = w;
  full_chroma.residual_uv = at::zeros({1, 2, 8, 8}, at::kShort);
  const absl::Status c =
      ResampleWindow(full_chroma, Affine2D::Identity(), 4).status();
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.message().find("4:2:0"), std::string::npos) << c;
  // Every frame needs its record: the residual's colour matrix is there.
  GopWindow no_records = w;
  no_records.frames.clear();
  EXPECT_FALSE(ResampleWindow(no_records, Affine2D::Identity(), 4).ok());
}

TEST(DenseFieldsTest, ExpandEachFrameAndRefuseOtherLayouts) {
  const GopWindow w = MakeWindow(2, 9, 11, 0.5f, -1.0f);
  const at::Tensor residual = DenseResidual(w, 1);
  EXPECT_EQ(residual.sizes(), (std::vector<int64_t>{3, 9, 11}));
  EXPECT_FLOAT_EQ(residual[1][4][7].item<float>(), 7.0f);  // = x
  EXPECT_THROW(DenseResidual(w, 2), c10::Error);           // no frame 2
  GopWindow float_residual = w;
  float_residual.residual_y = w.residual_y.to(at::kFloat);
  EXPECT_THROW(DenseResidual(float_residual, 0), c10::Error);
  GopWindow frames_only = w;
  frames_only.residual_uv = at::Tensor();
  EXPECT_THROW(DenseResidual(frames_only, 0), c10::Error);
}

TEST(GopBatchTest, StacksAndScales) {
  std::vector<ResampledWindow> windows = {Resampled(2, 4, 1, 2),
                                          Resampled(2, 4, 3, 4)};
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
  ResampledWindow oblong = Resampled(2, 4, 0, 0);
  oblong.rgb = at::zeros({2, 3, 4, 6}, at::kByte);
  EXPECT_FALSE(ToGopBatch({oblong}).ok());  // not square
  EXPECT_FALSE(ToGopBatch({Resampled(2, 4, 0, 0), Resampled(3, 4, 0, 0)}).ok());
}

}  // namespace
}  // namespace mapn
