#include "mapn/data/synthpose.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/image_file.h"
#include "mapn/data/mat_io.h"
#include "mapn/data/synth_body.h"
#include "mapn/data/synth_random.h"
#include "mapn/data/synth_render.h"
#include "mapn/video/video_writer.h"

namespace mapn {

namespace {

using Eigen::Vector3d;
using synth::BodyShape;
using synth::Canvas;
using synth::JointAngles;
using synth::kLeft;
using synth::kRight;
using synth::Material;
using synth::Rgb;
using synth::Skeleton3;
using synth::Texture;
using synth::Vec2;

constexpr double kPi = 3.14159265358979323846;
constexpr double kTwoPi = 2 * kPi;
// Camera distance in body heights: mild perspective on limbs that reach
// towards or away from the camera.
constexpr double kCameraDistance = 6.0;
// Camera height (the perspective centre) in body heights.
constexpr double kEyeHeight = 0.55;

// Body parts, 1-based (0 marks the background in Canvas::part).
enum PartId : int {
  kTorso = 1,
  kHead,
  kNeck,
  kUpperArm,  // + side (0 left, 1 right)
  kForearm = kUpperArm + 2,
  kHand = kForearm + 2,
  kThigh = kHand + 2,
  kShin = kThigh + 2,
  kFoot = kShin + 2,
};

// The labelled points of the figure.
enum Point : int {
  kPtHead,
  kPtNeck,
  kPtBelly,
  kPtShoulder,  // + side
  kPtElbow = kPtShoulder + 2,
  kPtWrist = kPtElbow + 2,
  kPtHip = kPtWrist + 2,
  kPtKnee = kPtHip + 2,
  kPtAnkle = kPtKnee + 2,
  kNumPoints = kPtAnkle + 2,
};

// The skeleton point a joint name refers to; -1 when unknown.
int PointOfJoint(const std::string& name) {
  if (name == "head" || name == "face") return kPtHead;
  if (name == "neck") return kPtNeck;
  if (name == "belly") return kPtBelly;
  if (name.size() < 3 || name[1] != '_') return -1;
  const int side = name[0] == 'l' ? kLeft : (name[0] == 'r' ? kRight : -1);
  if (side < 0) return -1;
  const std::string part = name.substr(2);
  if (part == "shoulder") return kPtShoulder + side;
  if (part == "elbow") return kPtElbow + side;
  if (part == "wrist") return kPtWrist + side;
  if (part == "hip") return kPtHip + side;
  if (part == "knee") return kPtKnee + side;
  if (part == "ankle") return kPtAnkle + side;
  return -1;
}

// Parts a point belongs to: another part on top of it hides it.
bool IsOwnPart(int point, int part) {
  switch (point) {
    case kPtHead:
      return part == kHead || part == kNeck;
    case kPtNeck:
      return part == kNeck || part == kTorso || part == kHead;
    case kPtBelly:
      return part == kTorso;
    default:
      break;
  }
  const int side = (point - kPtShoulder) % 2;
  switch ((point - kPtShoulder) / 2) {
    case 0:
      return part == kTorso || part == kUpperArm + side;
    case 1:
      return part == kUpperArm + side || part == kForearm + side;
    case 2:
      return part == kForearm + side || part == kHand + side;
    case 3:
      return part == kTorso || part == kThigh + side;
    case 4:
      return part == kThigh + side || part == kShin + side;
    default:
      return part == kShin + side || part == kFoot + side;
  }
}

double Smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return x * x * (3 - 2 * x);
}

struct Outfit {
  Material shirt;
  Material pants;
  Rgb skin, hair, shoes;
  bool long_sleeves = true;
  bool shorts = false;
};

Outfit RandomOutfit(SynthRandom& rng, double contrast) {
  static constexpr float kSkin[][3] = {
      {0.96f, 0.80f, 0.69f}, {0.92f, 0.72f, 0.58f}, {0.85f, 0.64f, 0.48f},
      {0.76f, 0.55f, 0.40f}, {0.63f, 0.44f, 0.31f}, {0.50f, 0.34f, 0.23f},
      {0.38f, 0.25f, 0.17f}, {0.28f, 0.18f, 0.12f}};
  static constexpr float kHair[][3] = {{0.07f, 0.05f, 0.04f},
                                       {0.24f, 0.14f, 0.07f},
                                       {0.45f, 0.30f, 0.15f},
                                       {0.78f, 0.64f, 0.40f},
                                       {0.55f, 0.55f, 0.55f}};
  Outfit o;
  const auto& s = kSkin[rng.UniformInt(0, 7)];
  const double j = rng.Uniform(0.95, 1.05);
  o.skin = Rgb{static_cast<float>(s[0] * j), static_cast<float>(s[1] * j),
               static_cast<float>(s[2] * j)};
  const auto& h = kHair[rng.UniformInt(0, 4)];
  o.hair = Rgb{h[0], h[1], h[2]};
  o.shirt = synth::RandomCloth(rng, contrast);
  o.pants = synth::RandomCloth(rng, contrast * 0.6);
  if (rng.Bernoulli(0.4)) {  // jeans
    o.pants.base = synth::FromHsv(
        rng.Uniform(0.58, 0.64), rng.Uniform(0.4, 0.7), rng.Uniform(0.25, 0.6));
  }
  o.shoes =
      synth::FromHsv(rng.Unit(), rng.Uniform(0, 0.5), rng.Uniform(0.05, 0.6));
  o.long_sleeves = rng.Bernoulli(0.5);
  o.shorts = rng.Bernoulli(0.3);
  return o;
}

// Everything random about a clip, drawn before rendering.
struct ClipPlan {
  int64_t num_frames = 0;
  std::vector<SynthSegment> segments;
  std::vector<double> variant, phase0, yaw_target, turn_rate;
  BodyShape body;
  Outfit outfit;
  double initial_yaw = 0;
  double figure_scale = 0;  // pixels per body height
  double ground_y = 0;      // pixels (world image)
  // Camera wander and zoom: angular frequencies (rad/s) and phases.
  double pan_w[3] = {0, 0, 0}, pan_phi[3] = {0, 0, 0};
  double zoom_w[2] = {0, 0}, zoom_phi[2] = {0, 0};
  double drift_x = 0, drift_y = 0;  // far layer, pixels per frame
  // Lighting: gain, tint, light direction.
  double light_w[3] = {0, 0, 0}, light_phi[3] = {0, 0, 0};
  Texture backdrop{1, 1};
  Texture floor{1, 1};
  bool train = false;
  std::array<bool, 3> train_split = {false, false, false};
  uint64_t noise_seed = 0;
};

SynthMotion PickMotion(SynthRandom& rng, const SynthPoseOptions& o) {
  const double w[kNumSynthMotions] = {o.stand_weight, o.walk_weight,
                                      o.jump_weight, o.arm_swing_weight,
                                      o.bend_weight};
  double total = 0;
  for (double v : w) total += v;
  double pick = rng.Uniform(0, total);
  for (int i = 0; i < kNumSynthMotions; ++i) {
    if (pick < w[i]) return static_cast<SynthMotion>(i);
    pick -= w[i];
  }
  return SynthMotion::kStand;
}

ClipPlan MakePlan(const SynthPoseOptions& o, int clip_number) {
  const uint64_t clip_seed =
      MixSeed(o.seed, static_cast<uint64_t>(clip_number));
  // Separate streams, so that changing one group of knobs (say, noise) keeps
  // the others' draws (the motion) as they were.
  SynthRandom motion(MixSeed(clip_seed, 1));
  SynthRandom look(MixSeed(clip_seed, 2));
  SynthRandom scene(MixSeed(clip_seed, 3));
  SynthRandom camera(MixSeed(clip_seed, 4));
  SynthRandom split(MixSeed(clip_seed, 5));
  ClipPlan p;
  p.num_frames = motion.UniformInt(o.min_frames, o.max_frames);
  p.initial_yaw = motion.Uniform(-kPi, kPi);
  double yaw = p.initial_yaw;
  for (int64_t t = 0; t < p.num_frames;) {
    SynthSegment s;
    s.first_frame = t;
    s.num_frames = std::min<int64_t>(
        motion.UniformInt(o.min_segment_frames, o.max_segment_frames),
        p.num_frames - t);
    s.motion = PickMotion(motion, o);
    s.fast = motion.Bernoulli(o.fast_fraction);
    s.amplitude =
        s.fast ? motion.Uniform(o.fast_amplitude_min, o.fast_amplitude_max)
               : motion.Uniform(o.slow_amplitude_min, o.slow_amplitude_max);
    s.rate = (s.fast ? o.fast_rate : o.slow_rate) * motion.Uniform(0.8, 1.25);
    p.variant.push_back(motion.Unit());
    p.phase0.push_back(motion.Unit());
    if (s.motion == SynthMotion::kWalk) {
      // Walk across the view, not into it.
      yaw = (motion.Bernoulli(0.5) ? 1 : -1) * kPi / 2 + motion.Normal(0, 0.3);
    } else {
      yaw += motion.Uniform(-1, 1) * (s.fast ? 2.5 : 0.6);
    }
    p.yaw_target.push_back(yaw);
    const double turn = o.turn_speed * kPi / 180 * motion.Uniform(0.5, 1.0);
    p.turn_rate.push_back(s.fast ? turn : 0.1 * turn);
    p.segments.push_back(s);
    t += s.num_frames;
  }
  p.body = synth::RandomBodyShape(look, o.body_variation, o.limb_thickness);
  p.outfit = RandomOutfit(look, o.texture_contrast);
  p.figure_scale = o.figure_height * o.height * look.Uniform(0.92, 1.08);
  p.ground_y = o.height * (0.5 + 0.5 * o.figure_height) +
               look.Uniform(-0.03, 0.03) * o.height;

  const int tex_w = std::max(256, 2 * o.width);
  const int tex_h = std::max(128, 2 * o.height);
  p.backdrop = synth::MakeBackdrop(scene, tex_w, tex_h, o.background_contrast);
  p.floor = synth::MakeFloor(scene, tex_w, tex_h, o.background_contrast);
  const double drift_angle =
      scene.Uniform(-0.4, 0.4) + (scene.Bernoulli(0.5) ? 0 : kPi);
  p.drift_x = o.background_drift * std::cos(drift_angle);
  p.drift_y = o.background_drift * std::sin(drift_angle);

  for (int i = 0; i < 3; ++i) {
    p.pan_w[i] =
        kTwoPi * camera.Uniform(i == 0 ? 0.08 : 0.2, i == 0 ? 0.2 : 0.5);
    p.pan_phi[i] = camera.Uniform(0, kTwoPi);
    p.light_w[i] = kTwoPi * camera.Uniform(0.05, 0.3);
    p.light_phi[i] = camera.Uniform(0, kTwoPi);
  }
  for (int i = 0; i < 2; ++i) {
    p.zoom_w[i] = kTwoPi * camera.Uniform(0.05, 0.3);
    p.zoom_phi[i] = camera.Uniform(0, kTwoPi);
  }
  p.train = split.Bernoulli(o.train_fraction);
  for (bool& b : p.train_split) b = split.Bernoulli(o.train_fraction);
  p.noise_seed = split.Next();
  return p;
}

// The state of the figure and camera in one frame.
struct FrameState {
  JointAngles angles;
  double yaw = 0;
  double root_x = 0;  // body heights
  double pan_x = 0, pan_y = 0, zoom = 1;
  double gain = 1;
  Rgb tint{1, 1, 1};
  Vector3d light{0, 0, 1};
};

std::vector<FrameState> Simulate(const SynthPoseOptions& o, const ClipPlan& p) {
  std::vector<FrameState> states(p.num_frames);
  const double fps = o.frame_rate;
  double yaw = p.initial_yaw, root_x = 0, follow = 0;
  size_t k = 0;
  for (int64_t t = 0; t < p.num_frames; ++t) {
    while (k + 1 < p.segments.size() && t >= p.segments[k + 1].first_frame) ++k;
    const SynthSegment& seg = p.segments[k];
    auto angles_of = [&](size_t i) {
      const SynthSegment& s = p.segments[i];
      const double phase = p.phase0[i] + s.rate * (t - s.first_frame) / fps;
      return synth::MotionAngles(s.motion, phase, s.amplitude, p.variant[i]);
    };
    auto speed_of = [&](size_t i) {
      const SynthSegment& s = p.segments[i];
      return synth::MotionStride(s.motion, s.amplitude, o.stride_length) *
             s.rate;
    };
    FrameState& f = states[t];
    f.angles = angles_of(k);
    double speed = speed_of(k);
    const int64_t into = t - seg.first_frame;
    if (k > 0 && into < o.blend_frames) {
      const double w = Smoothstep((into + 1.0) / (o.blend_frames + 1.0));
      f.angles = synth::Blend(angles_of(k - 1), f.angles, w);
      speed = (1 - w) * speed_of(k - 1) + w * speed;
    }
    const double max_turn = p.turn_rate[k] / fps;
    yaw += std::clamp(p.yaw_target[k] - yaw, -max_turn, max_turn);
    if (t > 0) root_x += speed / fps * std::sin(yaw);
    f.yaw = yaw;
    f.root_x = root_x;

    // The camera follows the figure loosely and wanders on its own.
    const double s = t / fps;
    const double root_px = p.figure_scale * root_x;
    follow = t == 0 ? root_px : follow + 0.12 * (root_px - follow);
    const double amp_x =
        std::min(0.25 * o.width, o.camera_pan * fps / p.pan_w[0]);
    double pan_x =
        follow + amp_x * (0.6 * std::sin(p.pan_w[0] * s + p.pan_phi[0]) +
                          0.4 * std::sin(p.pan_w[1] * s + p.pan_phi[1]));
    pan_x = std::clamp(pan_x, root_px - 0.3 * o.width, root_px + 0.3 * o.width);
    f.pan_x = pan_x;
    f.pan_y = std::min(0.06 * o.height, 0.5 * o.camera_pan * fps / p.pan_w[2]) *
              std::sin(p.pan_w[2] * s + p.pan_phi[2]);
    f.zoom =
        1 + o.camera_zoom * (0.7 * std::sin(p.zoom_w[0] * s + p.zoom_phi[0]) +
                             0.3 * std::sin(p.zoom_w[1] * s + p.zoom_phi[1]));
    f.gain = 1 + o.lighting_change *
                     (0.7 * std::sin(p.light_w[0] * s + p.light_phi[0]) +
                      0.3 * std::sin(p.light_w[1] * s + p.light_phi[1]));
    const double tint =
        0.3 * o.lighting_change * std::sin(p.light_w[2] * s + p.light_phi[2]);
    f.tint =
        Rgb{static_cast<float>(1 + tint), 1.f, static_cast<float>(1 - tint)};
    f.light =
        Vector3d(0.7 * std::sin(p.light_w[2] * s + p.light_phi[0]),
                 0.5 + 0.3 * std::cos(p.light_w[1] * s + p.light_phi[2]), 0.8)
            .normalized();
  }
  return states;
}

// Maps body points to the screen for one frame.
struct Projector {
  const SynthPoseOptions& o;
  const ClipPlan& p;
  const FrameState& f;

