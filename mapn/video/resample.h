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
#include "mapn/video/gop.h"

namespace mapn {

// p = M q + t with M = [[a, b], [c, d]]: maps a point q of one image to
// the point p of another.
struct Affine2D {
  double a = 1, b = 0, c = 0, d = 1;
  double tx = 0, ty = 0;

  static Affine2D Identity() { return {}; }
  static Affine2D Translation(double x, double y) { return {1, 0, 0, 1, x, y}; }
  static Affine2D Scale(double sx, double sy) { return {sx, 0, 0, sy, 0, 0}; }
  // Counter-clockwise on screen (y down) by `radians` about (cx, cy).
  static Affine2D RotationAbout(double radians, double cx, double cy);
  // Mirrors x within an image `width` pixels wide: x -> width - 1 - x.
  static Affine2D FlipX(int width) { return {-1, 0, 0, 1, width - 1.0, 0}; }

  // (this ∘ other)(q) = this(other(q)): `other` first.
  Affine2D Compose(const Affine2D& other) const;
  // other ∘ this: this first, then `other`.
  Affine2D Then(const Affine2D& other) const { return other.Compose(*this); }
  // The inverse map; nullopt when M is singular.
  std::optional<Affine2D> Inverse() const;

  double Determinant() const { return a * d - b * c; }
  void Apply(double x, double y, double* px, double* py) const {
    *px = a * x + b * y + tx;
    *py = c * x + d * y + ty;
  }
  // M v: how a displacement maps (no translation).
  void ApplyLinear(double x, double y, double* px, double* py) const {
    *px = a * x + b * y;
    *py = c * x + d * y;
  }
};

// The output -> source map that takes an S x S output onto `box` (corners
// (x1, y1) inclusive and (x2, y2) exclusive, pixel-edge coordinates), pixel
// centres onto pixel centres: p = box.x1 + (q + 1/2) * w / S - 1/2.
Affine2D BoxToSquare(const Box& box, int size);

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
