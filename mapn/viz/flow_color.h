// File: flow_color.h
//
// Motion fields as pictures, with the colour coding of optical-flow papers
// (the Middlebury wheel of Baker et al., 2007): hue gives the direction,
// saturation the magnitude (white = no motion, full colour = max_magnitude
// or more, darkened beyond). What is drawn is where the content moved from
// t-1 to t, i.e. the NEGATED gop.h motion (which points from a pixel to its
// prediction in t-1), so that a person walking right shows the colour of
// "right" as in flow figures. Intra pixels are black. A GopWindow's motion
// is one vector per 8x8 block (gop.h); the overload with a picture size
// draws each block's colour over its pixels.
//
// Example:
//
//   at::Tensor picture =
//       MotionToColor(window.motion[t], window.intra[t],
//                     /*max_magnitude=*/8.0f, window.height(), window.width());
//   at::Tensor legend = ColorWheelLegend(128);
#ifndef MAPN_VIZ_FLOW_COLOR_H_
#define MAPN_VIZ_FLOW_COLOR_H_

#include <ATen/core/Tensor.h>

namespace mapn {

// The colour (r, g, b in [0, 255]) of a content displacement (u, v) in
// pixels, at full saturation for magnitude `max_magnitude`.
void FlowColor(float u, float v, float max_magnitude, uint8_t rgb[3]);

// motion: float [2, h, w] (gop.h convention), one vector per cell of any
// grid (pixels of a ResampledWindow, blocks of a GopWindow); intra: bool
// [1, h, w] or undefined. max_magnitude <= 0 uses the field's largest
// magnitude. Returns uint8 [3, h, w], one colour per cell.
at::Tensor MotionToColor(const at::Tensor& motion, const at::Tensor& intra,
                         float max_magnitude);

// A GopWindow frame's block motion float [2, Hb, Wb] and intra bool
// [1, Hb, Wb] (or undefined) drawn at the picture's size: uint8
// [3, height, width], every pixel in the colour of the 8x8 block covering
// it. Throws c10::Error when the grid is not the block grid of
// height x width (gop.h ExpandBlocks).
at::Tensor MotionToColor(const at::Tensor& motion, const at::Tensor& intra,
                         float max_magnitude, int64_t height, int64_t width);

// The largest |motion| of a float [..., 2, h, w] field, per pixel or per
// block (0 when empty).
float MaxMotionMagnitude(const at::Tensor& motion);

// A size x size key: the colour of every content displacement, with the
// centre at zero and the inscribed circle at max_magnitude.
at::Tensor ColorWheelLegend(int size);

}  // namespace mapn

#endif  // MAPN_VIZ_FLOW_COLOR_H_