  double Persp(const Vector3d& q) const {
    return kCameraDistance / (kCameraDistance - q.z());
  }
  Vec2 operator()(const Vector3d& q) const {
    const double pp = Persp(q);
    const double x = 0.5 * o.width + p.figure_scale * (f.root_x + q.x() * pp);
    const double y =
        p.ground_y - p.figure_scale * (kEyeHeight + (q.y() - kEyeHeight) * pp);
    return Vec2((x - f.pan_x - 0.5 * o.width) * f.zoom + 0.5 * o.width,
                (y - f.pan_y - 0.5 * o.height) * f.zoom + 0.5 * o.height);
  }
  double Radius(const Vector3d& q, double r) const {
    return r * p.figure_scale * Persp(q) * f.zoom;
  }
};

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
          c = synth::Mix(c, p.floor.Sample(x, 0), below + 0.5);
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
  const double lift = std::min(s.ankle[0].y(), s.ankle[1].y()) -
                      proj.p.body.ankle_height;
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

struct DrawnFigure {
  std::array<Vec2, kNumPoints> points;
  std::array<double, kNumPoints> depth;
  double torso_depth = 0;
};

DrawnFigure DrawFigure(const SynthPoseOptions& o, const ClipPlan& p,
                       const FrameState& f, const Skeleton3& s,
                       Canvas& canvas) {
  const Projector proj{o, p, f};
  const BodyShape& b = p.body;
  const Outfit& outfit = p.outfit;
  DrawnFigure fig;
  const Vector3d* pts[kNumPoints] = {
      &s.head,     &s.neck,     &s.belly,    &s.shoulder[0], &s.shoulder[1],
      &s.elbow[0], &s.elbow[1], &s.wrist[0], &s.wrist[1],    &s.hip[0],
      &s.hip[1],   &s.knee[0],  &s.knee[1],  &s.ankle[0],    &s.ankle[1]};
  for (int i = 0; i < kNumPoints; ++i) {
    fig.points[i] = proj(*pts[i]);
    fig.depth[i] = pts[i]->z();
  }
  const Vector3d& light = f.light;

  struct PartDraw {
    double depth;
    std::function<void()> draw;
  };
  std::vector<PartDraw> parts;

  auto limb = [&](int id, const Vector3d& a3, const Vector3d& b3, double ra,
                  double rb, const Material* cloth, const Rgb& plain,
                  double length) {
    parts.push_back(
        {0.5 * (a3.z() + b3.z()),
         [&, id, a3, b3, ra, rb, cloth, plain, length] {
           const Vec2 a = proj(a3), bb = proj(b3);
           const double rpa = proj.Radius(a3, ra), rpb = proj.Radius(b3, rb);
           const double r_mid = 0.5 * (ra + rb);
           synth::DrawCapsule(
               canvas, a, bb, rpa, rpb, id, [&](double along, double across) {
                 const Rgb base =
                     cloth == nullptr
                         ? plain
                         : synth::ClothColor(*cloth, along * length,
                                             across * r_mid * kPi / 2);
                 return synth::Scale(
                     base, Lambert(CapsuleNormal(a, bb, across), light));
               });
         }});
  };

  const Material* sleeve = outfit.long_sleeves ? &outfit.shirt : nullptr;
  const Material* shin_cloth = outfit.shorts ? nullptr : &outfit.pants;
  for (int side = 0; side < 2; ++side) {
    limb(kUpperArm + side, s.shoulder[side], s.elbow[side], b.upper_arm_r0,
         b.upper_arm_r1, &outfit.shirt, outfit.skin, b.upper_arm);
    limb(kForearm + side, s.elbow[side], s.wrist[side], b.forearm_r0,
         b.forearm_r1, sleeve, outfit.skin, b.forearm);
    limb(kThigh + side, s.hip[side], s.knee[side], b.thigh_r0, b.thigh_r1,
         &outfit.pants, outfit.skin, b.thigh);
    limb(kShin + side, s.knee[side], s.ankle[side], b.shin_r0, b.shin_r1,
         shin_cloth, outfit.skin, b.shin);
    limb(kFoot + side, s.ankle[side], s.toe[side], b.foot_r, b.foot_r, nullptr,
         outfit.shoes, b.foot);
    const Vector3d hand = s.hand[side];
    parts.push_back(
        {hand.z() + 0.005, [&, side, hand] {
           const Vec2 c = proj(hand);
           synth::DrawDisc(
               canvas, c, proj.Radius(hand, b.hand_r), kHand + side,
               [&](const Vec2& d) {
                 const double z = std::sqrt(std::max(0.0, 1 - d.squaredNorm()));
                 return synth::Scale(
                     outfit.skin, Lambert(Vector3d(d.x(), -d.y(), z), light));
               });
         }});
  }
  // Neck just behind the head and torso.
  parts.push_back({std::min(s.neck.z(), s.head.z()) - 0.02, [&] {
                     const Vec2 a = proj(s.neck), c = proj(s.head);
                     const double r = proj.Radius(s.neck, b.neck_r);
                     synth::DrawCapsule(
                         canvas, a, c, r, r, kNeck, [&](double, double across) {
                           return synth::Scale(
                               outfit.skin,
                               Lambert(CapsuleNormal(a, c, across), light));
                         });
                   }});
  // Torso: the hull of shoulders and hips pushed to the chest's front and
  // back, rounded.
  fig.torso_depth = 0.25 * (s.shoulder[0].z() + s.shoulder[1].z() +
                            s.hip[0].z() + s.hip[1].z());
  parts.push_back(
      {fig.torso_depth - 0.001, [&] {
         const Vector3d front = 0.5 * b.torso_depth * s.facing;
         std::vector<Vec2> corners;
         for (const Vector3d& q :
              {s.shoulder[0], s.shoulder[1], s.hip[0], s.hip[1]}) {
           corners.push_back(proj(q + front));
           corners.push_back(proj(q - front));
         }
         const std::vector<Vec2> hull = synth::ConvexHull(corners);
         const Vec2 pelvis = proj(s.pelvis), neck = proj(s.neck);
         Vec2 up = neck - pelvis;
         const double up_len = std::max(up.norm(), 1e-6);
         up /= up_len;
         const Vec2 across(-up.y(), up.x());
         double half = 1e-6;
         for (const Vec2& q : hull)
           half = std::max(half, std::abs((q - pelvis).dot(across)));
         const double round = proj.Radius(s.belly, b.torso_round);
         half += round;
         const double px_per_body = up_len / b.spine;
         // The pattern slides as the body turns.
         const double twist = 0.1 * f.yaw;
         synth::DrawConvex(canvas, hull, round, kTorso, [&](const Vec2& q) {
           const Vec2 d = q - pelvis;
           const double along = d.dot(up) / px_per_body;
           const double side = d.dot(across);
           const Material& m =
               along < 0.2 * b.spine ? outfit.pants : outfit.shirt;
           const Rgb base =
               synth::ClothColor(m, along, side / px_per_body + twist);
           const double a = std::clamp(side / half, -1.0, 1.0);
           const Vector3d n(a * across.x(), -a * across.y(),
                            std::sqrt(std::max(0.0, 1 - a * a)));
           return synth::Scale(base, Lambert(n, light));
         });
       }});
  // Head with hair and eyes.
  parts.push_back(
      {s.head.z(), [&] {
         const Vec2 c = proj(s.head);
         const double r = proj.Radius(s.head, b.head_radius);
         const Vector3d hair_dir =
             (0.85 * s.torso_up - 0.55 * s.facing).normalized();
         synth::DrawDisc(canvas, c, r, kHead, [&](const Vec2& d) {
           const Vector3d n(d.x(), -d.y(),
                            std::sqrt(std::max(0.0, 1 - d.squaredNorm())));
           const Rgb& base = n.dot(hair_dir) > 0.25 ? outfit.hair : outfit.skin;
           return synth::Scale(base, Lambert(n, light));
         });
         for (int side = 0; side < 2; ++side) {
           const Vector3d dir = (0.93 * s.facing + 0.15 * s.torso_up +
                                 (side == kLeft ? 0.36 : -0.36) * s.torso_left)
                                    .normalized();
           if (dir.z() < 0.15) continue;
           const Vector3d eye = s.head + b.head_radius * dir;
           synth::DrawDisc(canvas, proj(eye), std::max(0.6, 0.13 * r), kHead,
                           [](const Vec2&) {
                             return Rgb{0.08f, 0.06f, 0.05f};
                           });
         }
       }});
  // Far to near; ties keep the order above (limbs over the torso).
  std::stable_sort(
      parts.begin(), parts.end(),
      [](const PartDraw& x, const PartDraw& y) { return x.depth < y.depth; });
  for (const PartDraw& part : parts) part.draw();
  return fig;
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

std::string PoseName(double yaw) {
  yaw = std::remainder(yaw, kTwoPi);
  if (std::abs(yaw) <= kPi / 4) return "front";
  if (std::abs(yaw) >= 3 * kPi / 4) return "back";
  // Positive yaw turns the figure's front towards +x, the screen's right.
  return yaw > 0 ? "right" : "left";
}

}  // namespace

absl::Status ValidateSynthPoseOptions(const SynthPoseOptions& o) {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("SynthPose option ", what));
  };
  if (o.num_clips < 1 || o.num_clips > 9999) {
    return bad(absl::StrCat("num_clips ", o.num_clips, " must be 1..9999"));
  }
  if (o.width < 32 || o.height < 32 || o.width % 2 || o.height % 2 ||
      o.width > 4096 || o.height > 4096) {
    return bad(absl::StrCat("size ", o.width, "x", o.height,
                            " must be even and within 32..4096"));
  }
  if (o.min_frames < 1 || o.max_frames < o.min_frames ||
      o.max_frames > 100000) {
    return bad(absl::StrCat("min_frames ", o.min_frames, " / max_frames ",
                            o.max_frames, " must satisfy 1 <= min <= max"));
  }
  if (!(o.frame_rate > 0 && o.frame_rate <= 1000)) {
    return bad(
        absl::StrCat("frame_rate ", o.frame_rate, " must be in (0, 1000]"));
  }
  for (const auto& [name, v] :
       {std::pair<const char*, double>{"train_fraction", o.train_fraction},
        {"fast_fraction", o.fast_fraction}}) {
    if (!(v >= 0 && v <= 1))
      return bad(absl::StrCat(name, " ", v, " must be in [0, 1]"));
  }
  if (o.min_segment_frames < 1 || o.max_segment_frames < o.min_segment_frames) {
    return bad(absl::StrCat("min_segment_frames ", o.min_segment_frames,
                            " / max_segment_frames ", o.max_segment_frames,
                            " must satisfy 1 <= min <= max"));
  }
  if (o.blend_frames < 0) return bad("blend_frames must not be negative");
  for (const auto& [name, v] :
       {std::pair<const char*, double>{"slow_rate", o.slow_rate},
        {"fast_rate", o.fast_rate},
        {"figure_height", o.figure_height},
        {"limb_thickness", o.limb_thickness}}) {
    if (!(v > 0 && v < 100))
      return bad(absl::StrCat(name, " ", v, " must be positive"));
  }
  if (!(o.slow_amplitude_min >= 0 &&
        o.slow_amplitude_max >= o.slow_amplitude_min &&
        o.fast_amplitude_min >= 0 &&
        o.fast_amplitude_max >= o.fast_amplitude_min &&
        o.fast_amplitude_max <= 3 && o.slow_amplitude_max <= 3)) {
    return bad("amplitude ranges must satisfy 0 <= min <= max <= 3");
  }
  const double weights = o.stand_weight + o.walk_weight + o.jump_weight +
                         o.arm_swing_weight + o.bend_weight;
  if (o.stand_weight < 0 || o.walk_weight < 0 || o.jump_weight < 0 ||
      o.arm_swing_weight < 0 || o.bend_weight < 0 || !(weights > 0)) {
    return bad("motion weights must be non-negative with a positive sum");
  }
  for (const auto& [name, v] :
       {std::pair<const char*, double>{"turn_speed", o.turn_speed},
        {"stride_length", o.stride_length},
        {"body_variation", o.body_variation},
        {"texture_contrast", o.texture_contrast},
        {"background_contrast", o.background_contrast},
        {"background_drift", o.background_drift},
        {"parallax", o.parallax},
        {"camera_pan", o.camera_pan},
        {"noise_sigma", o.noise_sigma}}) {
    if (!(v >= 0 && v < 1e4))
      return bad(absl::StrCat(name, " ", v, " must be >= 0"));
  }
  if (o.body_variation >= 0.5) return bad("body_variation must be below 0.5");
  if (!(o.camera_zoom >= 0 && o.camera_zoom < 0.5)) {
    return bad(
        absl::StrCat("camera_zoom ", o.camera_zoom, " must be in [0, 0.5)"));
  }
  if (!(o.lighting_change >= 0 && o.lighting_change < 1)) {
    return bad(absl::StrCat("lighting_change ", o.lighting_change,
                            " must be in [0, 1)"));
  }
  if (o.jpeg_quality < 1 || o.jpeg_quality > 31) {
    return bad(absl::StrCat("jpeg_quality ", o.jpeg_quality, " must be 1..31"));
  }
  if (!JointSetByName(o.joint_set)) {
    return bad(absl::StrCat("joint_set '", o.joint_set,
                            "' is neither 'penn_action' nor 'jhmdb'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SynthClip> RenderSynthClip(const SynthPoseOptions& options,
                                          int clip_number) {
  MAPN_RETURN_IF_ERROR(ValidateSynthPoseOptions(options));
  if (clip_number < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("SynthPose clip number ", clip_number, " must be >= 1"));
  }
  const SynthPoseOptions& o = options;
  const JointSet joint_set =
      *JointSetByName(o.layout == SynthLayout::kJhmdb ? "jhmdb" : o.joint_set);
  std::vector<int> point_of_joint;
  for (const std::string& name : joint_set.joint_names) {
    point_of_joint.push_back(PointOfJoint(name));
  }

  const ClipPlan plan = MakePlan(o, clip_number);
  const std::vector<FrameState> states = Simulate(o, plan);
  const int64_t n = plan.num_frames;
  const int jn = joint_set.num_joints();

  SynthClip clip;
  clip.width = o.width;
  clip.height = o.height;
  clip.segments = plan.segments;
  clip.pose = PoseName(plan.initial_yaw);
  PoseSequence& seq = clip.labels;
  seq.dataset = "synthpose";
  seq.id = absl::StrFormat("%04d", clip_number);
  seq.train =
      o.layout == SynthLayout::kJhmdb ? plan.train_split[0] : plan.train;
  seq.width = o.width;
  seq.height = o.height;
  seq.num_frames = n;
  seq.num_joints = jn;
  seq.frame_rate = o.frame_rate;
  seq.joints.resize(static_cast<size_t>(n) * jn * 2);
  seq.visible.resize(static_cast<size_t>(n) * jn);
  seq.boxes.resize(n);
  clip.frames.resize(n);
  clip.masks.resize(n);
  clip.fast.resize(n);
  clip.joint_motion.assign(n, 0.f);

  // The action is the motion that fills most frames.
  std::array<int64_t, kNumSynthMotions> frames_of{};
  for (const SynthSegment& s : plan.segments) {
    frames_of[static_cast<int>(s.motion)] += s.num_frames;
    for (int64_t t = s.first_frame; t < s.first_frame + s.num_frames; ++t) {
      clip.fast[t] = s.fast;
    }
  }
  seq.action = SynthMotionName(static_cast<SynthMotion>(
      std::max_element(frames_of.begin(), frames_of.end()) -
      frames_of.begin()));

  std::vector<bool> box_found(n, false);
  for (int64_t t = 0; t < n; ++t) {
    const FrameState& f = states[t];
    const Skeleton3 skeleton =
        synth::ForwardKinematics(plan.body, f.angles, f.yaw);
    Canvas canvas(o.width, o.height);
    DrawBackground(o, plan, f, t, canvas);
    DrawShadow(Projector{o, plan, f}, skeleton, canvas);
    const DrawnFigure fig = DrawFigure(o, plan, f, skeleton, canvas);
    FinishFrame(o, plan, f, t, canvas, clip.frames[t]);

    std::vector<uint8_t>& mask = clip.masks[t];
    mask.resize(static_cast<size_t>(o.width) * o.height);
    int x_min = o.width, x_max = -1, y_min = o.height, y_max = -1;
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        const size_t i = static_cast<size_t>(y) * o.width + x;
        mask[i] = canvas.cover[i] >= 0.5f;
        if (!mask[i]) continue;
        x_min = std::min(x_min, x);
        x_max = std::max(x_max, x);
        y_min = std::min(y_min, y);
        y_max = std::max(y_max, y);
      }
    }
    if (x_max >= 0) {
      seq.boxes[t] =
          Box{static_cast<float>(x_min), static_cast<float>(y_min),
              static_cast<float>(x_max + 1), static_cast<float>(y_max + 1)};
      box_found[t] = true;
    }
    double moved = 0;
    for (int j = 0; j < jn; ++j) {
      const int point = point_of_joint[j];
      const Vec2& q = fig.points[point];
      const size_t at = static_cast<size_t>(t) * jn + j;
      seq.joints[2 * at] = static_cast<float>(q.x());
      seq.joints[2 * at + 1] = static_cast<float>(q.y());
      bool visible = q.x() >= 0 && q.y() >= 0 && q.x() <= o.width - 1 &&
                     q.y() <= o.height - 1;
      if (visible && o.occluded_joints_invisible) {
        const int top =
            canvas.part[static_cast<size_t>(std::lround(q.y())) * o.width +
                        std::lround(q.x())];
        const bool near_side_only =
            (point >= kPtShoulder && point < kPtShoulder + 2) ||
            (point >= kPtHip && point < kPtHip + 2);
        if (!IsOwnPart(point, top)) {
          visible = false;
        } else if (near_side_only && top == kTorso &&
                   fig.depth[point] < fig.torso_depth - 0.02) {
          // A shoulder or hip on the far side of the chest.
          visible = false;
        }
      }
      seq.visible[at] = visible;
      if (t > 0) {
        const size_t prev = at - jn;
        moved += std::hypot(seq.joints[2 * at] - seq.joints[2 * prev],
                            seq.joints[2 * at + 1] - seq.joints[2 * prev + 1]);
      }
    }
    clip.joint_motion[t] = static_cast<float>(moved / jn);
  }
  absl::StatusOr<int> repaired = RepairBoxes(seq.boxes, box_found);
  if (!repaired.ok()) {
    return absl::InternalError(absl::StrCat("SynthPose clip ", clip_number,
                                            ": the figure is in no frame"));
  }
  seq.repaired_boxes = *repaired;
  MAPN_RETURN_IF_ERROR(seq.Validate());
  return clip;
}

