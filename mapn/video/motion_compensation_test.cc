// The motion-compensation kernels against straightforward per-pixel
// implementations of the standards' interpolation rules, on random pictures
// and on vectors that point inside, across and far outside the picture.
#include "mapn/video/motion_compensation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/video/motion_vectors.h"
#include "mapn/video/yuv.h"

namespace mapn {
namespace {

struct Frame {
  int w = 0, h = 0;
  std::vector<uint8_t> y, u, v;
  Frame(int width, int height, uint32_t seed) : w(width), h(height) {
    std::mt19937 rng(seed);
    y.resize(static_cast<size_t>(w) * h);
    u.resize(static_cast<size_t>((w + 1) / 2) * ((h + 1) / 2));
    v.resize(u.size());
    for (auto* p : {&y, &u, &v}) {
      for (uint8_t& x : *p) x = static_cast<uint8_t>(rng() & 255);
    }
  }
  Yuv420View view() const {
    return {y.data(), u.data(), v.data(), w, (w + 1) / 2, w, h};
  }
  int Y(int x, int yy) const {
    return y[static_cast<size_t>(std::clamp(yy, 0, h - 1)) * w +
             std::clamp(x, 0, w - 1)];
  }
  int C(const std::vector<uint8_t>& p, int x, int yy) const {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    return p[static_cast<size_t>(std::clamp(yy, 0, ch - 1)) * cw +
             std::clamp(x, 0, cw - 1)];
  }
};

MotionVector Block(int x0, int y0, int size, int mx, int my, int scale) {
  MotionVector mv;
  mv.source = -1;
  mv.w = mv.h = size;
  mv.dst_x = x0 + size / 2;
  mv.dst_y = y0 + size / 2;
  mv.motion_x = mx;
  mv.motion_y = my;
  mv.motion_scale = scale;
  mv.src_x = mv.dst_x + mx / scale;
  mv.src_y = mv.dst_y + my / scale;
  return mv;
}

int Clip(int v) { return std::clamp(v, 0, 255); }

// H.264 8.4.2.2.1, one sample at a time, with edge replication.
int H264LumaSample(const Frame& f, int xi, int yi, int fx, int fy) {
  auto G = [&](int x, int y) { return f.Y(x, y); };
  auto tap = [](int a, int b, int c, int d, int e, int g) {
    return a - 5 * b + 20 * c + 20 * d - 5 * e + g;
  };
  auto b1 = [&](int x, int y) {
    return tap(G(x - 2, y), G(x - 1, y), G(x, y), G(x + 1, y), G(x + 2, y),
               G(x + 3, y));
  };
  auto h1 = [&](int x, int y) {
    return tap(G(x, y - 2), G(x, y - 1), G(x, y), G(x, y + 1), G(x, y + 2),
               G(x, y + 3));
  };
  auto b = [&](int x, int y) { return Clip((b1(x, y) + 16) >> 5); };
  auto h = [&](int x, int y) { return Clip((h1(x, y) + 16) >> 5); };
  auto j = [&](int x, int y) {
    const int j1 = tap(b1(x, y - 2), b1(x, y - 1), b1(x, y), b1(x, y + 1),
                       b1(x, y + 2), b1(x, y + 3));
    return Clip((j1 + 512) >> 10);
  };
  auto avg = [](int a, int c) { return (a + c + 1) >> 1; };
  const int x = xi, y = yi;
  switch (fy * 4 + fx) {
    case 0:
      return G(x, y);
    case 1:
      return avg(G(x, y), b(x, y));
    case 2:
      return b(x, y);
    case 3:
      return avg(G(x + 1, y), b(x, y));
    case 4:
      return avg(G(x, y), h(x, y));
    case 5:
      return avg(b(x, y), h(x, y));
    case 6:
      return avg(b(x, y), j(x, y));
    case 7:
      return avg(b(x, y), h(x + 1, y));
    case 8:
      return h(x, y);
    case 9:
      return avg(h(x, y), j(x, y));
    case 10:
      return j(x, y);
    case 11:
      return avg(j(x, y), h(x + 1, y));
    case 12:
      return avg(G(x, y + 1), h(x, y));
    case 13:
      return avg(h(x, y), b(x, y + 1));
    case 14:
      return avg(j(x, y), b(x, y + 1));
    default:
      return avg(h(x + 1, y), b(x, y + 1));
  }
}

int FloorDiv(int a, int b) {
  return static_cast<int>(std::floor(static_cast<double>(a) / b));
}

struct Planes {
  std::vector<uint8_t> y, u, v;
};

Planes Predict(const Frame& prev, const std::vector<MotionVector>& mvs,
               McOptions options) {
  const MotionGrid grid = MotionGrid::Build(mvs, prev.w, prev.h);
  Planes p;
  p.y.resize(prev.y.size());
  p.u.resize(prev.u.size());
  p.v.resize(prev.v.size());
  PredictYuv(prev.view(), grid, options, 0, grid.rows(), p.y.data(), p.u.data(),
             p.v.data());
  return p;
}

TEST(MotionGridTest, MapsBlocksToCellsAndLeavesIntraUncovered) {
  std::vector<MotionVector> mvs = {Block(0, 0, 16, 3, -2, 2),
                                   Block(16, 0, 8, 1, 1, 4)};
  MotionVector future = Block(0, 16, 16, 5, 5, 2);
  future.source = 1;  // B-frame style: ignored
  mvs.push_back(future);
  const MotionGrid grid = MotionGrid::Build(mvs, 36, 20);
  EXPECT_EQ(grid.cols(), 6);  // whole macroblocks: 2 * ceil(36 / 16)
  EXPECT_EQ(grid.rows(), 4);
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 2; ++c) {
      EXPECT_TRUE(grid.at(r, c).has_vector);
      EXPECT_FALSE(grid.at(r, c).from_8x8);
      EXPECT_EQ(grid.at(r, c).motion_x, 3);
    }
  }
  EXPECT_TRUE(grid.at(0, 2).has_vector);
  EXPECT_TRUE(grid.at(0, 2).from_8x8);
  EXPECT_FALSE(grid.at(0, 3).has_vector);
  EXPECT_FALSE(grid.at(1, 2).has_vector);
  EXPECT_FALSE(grid.at(2, 0).has_vector);
  EXPECT_EQ(grid.covered_cells(), 5);

