// File: affine.h
//
// 2-D affine maps between images, and the map that takes a square model
// input onto a box of the source frame. A crop, an augmentation and the way
// back from model pixels to source pixels are all one Affine2D, so the
// reader (which resamples frames, motion vectors and residuals through it),
// training (which carries labels into the crop) and estimation (which
// carries keypoints back out) cannot disagree on a half pixel. Pixel
// centres are at integer coordinates.
//
// Example:
//
//   Affine2D crop = BoxToSquare(box, 256);            // output -> source
//   Affine2D aug = Affine2D::RotationAbout(0.3, 127.5, 127.5)
//                      .Then(Affine2D::FlipX(256));   // output -> crop
//   Affine2D output_to_source = crop.Compose(aug);
//   double sx, sy;
//   output_to_source.Apply(64, 80, &sx, &sy);         // a model pixel's
//                                                     // source position
#ifndef MAPN_GEOMETRY_AFFINE_H_
#define MAPN_GEOMETRY_AFFINE_H_

#include <optional>

#include "mapn/geometry/box.h"

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

// The output -> source map that takes an S x S output onto `box` (box.h's
// convention), pixel centres onto pixel centres:
// p = box.x1 + (q + 1/2) * w / S - 1/2.
Affine2D BoxToSquare(const Box& box, int size);

}  // namespace mapn

#endif  // MAPN_GEOMETRY_AFFINE_H_
