#include "mapn/data/synth_render.h"

#include <algorithm>
#include <cmath>

namespace mapn::synth {
namespace {

constexpr double kTwoPi = 6.283185307179586;

double Smooth(double t) { return t * t * (3 - 2 * t); }

int Wrap(int v, int n) {
  v %= n;
  return v < 0 ? v + n : v;
}

Rgb Clamp01(const Rgb& c) {
  return Rgb{std::clamp(c.r, 0.f, 1.f), std::clamp(c.g, 0.f, 1.f),
             std::clamp(c.b, 0.f, 1.f)};
}

// Fills a box (with wrap-around) on a texture.
void FillRect(Texture& tex, int x, int y, int w, int h, const Rgb& c,
              double alpha) {
  for (int dy = 0; dy < h; ++dy) {
    for (int dx = 0; dx < w; ++dx) {
      Rgb& t = tex.at(Wrap(x + dx, tex.width()), Wrap(y + dy, tex.height()));
      t = Mix(t, c, alpha);
    }
  }
}

void FillBlob(Texture& tex, double cx, double cy, double r, const Rgb& c,
              double alpha) {
  const int ir = static_cast<int>(std::ceil(r)) + 1;
  for (int dy = -ir; dy <= ir; ++dy) {
    for (int dx = -ir; dx <= ir; ++dx) {
      const double d = std::sqrt(dx * dx + dy * dy);
      const double a = alpha * std::clamp(r - d, 0.0, 1.0);
      if (a <= 0) continue;
      Rgb& t = tex.at(Wrap(static_cast<int>(cx) + dx, tex.width()),
                      Wrap(static_cast<int>(cy) + dy, tex.height()));
      t = Mix(t, c, a);
    }
  }
}

}  // namespace

Rgb FromHsv(double h, double s, double v) {
  h = (h - std::floor(h)) * 6;
  const int i = static_cast<int>(h) % 6;
  const double f = h - std::floor(h);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = v, g = t, b = p;
  switch (i) {
    case 0:
      r = v, g = t, b = p;
      break;
    case 1:
      r = q, g = v, b = p;
      break;
    case 2:
      r = p, g = v, b = t;
      break;
    case 3:
      r = p, g = q, b = v;
      break;
    case 4:
      r = t, g = p, b = v;
      break;
    default:
      r = v, g = p, b = q;
      break;
  }
  return Rgb{static_cast<float>(r), static_cast<float>(g),
             static_cast<float>(b)};
}

std::vector<Vec2> ConvexHull(std::vector<Vec2> pts) {
  std::sort(pts.begin(), pts.end(), [](const Vec2& a, const Vec2& b) {
    return a.x() < b.x() || (a.x() == b.x() && a.y() < b.y());
  });
  if (pts.size() < 3) return pts;
  auto cross = [](const Vec2& o, const Vec2& a, const Vec2& b) {
    return (a.x() - o.x()) * (b.y() - o.y()) -
           (a.y() - o.y()) * (b.x() - o.x());
  };
  std::vector<Vec2> hull(2 * pts.size());
  size_t k = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  for (size_t i = pts.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && cross(hull[k - 2], hull[k - 1], pts[i - 1]) <= 0) --k;
    hull[k++] = pts[i - 1];
  }
  hull.resize(k - 1);
  return hull;
}

Rgb Texture::Sample(double x, double y) const {
  const double fx = std::floor(x), fy = std::floor(y);
  const double ax = x - fx, ay = y - fy;
  const int x0 = Wrap(static_cast<int>(fx), w_),
            y0 = Wrap(static_cast<int>(fy), h_);
  const int x1 = Wrap(x0 + 1, w_), y1 = Wrap(y0 + 1, h_);
  const Rgb top = Mix(at(x0, y0), at(x1, y0), ax);
  const Rgb bottom = Mix(at(x0, y1), at(x1, y1), ax);
  return Mix(top, bottom, ay);
}