  // The picture's block grid: ceil(36 / 8) x ceil(20 / 8) = 5 x 3 cells, the
  // overhanging sixth column and fourth row left out. Rows are written in
  // two calls, as two bands would.
  std::vector<float> dx(5 * 3, -9.0f), dy(5 * 3, -9.0f);
  bool intra[5 * 3];
  WriteBlockMotion(grid, 0, 1, dx.data(), dy.data(), intra);
  WriteBlockMotion(grid, 1, 4, dx.data(), dy.data(), intra);
  EXPECT_FLOAT_EQ(dx[0 * 5 + 0], 1.5f);   // pixel (7, 5)
  EXPECT_FLOAT_EQ(dy[1 * 5 + 1], -1.0f);  // pixel (15, 15)
  EXPECT_FALSE(intra[1 * 5 + 1]);
  EXPECT_FLOAT_EQ(dx[0 * 5 + 2], 0.25f);  // pixel (20, 2)
  EXPECT_TRUE(intra[0 * 5 + 3]);          // pixel (24, 2)
  EXPECT_TRUE(intra[2 * 5 + 4]);          // pixel (35, 19)
  EXPECT_FLOAT_EQ(dx[2 * 5 + 4], 0.0f);
  EXPECT_FLOAT_EQ(dy[2 * 5 + 4], 0.0f);
}

