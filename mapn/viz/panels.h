// File: panels.h
//
// Side-by-side pictures for people: a residual as a grey-centred image, and
// horizontal / vertical stacks of equally tall / wide images with a gap,
// which `mapn inspect --dump` uses to draw decoded frame | motion field |
// residual rows like the paper's Figure 6.
//
// Example:
//
//   at::Tensor row = HStack(
//       {window.rgb[t],
//        MotionToColor(window.motion[t], window.intra[t], 0, window.height(),
//                      window.width()),
//        ResidualToImage(DenseResidual(window, t), 2.0f)});
#ifndef MAPN_VIZ_PANELS_H_
#define MAPN_VIZ_PANELS_H_

#include <ATen/core/Tensor.h>

#include <vector>

namespace mapn {

// [3, H, W] residual in grey levels, any real dtype (a GopWindow's int16, a
// ResampledWindow's float) -> uint8 [3, H, W]: 128 + gain * residual,
// rounded and clamped (mid-grey = no residual).
at::Tensor ResidualToImage(const at::Tensor& residual, float gain = 1.0f);

// Side by side (equal heights) / one above the other (equal widths), uint8
// [3, H, W] images separated by `gap` white pixels. Images of other heights
// (widths) are padded with white at the bottom (right).
at::Tensor HStack(const std::vector<at::Tensor>& images, int gap = 4);
at::Tensor VStack(const std::vector<at::Tensor>& images, int gap = 4);

}  // namespace mapn

#endif  // MAPN_VIZ_PANELS_H_