at::Tensor SynthClipFrames(const SynthClip& clip) {
  const int64_t n = static_cast<int64_t>(clip.frames.size());
  at::Tensor out = at::empty({n, clip.height, clip.width, 3}, at::kByte);
  uint8_t* dst = out.data_ptr<uint8_t>();
  const size_t frame_bytes = static_cast<size_t>(clip.width) * clip.height * 3;
  for (int64_t t = 0; t < n; ++t) {
    std::copy(clip.frames[t].begin(), clip.frames[t].end(),
              dst + t * frame_bytes);
  }
  return out.permute({0, 3, 1, 2}).contiguous();
}

namespace {

namespace fs = std::filesystem;

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create directory '", dir, "': ", ec.message()));
  }
  return absl::OkStatus();
}

VideoWriterOptions Mpeg4Options(double frame_rate) {
  VideoWriterOptions v;  // mpeg4, GOP 12, no B-frames, q 1
  v.frame_rate_num = static_cast<int>(std::lround(frame_rate * 1000));
  v.frame_rate_den = 1000;
  return v;
}

absl::Status WriteVideo(const std::string& path, const SynthClip& clip,
                        double frame_rate) {
  MAPN_ASSIGN_OR_RETURN(std::unique_ptr<VideoWriter> writer,
                        VideoWriter::Open(path, clip.width, clip.height,
                                          Mpeg4Options(frame_rate)));
  for (const std::vector<uint8_t>& frame : clip.frames) {
    MAPN_RETURN_IF_ERROR(writer->WriteRgb(frame.data(), 3 * clip.width));
  }
  return writer->Close();
}