TEST(MotionGridTest, FindsVectorsOffTheBlockGrid) {
  // FFmpeg's shapes: 16x16, 16x8, 8x16 and 8x8, all on the 8-pixel grid,
  // also where a macroblock overhangs the picture or starts left of it.
  std::vector<MotionVector> on = {Block(0, 0, 16, 1, 1, 2),
                                  Block(16, 8, 8, 1, 1, 4),
                                  Block(-8, -16, 8, 0, 0, 2)};
  MotionVector wide = Block(32, 0, 16, 2, 0, 4);
  wide.h = 8;
  wide.dst_y = 4;
  on.push_back(wide);
  MotionVector tall = Block(48, 0, 16, 2, 0, 4);
  tall.w = 8;
  tall.dst_x = 52;
  on.push_back(tall);
  EXPECT_EQ(FirstOffGridVector(on), nullptr);
  // A future-reference vector is not the grid's concern (B-frames are
  // refused before).
  MotionVector future = Block(3, 3, 4, 0, 0, 4);
  future.source = 1;
  on.push_back(future);
  EXPECT_EQ(FirstOffGridVector(on), nullptr);

  // Near misses, each breaking one condition.
  MotionVector sub8 = Block(8, 8, 4, 1, 1, 4);  // a 4x4 block
  MotionVector narrow = Block(8, 8, 8, 1, 1, 4);
  narrow.w = 4;  // 4x8
  narrow.dst_x = 10;
  MotionVector shifted = Block(4, 0, 16, 1, 1, 2);  // starts at x = 4
  MotionVector shifted_y = Block(0, 12, 8, 1, 1, 2);
  MotionVector negative = Block(-4, 0, 8, 1, 1, 2);
  MotionVector empty = Block(0, 0, 16, 1, 1, 2);
  empty.h = 0;
  for (const MotionVector& bad :
       {sub8, narrow, shifted, shifted_y, negative, empty}) {
    std::vector<MotionVector> mvs = on;
    mvs.push_back(bad);
    const MotionVector* found = FirstOffGridVector(mvs);
    ASSERT_NE(found, nullptr)
        << bad.w << "x" << bad.h << " at " << bad.dst_x << ", " << bad.dst_y;
    EXPECT_EQ(*found, bad);
  }
}

TEST(MotionGridTest, IgnoresMalformedVectors) {
  MotionVector bad = Block(0, 0, 16, 1, 1, 2);
  bad.motion_scale = 0;
  MotionVector empty = Block(0, 0, 16, 1, 1, 2);
  empty.w = 0;
  MotionVector far = Block(1 << 20, 1 << 20, 16, 1, 1, 2);
  const MotionGrid grid = MotionGrid::Build({bad, empty, far}, 32, 32);
  EXPECT_EQ(grid.covered_cells(), 0);
}

