#include "mapn/data/synth_draw.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <functional>

namespace mapn::synth {

namespace {

using Eigen::Vector3d;

// Camera distance in body heights: mild perspective on limbs that reach
// towards or away from the camera.
constexpr double kCameraDistance = 6.0;
// Camera height (the perspective centre) in body heights.
constexpr double kEyeHeight = 0.55;

// Shade factor of a surface normal (x right, y up, z to the camera).
double Lambert(const Vector3d& n, const Vector3d& light) {
  return 0.45 + 0.65 * std::max(0.0, n.dot(light));
}

// Normal of a capsule at `across` in [-1, 1], for an axis a->b on screen.
Vector3d CapsuleNormal(const Vec2& a, const Vec2& b, double across) {
  Vec2 d = b - a;
  const double len = d.norm();
  d = len > 1e-9 ? Vec2(d / len) : Vec2(0, 1);
  // Screen perpendicular (-dy, dx), then y flipped to point up.
  const double px = -d.y(), py = -d.x();
  const double z = std::sqrt(std::max(0.0, 1 - across * across));
  return Vector3d(across * px, across * py, z);
}

// What drawing any part of the figure needs in one frame.
struct FigureContext {
  const Projector& proj;
  const Skeleton3& s;
  const BodyShape& body;
  const Outfit& outfit;
  const Vector3d& light;
  double yaw;
  Canvas& canvas;
};

// A tapered limb from a to b: cloth (patterned along its `length` in body
// heights) or, without cloth, the plain colour (skin, shoes).
struct Limb {
  int id;
  Vector3d a, b;
  double ra, rb;  // radii at a and b, body heights
  const Material* cloth;
  Rgb plain;
  double length;
};

void DrawLimb(const FigureContext& c, const Limb& limb) {
  const Vec2 a = c.proj(limb.a), b = c.proj(limb.b);
  const double rpa = c.proj.Radius(limb.a, limb.ra);
  const double rpb = c.proj.Radius(limb.b, limb.rb);
  const double r_mid = 0.5 * (limb.ra + limb.rb);
  DrawCapsule(
      c.canvas, a, b, rpa, rpb, limb.id, [&](double along, double across) {
        const Rgb base = limb.cloth == nullptr
                             ? limb.plain
                             : ClothColor(*limb.cloth, along * limb.length,
                                          across * r_mid * kPi / 2);
        return Scale(base, Lambert(CapsuleNormal(a, b, across), c.light));
      });
}

void DrawHand(const FigureContext& c, int side) {
  const Vector3d& hand = c.s.hand[side];
  DrawDisc(c.canvas, c.proj(hand), c.proj.Radius(hand, c.body.hand_r),
           kHand + side, [&](const Vec2& d) {
             const double z = std::sqrt(std::max(0.0, 1 - d.squaredNorm()));
             return Scale(c.outfit.skin,
                          Lambert(Vector3d(d.x(), -d.y(), z), c.light));
           });
}

void DrawNeck(const FigureContext& c) {
  const Vec2 a = c.proj(c.s.neck), b = c.proj(c.s.head);
  const double r = c.proj.Radius(c.s.neck, c.body.neck_r);
  DrawCapsule(c.canvas, a, b, r, r, kNeck, [&](double, double across) {
    return Scale(c.outfit.skin, Lambert(CapsuleNormal(a, b, across), c.light));
  });
}

// The hull of shoulders and hips pushed to the chest's front and back,
// rounded; trousers below the waist, the shirt above.
void DrawTorso(const FigureContext& c) {
  const Skeleton3& s = c.s;
  const BodyShape& b = c.body;
  const Vector3d front = 0.5 * b.torso_depth * s.facing;
  std::vector<Vec2> corners;
  for (const Vector3d& q : {s.shoulder[0], s.shoulder[1], s.hip[0], s.hip[1]}) {
    corners.push_back(c.proj(q + front));
    corners.push_back(c.proj(q - front));
  }
  const std::vector<Vec2> hull = ConvexHull(corners);
  const Vec2 pelvis = c.proj(s.pelvis), neck = c.proj(s.neck);
  Vec2 up = neck - pelvis;
  const double up_len = std::max(up.norm(), 1e-6);
  up /= up_len;
  const Vec2 across(-up.y(), up.x());
  double half = 1e-6;
  for (const Vec2& q : hull)
    half = std::max(half, std::abs((q - pelvis).dot(across)));
  const double round = c.proj.Radius(s.belly, b.torso_round);
  half += round;
  const double px_per_body = up_len / b.spine;
  // The pattern slides as the body turns.
  const double twist = 0.1 * c.yaw;
  DrawConvex(c.canvas, hull, round, kTorso, [&](const Vec2& q) {
    const Vec2 d = q - pelvis;
    const double along = d.dot(up) / px_per_body;
    const double side = d.dot(across);
    const Material& m = along < 0.2 * b.spine ? c.outfit.pants : c.outfit.shirt;
    const Rgb base = ClothColor(m, along, side / px_per_body + twist);
    const double a = std::clamp(side / half, -1.0, 1.0);
    const Vector3d n(a * across.x(), -a * across.y(),
                     std::sqrt(std::max(0.0, 1 - a * a)));
    return Scale(base, Lambert(n, c.light));
  });
}

// Eyes on the side of the head that faces the camera; `r` is the head's
// radius in pixels.
void DrawEyes(const FigureContext& c, double r) {
  const Skeleton3& s = c.s;
  for (int side = 0; side < 2; ++side) {
    const Vector3d dir = (0.93 * s.facing + 0.15 * s.torso_up +
                          (side == kLeft ? 0.36 : -0.36) * s.torso_left)
                             .normalized();
    if (dir.z() < 0.15) continue;
    const Vector3d eye = s.head + c.body.head_radius * dir;
    DrawDisc(c.canvas, c.proj(eye), std::max(0.6, 0.13 * r), kHead,
             [](const Vec2&) {
               return Rgb{0.08f, 0.06f, 0.05f};
             });
  }
}

// The head: skin with hair on the top and back, and the eyes.
void DrawHead(const FigureContext& c) {
  const Skeleton3& s = c.s;
  const double r = c.proj.Radius(s.head, c.body.head_radius);
  const Vector3d hair_dir = (0.85 * s.torso_up - 0.55 * s.facing).normalized();
  DrawDisc(c.canvas, c.proj(s.head), r, kHead, [&](const Vec2& d) {
    const Vector3d n(d.x(), -d.y(),
                     std::sqrt(std::max(0.0, 1 - d.squaredNorm())));
    const Rgb& base = n.dot(hair_dir) > 0.25 ? c.outfit.hair : c.outfit.skin;
    return Scale(base, Lambert(n, c.light));
  });
  DrawEyes(c, r);
}

// A part of the figure and the depth it is drawn at.
struct PartDraw {
  double depth;
  std::function<void()> draw;
};

// Arms, legs and hands of both sides, neck, torso and head, each with its
// depth. The order matters where depths tie: later parts go on top.
std::vector<PartDraw> FigureParts(const FigureContext& c, double torso_depth) {
  const Skeleton3& s = c.s;
  const BodyShape& b = c.body;
  const Outfit& outfit = c.outfit;
  std::vector<PartDraw> parts;
  auto add_limb = [&](const Limb& limb) {
    parts.push_back(
        {0.5 * (limb.a.z() + limb.b.z()), [&c, limb] { DrawLimb(c, limb); }});
  };
  const Material* sleeve = outfit.long_sleeves ? &outfit.shirt : nullptr;
  const Material* shin_cloth = outfit.shorts ? nullptr : &outfit.pants;
  for (int side = 0; side < 2; ++side) {
    add_limb({kUpperArm + side, s.shoulder[side], s.elbow[side], b.upper_arm_r0,
              b.upper_arm_r1, &outfit.shirt, outfit.skin, b.upper_arm});
    add_limb({kForearm + side, s.elbow[side], s.wrist[side], b.forearm_r0,
              b.forearm_r1, sleeve, outfit.skin, b.forearm});
    add_limb({kThigh + side, s.hip[side], s.knee[side], b.thigh_r0, b.thigh_r1,
              &outfit.pants, outfit.skin, b.thigh});
    add_limb({kShin + side, s.knee[side], s.ankle[side], b.shin_r0, b.shin_r1,
              shin_cloth, outfit.skin, b.shin});
    add_limb({kFoot + side, s.ankle[side], s.toe[side], b.foot_r, b.foot_r,
              nullptr, outfit.shoes, b.foot});
    parts.push_back(
        {s.hand[side].z() + 0.005, [&c, side] { DrawHand(c, side); }});
  }
  // Neck just behind the head and torso.
  parts.push_back(
      {std::min(s.neck.z(), s.head.z()) - 0.02, [&c] { DrawNeck(c); }});
  parts.push_back({torso_depth - 0.001, [&c] { DrawTorso(c); }});
  parts.push_back({s.head.z(), [&c] { DrawHead(c); }});
  return parts;
}

}  // namespace

double Projector::Persp(const Vector3d& q) const {
  return kCameraDistance / (kCameraDistance - q.z());
}

Vec2 Projector::operator()(const Vector3d& q) const {
  const double pp = Persp(q);
  const double x = 0.5 * o.width + p.figure_scale * (f.root_x + q.x() * pp);
  const double y =
      p.ground_y - p.figure_scale * (kEyeHeight + (q.y() - kEyeHeight) * pp);
  return Vec2((x - f.pan_x - 0.5 * o.width) * f.zoom + 0.5 * o.width,
              (y - f.pan_y - 0.5 * o.height) * f.zoom + 0.5 * o.height);
}

double Projector::Radius(const Vector3d& q, double r) const {
  return r * p.figure_scale * Persp(q) * f.zoom;
}

void DrawBackground(const SynthPoseOptions& o, const ClipPlan& p,
                    const FrameState& f, int64_t t, Canvas& canvas) {
  const double floor_line = p.ground_y - 0.3 * p.figure_scale;
  for (int v = 0; v < o.height; ++v) {
    const double y = (v - 0.5 * o.height) / f.zoom + 0.5 * o.height + f.pan_y;
    const double yf = (v - 0.5 * o.height) / f.zoom + 0.5 * o.height +
                      o.parallax * f.pan_y + p.drift_y * t;
    for (int u = 0; u < o.width; ++u) {
      const double x = (u - 0.5 * o.width) / f.zoom + 0.5 * o.width + f.pan_x;
      Rgb c;
      const double below = (y - floor_line) * f.zoom;  // pixels below the line
      if (below > 0.5) {
        c = p.floor.Sample(x, y - floor_line);
      } else {
        const double xf = (u - 0.5 * o.width) / f.zoom + 0.5 * o.width +
                          o.parallax * f.pan_x + p.drift_x * t;
        c = p.backdrop.Sample(xf, yf);
        if (below > -0.5) {
          c = Mix(c, p.floor.Sample(x, 0), below + 0.5);
        }
      }
      float* px = &canvas.rgb[(static_cast<size_t>(v) * o.width + u) * 3];
      px[0] = c.r;
      px[1] = c.g;
      px[2] = c.b;
    }
  }
}

void DrawShadow(const Projector& proj, const Skeleton3& s, Canvas& canvas) {
  const Vec2 c = proj(Vector3d(s.pelvis.x(), 0, s.pelvis.z()));
  const double rx = 0.17 * proj.p.figure_scale * proj.f.zoom;
  const double ry = 0.035 * proj.p.figure_scale * proj.f.zoom;
  // Height of the lower foot above the floor: the shadow fades in a jump.
  const double lift =
      std::min(s.ankle[0].y(), s.ankle[1].y()) - proj.p.body.ankle_height;
  const double dark = 0.4 * std::clamp(1 - 4 * lift, 0.0, 1.0);
  if (dark <= 0) return;
  const int x0 = std::max(0, static_cast<int>(c.x() - rx - 2));
  const int x1 = std::min(canvas.width - 1, static_cast<int>(c.x() + rx + 2));
  const int y0 = std::max(0, static_cast<int>(c.y() - ry - 2));
  const int y1 = std::min(canvas.height - 1, static_cast<int>(c.y() + ry + 2));
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const double dx = (x - c.x()) / rx, dy = (y - c.y()) / ry;
      const double d = std::sqrt(dx * dx + dy * dy);
      if (d >= 1) continue;
      const float k = static_cast<float>(1 - dark * Smoothstep(1 - d));
      float* px = &canvas.rgb[(static_cast<size_t>(y) * canvas.width + x) * 3];
      px[0] *= k;
      px[1] *= k;
      px[2] *= k;
    }
  }
}

