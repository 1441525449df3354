// File: synth_render.h
//
// The 2-D rasteriser behind SynthPose: a float RGB canvas with a per-pixel
// record of which body part is on top (for occlusion labels) and how much of
// the pixel the figure covers (for boxes and puppet masks); anti-aliased
// tapered capsules, convex polygons and discs whose colour comes from a
// callback; tileable procedural textures; clothing patterns.
//
// Pixel centres sit at integer coordinates: pixel (x, y) covers
// [x - 0.5, x + 0.5] x [y - 0.5, y + 0.5], the convention of the labels.
//
// Example:
//
//   Canvas canvas(320, 240);
//   DrawCapsule(canvas, {100, 50}, {120, 120}, 9, 6, /*part=*/3,
//               [&](double along, double across) {
//                 return Shirt(along * length, across * radius);
//               });
#ifndef MAPN_DATA_SYNTH_RENDER_H_
#define MAPN_DATA_SYNTH_RENDER_H_

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "mapn/data/synth_random.h"

namespace mapn::synth {

using Vec2 = Eigen::Vector2d;

struct Rgb {
  float r = 0, g = 0, b = 0;
};

inline Rgb Mix(const Rgb& a, const Rgb& b, double w) {
  const float fw = static_cast<float>(w);
  return Rgb{a.r + (b.r - a.r) * fw, a.g + (b.g - a.g) * fw,
             a.b + (b.b - a.b) * fw};
}
inline Rgb Scale(const Rgb& a, double s) {
  const float fs = static_cast<float>(s);
  return Rgb{a.r * fs, a.g * fs, a.b * fs};
}
// From hue in [0, 1), saturation and value in [0, 1].
Rgb FromHsv(double h, double s, double v);

struct Canvas {
  Canvas(int w, int h)
      : width(w),
        height(h),
        rgb(static_cast<size_t>(w) * h * 3, 0.f),
        part(static_cast<size_t>(w) * h, 0),
        cover(static_cast<size_t>(w) * h, 0.f) {}

  void Blend(int x, int y, const Rgb& c, double alpha) {
    float* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
    const float a = static_cast<float>(alpha);
    p[0] += (c.r - p[0]) * a;
    p[1] += (c.g - p[1]) * a;
    p[2] += (c.b - p[2]) * a;
  }
  // Records a figure part that covers the pixel by `alpha`: the part on top
  // is the last one covering at least half of it.
  void MarkPart(int x, int y, int part_id, double alpha) {
    const size_t i = static_cast<size_t>(y) * width + x;
    if (alpha >= 0.5) part[i] = static_cast<uint8_t>(part_id);
    cover[i] = std::max(cover[i], static_cast<float>(alpha));
  }

  int width;
  int height;
  std::vector<float> rgb;     // [H, W, 3] in [0, 1]
  std::vector<uint8_t> part;  // top part id, 0 = none
  std::vector<float> cover;   // figure coverage in [0, 1]
};

// Coverage of a pixel at signed distance `d` (pixels) from an edge.
inline double Coverage(double d) { return std::clamp(0.5 - d, 0.0, 1.0); }

// A capsule from a (radius ra) to b (radius rb), radii in pixels. The colour
// callback gets (along in [0, 1] from a to b, across in [-1, 1], the signed
// distance from the axis over the local radius). part_id 0 draws without
// marking a part.
template <typename ColorFn>
void DrawCapsule(Canvas& canvas, const Vec2& a, const Vec2& b, double ra,
                 double rb, int part_id, ColorFn&& color) {
  const double r_max = std::max(ra, rb);
  const int x0 = std::max(
      0, static_cast<int>(std::floor(std::min(a.x(), b.x()) - r_max - 1)));
  const int x1 =
      std::min(canvas.width - 1,
               static_cast<int>(std::ceil(std::max(a.x(), b.x()) + r_max + 1)));
  const int y0 = std::max(
      0, static_cast<int>(std::floor(std::min(a.y(), b.y()) - r_max - 1)));
  const int y1 =
      std::min(canvas.height - 1,
               static_cast<int>(std::ceil(std::max(a.y(), b.y()) + r_max + 1)));
  const Vec2 ab = b - a;
  const double len2 = std::max(ab.squaredNorm(), 1e-12);
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const Vec2 p(x, y);
      const Vec2 ap = p - a;
      const double h = std::clamp(ap.dot(ab) / len2, 0.0, 1.0);
      const Vec2 q = ap - h * ab;
      const double r = ra + (rb - ra) * h;
      const double dist = q.norm();
      const double alpha = Coverage(dist - r);
      if (alpha <= 0) continue;
      const double cross = ab.x() * ap.y() - ab.y() * ap.x();
      const double across = std::clamp(
          (cross >= 0 ? dist : -dist) / std::max(r, 1e-6), -1.0, 1.0);
      canvas.Blend(x, y, color(h, across), alpha);
      if (part_id > 0) canvas.MarkPart(x, y, part_id, alpha);
    }
  }
}