TEST(H264Test, LumaMatchesTheStandardAtEveryQuarterPosition) {
  const Frame prev(64, 48, 7);
  std::vector<MotionVector> mvs;
  // Every 16x16 block its own vector: all 16 fractions, with integer parts
  // inside, across the edge and far outside the picture.
  const int integer[] = {0, 3, -5, 17, -40, 2};
  int i = 0;
  for (int by = 0; by < 48; by += 16) {
    for (int bx = 0; bx < 64; bx += 16, ++i) {
      const int frac_x = i % 4, frac_y = (i / 4) % 4;
      const int mx = 4 * integer[i % 6] + frac_x;
      const int my = 4 * integer[(i + 2) % 6] - frac_y;
      mvs.push_back(Block(bx, by, 16, mx, my, 4));
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    // The second pass repeats with 8x8 blocks of other fractions.
    if (pass == 1) {
      mvs.clear();
      int k = 0;
      for (int by = 0; by < 48; by += 8) {
        for (int bx = 0; bx < 64; bx += 8, ++k) {
          mvs.push_back(Block(bx, by, 8, 4 * integer[k % 6] + (k % 4) - 8,
                              4 * integer[(k + 3) % 6] + ((k / 4) % 4), 4));
        }
      }
    }
    const Planes p = Predict(prev, mvs, {McFilter::kH264, false});
    const MotionGrid grid = MotionGrid::Build(mvs, 64, 48);
    for (int y = 0; y < 48; ++y) {
      for (int x = 0; x < 64; ++x) {
        const MotionGrid::Cell& c = grid.at(y / 8, x / 8);
        const int want = H264LumaSample(prev, x + FloorDiv(c.motion_x, 4),
                                        y + FloorDiv(c.motion_y, 4),
                                        c.motion_x & 3, c.motion_y & 3);
        ASSERT_EQ(p.y[static_cast<size_t>(y) * 64 + x], want)
            << "pass " << pass << " at (" << x << ", " << y << ") mv ("
            << c.motion_x << ", " << c.motion_y << ")";
      }
    }
    // Chroma: eighth-sample bilinear with the luma vector (H.264 8.4.2.2.2).
    for (int y = 0; y < 24; ++y) {
      for (int x = 0; x < 32; ++x) {
        const MotionGrid::Cell& c = grid.at(y / 4, x / 4);
        const int xf = c.motion_x & 7, yf = c.motion_y & 7;
        const int xi = x + FloorDiv(c.motion_x, 8),
                  yi = y + FloorDiv(c.motion_y, 8);
        for (const auto* plane : {&prev.u, &prev.v}) {
          const int want = ((8 - xf) * (8 - yf) * prev.C(*plane, xi, yi) +
                            xf * (8 - yf) * prev.C(*plane, xi + 1, yi) +
                            (8 - xf) * yf * prev.C(*plane, xi, yi + 1) +
                            xf * yf * prev.C(*plane, xi + 1, yi + 1) + 32) >>
                           6;
          const auto& got = plane == &prev.u ? p.u : p.v;
          ASSERT_EQ(got[static_cast<size_t>(y) * 32 + x], want)
              << "chroma (" << x << ", " << y << ")";
        }
      }
    }
  }
}

// MPEG-4 half-sample average with rounding control.
int HalfSample(int a, int b, int c, int d, int hx, int hy, bool no_rounding) {
  const int r = no_rounding ? 0 : 1;
  if (!hx && !hy) return a;
  if (hx && !hy) return (a + b + r) >> 1;
  if (!hx && hy) return (a + c + r) >> 1;
  return (a + b + c + d + 1 + r) >> 2;
}

TEST(Mpeg4Test, OneVectorMacroblocksMatchTheDecoderRules) {
  const Frame prev(48, 32, 11);
  std::vector<MotionVector> mvs;
  const int vectors[][2] = {{0, 0}, {3, -1},   {-7, 5},
                            {2, 2}, {-33, 40}, {13, -6}};
  int i = 0;
  for (int by = 0; by < 32; by += 16) {
    for (int bx = 0; bx < 48; bx += 16, ++i) {
      mvs.push_back(Block(bx, by, 16, vectors[i][0], vectors[i][1], 2));
    }
  }
  for (bool no_rounding : {false, true}) {
    const Planes p = Predict(prev, mvs, {McFilter::kMpeg4, no_rounding});
    const MotionGrid grid = MotionGrid::Build(mvs, 48, 32);
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 48; ++x) {
        const MotionGrid::Cell& c = grid.at(y / 8, x / 8);
        const int xi = x + FloorDiv(c.motion_x, 2),
                  yi = y + FloorDiv(c.motion_y, 2);
        const int want =
            HalfSample(prev.Y(xi, yi), prev.Y(xi + 1, yi), prev.Y(xi, yi + 1),
                       prev.Y(xi + 1, yi + 1), c.motion_x & 1, c.motion_y & 1,
                       no_rounding);
        ASSERT_EQ(p.y[static_cast<size_t>(y) * 48 + x], want);
      }
    }
    // Chroma: the luma vector in quarter chroma samples, any quarter
    // rounded to the half sample (ISO/IEC 14496-2 7.6.2, "H.263 rounding").
    for (int y = 0; y < 16; ++y) {
      for (int x = 0; x < 24; ++x) {
        const MotionGrid::Cell& c = grid.at(y / 4, x / 4);
        auto half = [](int m) {
          const int whole = FloorDiv(m, 4);
          return std::pair<int, int>(whole, m - 4 * whole != 0 ? 1 : 0);
        };
        const auto [ix, hx] = half(c.motion_x);
        const auto [iy, hy] = half(c.motion_y);
        const int want = HalfSample(
            prev.C(prev.u, x + ix, y + iy), prev.C(prev.u, x + ix + 1, y + iy),
            prev.C(prev.u, x + ix, y + iy + 1),
            prev.C(prev.u, x + ix + 1, y + iy + 1), hx, hy, no_rounding);
        ASSERT_EQ(p.u[static_cast<size_t>(y) * 24 + x], want)
            << "(" << x << ", " << y << ")";
      }
    }
  }
}