double TileNoise(uint64_t seed, double x, double y, int w, int h, int cells,
                 int octaves) {
  double sum = 0, norm = 0, amp = 1;
  for (int o = 0; o < octaves; ++o) {
    const int n = cells << o;
    const double gx = x / w * n, gy = y / h * n;
    const double fx = std::floor(gx), fy = std::floor(gy);
    const double ax = Smooth(gx - fx), ay = Smooth(gy - fy);
    const int ix = static_cast<int>(fx), iy = static_cast<int>(fy);
    auto v = [&](int i, int j) {
      return HashUnit(seed + o, Wrap(i, n), Wrap(j, n));
    };
    const double top = v(ix, iy) + (v(ix + 1, iy) - v(ix, iy)) * ax;
    const double bottom =
        v(ix, iy + 1) + (v(ix + 1, iy + 1) - v(ix, iy + 1)) * ax;
    sum += amp * (top + (bottom - top) * ay);
    norm += amp;
    amp *= 0.5;
  }
  return sum / norm;
}

Texture MakeBackdrop(SynthRandom& rng, int w, int h, double contrast) {
  Texture tex(w, h);
  const double hue = rng.Unit();
  const Rgb c0 = FromHsv(hue, rng.Uniform(0.1, 0.5), rng.Uniform(0.45, 0.85));
  const Rgb c1 = FromHsv(hue + rng.Uniform(-0.15, 0.15), rng.Uniform(0.1, 0.6),
                         rng.Uniform(0.25, 0.7));
  const uint64_t seed = rng.Next();
  const int cells = rng.UniformInt(3, 6);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      // Coarse blotches plus per-texel grain: block matching needs detail
      // at every scale to find real motion in the background.
      const double n = TileNoise(seed, x, y, w, h, cells, 6);
      const double grain = HashUnit(seed + 17, x, y) - 0.5;
      tex.at(x, y) = Clamp01(
          Mix(c0, c1, 0.5 + contrast * ((n - 0.5) * 2.2 + 0.25 * grain)));
    }
  }
  // Blocks with inner detail (windows, shelves, posters).
  const int blocks =
      static_cast<int>(std::round(contrast * rng.UniformInt(6, 14)));
  for (int i = 0; i < blocks; ++i) {
    const int bw = rng.UniformInt(w / 16, w / 4),
              bh = rng.UniformInt(h / 8, h / 2);
    const int bx = rng.UniformInt(0, w - 1), by = rng.UniformInt(0, h - 1);
    const Rgb c =
        FromHsv(rng.Unit(), rng.Uniform(0.1, 0.8), rng.Uniform(0.2, 0.95));
    FillRect(tex, bx, by, bw, bh, c, 0.85);
    if (rng.Bernoulli(0.6)) {
      const int step = rng.UniformInt(6, 14);
      const Rgb d =
          FromHsv(rng.Unit(), rng.Uniform(0, 0.5), rng.Uniform(0.1, 1));
      for (int yy = 2; yy + 4 < bh; yy += step) {
        for (int xx = 2; xx + 4 < bw; xx += step) {
          FillRect(tex, bx + xx, by + yy, step / 2, step / 2, d, 0.8);
        }
      }
    }
  }
  // Poles and trunks.
  const int poles =
      static_cast<int>(std::round(contrast * rng.UniformInt(2, 6)));
  for (int i = 0; i < poles; ++i) {
    const Rgb c =
        FromHsv(rng.Unit(), rng.Uniform(0, 0.6), rng.Uniform(0.1, 0.6));
    FillRect(tex, rng.UniformInt(0, w - 1), 0, rng.UniformInt(2, 8), h, c, 0.9);
  }
  // Foliage-like blobs.
  const int blobs =
      static_cast<int>(std::round(contrast * rng.UniformInt(10, 40)));
  for (int i = 0; i < blobs; ++i) {
    const Rgb c =
        FromHsv(rng.Unit(), rng.Uniform(0.2, 0.9), rng.Uniform(0.2, 0.9));
    FillBlob(tex, rng.Uniform(0, w), rng.Uniform(0, h), rng.Uniform(3, 14), c,
             0.7);
  }
  return tex;
}