// A disc; the callback gets the offset from the centre over the radius.
template <typename ColorFn>
void DrawDisc(Canvas& canvas, const Vec2& c, double radius, int part_id,
              ColorFn&& color) {
  const int x0 = std::max(0, static_cast<int>(std::floor(c.x() - radius - 1)));
  const int x1 = std::min(canvas.width - 1,
                          static_cast<int>(std::ceil(c.x() + radius + 1)));
  const int y0 = std::max(0, static_cast<int>(std::floor(c.y() - radius - 1)));
  const int y1 = std::min(canvas.height - 1,
                          static_cast<int>(std::ceil(c.y() + radius + 1)));
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const Vec2 d(x - c.x(), y - c.y());
      const double alpha = Coverage(d.norm() - radius);
      if (alpha <= 0) continue;
      canvas.Blend(x, y, color(d / std::max(radius, 1e-6)), alpha);
      if (part_id > 0) canvas.MarkPart(x, y, part_id, alpha);
    }
  }
}

// The convex hull of `points`, in order around it.
std::vector<Vec2> ConvexHull(std::vector<Vec2> points);

// A convex polygon (from ConvexHull) grown by `round` pixels; the callback
// gets the pixel position.
template <typename ColorFn>
void DrawConvex(Canvas& canvas, const std::vector<Vec2>& hull, double round,
                int part_id, ColorFn&& color) {
  if (hull.size() < 3) return;
  double xmin = hull[0].x(), xmax = xmin, ymin = hull[0].y(), ymax = ymin;
  for (const Vec2& p : hull) {
    xmin = std::min(xmin, p.x());
    xmax = std::max(xmax, p.x());
    ymin = std::min(ymin, p.y());
    ymax = std::max(ymax, p.y());
  }
  const int x0 = std::max(0, static_cast<int>(std::floor(xmin - round - 1)));
  const int x1 =
      std::min(canvas.width - 1, static_cast<int>(std::ceil(xmax + round + 1)));
  const int y0 = std::max(0, static_cast<int>(std::floor(ymin - round - 1)));
  const int y1 = std::min(canvas.height - 1,
                          static_cast<int>(std::ceil(ymax + round + 1)));
  const size_t n = hull.size();
  double area2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const Vec2& e0 = hull[i];
    const Vec2& e1 = hull[(i + 1) % n];
    area2 += e0.x() * e1.y() - e1.x() * e0.y();
  }
  const double orient = area2 >= 0 ? 1.0 : -1.0;
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const Vec2 p(x, y);
      // Signed distance to a convex polygon: the largest signed distance to
      // its edge lines inside, the distance to the nearest edge outside.
      bool inside = true;
      double edge_min = 1e18;
      double inside_max = -1e18;
      for (size_t i = 0; i < n; ++i) {
        const Vec2& e0 = hull[i];
        const Vec2& e1 = hull[(i + 1) % n];
        const Vec2 e = e1 - e0;
        const Vec2 w = p - e0;
        const double len2 = std::max(e.squaredNorm(), 1e-12);
        const double h = std::clamp(w.dot(e) / len2, 0.0, 1.0);
        edge_min = std::min(edge_min, (w - h * e).norm());
        // Positive on the polygon's side of the edge line.
        const double side =
            orient * (e.x() * w.y() - e.y() * w.x()) / std::sqrt(len2);
        if (side < 0) inside = false;
        inside_max = std::max(inside_max, -side);
      }
      const double sd = inside ? inside_max : edge_min;
      const double alpha = Coverage(sd - round);
      if (alpha <= 0) continue;
      canvas.Blend(x, y, color(p), alpha);
      if (part_id > 0) canvas.MarkPart(x, y, part_id, alpha);
    }
  }
}

// A tileable RGB texture sampled bilinearly with wrap-around.
class Texture {
 public:
  Texture(int w, int h) : w_(w), h_(h), data_(static_cast<size_t>(w) * h) {}
  int width() const { return w_; }
  int height() const { return h_; }
  Rgb& at(int x, int y) { return data_[static_cast<size_t>(y) * w_ + x]; }
  const Rgb& at(int x, int y) const {
    return data_[static_cast<size_t>(y) * w_ + x];
  }
  Rgb Sample(double x, double y) const;

 private:
  int w_, h_;
  std::vector<Rgb> data_;
};

// Tileable fractal value noise in [0, 1] at texel (x, y) of a w x h tile:
// `octaves` octaves from a lattice of `cells` cells across the tile.
double TileNoise(uint64_t seed, double x, double y, int w, int h, int cells,
                 int octaves);

// A wall-like far layer: a noisy colour gradient with blocks (buildings,
// windows, shelves), poles and blobs. `contrast` 0 gives a flat colour.
Texture MakeBackdrop(SynthRandom& rng, int w, int h, double contrast);
// A floor: boards or tiles with grain.
Texture MakeFloor(SynthRandom& rng, int w, int h, double contrast);

// Clothing patterns, evaluated in cloth coordinates (s along the limb, t
// around it, both in body heights).
enum class Pattern : uint8_t { kPlain, kStripes, kChecks, kNoise, kPlaid };

struct Material {
  Rgb base;
  Rgb accent;
  Pattern pattern = Pattern::kPlain;
  double period = 0.05;  // body heights
  double angle = 0;      // of stripes, radians
  double contrast = 0.5;
  uint64_t seed = 0;
};

Rgb ClothColor(const Material& m, double s, double t);

// A random garment: colour, pattern and scale.
Material RandomCloth(SynthRandom& rng, double contrast);

}  // namespace mapn::synth

#endif  // MAPN_DATA_SYNTH_RENDER_H_
