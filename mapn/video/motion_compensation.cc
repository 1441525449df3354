#include "mapn/video/motion_compensation.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "mapn/video/simd.h"

namespace mapn {
namespace {

constexpr int kLuma = MotionGrid::kCell;  // 8x8 luma per cell
constexpr int kChroma = kLuma / 2;        // 4x4 chroma per cell

struct Plane {
  const uint8_t* data;
  int stride;
  int width;
  int height;
};

// Where a cell's prediction goes: 8x8 luma and two 4x4 chroma blocks.
struct CellOut {
  uint8_t* y;
  uint8_t* u;
  uint8_t* v;
  int y_stride;
  int uv_stride;
};

inline uint8_t Clip8(int v) {
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Floor division for a positive divisor (C++ division truncates).
inline int FloorDiv(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// Copies the w x h region with top-left (x, y) into `out` (row stride w),
// replicating the plane's edge samples outside it, as the codecs' edge
// emulation does for vectors that point outside the picture.
void Fetch(const Plane& p, int x, int y, int w, int h, uint8_t* out) {
  if (x >= 0 && y >= 0 && x + w <= p.width && y + h <= p.height) {
    for (int r = 0; r < h; ++r) {
      std::memcpy(out + r * w,
                  p.data + static_cast<int64_t>(y + r) * p.stride + x, w);
    }
    return;
  }
  for (int r = 0; r < h; ++r) {
    const int yy = std::clamp(y + r, 0, p.height - 1);
    const uint8_t* row = p.data + static_cast<int64_t>(yy) * p.stride;
    for (int c = 0; c < w; ++c) {
      out[r * w + c] = row[std::clamp(x + c, 0, p.width - 1)];
    }
  }
}

// Points at the (w x h) region with top-left (x, y) of `p`: directly into
// the plane when it lies inside, else into `scratch` (row stride w) filled
// with edge replication.
inline const uint8_t* Region(const Plane& p, int x, int y, int w, int h,
                             uint8_t* scratch, int* stride) {
  if (x >= 0 && y >= 0 && x + w <= p.width && y + h <= p.height) {
    *stride = p.stride;
    return p.data + static_cast<int64_t>(y) * p.stride + x;
  }
  Fetch(p, x, y, w, h, scratch);
  *stride = w;
  return scratch;
}

// Adjacent cells with the same vector are predicted together, up to this
// many luma columns (longer rows vectorise better and amortise the calls).
constexpr int kMaxRun = 64;

// MPEG-4 / H.263 half-pel block of w x h at integer position (x, y) with
// half-sample flags hx, hy; FFmpeg's put_pixels / put_no_rnd_pixels.
// w <= kMaxRun, h <= kLuma.
MAPN_VECTOR_CLONES
void HalfPel(const Plane& p, int x, int y, int w, int h, int hx, int hy,
             bool no_rounding, uint8_t* out, int out_stride) {
  uint8_t scratch[(kMaxRun + 1) * (kLuma + 1)];
  int s = 0;
  const uint8_t* ref = Region(p, x, y, w + hx, h + hy, scratch, &s);
  const int rnd = no_rounding ? 0 : 1;
  for (int r = 0; r < h; ++r) {
    const uint8_t* a = ref + r * s;
    const uint8_t* c = a + s;
    uint8_t* o = out + r * out_stride;
    if (!hx && !hy) {
      std::memcpy(o, a, static_cast<size_t>(w));
    } else if (hx && !hy) {
      for (int i = 0; i < w; ++i) {
        o[i] = static_cast<uint8_t>((a[i] + a[i + 1] + rnd) >> 1);
      }
    } else if (!hx && hy) {
      for (int i = 0; i < w; ++i) {
        o[i] = static_cast<uint8_t>((a[i] + c[i] + rnd) >> 1);
      }
    } else {
      for (int i = 0; i < w; ++i) {
        o[i] = static_cast<uint8_t>(
            (a[i] + a[i + 1] + c[i] + c[i + 1] + 1 + rnd) >> 2);
      }
    }
  }
}

// Bilinear w x h block at (x + fx / d, y + fy / d), 0 <= fx, fy < d.
MAPN_VECTOR_CLONES
void Bilinear(const Plane& p, int x, int y, int w, int h, int fx, int fy, int d,
              uint8_t* out, int out_stride) {
  uint8_t scratch[(kMaxRun + 1) * (kLuma + 1)];
  int s = 0;
  const uint8_t* ref = Region(p, x, y, w + 1, h + 1, scratch, &s);
  if (fx == 0 && fy == 0) {
    for (int r = 0; r < h; ++r) {
      std::memcpy(out + r * out_stride, ref + r * s, static_cast<size_t>(w));
    }
    return;
  }
  const int w00 = (d - fx) * (d - fy), w01 = fx * (d - fy);
  const int w10 = (d - fx) * fy, w11 = fx * fy;
  const int norm = d * d;
  const bool power_of_two = (norm & (norm - 1)) == 0;
  int shift = 0;
  while ((1 << shift) < norm) ++shift;
  for (int r = 0; r < h; ++r) {
    const uint8_t* a = ref + r * s;
    const uint8_t* c = a + s;
    uint8_t* o = out + r * out_stride;
    if (power_of_two) {  // every codec's case: a shift, which vectorises
      for (int i = 0; i < w; ++i) {
        const int sum =
            w00 * a[i] + w01 * a[i + 1] + w10 * c[i] + w11 * c[i + 1];
        o[i] = static_cast<uint8_t>((sum + norm / 2) >> shift);
      }
    } else {
      for (int i = 0; i < w; ++i) {
        const int sum =
            w00 * a[i] + w01 * a[i + 1] + w10 * c[i] + w11 * c[i + 1];
        o[i] = static_cast<uint8_t>((sum + norm / 2) / norm);
      }
    }
  }
}

inline int Tap6(int a, int b, int c, int d, int e, int f) {
  return a - 5 * b + 20 * c + 20 * d - 5 * e + f;
}

inline uint8_t Avg(int a, int b) {
  return static_cast<uint8_t>((a + b + 1) >> 1);
}

// H.264 luma (ITU-T H.264 8.4.2.2.1) for a w x 8 block whose full-sample
// position is (x, y) and quarter-sample fraction (fx, fy). Only the half
// samples the fraction needs are computed.
MAPN_VECTOR_CLONES
void H264Luma(const Plane& p, int x, int y, int w, int fx, int fy, uint8_t* out,
              int out_stride) {
  constexpr int H = kLuma;
  constexpr int kRows = H + 5;  // 2 rows before, 3 after
  constexpr int kCols = kMaxRun + 5;
  uint8_t scratch[kCols * kRows];
  int s = 0;
  // ref(r, c) is the sample at (x + c, y + r), r, c >= -2.
  const uint8_t* base = Region(p, x - 2, y - 2, w + 5, kRows, scratch, &s);
  auto ref = [&](int r, int c) -> const uint8_t* {
    return base + (r + 2) * s + (c + 2);
  };
  if (fx == 0 && fy == 0) {
    for (int r = 0; r < H; ++r) {
      std::memcpy(out + r * out_stride, ref(r, 0), static_cast<size_t>(w));
    }
    return;
  }
  // Which half samples the position needs (Table 8-12 and 8-250..8-261).
  const bool need_j = (fx == 2 && fy != 0) || (fy == 2 && fx != 0);
  const bool need_b = fy != 2 || fx == 2 ? (fx != 0) : false;
  const bool need_h = fx != 2 || fy == 2 ? (fy != 0) : false;
  // b rows 0..8 (row 8 is "s"), h columns 0..w (column w is "m").
  static_assert(kMaxRun % 8 == 0);
  uint8_t b[H + 1][kMaxRun];
  uint8_t h[H][kMaxRun + 1];
  uint8_t j[H][kMaxRun];
  if (need_b) {
    for (int r = 0; r <= H; ++r) {
      const uint8_t* row = ref(r, -2);
      for (int c = 0; c < w; ++c) {
        b[r][c] = Clip8((Tap6(row[c], row[c + 1], row[c + 2], row[c + 3],
                              row[c + 4], row[c + 5]) +
                         16) >>
                        5);
      }
    }
  }
  if (need_h) {
    for (int r = 0; r < H; ++r) {
      const uint8_t* col = ref(r - 2, 0);
      for (int c = 0; c <= w; ++c) {
        h[r][c] = Clip8((Tap6(col[c], col[c + s], col[c + 2 * s],
                              col[c + 3 * s], col[c + 4 * s], col[c + 5 * s]) +
                         16) >>
                        5);
      }
    }
  }
  if (need_j) {
    // j from the unrounded horizontal half samples of rows -2..10.
    int b1[kRows][kMaxRun];
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* row = ref(r - 2, -2);
      for (int c = 0; c < w; ++c) {
        b1[r][c] = Tap6(row[c], row[c + 1], row[c + 2], row[c + 3], row[c + 4],
                        row[c + 5]);
      }
    }
    for (int r = 0; r < H; ++r) {
      for (int c = 0; c < w; ++c) {
        j[r][c] = Clip8((Tap6(b1[r][c], b1[r + 1][c], b1[r + 2][c],
                              b1[r + 3][c], b1[r + 4][c], b1[r + 5][c]) +
                         512) >>
                        10);
      }
    }
  }
  for (int r = 0; r < H; ++r) {
    const uint8_t* g = ref(r, 0);
    const uint8_t* g_below = ref(r + 1, 0);
    uint8_t* o = out + r * out_stride;
    switch (fy * 4 + fx) {
      case 1:  // a
        for (int c = 0; c < w; ++c) o[c] = Avg(g[c], b[r][c]);
        break;
      case 2:  // b
        std::memcpy(o, b[r], static_cast<size_t>(w));
        break;
      case 3:  // c
        for (int c = 0; c < w; ++c) o[c] = Avg(g[c + 1], b[r][c]);
        break;
      case 4:  // d
        for (int c = 0; c < w; ++c) o[c] = Avg(g[c], h[r][c]);
        break;
      case 5:  // e
        for (int c = 0; c < w; ++c) o[c] = Avg(b[r][c], h[r][c]);
        break;
      case 6:  // f
        for (int c = 0; c < w; ++c) o[c] = Avg(b[r][c], j[r][c]);
        break;
      case 7:  // g
        for (int c = 0; c < w; ++c) o[c] = Avg(b[r][c], h[r][c + 1]);
        break;
      case 8:  // h
        std::memcpy(o, h[r], static_cast<size_t>(w));
        break;
      case 9:  // i
        for (int c = 0; c < w; ++c) o[c] = Avg(h[r][c], j[r][c]);
        break;
      case 10:  // j
        std::memcpy(o, j[r], static_cast<size_t>(w));
        break;
      case 11:  // k
        for (int c = 0; c < w; ++c) o[c] = Avg(j[r][c], h[r][c + 1]);
        break;
      case 12:  // n
        for (int c = 0; c < w; ++c) o[c] = Avg(g_below[c], h[r][c]);
        break;
      case 13:  // p
        for (int c = 0; c < w; ++c) o[c] = Avg(h[r][c], b[r + 1][c]);
        break;
      case 14:  // q
        for (int c = 0; c < w; ++c) o[c] = Avg(j[r][c], b[r + 1][c]);
        break;
      case 15:  // r
        for (int c = 0; c < w; ++c) o[c] = Avg(h[r][c + 1], b[r + 1][c]);
        break;
      default:
        break;
    }
  }
}

// MPEG-4 chroma vector of a four-vector macroblock from the sum of its luma
// vectors, in chroma half-samples (FFmpeg's ff_h263_round_chroma).
inline int RoundChroma4(int sum) {
  static constexpr uint8_t kTable[16] = {0, 0, 0, 1, 1, 1, 1, 1,
                                         0, 0, 0, 0, 0, 0, 1, 1};
  return kTable[sum & 0xf] + (sum >> 3);
}

inline bool SameMotion(const MotionGrid::Cell& a, const MotionGrid::Cell& b) {
  return a.has_vector == b.has_vector && a.from_8x8 == b.from_8x8 &&
         a.motion_x == b.motion_x && a.motion_y == b.motion_y &&
         a.motion_scale == b.motion_scale;
}

class Predictor {
 public:
  Predictor(const Yuv420View& prev, const MotionGrid& grid,
            const McOptions& options)
      : grid_(grid), options_(options) {
    luma_ = {prev.y, prev.y_stride, prev.width, prev.height};
    const int cw = (prev.width + 1) / 2, ch = (prev.height + 1) / 2;
    cb_ = {prev.u, prev.uv_stride, cw, ch};
    cr_ = {prev.v, prev.uv_stride, cw, ch};
  }

  // How many cells from (row, col) on (at most `limit`) share one
  // prediction call. MPEG-4 four-vector cells go one by one (their chroma
  // vector is their macroblock's).
  int RunLength(int row, int col, int limit) const {
    const MotionGrid::Cell& first = grid_.at(row, col);
    if (first.from_8x8 && options_.filter == McFilter::kMpeg4) return 1;
    int n = 1;
    const int max_cells = std::min(limit, kMaxRun / kLuma);
    while (n < max_cells && SameMotion(first, grid_.at(row, col + n))) ++n;
    return n;
  }

  // Predicts `cells` cells from (row, col), all with the vector of the first.
  void Predict(int row, int col, int cells, const CellOut& out) const {
    const MotionGrid::Cell& cell = grid_.at(row, col);
    const int x = col * kLuma, y = row * kLuma;
    const int cx = col * kChroma, cy = row * kChroma;
    const int lw = cells * kLuma, cwid = cells * kChroma;
    const int mx = cell.motion_x, my = cell.motion_y;
    const int scale = cell.has_vector ? cell.motion_scale : 1;
    McFilter filter = options_.filter;
    if ((filter == McFilter::kMpeg4 && scale != 2 && cell.has_vector) ||
        (filter == McFilter::kH264 && scale != 4 && cell.has_vector)) {
      filter = McFilter::kBilinear;  // a precision the filter does not use
    }
    if (!cell.has_vector) filter = McFilter::kBilinear;  // zero motion
    switch (filter) {
      case McFilter::kMpeg4: {
        HalfPel(luma_, x + (mx >> 1), y + (my >> 1), lw, kLuma, mx & 1, my & 1,
                options_.no_rounding, out.y, out.y_stride);
        int cmx, cmy;  // chroma vector in chroma half samples
        if (cell.from_8x8) {
          int sx = 0, sy = 0;
          const int r0 = row & ~1, c0 = col & ~1;
          for (int r = r0; r < r0 + 2 && r < grid_.rows(); ++r) {
            for (int c = c0; c < c0 + 2 && c < grid_.cols(); ++c) {
              sx += grid_.at(r, c).motion_x;
              sy += grid_.at(r, c).motion_y;
            }
          }
          cmx = RoundChroma4(sx);
          cmy = RoundChroma4(sy);
        } else {
          // One-vector macroblocks: half the luma vector, fractions rounded
          // to the half sample (FFmpeg's mpeg_motion for H.263 / MPEG-4).
          cmx = 2 * (mx >> 2) + ((mx & 3) != 0 ? 1 : 0);
          cmy = 2 * (my >> 2) + ((my & 3) != 0 ? 1 : 0);
        }
        HalfPel(cb_, cx + (cmx >> 1), cy + (cmy >> 1), cwid, kChroma, cmx & 1,
                cmy & 1, options_.no_rounding, out.u, out.uv_stride);
        HalfPel(cr_, cx + (cmx >> 1), cy + (cmy >> 1), cwid, kChroma, cmx & 1,
                cmy & 1, options_.no_rounding, out.v, out.uv_stride);
        return;
      }
      case McFilter::kH264: {
        H264Luma(luma_, x + (mx >> 2), y + (my >> 2), lw, mx & 3, my & 3, out.y,
                 out.y_stride);
        // Quarter luma samples are eighth chroma samples.
        Bilinear(cb_, cx + (mx >> 3), cy + (my >> 3), cwid, kChroma, mx & 7,
                 my & 7, 8, out.u, out.uv_stride);
        Bilinear(cr_, cx + (mx >> 3), cy + (my >> 3), cwid, kChroma, mx & 7,
                 my & 7, 8, out.v, out.uv_stride);
        return;
      }
      case McFilter::kBilinear:
      case McFilter::kFullPel: {
        int lx = mx, ly = my, d = scale;
        if (!cell.has_vector) lx = ly = 0;
        if (filter == McFilter::kFullPel) {
          lx = lx / scale;  // truncation towards zero, as src - dst
          ly = ly / scale;
          d = 1;
        }
        const int ix = FloorDiv(lx, d), iy = FloorDiv(ly, d);
        Bilinear(luma_, x + ix, y + iy, lw, kLuma, lx - ix * d, ly - iy * d, d,
                 out.y, out.y_stride);
        const int cd = 2 * d;
        const int icx = FloorDiv(lx, cd), icy = FloorDiv(ly, cd);
        Bilinear(cb_, cx + icx, cy + icy, cwid, kChroma, lx - icx * cd,
                 ly - icy * cd, cd, out.u, out.uv_stride);
        Bilinear(cr_, cx + icx, cy + icy, cwid, kChroma, lx - icx * cd,
                 ly - icy * cd, cd, out.v, out.uv_stride);
        return;
      }
    }
  }

 private:
  const MotionGrid& grid_;
  McOptions options_;
  Plane luma_{}, cb_{}, cr_{};
};

}  // namespace

const char* McFilterName(McFilter filter) {
  switch (filter) {
    case McFilter::kMpeg4:
      return "mpeg4-halfpel";
    case McFilter::kH264:
      return "h264";
    case McFilter::kBilinear:
      return "bilinear";
    case McFilter::kFullPel:
      return "fullpel";
  }
  return "?";
}

namespace {

// Predicts one band (cell row) into band buffers: y is 8 rows of
// `padded_width`, u and v 4 rows of padded_width / 2. Cells are predicted
// whole, so the buffers cover whole cells (padded_width = 8 * cells).
void PredictBand(const Predictor& predictor, int row, int cells,
                 int padded_width, uint8_t* y, uint8_t* u, uint8_t* v) {
  const int uv_stride = padded_width / 2;
  for (int col = 0; col < cells;) {
    const int run = predictor.RunLength(row, col, cells - col);
    predictor.Predict(row, col, run,
                      CellOut{y + col * kLuma, u + col * kChroma,
                              v + col * kChroma, padded_width, uv_stride});
    col += run;
  }
}

// One row of cur - prediction, widened to int16.
MAPN_VECTOR_CLONES
void DifferenceRow(const uint8_t* __restrict cur,
                   const uint8_t* __restrict prediction, int n,
                   int16_t* __restrict out) {
  for (int i = 0; i < n; ++i) {
    out[i] = static_cast<int16_t>(static_cast<int>(cur[i]) - prediction[i]);
  }
}

}  // namespace

void PredictYuv(const Yuv420View& prev, const MotionGrid& grid,
                const McOptions& options, int cell_row_begin, int cell_row_end,
                uint8_t* y, uint8_t* u, uint8_t* v) {
  const Predictor predictor(prev, grid, options);
  const int width = grid.width(), height = grid.height();
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  const int cells = (width + kLuma - 1) / kLuma;
  const int padded = cells * kLuma;
  std::vector<uint8_t> band(static_cast<size_t>(padded) * (kLuma + kLuma / 2));
  uint8_t* by = band.data();
  uint8_t* bu = by + padded * kLuma;
  uint8_t* bv = bu + padded / 2 * kChroma;
  for (int row = cell_row_begin; row < cell_row_end; ++row) {
    const int y0 = row * kLuma;
    if (y0 >= height) break;
    PredictBand(predictor, row, cells, padded, by, bu, bv);
    for (int r = 0; r < std::min(kLuma, height - y0); ++r) {
      std::memcpy(y + static_cast<int64_t>(y0 + r) * width, by + r * padded,
                  static_cast<size_t>(width));
    }
    const int cy0 = row * kChroma;
    for (int r = 0; r < std::min(kChroma, ch - cy0); ++r) {
      std::memcpy(u + static_cast<int64_t>(cy0 + r) * cw, bu + r * padded / 2,
                  static_cast<size_t>(cw));
      std::memcpy(v + static_cast<int64_t>(cy0 + r) * cw, bv + r * padded / 2,
                  static_cast<size_t>(cw));
    }
  }
}

void ComputeResidualYuv(const Yuv420View& prev, const Yuv420View& cur,
                        const MotionGrid& grid, const McOptions& options,
                        int cell_row_begin, int cell_row_end, int16_t* y,
                        int16_t* u, int16_t* v) {
  const Predictor predictor(prev, grid, options);
  const int width = grid.width(), height = grid.height();
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  const int cells = (width + kLuma - 1) / kLuma;
  const int padded = cells * kLuma;
  std::vector<uint8_t> band(static_cast<size_t>(padded) * (kLuma + kLuma / 2));
  uint8_t* by = band.data();
  uint8_t* bu = by + padded * kLuma;
  uint8_t* bv = bu + padded / 2 * kChroma;
  for (int row = cell_row_begin; row < cell_row_end; ++row) {
    const int y0 = row * kLuma;
    if (y0 >= height) break;
    PredictBand(predictor, row, cells, padded, by, bu, bv);
    for (int r = 0; r < std::min(kLuma, height - y0); ++r) {
      const int64_t yy = y0 + r;
      DifferenceRow(cur.y + yy * cur.y_stride, by + r * padded, width,
                    y + yy * width);
    }
    const int cy0 = row * kChroma;
    for (int r = 0; r < std::min(kChroma, ch - cy0); ++r) {
      const int64_t cy = cy0 + r;
      DifferenceRow(cur.u + cy * cur.uv_stride, bu + r * padded / 2, cw,
                    u + cy * cw);
      DifferenceRow(cur.v + cy * cur.uv_stride, bv + r * padded / 2, cw,
                    v + cy * cw);
    }
  }
}

}  // namespace mapn
