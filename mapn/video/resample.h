// File: resample.h
//
// Geometric resampling of GOP windows: crops to a person box, scales,
// rotates, flips, and stacks windows into the model's GopBatch. Every case is
// the one general operation ResampleWindow: output pixel q maps to source
// pixel p = M q + b (an Affine2D), pixel centres at integer coordinates.
// The output is a ResampledWindow (gop.h), per pixel: frames and residuals
// are sampled bilinearly, the intra mask by nearest neighbour, and motion
// vectors are sampled bilinearly and then carried into the output's pixel
// units by M^-1 (d_out = M^-1 d_src), which keeps the gop.h convention
// (motion points from a pixel to its prediction in the previous frame) under
// scaling, rotation and flips. Outside the source picture everything is zero
// (black frames, no motion, no residual, not intra). Block motion and the
// 4:2:0 YUV residual are read through the pixels they cover and converted to
// RGB only at the points sampled: the result equals, bit for bit, resampling
// DenseMotion / DenseResidual of every frame, for a fraction of the work.
//
// Example (the paper's crop plus a training augmentation):
//
//   Affine2D crop = BoxToSquare(box, 256);          // output -> source
//   Affine2D aug = Affine2D::RotationAbout(0.3, 127.5, 127.5)
//                      .Then(Affine2D::FlipX(256)); // output -> crop
//   absl::StatusOr<ResampledWindow> out =
//       ResampleWindow(window, crop.Compose(aug), 256);
//   absl::StatusOr<GopBatch> batch = ToGopBatch({*out});
#ifndef MAPN_VIDEO_RESAMPLE_H_
#define MAPN_VIDEO_RESAMPLE_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/geometry/affine.h"
#include "mapn/video/gop.h"

namespace mapn {

// Resamples every tensor of `window` to size x size through
// `output_to_source`; frames, types and valid are kept. A window without
// motion (decode-only) keeps motion, intra and residual undefined.
// InvalidArgument for a singular map, size < 1, or tensors that do not
// follow gop.h.
absl::StatusOr<ResampledWindow> ResampleWindow(const GopWindow& window,
                                               const Affine2D& output_to_source,
                                               int size);

// Crops `box` out of every frame of the window and resizes it to
// size x size (vectors rescaled to the new pixel size).
absl::StatusOr<ResampledWindow> CropWindow(const GopWindow& window,
                                           const Box& box, int size = 256);

// Stacks windows of the same length and square size into a GopBatch:
// rgb as float in [0, 1], motion as is, residual / 255, valid.
absl::StatusOr<GopBatch> ToGopBatch(
    const std::vector<ResampledWindow>& windows);

}  // namespace mapn

#endif  // MAPN_VIDEO_RESAMPLE_H_