absl::Status WritePennClip(const SynthPoseOptions& o, const std::string& root,
                           const SynthClip& clip) {
  const PoseSequence& seq = clip.labels;
  const std::string frames_dir = absl::StrCat(root, "/frames/", seq.id);
  MAPN_RETURN_IF_ERROR(MakeDirs(frames_dir));
  MAPN_ASSIGN_OR_RETURN(ImageEncoder jpeg,
                        ImageEncoder::Create(ImageCodec::kJpeg, clip.width,
                                             clip.height, o.jpeg_quality));
  for (size_t t = 0; t < clip.frames.size(); ++t) {
    MAPN_RETURN_IF_ERROR(
        jpeg.Write(absl::StrFormat("%s/%06d.jpg", frames_dir, t + 1),
                   clip.frames[t].data()));
  }
  // Fields and types as in the real label files; MATLAB order (column-major).
  const size_t n = static_cast<size_t>(seq.num_frames);
  const size_t jn = static_cast<size_t>(seq.num_joints);
  std::vector<double> x(n * jn), y(n * jn), bbox(n * 4);
  std::vector<uint8_t> vis(n * jn);
  for (size_t t = 0; t < n; ++t) {
    for (size_t j = 0; j < jn; ++j) {
      x[t + j * n] = seq.x(t, j);
      y[t + j * n] = seq.y(t, j);
      vis[t + j * n] = seq.is_visible(t, j);
    }
    const Box& b = seq.boxes[t];
    bbox[t] = b.x1;
    bbox[t + n] = b.y1;
    bbox[t + 2 * n] = b.x2;
    bbox[t + 3 * n] = b.y2;
  }
  MAPN_RETURN_IF_ERROR(MakeDirs(root + "/labels"));
  MAPN_ASSIGN_OR_RETURN(MatWriter mat, MatWriter::Create(absl::StrCat(
                                           root, "/labels/", seq.id, ".mat")));
  MAPN_RETURN_IF_ERROR(mat.WriteString("action", seq.action));
  MAPN_RETURN_IF_ERROR(mat.WriteString("pose", clip.pose));
  MAPN_RETURN_IF_ERROR(mat.WriteDouble("x", {n, jn}, x));
  MAPN_RETURN_IF_ERROR(mat.WriteDouble("y", {n, jn}, y));
  MAPN_RETURN_IF_ERROR(mat.WriteLogical("visibility", {n, jn}, vis));
  MAPN_RETURN_IF_ERROR(mat.WriteInt32("train", {1, 1}, {seq.train ? 1 : -1}));
  MAPN_RETURN_IF_ERROR(mat.WriteDouble("bbox", {n, 4}, bbox));
  MAPN_RETURN_IF_ERROR(mat.WriteDouble(
      "dimensions", {1, 3},
      {static_cast<double>(seq.height), static_cast<double>(seq.width),
       static_cast<double>(n)}));
  MAPN_RETURN_IF_ERROR(
      mat.WriteDouble("nframes", {1, 1}, {static_cast<double>(n)}));
  MAPN_RETURN_IF_ERROR(mat.Close());
  if (o.write_videos) {
    MAPN_RETURN_IF_ERROR(MakeDirs(root + "/mpeg4_gop12"));
    MAPN_RETURN_IF_ERROR(
        WriteVideo(absl::StrCat(root, "/mpeg4_gop12/", seq.id, ".mp4"), clip,
                   o.frame_rate));
  }
  return absl::OkStatus();
}