TEST(Mpeg4Test, FourVectorMacroblocksRoundTheChromaVectorAsTheStandard) {
  // Table 7-9 of ISO/IEC 14496-2: the sum of the four luma vectors (in half
  // samples) modulo 16 maps to a chroma half-sample fraction.
  const int table[16] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2};
  const Frame prev(16, 16, 3);
  for (int sum : {0, 3, 7, 9, 14, 15, 17, 30, -3, -14, -17, -30}) {
    // Split the sum over the four 8x8 blocks of one macroblock.
    const int q = FloorDiv(sum, 4), r = sum - 4 * q;
    std::vector<MotionVector> mvs;
    for (int k = 0; k < 4; ++k) {
      mvs.push_back(
          Block(8 * (k % 2), 8 * (k / 2), 8, q + (k < r ? 1 : 0), 0, 2));
    }
    const Planes p = Predict(prev, mvs, {McFilter::kMpeg4, false});
    const int magnitude = std::abs(sum);
    const int c =
        (sum < 0 ? -1 : 1) * (table[magnitude % 16] + 2 * (magnitude / 16));
    const int ix = FloorDiv(c, 2), hx = c & 1;
    for (int x = 0; x < 8; ++x) {
      const int want =
          HalfSample(prev.C(prev.u, x + ix, 0), prev.C(prev.u, x + ix + 1, 0),
                     0, 0, hx, 0, false);
      ASSERT_EQ(p.u[x], want) << "sum " << sum << " x " << x;
    }
  }
}

TEST(ResidualTest, IsZeroWhereThePredictionIsExact) {
  const Frame prev(64, 32, 5);
  // The current frame is the previous one moved by an integer vector, the
  // codec's vector says so: the residual is exactly zero away from edges.
  Frame cur = prev;
  // (4, -2) luma pixels: whole chroma samples too, (2, -1).
  const int sx = 4, sy = -2;
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 64; ++x)
      cur.y[static_cast<size_t>(y) * 64 + x] =
          static_cast<uint8_t>(prev.Y(x + sx, y + sy));
  }
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 32; ++x) {
      cur.u[static_cast<size_t>(y) * 32 + x] =
          static_cast<uint8_t>(prev.C(prev.u, x + 2, y - 1));
      cur.v[static_cast<size_t>(y) * 32 + x] =
          static_cast<uint8_t>(prev.C(prev.v, x + 2, y - 1));
    }
  }
  std::vector<MotionVector> mvs;
  for (int by = 0; by < 32; by += 16) {
    for (int bx = 0; bx < 64; bx += 16)
      mvs.push_back(Block(bx, by, 16, 2 * sx, 2 * sy, 2));
  }
  const MotionGrid grid = MotionGrid::Build(mvs, 64, 32);
  std::vector<int16_t> y(64 * 32, 7), u(32 * 16, 7), v(32 * 16, 7);
  ComputeResidualYuv(prev.view(), cur.view(), grid, {McFilter::kMpeg4, false},
                     0, grid.rows(), y.data(), u.data(), v.data());
  for (int16_t value : y) ASSERT_EQ(value, 0);
  for (size_t i = 0; i < u.size(); ++i) {
    ASSERT_EQ(u[i], 0);
    ASSERT_EQ(v[i], 0);
  }
}