DrawnFigure DrawFigure(const SynthPoseOptions& o, const ClipPlan& p,
                       const FrameState& f, const Skeleton3& s,
                       Canvas& canvas) {
  const Projector proj{o, p, f};
  DrawnFigure fig;
  const Vector3d* pts[kNumPoints] = {
      &s.head,     &s.neck,     &s.belly,    &s.shoulder[0], &s.shoulder[1],
      &s.elbow[0], &s.elbow[1], &s.wrist[0], &s.wrist[1],    &s.hip[0],
      &s.hip[1],   &s.knee[0],  &s.knee[1],  &s.ankle[0],    &s.ankle[1]};
  for (int i = 0; i < kNumPoints; ++i) {
    fig.points[i] = proj(*pts[i]);
    fig.depth[i] = pts[i]->z();
  }
  fig.torso_depth = 0.25 * (s.shoulder[0].z() + s.shoulder[1].z() +
                            s.hip[0].z() + s.hip[1].z());
  const FigureContext context{proj,    s,     p.body, p.outfit,
                              f.light, f.yaw, canvas};
  std::vector<PartDraw> parts = FigureParts(context, fig.torso_depth);
  // Far to near; ties keep FigureParts' order (limbs over the torso).
  std::stable_sort(
      parts.begin(), parts.end(),
      [](const PartDraw& x, const PartDraw& y) { return x.depth < y.depth; });
  for (const PartDraw& part : parts) part.draw();
  return fig;
}

