// File: synth_plan.h
//
// The first two steps of rendering a SynthPose clip, before any pixel is
// drawn: MakePlan draws everything random about a clip from the seed (its
// length and motion segments, the figure's build and outfit, the background
// textures, the camera's and the lighting's wander, the splits), and
// Simulate turns a plan into the state of the figure, the camera and the
// lighting in every frame. Both are pure functions of the options and the
// clip number, which is what makes a clip reproducible on its own
// (independent of num_clips and of the other clips).
//
// Each group of draws has its own random stream, so that changing the
// knobs of one group (say, the background's contrast) keeps the draws of
// the others (the motion) as they were.
//
// Example:
//
//   const synth::ClipPlan plan = synth::MakePlan(options, /*clip_number=*/3);
//   const std::vector<synth::FrameState> states =
//       synth::Simulate(options, plan);
//   // states[t].angles, .yaw and .root_x pose the figure in frame t;
//   // .pan_x, .pan_y and .zoom place the camera; .gain, .tint and .light
//   // light the scene.
#ifndef MAPN_DATA_SYNTH_PLAN_H_
#define MAPN_DATA_SYNTH_PLAN_H_

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "mapn/data/synth_body.h"
#include "mapn/data/synth_motion.h"
#include "mapn/data/synth_random.h"
#include "mapn/data/synth_render.h"
#include "mapn/data/synthpose.h"

namespace mapn::synth {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kTwoPi = 2 * kPi;

// 0 below 0, 1 above 1, a smooth S in between: eases blends and fades.
inline double Smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return x * x * (3 - 2 * x);
}

// The figure's clothes and colours.
struct Outfit {
  Material shirt;
  Material pants;
  Rgb skin, hair, shoes;
  bool long_sleeves = true;
  bool shorts = false;
};

// A skin tone, hair colour, shirt, trousers (jeans 40 % of the time) and
// shoes; `contrast` scales the clothing patterns.
Outfit RandomOutfit(SynthRandom& rng, double contrast);

// Everything random about a clip, drawn before rendering.
struct ClipPlan {
  int64_t num_frames = 0;
  std::vector<SynthSegment> segments;  // tile [0, num_frames)
  // Per segment: the motion's style (MotionAngles' variant), its phase at
  // the segment's first frame (cycles), the yaw it turns towards (radians)
  // and how fast it turns (radians per second).
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
  bool train = false;                                       // Penn Action
  std::array<bool, 3> train_split = {false, false, false};  // Sub-JHMDB
  uint64_t noise_seed = 0;
};

// A motion with probability proportional to its weight in `o`.
SynthMotion PickMotion(SynthRandom& rng, const SynthPoseOptions& o);

// The plan of clip `clip_number` (1-based) of the set `o` describes.
ClipPlan MakePlan(const SynthPoseOptions& o, int clip_number);

// The state of the figure and camera in one frame.
struct FrameState {
  JointAngles angles;
  double yaw = 0;
  double root_x = 0;  // body heights
  double pan_x = 0, pan_y = 0, zoom = 1;
  double gain = 1;
  Rgb tint{1, 1, 1};
  Eigen::Vector3d light{0, 0, 1};
};

// One state per frame of the plan. The figure blends from one segment's
// motion into the next over o.blend_frames frames, turns towards each
// segment's target yaw and walks along x; the camera follows it loosely
// (never more than 0.3 frame widths off it) and wanders, zooms within
// 1 +- o.camera_zoom; the gain stays within 1 +- o.lighting_change.
std::vector<FrameState> Simulate(const SynthPoseOptions& o, const ClipPlan& p);

}  // namespace mapn::synth

#endif  // MAPN_DATA_SYNTH_PLAN_H_