TEST(ResidualTest, IsCurrentMinusPredictionPerSample) {
  // Random pictures and vectors, odd sizes (chroma planes of ceil(w / 2)),
  // computed in two bands: every stored value is the current sample minus
  // the per-pixel reference prediction, in every plane.
  const int w = 46, h = 30, cw = 23, ch = 15;
  const Frame prev(w, h, 31), cur(w, h, 32);
  const std::vector<MotionVector> mvs = {
      Block(0, 0, 16, 3, -1, 2), Block(16, 0, 16, -7, 2, 2),
      Block(32, 0, 8, 1, 1, 2),  Block(40, 8, 8, 5, -3, 2),
      Block(0, 16, 16, 0, 0, 2), Block(16, 16, 16, 12, 9, 2)};
  for (bool no_rounding : {false, true}) {
    const McOptions mc{McFilter::kMpeg4, no_rounding};
    const MotionGrid grid = MotionGrid::Build(mvs, w, h);
    std::vector<int16_t> y(w * h, 999), u(cw * ch, 999), v(cw * ch, 999);
    ComputeResidualYuv(prev.view(), cur.view(), grid, mc, 0, 2, y.data(),
                       u.data(), v.data());
    ComputeResidualYuv(prev.view(), cur.view(), grid, mc, 2, grid.rows(),
                       y.data(), u.data(), v.data());
    const Planes p = Predict(prev, mvs, mc);
    int non_zero = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      ASSERT_EQ(y[i], cur.y[i] - p.y[i]) << "luma " << i;
      non_zero += y[i] != 0;
    }
    for (size_t i = 0; i < u.size(); ++i) {
      ASSERT_EQ(u[i], cur.u[i] - p.u[i]) << "u " << i;
      ASSERT_EQ(v[i], cur.v[i] - p.v[i]) << "v " << i;
    }
    EXPECT_GT(non_zero, w * h / 2);  // random pictures: mostly non-zero
  }
}

TEST(ResidualTest, EqualsTheDifferenceOfTheRgbPictures) {
  // residual = M (cur - pred) should match RGB(cur) - RGB(pred) up to the
  // rounding of the two conversions, where nothing clips.
  Frame prev(32, 16, 21), cur(32, 16, 22);
  for (auto* f : {&prev, &cur}) {
    for (uint8_t& x : f->y) x = static_cast<uint8_t>(60 + x % 120);
    for (uint8_t& x : f->u) x = static_cast<uint8_t>(108 + x % 40);
    for (uint8_t& x : f->v) x = static_cast<uint8_t>(108 + x % 40);
  }
  const std::vector<MotionVector> mvs = {Block(0, 0, 16, 1, 3, 2),
                                         Block(16, 0, 16, -2, 1, 2)};
  const McOptions mc{McFilter::kMpeg4, true};
  const MotionGrid grid = MotionGrid::Build(mvs, 32, 16);
  const YuvToRgb m = YuvToRgb::Make(true, false);
  std::vector<int16_t> y(32 * 16), u(16 * 8), v(16 * 8);
  ComputeResidualYuv(prev.view(), cur.view(), grid, mc, 0, grid.rows(),
                     y.data(), u.data(), v.data());
  std::vector<float> res(3 * 512);
  for (int py = 0; py < 16; ++py) {
    for (int px = 0; px < 32; ++px) {
      const int i = py * 32 + px, c = (py / 2) * 16 + px / 2;
      const RgbResidual rgb = ResidualToRgb(m, y[i], u[c], v[c]);
      res[i] = rgb.r;
      res[512 + i] = rgb.g;
      res[1024 + i] = rgb.b;
    }
  }
  const Planes p = Predict(prev, mvs, mc);
  const Yuv420View pred{p.y.data(), p.u.data(), p.v.data(), 32, 16, 32, 16};
  std::vector<uint8_t> rgb_cur(3 * 512), rgb_pred(3 * 512);
  ConvertToRgbPlanar(cur.view(), m, 0, 16, rgb_cur.data(), rgb_cur.data() + 512,
                     rgb_cur.data() + 1024);
  ConvertToRgbPlanar(pred, m, 0, 16, rgb_pred.data(), rgb_pred.data() + 512,
                     rgb_pred.data() + 1024);
  for (size_t i = 0; i < res.size(); ++i) {
    // The two conversions round to integers, each within 0.5.
    ASSERT_NEAR(res[i], static_cast<float>(rgb_cur[i]) - rgb_pred[i], 1.0f)
        << i;
  }
}

