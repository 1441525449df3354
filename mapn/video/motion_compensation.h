// File: motion_compensation.h
//
// Motion compensation of a P-frame from its predecessor with the codec's own
// vectors and interpolation filters, and the residual F_t - MC(F_{t-1}) per
// YUV sample. The prediction is computed on the decoded YUV planes, as
// the codec computes it, so for MPEG-4 Part 2 it reproduces the decoder's
// prediction exactly (half-pel averages with the VOP's rounding control, the
// H.263 chroma vector rounding, four-vector chroma), and the residual is the
// decoder's own inverse-transformed residual up to clipping. For H.264 the
// luma 6-tap and chroma eighth-pel filters are exact, but FFmpeg exports
// neither the reference index (only the previous frame is used) nor
// weighted-prediction weights nor sub-8x8 partitions, and the deblocking
// filter changes the decoded frame after prediction; docs/video.md gives the
// measured figures.
//
// Work is per 8x8 luma cell of a MotionGrid, on row pointers, with no
// per-pixel dispatch; disjoint cell-row ranges may run concurrently.
//
// Example:
//
//   McOptions mc{.filter = McFilter::kMpeg4, .no_rounding = vop_rounding};
//   ComputeResidualYuv(prev_yuv, cur_yuv, grid, mc, 0, grid.rows(),
//                      y, u, v);  // int16 planes, 4:2:0
#ifndef MAPN_VIDEO_MOTION_COMPENSATION_H_
#define MAPN_VIDEO_MOTION_COMPENSATION_H_

#include <cstdint>

#include "mapn/video/motion_vectors.h"
#include "mapn/video/yuv.h"

namespace mapn {

enum class McFilter : uint8_t {
  // MPEG-4 Part 2 half-pel: 2- and 4-sample averages honouring the VOP's
  // rounding_type, chroma vectors rounded as H.263 / MPEG-4 specify
  // (one-vector and four-vector macroblocks).
  kMpeg4,
  // H.264: 6-tap half-pel and averaged quarter-pel luma, eighth-pel
  // bilinear chroma.
  kH264,
  // Bilinear interpolation at the exact position motion / motion_scale,
  // chroma at half that (MPEG-4 quarter-pel streams, whose 8-tap filter is
  // not reproduced, and comparisons).
  kBilinear,
  // Vectors truncated to whole pixels, as CoViAR does (comparison only).
  kFullPel,
};

const char* McFilterName(McFilter filter);

struct McOptions {
  McFilter filter = McFilter::kMpeg4;
  // MPEG-4 rounding_type of the P-VOP: averages round down when set.
  bool no_rounding = false;
};

// Writes the prediction of luma cell rows [cell_row_begin, cell_row_end) of
// `grid` (8 luma rows each) into tightly packed planes: y (width * height),
// u and v (ceil(width / 2) * ceil(height / 2)). Cells without a vector
// (intra) are predicted with zero motion.
void PredictYuv(const Yuv420View& prev, const MotionGrid& grid,
                const McOptions& options, int cell_row_begin, int cell_row_end,
                uint8_t* y, uint8_t* u, uint8_t* v);

// Writes cur - prediction for the same cell rows into tightly packed int16
// planes like PredictYuv's: y (width * height), u and v (ceil(width / 2) *
// ceil(height / 2)), values in [-255, 255]. This is gop.h's residual;
// ResidualToRgb (yuv.h) converts it to RGB.
void ComputeResidualYuv(const Yuv420View& prev, const Yuv420View& cur,
                        const MotionGrid& grid, const McOptions& options,
                        int cell_row_begin, int cell_row_end, int16_t* y,
                        int16_t* u, int16_t* v);

}  // namespace mapn

#endif  // MAPN_VIDEO_MOTION_COMPENSATION_H_
