// File: yuv.h
//
// 8-bit 4:2:0 YUV frames as the decoders produce them, and their conversion
// to the planar RGB of a GopWindow. The conversion is the project's own
// (fixed point, chroma replicated over each 2x2 luma block, BT.601 or BT.709,
// limited or full range) rather than swscale's, for two reasons: it writes
// straight into the three planes of the output tensor, and the residual can
// use the very same matrix (ResidualToRgb), so that RGB(F_t) -
// RGB(prediction) equals the matrix applied to the YUV difference up to
// rounding and clipping (docs/video.md, "Residual").
//
// Example:
//
//   Yuv420View view{frame->data[0], frame->data[1], frame->data[2],
//                   frame->linesize[0], frame->linesize[1], w, h};
//   const YuvToRgb matrix = YuvToRgb::Make(/*bt709=*/false, /*full=*/false);
//   ConvertToRgbPlanar(view, matrix, 0, h, r, g, b);
#ifndef MAPN_VIDEO_YUV_H_
#define MAPN_VIDEO_YUV_H_

#include <cstdint>

namespace mapn {

// A read-only view of an 8-bit 4:2:0 frame. Chroma planes are
// ceil(width / 2) x ceil(height / 2).
struct Yuv420View {
  const uint8_t* y = nullptr;
  const uint8_t* u = nullptr;
  const uint8_t* v = nullptr;
  int y_stride = 0;
  int uv_stride = 0;
  int width = 0;
  int height = 0;
};

// YUV -> RGB coefficients. Fixed point with kShift fractional bits:
//   R = cy (Y - y0) + crv (V - 128)
//   G = cy (Y - y0) + cgu (U - 128) + cgv (V - 128)
//   B = cy (Y - y0) + cbu (U - 128)
struct YuvToRgb {
  static constexpr int kShift = 14;
  int32_t y0 = 16;
  int32_t cy = 0, crv = 0, cgu = 0, cgv = 0, cbu = 0;
  bool bt709 = false;
  bool full_range = false;

  // BT.601 unless bt709; limited ("TV", Y in [16, 235]) unless full_range.
  static YuvToRgb Make(bool bt709, bool full_range);

  // The same matrix in floating point, for differences of YUV values (the
  // offsets cancel): dR = ry * dY + rv * dV, and so on.
  float fy() const { return static_cast<float>(cy) / (1 << kShift); }
  float frv() const { return static_cast<float>(crv) / (1 << kShift); }
  float fgu() const { return static_cast<float>(cgu) / (1 << kShift); }
  float fgv() const { return static_cast<float>(cgv) / (1 << kShift); }
  float fbu() const { return static_cast<float>(cbu) / (1 << kShift); }
};

// The RGB grey-level value of one residual sample: Y, U, V differences
// through `matrix` in float. Every RGB residual mapn computes goes through
// this one function, in this order of operations, so a residual converted
// per pixel (DenseResidual, gop.h) and per sampled pixel (ResampleWindow)
// agree bit for bit.
struct RgbResidual {
  float r, g, b;
};
inline RgbResidual ResidualToRgb(const YuvToRgb& matrix, int dy, int du,
                                 int dv) {
  const float y = matrix.fy() * static_cast<float>(dy);
  const float u = static_cast<float>(du), v = static_cast<float>(dv);
  return {y + matrix.frv() * v, y + (matrix.fgu() * u + matrix.fgv() * v),
          y + matrix.fbu() * u};
}

// Converts luma rows [row_begin, row_end) into three uint8 planes of
// width * height (row stride = width). Disjoint row ranges may run
// concurrently.
void ConvertToRgbPlanar(const Yuv420View& src, const YuvToRgb& matrix,
                        int row_begin, int row_end, uint8_t* r, uint8_t* g,
                        uint8_t* b);

}  // namespace mapn

#endif  // MAPN_VIDEO_YUV_H_