TEST(YuvTest, ConvertsTheReferenceColours) {
  auto convert = [](const YuvToRgb& m, uint8_t y, uint8_t u, uint8_t v) {
    const uint8_t ys[4] = {y, y, y, y};
    Yuv420View view{ys, &u, &v, 2, 1, 2, 2};
    uint8_t out[12];
    ConvertToRgbPlanar(view, m, 0, 2, out, out + 4, out + 8);
    return std::array<int, 3>{out[0], out[4], out[8]};
  };
  const YuvToRgb bt601 = YuvToRgb::Make(false, false);
  EXPECT_EQ(convert(bt601, 16, 128, 128), (std::array<int, 3>{0, 0, 0}));
  EXPECT_EQ(convert(bt601, 235, 128, 128), (std::array<int, 3>{255, 255, 255}));
  // 75% red in BT.601 limited range: Y 65, Cb 100, Cr 212 -> (191, 0, 0).
  const std::array<int, 3> red = convert(bt601, 65, 100, 212);
  EXPECT_NEAR(red[0], 191, 2);
  EXPECT_LE(red[1], 2);
  EXPECT_LE(red[2], 2);
  const YuvToRgb full = YuvToRgb::Make(false, true);
  EXPECT_EQ(convert(full, 255, 128, 128), (std::array<int, 3>{255, 255, 255}));
  EXPECT_EQ(convert(full, 100, 128, 128), (std::array<int, 3>{100, 100, 100}));
  const YuvToRgb bt709 = YuvToRgb::Make(true, false);
  EXPECT_NE(convert(bt709, 65, 100, 212), red);
}

TEST(FilterTest, BilinearAndFullPelDifferFromTheCodecFilter) {
  const Frame prev(32, 16, 9);
  const std::vector<MotionVector> mvs = {Block(0, 0, 16, 3, 1, 4),
                                         Block(16, 0, 16, -5, 2, 4)};
  const Planes h264 = Predict(prev, mvs, {McFilter::kH264, false});
  const Planes bilinear = Predict(prev, mvs, {McFilter::kBilinear, false});
  const Planes fullpel = Predict(prev, mvs, {McFilter::kFullPel, false});
  EXPECT_NE(h264.y, bilinear.y);
  EXPECT_NE(bilinear.y, fullpel.y);
  // Full-pel is the vector truncated towards zero: (0, 0) and (-1, 0).
  EXPECT_EQ(fullpel.y[5 * 32 + 5], prev.Y(5, 5));
  EXPECT_EQ(fullpel.y[5 * 32 + 20], prev.Y(19, 5));
  EXPECT_STREQ(McFilterName(McFilter::kH264), "h264");
}

}  // namespace
}  // namespace mapn
