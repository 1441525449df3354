#include "mapn/data/synth_plan.h"

#include <cmath>

namespace mapn::synth {

namespace {

using Eigen::Vector3d;

// The clip's length, its motion segments and the figure's heading and
// turning in each; the draws of the `motion` stream.
void PlanMotion(const SynthPoseOptions& o, SynthRandom& motion, ClipPlan& p) {
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
}

// The figure's build, clothes, size and where it stands; the `look` stream.
void PlanFigure(const SynthPoseOptions& o, SynthRandom& look, ClipPlan& p) {
  p.body = RandomBodyShape(look, o.body_variation, o.limb_thickness);
  p.outfit = RandomOutfit(look, o.texture_contrast);
  p.figure_scale = o.figure_height * o.height * look.Uniform(0.92, 1.08);
  p.ground_y = o.height * (0.5 + 0.5 * o.figure_height) +
               look.Uniform(-0.03, 0.03) * o.height;
}

// The two background layers and the far one's drift; the `scene` stream.
void PlanScene(const SynthPoseOptions& o, SynthRandom& scene, ClipPlan& p) {
  const int tex_w = std::max(256, 2 * o.width);
  const int tex_h = std::max(128, 2 * o.height);
  p.backdrop = MakeBackdrop(scene, tex_w, tex_h, o.background_contrast);
  p.floor = MakeFloor(scene, tex_w, tex_h, o.background_contrast);
  const double drift_angle =
      scene.Uniform(-0.4, 0.4) + (scene.Bernoulli(0.5) ? 0 : kPi);
  p.drift_x = o.background_drift * std::cos(drift_angle);
  p.drift_y = o.background_drift * std::sin(drift_angle);
}

// Frequencies and phases of the camera's pan and zoom and of the lighting;
// the `camera` stream.
void PlanCamera(SynthRandom& camera, ClipPlan& p) {
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
}

// The Penn Action and Sub-JHMDB splits and the sensor noise's seed; the
// `split` stream.
void PlanSplits(const SynthPoseOptions& o, SynthRandom& split, ClipPlan& p) {
  p.train = split.Bernoulli(o.train_fraction);
  for (bool& b : p.train_split) b = split.Bernoulli(o.train_fraction);
  p.noise_seed = split.Next();
}

// The pose of segment `i`'s motion at frame `t` (which may lie past the
// segment, while the next one blends in).
JointAngles SegmentAngles(const SynthPoseOptions& o, const ClipPlan& p,
                          size_t i, int64_t t) {
  const SynthSegment& s = p.segments[i];
  const double phase =
      p.phase0[i] + s.rate * (t - s.first_frame) / o.frame_rate;
  return MotionAngles(s.motion, phase, s.amplitude, p.variant[i]);
}

// Walking speed of segment `i` in body heights per second.
double SegmentSpeed(const SynthPoseOptions& o, const ClipPlan& p, size_t i) {
  const SynthSegment& s = p.segments[i];
  return MotionStride(s.motion, s.amplitude, o.stride_length) * s.rate;
}

// Fills angles, yaw and root_x: each segment's motion, blended with the
// previous one's at its start, the turn towards its target yaw and the
// distance walked.
void MoveFigure(const SynthPoseOptions& o, const ClipPlan& p,
                std::vector<FrameState>& states) {
  const double fps = o.frame_rate;
  double yaw = p.initial_yaw, root_x = 0;
  size_t k = 0;
  for (int64_t t = 0; t < p.num_frames; ++t) {
    while (k + 1 < p.segments.size() && t >= p.segments[k + 1].first_frame) ++k;
    FrameState& f = states[t];
    f.angles = SegmentAngles(o, p, k, t);
    double speed = SegmentSpeed(o, p, k);
    const int64_t into = t - p.segments[k].first_frame;
    if (k > 0 && into < o.blend_frames) {
      const double w = Smoothstep((into + 1.0) / (o.blend_frames + 1.0));
      f.angles = Blend(SegmentAngles(o, p, k - 1, t), f.angles, w);
      speed = (1 - w) * SegmentSpeed(o, p, k - 1) + w * speed;
    }
    const double max_turn = p.turn_rate[k] / fps;
    yaw += std::clamp(p.yaw_target[k] - yaw, -max_turn, max_turn);
    if (t > 0) root_x += speed / fps * std::sin(yaw);
    f.yaw = yaw;
    f.root_x = root_x;
  }
}

// Fills pan_x, pan_y and zoom: the camera follows the figure (root_x)
// loosely and wanders on its own.
void MoveCamera(const SynthPoseOptions& o, const ClipPlan& p,
                std::vector<FrameState>& states) {
  const double fps = o.frame_rate;
  double follow = 0;
  for (int64_t t = 0; t < p.num_frames; ++t) {
    FrameState& f = states[t];
    const double s = t / fps;
    const double root_px = p.figure_scale * f.root_x;
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
  }
}

// Fills gain, tint and light: slow changes of brightness, colour and the
// light's direction.
void ChangeLighting(const SynthPoseOptions& o, const ClipPlan& p,
                    std::vector<FrameState>& states) {
  for (int64_t t = 0; t < p.num_frames; ++t) {
    FrameState& f = states[t];
    const double s = t / o.frame_rate;
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
}

}  // namespace

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
  o.shirt = RandomCloth(rng, contrast);
  o.pants = RandomCloth(rng, contrast * 0.6);
  if (rng.Bernoulli(0.4)) {  // jeans
    o.pants.base = FromHsv(rng.Uniform(0.58, 0.64), rng.Uniform(0.4, 0.7),
                           rng.Uniform(0.25, 0.6));
  }
  o.shoes = FromHsv(rng.Unit(), rng.Uniform(0, 0.5), rng.Uniform(0.05, 0.6));
  o.long_sleeves = rng.Bernoulli(0.5);
  o.shorts = rng.Bernoulli(0.3);
  return o;
}

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
  SynthRandom motion(MixSeed(clip_seed, 1));
  SynthRandom look(MixSeed(clip_seed, 2));
  SynthRandom scene(MixSeed(clip_seed, 3));
  SynthRandom camera(MixSeed(clip_seed, 4));
  SynthRandom split(MixSeed(clip_seed, 5));
  ClipPlan p;
  PlanMotion(o, motion, p);
  PlanFigure(o, look, p);
  PlanScene(o, scene, p);
  PlanCamera(camera, p);
  PlanSplits(o, split, p);
  return p;
}

std::vector<FrameState> Simulate(const SynthPoseOptions& o, const ClipPlan& p) {
  std::vector<FrameState> states(p.num_frames);
  MoveFigure(o, p, states);
  MoveCamera(o, p, states);
  ChangeLighting(o, p, states);
  return states;
}

}  // namespace mapn::synth
