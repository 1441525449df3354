// File: flow_color.h
//
// Motion fields as pictures, with the colour coding of optical-flow papers
// (the Middlebury wheel of Baker et al., 2007): hue gives the direction,
// saturation the magnitude (white = no motion, full colour = max_magnitude
// or more, darkened beyond). What is drawn is where the content moved from
// t-1 to t, i.e. the NEGATED gop.h motion (which points from a pixel to its
// prediction in t-1), so that a person walking right shows the colour of
// "right" as in flow figures. Intra pixels are black.
//
// Example:
//
//   at::Tensor picture = MotionToColor(window.motion[t], window.intra[t],
//                                      /*max_magnitude=*/8.0f);
//   at::Tensor legend = ColorWheelLegend(128);
#ifndef MAPN_VIZ_FLOW_COLOR_H_
#define MAPN_VIZ_FLOW_COLOR_H_

#include <ATen/core/Tensor.h>

namespace mapn {

// The colour (r, g, b in [0, 255]) of a content displacement (u, v) in
// pixels, at full saturation for magnitude `max_magnitude`.
void FlowColor(float u, float v, float max_magnitude, uint8_t rgb[3]);

// motion: float [2, H, W] (gop.h convention); intra: bool [1, H, W] or
// undefined. max_magnitude <= 0 uses the field's largest magnitude.
// Returns uint8 [3, H, W].
at::Tensor MotionToColor(const at::Tensor& motion, const at::Tensor& intra,
                         float max_magnitude);

// The largest |motion| of a float [..., 2, H, W] field (0 when empty).
float MaxMotionMagnitude(const at::Tensor& motion);

// A size x size key: the colour of every content displacement, with the
// centre at zero and the inscribed circle at max_magnitude.
at::Tensor ColorWheelLegend(int size);

}  // namespace mapn

#endif  // MAPN_VIZ_FLOW_COLOR_H_