std::string JhmdbVideoName(const PoseSequence& seq) {
  return absl::StrCat("synthpose_", seq.id);
}

absl::Status WriteJhmdbClip(const SynthPoseOptions& o, const std::string& root,
                            const SynthClip& clip) {
  const PoseSequence& seq = clip.labels;
  const std::string rel = absl::StrCat(seq.action, "/", JhmdbVideoName(seq));
  const std::string images = absl::StrCat(root, "/Rename_Images/", rel);
  MAPN_RETURN_IF_ERROR(MakeDirs(images));
  MAPN_ASSIGN_OR_RETURN(
      ImageEncoder png,
      ImageEncoder::Create(ImageCodec::kPng, clip.width, clip.height));
  for (size_t t = 0; t < clip.frames.size(); ++t) {
    MAPN_RETURN_IF_ERROR(png.Write(
        absl::StrFormat("%s/%05d.png", images, t + 1), clip.frames[t].data()));
  }
  const size_t n = static_cast<size_t>(seq.num_frames);
  const size_t jn = static_cast<size_t>(seq.num_joints);
  // pos_img: 2 x 15 x T, 1-based MATLAB pixels.
  std::vector<double> pos(2 * jn * n);
  for (size_t t = 0; t < n; ++t) {
    for (size_t j = 0; j < jn; ++j) {
      pos[0 + 2 * (j + jn * t)] = static_cast<double>(seq.x(t, j)) + 1.0;
      pos[1 + 2 * (j + jn * t)] = static_cast<double>(seq.y(t, j)) + 1.0;
    }
  }
  const std::string joints_dir = absl::StrCat(root, "/joint_positions/", rel);
  MAPN_RETURN_IF_ERROR(MakeDirs(joints_dir));
  MAPN_ASSIGN_OR_RETURN(MatWriter jp,
                        MatWriter::Create(joints_dir + "/joint_positions.mat"));
  MAPN_RETURN_IF_ERROR(jp.WriteDouble("pos_img", {2, jn, n}, pos));
  MAPN_RETURN_IF_ERROR(jp.WriteString("viewpoint", clip.pose));
  MAPN_RETURN_IF_ERROR(jp.Close());
  // part_mask: H x W x T, column-major.
  const size_t w = static_cast<size_t>(clip.width),
               h = static_cast<size_t>(clip.height);
  std::vector<uint8_t> mask(w * h * n);
  for (size_t t = 0; t < n; ++t) {
    for (size_t yy = 0; yy < h; ++yy) {
      for (size_t xx = 0; xx < w; ++xx) {
        mask[yy + h * (xx + w * t)] = clip.masks[t][yy * w + xx];
      }
    }
  }
  const std::string mask_dir = absl::StrCat(root, "/puppet_mask/", rel);
  MAPN_RETURN_IF_ERROR(MakeDirs(mask_dir));
  MAPN_ASSIGN_OR_RETURN(MatWriter pm,
                        MatWriter::Create(mask_dir + "/puppet_mask.mat"));
  MAPN_RETURN_IF_ERROR(pm.WriteUint8("part_mask", {h, w, n}, mask));
  MAPN_RETURN_IF_ERROR(pm.Close());
  if (o.write_videos) {
    const std::string dir =
        absl::StrCat(root, "/ReCompress_Videos/", seq.action);
    MAPN_RETURN_IF_ERROR(MakeDirs(dir));
    MAPN_RETURN_IF_ERROR(
        WriteVideo(absl::StrCat(dir, "/", JhmdbVideoName(seq), ".avi"), clip,
                   o.frame_rate));
  }
  return absl::OkStatus();
}