Texture MakeFloor(SynthRandom& rng, int w, int h, double contrast) {
  Texture tex(w, h);
  const Rgb c0 = FromHsv(rng.Uniform(0.02, 0.15), rng.Uniform(0.1, 0.6),
                         rng.Uniform(0.3, 0.75));
  const Rgb c1 = Scale(c0, rng.Uniform(0.55, 0.85));
  const uint64_t seed = rng.Next();
  const bool tiles = rng.Bernoulli(0.4);
  const int board = rng.UniformInt(8, 20);
  const int tile = rng.UniformInt(16, 40);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double grain = TileNoise(seed, x, y * 4.0, w, h * 4, 8, 3);
      double v;
      if (tiles) {
        const bool odd = ((x / tile) + (y / tile)) % 2 == 1;
        const bool grout = x % tile == 0 || y % tile == 0;
        v = grout ? 1.0 : (odd ? 0.65 : 0.25) + 0.2 * grain;
      } else {
        const int row = y / board;
        const bool seam =
            y % board == 0 ||
            (x + static_cast<int>(HashUnit(seed, row, 0) * w)) % (w / 2) == 0;
        v = seam ? 1.0 : 0.5 * grain + 0.3 * HashUnit(seed, row, 1);
      }
      tex.at(x, y) =
          Mix(c0, c1, std::clamp(0.5 + contrast * (v - 0.5), 0.0, 1.0));
    }
  }
  return tex;
}

Rgb ClothColor(const Material& m, double s, double t) {
  double w = 0;
  switch (m.pattern) {
    case Pattern::kPlain:
      return m.base;
    case Pattern::kStripes: {
      const double u = s * std::cos(m.angle) + t * std::sin(m.angle);
      w = std::clamp(0.5 + 2.0 * std::sin(kTwoPi * u / m.period), 0.0, 1.0);
      break;
    }
    case Pattern::kChecks: {
      const double v =
          std::sin(kTwoPi * s / m.period) * std::sin(kTwoPi * t / m.period);
      w = std::clamp(0.5 + 4.0 * v, 0.0, 1.0);
      break;
    }
    case Pattern::kNoise: {
      // Value noise on an unbounded lattice (cloth does not tile).
      const double gx = s / m.period * 2, gy = t / m.period * 2;
      const double fx = std::floor(gx), fy = std::floor(gy);
      const double ax = Smooth(gx - fx), ay = Smooth(gy - fy);
      const int64_t ix = static_cast<int64_t>(fx),
                    iy = static_cast<int64_t>(fy);
      const double v00 = HashUnit(m.seed, ix, iy),
                   v10 = HashUnit(m.seed, ix + 1, iy);
      const double v01 = HashUnit(m.seed, ix, iy + 1),
                   v11 = HashUnit(m.seed, ix + 1, iy + 1);
      const double top = v00 + (v10 - v00) * ax,
                   bottom = v01 + (v11 - v01) * ax;
      w = top + (bottom - top) * ay;
      break;
    }
    case Pattern::kPlaid: {
      const double a = 0.5 + 0.5 * std::sin(kTwoPi * s / m.period);
      const double b = 0.5 + 0.5 * std::sin(kTwoPi * t / m.period);
      w = 0.5 * (a * a + b * b);
      break;
    }
  }
  return Mix(m.base, m.accent, m.contrast * w);
}

Material RandomCloth(SynthRandom& rng, double contrast) {
  Material m;
  const double hue = rng.Unit();
  m.base = FromHsv(hue, rng.Uniform(0.25, 0.9), rng.Uniform(0.25, 0.95));
  if (rng.Bernoulli(0.5)) {
    m.accent = FromHsv(hue + 0.5, rng.Uniform(0.2, 0.9), rng.Uniform(0.2, 1.0));
  } else {
    m.accent = Clamp01(Scale(m.base, rng.Bernoulli(0.5) ? 0.45 : 1.6));
  }
  const int p = rng.UniformInt(0, 4);
  m.pattern = static_cast<Pattern>(p);
  m.period = rng.Uniform(0.025, 0.08);
  m.angle = rng.Bernoulli(0.6) ? 0.0 : rng.Uniform(0, 3.14159);
  m.contrast = contrast * rng.Uniform(0.6, 1.4);
  m.seed = rng.Next();
  return m;
}

}  // namespace mapn::synth
