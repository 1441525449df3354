// File: motion_vectors.h
//
// The codec's motion vectors as FFmpeg exports them, and their conversion to
// the 8x8 block grid of a GopWindow. MotionVector mirrors FFmpeg's
// AVMotionVector (same fields, same meaning, in the column order of the
// mv-extractor reference files) so raw vectors can be compared block for
// block with other tools; MotionGrid is the same information on a grid of
// 8x8 luma cells, the unit the residual's motion compensation works on.
//
// Conventions (docs/video.md, "Motion vectors"):
//   * (dst_x, dst_y) is the block CENTRE in the current frame; the block
//     covers [dst_x - w/2, dst_x + w/2) x [dst_y - h/2, dst_y + h/2).
//   * The exact displacement is motion / motion_scale pixels and points from
//     the current block to its prediction in the reference:
//     src = dst + motion / motion_scale (src_x, src_y are that, truncated).
//   * P-frame pixels no vector covers belong to intra macroblocks. Skipped
//     macroblocks are exported with their (zero for MPEG-4) vector.
//   * FFmpeg (libavcodec/mpegutils.c, ff_print_debug_info2, 5.1) exports
//     per macroblock one 16x16, two 16x8 or 8x16, or four 8x8 vectors, at
//     fixed positions inside the macroblock: every block lies on the 8-pixel
//     grid. An H.264 8x8 partition split further (8x4, 4x8, 4x4) is exported
//     as one 8x8 block carrying the vector of its top-left sub-block; the
//     other sub-blocks' vectors are not exported at all. So a grid of 8x8
//     cells holds everything exported; FirstOffGridVector finds a vector
//     that would break this.
//
// Example:
//
//   std::vector<MotionVector> mvs = ...;  // one P-frame's vectors
//   if (FirstOffGridVector(mvs) != nullptr) return an error;
//   MotionGrid grid = MotionGrid::Build(mvs, width, height);
//   WriteBlockMotion(grid, 0, grid.rows(), dx, dy, intra);
#ifndef MAPN_VIDEO_MOTION_VECTORS_H_
#define MAPN_VIDEO_MOTION_VECTORS_H_

#include <cstdint>
#include <vector>

namespace mapn {

struct MotionVector {
  int32_t source = -1;  // -1: a past reference, +1: a future one
  int32_t w = 16;       // block width in pixels
  int32_t h = 16;       // block height in pixels
  int32_t src_x = 0;
  int32_t src_y = 0;
  int32_t dst_x = 8;  // block centre
  int32_t dst_y = 8;
  int32_t motion_x = 0;  // displacement in units of 1 / motion_scale pixel
  int32_t motion_y = 0;
  int32_t motion_scale = 1;

  float dx() const { return static_cast<float>(motion_x) / motion_scale; }
  float dy() const { return static_cast<float>(motion_y) / motion_scale; }
  bool operator==(const MotionVector&) const = default;
};

// One P-frame's vectors on a grid of 8x8 luma cells (the smallest block
// FFmpeg exports for MPEG-4 Part 2 and H.264). A cell takes the vector of the
// block that covers its centre; cells no past-reference vector covers are
// intra.
class MotionGrid {
 public:
  static constexpr int kCell = 8;

  struct Cell {
    int16_t motion_x = 0;  // in units of 1 / motion_scale pixel
    int16_t motion_y = 0;
    uint8_t motion_scale = 1;
    bool has_vector = false;
    // The cell's block was 8x8 (MPEG-4 "4MV" macroblocks derive their
    // chroma vector from the four luma vectors together).
    bool from_8x8 = false;
  };

  MotionGrid() = default;
  // Vectors with source >= 0, zero or negative block sizes or a
  // motion_scale outside [1, 255] are ignored (FFmpeg never exports them for
  // P-frames); vectors are applied in order, so a later one wins a cell.
  static MotionGrid Build(const std::vector<MotionVector>& vectors, int width,
                          int height);

  int width() const { return width_; }  // frame size in pixels
  int height() const { return height_; }
  // Cells cover whole 16x16 macroblocks, so they may overhang the picture:
  // cols() = 2 * ceil(width / 16), rows() = 2 * ceil(height / 16).
  int cols() const { return cols_; }
  int rows() const { return rows_; }
  const Cell& at(int row, int col) const { return cells_[row * cols_ + col]; }
  // Number of cells with a vector.
  int64_t covered_cells() const;

 private:
  int width_ = 0, height_ = 0, cols_ = 0, rows_ = 0;
  std::vector<Cell> cells_;
};

// The first past-reference vector (source < 0) whose block is not a union
// of cells of the 8x8 grid: width or height not a positive multiple of 8,
// or its top-left corner (dst - size / 2) not on a multiple of 8. Null when
// every vector is on the grid, as FFmpeg's are. MotionGrid::Build would
// give such a block only to the cells whose centre it covers, so the grid
// would not carry it exactly.
const MotionVector* FirstOffGridVector(
    const std::vector<MotionVector>& vectors);

// Writes cell rows [row_begin, row_end) of the picture's block grid, the
// ceil(width / 8) x ceil(height / 8) cells that cover pixels (the grid's
// overhanging cells are left out): dx, dy (float planes of that size, in
// pixels, src - dst) and intra (true where no vector covers the cell).
// Disjoint row ranges may be written concurrently.
void WriteBlockMotion(const MotionGrid& grid, int row_begin, int row_end,
                      float* dx, float* dy, bool* intra);

}  // namespace mapn

#endif  // MAPN_VIDEO_MOTION_VECTORS_H_
