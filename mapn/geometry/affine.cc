#include "mapn/geometry/affine.h"

#include <cmath>

namespace mapn {

Affine2D Affine2D::RotationAbout(double radians, double cx, double cy) {
  // On screen with y down, counter-clockwise is the matrix of -radians in
  // the usual y-up convention.
  const double co = std::cos(radians), si = std::sin(radians);
  Affine2D r{co, si, -si, co, 0, 0};
  return Translation(cx, cy).Compose(r).Compose(Translation(-cx, -cy));
}

Affine2D Affine2D::Compose(const Affine2D& o) const {
  Affine2D r;
  r.a = a * o.a + b * o.c;
  r.b = a * o.b + b * o.d;
  r.c = c * o.a + d * o.c;
  r.d = c * o.b + d * o.d;
  r.tx = a * o.tx + b * o.ty + tx;
  r.ty = c * o.tx + d * o.ty + ty;
  return r;
}

std::optional<Affine2D> Affine2D::Inverse() const {
  const double det = Determinant();
  if (!(std::fabs(det) > 1e-12) || !std::isfinite(det)) return std::nullopt;
  Affine2D r;
  r.a = d / det;
  r.b = -b / det;
  r.c = -c / det;
  r.d = a / det;
  r.tx = -(r.a * tx + r.b * ty);
  r.ty = -(r.c * tx + r.d * ty);
  return r;
}

Affine2D BoxToSquare(const Box& box, int size) {
  const double sx = static_cast<double>(box.width()) / size;
  const double sy = static_cast<double>(box.height()) / size;
  return Affine2D{
      sx, 0, 0, sy, box.x1 + 0.5 * sx - 0.5, box.y1 + 0.5 * sy - 0.5};
}

}  // namespace mapn
