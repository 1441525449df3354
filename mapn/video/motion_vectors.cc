#include "mapn/video/motion_vectors.h"

#include <algorithm>
#include <cstring>

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

void WriteDenseMotion(const MotionGrid& grid, int row_begin, int row_end,
                      float* dx, float* dy, bool* intra) {
  const int64_t width = grid.width();
  for (int y = row_begin; y < row_end; ++y) {
    float* dx_row = dx + y * width;
    float* dy_row = dy + y * width;
    bool* intra_row = intra + y * width;
    if (y != row_begin && y % MotionGrid::kCell != 0) {
      // Every row of a cell row is the same: copy the one above.
      std::memcpy(dx_row, dx_row - width, width * sizeof(float));
      std::memcpy(dy_row, dy_row - width, width * sizeof(float));
      std::memcpy(intra_row, intra_row - width, width * sizeof(bool));
      continue;
    }
    const int r = y / MotionGrid::kCell;
    for (int c = 0; c < grid.cols(); ++c) {
      const MotionGrid::Cell& cell = grid.at(r, c);
      const float scale = cell.motion_scale;
      const float vx = cell.motion_x / scale;
      const float vy = cell.motion_y / scale;
      const bool is_intra = !cell.has_vector;
      const int64_t x_end =
          std::min<int64_t>(width, (c + 1) * MotionGrid::kCell);
      for (int64_t x = c * MotionGrid::kCell; x < x_end; ++x) {
        dx_row[x] = vx;
        dy_row[x] = vy;
        intra_row[x] = is_intra;
      }
    }
  }
}

}  // namespace mapn
