#include "mapn/video/yuv.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "mapn/video/simd.h"

namespace mapn {
namespace {

int32_t Fixed(double x) {
  return static_cast<int32_t>(std::lround(x * (1 << YuvToRgb::kShift)));
}

}  // namespace

YuvToRgb YuvToRgb::Make(bool bt709, bool full_range) {
  // Kr, Kb of the two matrices; Kg = 1 - Kr - Kb.
  const double kr = bt709 ? 0.2126 : 0.299;
  const double kb = bt709 ? 0.0722 : 0.114;
  const double kg = 1.0 - kr - kb;
  const double y_scale = full_range ? 1.0 : 255.0 / 219.0;
  const double c_scale = full_range ? 1.0 : 255.0 / 224.0;
  YuvToRgb m;
  m.bt709 = bt709;
  m.full_range = full_range;
  m.y0 = full_range ? 0 : 16;
  m.cy = Fixed(y_scale);
  m.crv = Fixed(2.0 * (1.0 - kr) * c_scale);
  m.cbu = Fixed(2.0 * (1.0 - kb) * c_scale);
  m.cgu = Fixed(-2.0 * (1.0 - kb) * kb / kg * c_scale);
  m.cgv = Fixed(-2.0 * (1.0 - kr) * kr / kg * c_scale);
  return m;
}

namespace {

// Expands one chroma row into per-luma-column additive terms (each chroma
// sample covers two columns), rounding constant included.
MAPN_VECTOR_CLONES
void ChromaTerms(const uint8_t* __restrict u, const uint8_t* __restrict v,
                 int32_t crv, int32_t cgu, int32_t cgv, int32_t cbu, int width,
                 int32_t* __restrict rv, int32_t* __restrict guv,
                 int32_t* __restrict bu) {
  const int32_t round = 1 << (YuvToRgb::kShift - 1);
  const int pairs = width / 2;
  for (int cx = 0; cx < pairs; ++cx) {
    const int32_t uu = static_cast<int32_t>(u[cx]) - 128;
    const int32_t vv = static_cast<int32_t>(v[cx]) - 128;
    const int32_t r_term = crv * vv + round;
    const int32_t g_term = cgu * uu + cgv * vv + round;
    const int32_t b_term = cbu * uu + round;
    rv[2 * cx] = r_term;
    rv[2 * cx + 1] = r_term;
    guv[2 * cx] = g_term;
    guv[2 * cx + 1] = g_term;
    bu[2 * cx] = b_term;
    bu[2 * cx + 1] = b_term;
  }
  if (width % 2 != 0) {
    const int x = width - 1;
    const int32_t uu = static_cast<int32_t>(u[x / 2]) - 128;
    const int32_t vv = static_cast<int32_t>(v[x / 2]) - 128;
    rv[x] = crv * vv + round;
    guv[x] = cgu * uu + cgv * vv + round;
    bu[x] = cbu * uu + round;
  }
}

// One luma row; element-wise, so it vectorises.
MAPN_VECTOR_CLONES
void LumaRow(const uint8_t* __restrict y, const int32_t* __restrict rv,
             const int32_t* __restrict guv, const int32_t* __restrict bu,
             int32_t cy, int32_t y0, int width, uint8_t* __restrict r,
             uint8_t* __restrict g, uint8_t* __restrict b) {
  for (int x = 0; x < width; ++x) {
    const int32_t yy = cy * (static_cast<int32_t>(y[x]) - y0);
    r[x] = static_cast<uint8_t>(
        std::clamp((yy + rv[x]) >> YuvToRgb::kShift, 0, 255));
    g[x] = static_cast<uint8_t>(
        std::clamp((yy + guv[x]) >> YuvToRgb::kShift, 0, 255));
    b[x] = static_cast<uint8_t>(
        std::clamp((yy + bu[x]) >> YuvToRgb::kShift, 0, 255));
  }
}

}  // namespace

void ConvertToRgbPlanar(const Yuv420View& src, const YuvToRgb& m, int row_begin,
                        int row_end, uint8_t* r, uint8_t* g, uint8_t* b) {
  const int width = src.width;
  std::vector<int32_t> terms(3 * static_cast<size_t>(width));
  int32_t* rv = terms.data();
  int32_t* guv = rv + width;
  int32_t* bu = guv + width;
  int chroma_row = -1;
  for (int y = row_begin; y < row_end; ++y) {
    if (y / 2 != chroma_row) {
      chroma_row = y / 2;
      ChromaTerms(src.u + static_cast<int64_t>(chroma_row) * src.uv_stride,
                  src.v + static_cast<int64_t>(chroma_row) * src.uv_stride,
                  m.crv, m.cgu, m.cgv, m.cbu, width, rv, guv, bu);
    }
    const int64_t offset = static_cast<int64_t>(y) * width;
    LumaRow(src.y + static_cast<int64_t>(y) * src.y_stride, rv, guv, bu, m.cy,
            m.y0, width, r + offset, g + offset, b + offset);
  }
}

}  // namespace mapn