nlohmann::json OptionsJson(const SynthPoseOptions& o) {
  return nlohmann::json{
      {"seed", o.seed},
      {"num_clips", o.num_clips},
      {"width", o.width},
      {"height", o.height},
      {"min_frames", o.min_frames},
      {"max_frames", o.max_frames},
      {"frame_rate", o.frame_rate},
      {"train_fraction", o.train_fraction},
      {"layout", o.layout == SynthLayout::kJhmdb ? "jhmdb" : "penn_action"},
      {"joint_set", o.joint_set},
      {"fast_fraction", o.fast_fraction},
      {"min_segment_frames", o.min_segment_frames},
      {"max_segment_frames", o.max_segment_frames},
      {"blend_frames", o.blend_frames},
      {"slow_rate", o.slow_rate},
      {"fast_rate", o.fast_rate},
      {"slow_amplitude_min", o.slow_amplitude_min},
      {"slow_amplitude_max", o.slow_amplitude_max},
      {"fast_amplitude_min", o.fast_amplitude_min},
      {"fast_amplitude_max", o.fast_amplitude_max},
      {"stand_weight", o.stand_weight},
      {"walk_weight", o.walk_weight},
      {"jump_weight", o.jump_weight},
      {"arm_swing_weight", o.arm_swing_weight},
      {"bend_weight", o.bend_weight},
      {"turn_speed", o.turn_speed},
      {"stride_length", o.stride_length},
      {"figure_height", o.figure_height},
      {"body_variation", o.body_variation},
      {"limb_thickness", o.limb_thickness},
      {"texture_contrast", o.texture_contrast},
      {"occluded_joints_invisible", o.occluded_joints_invisible},
      {"background_contrast", o.background_contrast},
      {"background_drift", o.background_drift},
      {"parallax", o.parallax},
      {"camera_pan", o.camera_pan},
      {"camera_zoom", o.camera_zoom},
      {"lighting_change", o.lighting_change},
      {"noise_sigma", o.noise_sigma},
      {"jpeg_quality", o.jpeg_quality},
      {"write_videos", o.write_videos},
  };
}

}  // namespace

