#include "mapn/video/motion_vectors.h"

#include <algorithm>

namespace mapn {
namespace {

// Rounds towards +infinity for either sign (C++ division truncates).
int64_t CeilDiv(int64_t a, int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

}  // namespace

MotionGrid MotionGrid::Build(const std::vector<MotionVector>& vectors,
                             int width, int height) {
  MotionGrid grid;
  grid.width_ = std::max(width, 0);
  grid.height_ = std::max(height, 0);
  // Whole macroblocks (two cells a side): FFmpeg exports the vectors of
  // macroblocks that overhang the picture, and MPEG-4 four-vector chroma
  // needs all four of a macroblock's vectors.
  grid.cols_ = 2 * ((grid.width_ + 2 * kCell - 1) / (2 * kCell));
  grid.rows_ = 2 * ((grid.height_ + 2 * kCell - 1) / (2 * kCell));
  grid.cells_.assign(static_cast<size_t>(grid.cols_) * grid.rows_, Cell{});
  for (const MotionVector& mv : vectors) {
    if (mv.source >= 0 || mv.w <= 0 || mv.h <= 0 || mv.motion_scale < 1 ||
        mv.motion_scale > 255) {
      continue;
    }
    // Cells whose centre (8c + 4) lies in [dst - w/2, dst + w/2).
    const int64_t x0 = int64_t{mv.dst_x} - mv.w / 2;
    const int64_t y0 = int64_t{mv.dst_y} - mv.h / 2;
    const int64_t c_begin = std::max<int64_t>(0, CeilDiv(x0 - 4, kCell));
    const int64_t c_end =
        std::min<int64_t>(grid.cols_, CeilDiv(x0 + mv.w - 4, kCell));
    const int64_t r_begin = std::max<int64_t>(0, CeilDiv(y0 - 4, kCell));
    const int64_t r_end =
        std::min<int64_t>(grid.rows_, CeilDiv(y0 + mv.h - 4, kCell));
    Cell cell;
    cell.motion_x = static_cast<int16_t>(
        std::clamp<int32_t>(mv.motion_x, INT16_MIN, INT16_MAX));
    cell.motion_y = static_cast<int16_t>(
        std::clamp<int32_t>(mv.motion_y, INT16_MIN, INT16_MAX));
    cell.motion_scale = static_cast<uint8_t>(mv.motion_scale);
    cell.has_vector = true;
    cell.from_8x8 = mv.w == 8 && mv.h == 8;
    for (int64_t r = r_begin; r < r_end; ++r) {
      for (int64_t c = c_begin; c < c_end; ++c) {
        grid.cells_[r * grid.cols_ + c] = cell;
      }
    }
  }
  return grid;
}

int64_t MotionGrid::covered_cells() const {
  return std::count_if(cells_.begin(), cells_.end(),
                       [](const Cell& c) { return c.has_vector; });
}

const MotionVector* FirstOffGridVector(
    const std::vector<MotionVector>& vectors) {
  constexpr int kCell = MotionGrid::kCell;
  for (const MotionVector& mv : vectors) {
    if (mv.source >= 0) continue;
    const int64_t x0 = int64_t{mv.dst_x} - mv.w / 2;
    const int64_t y0 = int64_t{mv.dst_y} - mv.h / 2;
    if (mv.w <= 0 || mv.h <= 0 || mv.w % kCell != 0 || mv.h % kCell != 0 ||
        x0 % kCell != 0 || y0 % kCell != 0) {
      return &mv;
    }
  }
  return nullptr;
}

void WriteBlockMotion(const MotionGrid& grid, int row_begin, int row_end,
                      float* dx, float* dy, bool* intra) {
  constexpr int kCell = MotionGrid::kCell;
  const int rows = (grid.height() + kCell - 1) / kCell;
  const int cols = (grid.width() + kCell - 1) / kCell;
  for (int r = std::max(row_begin, 0); r < std::min(row_end, rows); ++r) {
    const int64_t row = static_cast<int64_t>(r) * cols;
    for (int c = 0; c < cols; ++c) {
      const MotionGrid::Cell& cell = grid.at(r, c);
      const float scale = cell.motion_scale;
      dx[row + c] = cell.motion_x / scale;
      dy[row + c] = cell.motion_y / scale;
      intra[row + c] = !cell.has_vector;
    }
  }
}

}  // namespace mapn