DrawnFigure DrawFrame(const SynthPoseOptions& o, const ClipPlan& p,
                      const FrameState& f, int64_t t, Canvas& canvas) {
  const Skeleton3 skeleton = ForwardKinematics(p.body, f.angles, f.yaw);
  DrawBackground(o, p, f, t, canvas);
  DrawShadow(Projector{o, p, f}, skeleton, canvas);
  return DrawFigure(o, p, f, skeleton, canvas);
}

void FinishFrame(const SynthPoseOptions& o, const ClipPlan& p,
                 const FrameState& f, int64_t t, const Canvas& canvas,
                 std::vector<uint8_t>& out) {
  out.resize(canvas.rgb.size());
  const float gains[3] = {static_cast<float>(f.gain * f.tint.r),
                          static_cast<float>(f.gain * f.tint.g),
                          static_cast<float>(f.gain * f.tint.b)};
  const uint64_t frame_seed = Mix64(p.noise_seed + static_cast<uint64_t>(t));
  const double sigma = o.noise_sigma;
  for (size_t i = 0; i < canvas.rgb.size(); ++i) {
    double v = 255.0 * canvas.rgb[i] * gains[i % 3];
    if (sigma > 0) {
      // Sum of four uniforms, rescaled to unit variance: close to Gaussian
      // and one hash per value.
      const uint64_t h = Mix64(frame_seed ^ Mix64(i));
      const double sum = static_cast<double>(h & 0xFFFF) +
                         static_cast<double>((h >> 16) & 0xFFFF) +
                         static_cast<double>((h >> 32) & 0xFFFF) +
                         static_cast<double>(h >> 48);
      v += sigma * (sum / 65536.0 - 2.0) * 1.7320508075688772;
    }
    out[i] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
  }
}

}  // namespace mapn::synth