absl::Status GenerateSynthPose(const SynthPoseOptions& requested,
                               const std::string& root) {
  MAPN_RETURN_IF_ERROR(ValidateSynthPoseOptions(requested));
  // Files follow their layout's joint order whatever joint_set says.
  SynthPoseOptions options = requested;
  options.joint_set =
      options.layout == SynthLayout::kJhmdb ? "jhmdb" : "penn_action";
  if (root.empty())
    return absl::InvalidArgumentError("SynthPose root is empty");
  MAPN_RETURN_IF_ERROR(MakeDirs(root));
  const bool jhmdb = options.layout == SynthLayout::kJhmdb;
  nlohmann::json clips = nlohmann::json::array();
  // Sub-JHMDB split files: class -> lines of each split.
  std::map<std::string, std::array<std::string, 3>> split_lines;
  for (int number = 1; number <= options.num_clips; ++number) {
    MAPN_ASSIGN_OR_RETURN(SynthClip clip, RenderSynthClip(options, number));
    const PoseSequence& seq = clip.labels;
    if (jhmdb) {
      MAPN_RETURN_IF_ERROR(WriteJhmdbClip(options, root, clip));
      const ClipPlan plan = MakePlan(options, number);
      for (int k = 0; k < 3; ++k) {
        absl::StrAppend(&split_lines[seq.action][k], JhmdbVideoName(seq),
                        ".avi ", plan.train_split[k] ? 1 : 2, "\n");
      }
    } else {
      MAPN_RETURN_IF_ERROR(WritePennClip(options, root, clip));
    }
    nlohmann::json segments = nlohmann::json::array();
    for (const SynthSegment& s : clip.segments) {
      segments.push_back({{"first_frame", s.first_frame},
                          {"num_frames", s.num_frames},
                          {"motion", SynthMotionName(s.motion)},
                          {"fast", s.fast},
                          {"amplitude", s.amplitude},
                          {"rate", s.rate}});
    }
    clips.push_back(
        {{"id",
          jhmdb ? absl::StrCat(seq.action, "/", JhmdbVideoName(seq)) : seq.id},
         {"action", seq.action},
         {"pose", clip.pose},
         {"train", seq.train},
         {"num_frames", seq.num_frames},
         {"segments", segments},
         {"fast", clip.fast},
         {"joint_motion", clip.joint_motion}});
  }
  if (jhmdb) {
    MAPN_RETURN_IF_ERROR(MakeDirs(root + "/sub_splits"));
    for (const auto& [action, lines] : split_lines) {
      for (int k = 0; k < 3; ++k) {
        MAPN_RETURN_IF_ERROR(
            WriteFileAtomically(absl::StrCat(root, "/sub_splits/", action,
                                             "_test_split_", k + 1, ".txt"),
                                lines[k]));
      }
    }
  }
  const nlohmann::json manifest{{"generator", "mapn SynthPose"},
                                {"options", OptionsJson(options)},
                                {"clips", clips}};
  return WriteFileAtomically(root + "/synthpose.json", manifest.dump(1) + "\n");
}

}  // namespace mapn
