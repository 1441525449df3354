// File: synth_body.h
//
// SynthPose's figure: body proportions, the joint-angle vector that motion
// primitives produce, the primitives themselves (stand, walk, jump, arm
// swing, bend) and forward kinematics from angles to 3-D points. Units are
// body heights (a standing figure is 1 tall); the figure faces +z (towards
// the camera at yaw 0), +y is up and its left side is +x.
//
// Example:
//
//   BodyShape body = RandomBodyShape(rng, 0.08, 1.0);
//   JointAngles a = MotionAngles(SynthMotion::kWalk, phase, 1.0, variant);
//   Skeleton3 s = ForwardKinematics(body, a, /*yaw=*/0.5);
//   Eigen::Vector3d left_wrist = s.wrist[kLeft];
#ifndef MAPN_DATA_SYNTH_BODY_H_
#define MAPN_DATA_SYNTH_BODY_H_

#include <Eigen/Core>

#include "mapn/data/synth_motion.h"
#include "mapn/data/synth_random.h"

namespace mapn::synth {

inline constexpr int kLeft = 0;
inline constexpr int kRight = 1;

// Lengths and radii in body heights.
struct BodyShape {
  double thigh = 0.245, shin = 0.245, ankle_height = 0.045;
  double upper_arm = 0.17, forearm = 0.15, hand = 0.055, foot = 0.11;
  double spine = 0.29, neck = 0.045, head_radius = 0.068;
  double shoulder_half = 0.11, hip_half = 0.075, torso_depth = 0.11;
  double upper_arm_r0 = 0.034, upper_arm_r1 = 0.027;
  double forearm_r0 = 0.026, forearm_r1 = 0.020;
  double thigh_r0 = 0.052, thigh_r1 = 0.038;
  double shin_r0 = 0.037, shin_r1 = 0.026;
  double neck_r = 0.026, hand_r = 0.026, foot_r = 0.024;
  double torso_round = 0.035;
};

// Average proportions with every length and radius scaled by an independent
// factor in 1 +- variation, radii also by `thickness`.
BodyShape RandomBodyShape(SynthRandom& rng, double variation, double thickness);

// Joint angles in radians. Flexion is forward (shoulder, hip), bending
// (elbow, knee) or forward lean (spine); abduction moves a limb sideways away
// from the body. `lift` raises the whole body (jumps), in body heights.
struct JointAngles {
  double spine_flex = 0, spine_side = 0, head_pitch = 0;
  double shoulder_flex[2] = {0, 0}, shoulder_abd[2] = {0, 0};
  double elbow[2] = {0, 0};
  double hip_flex[2] = {0, 0}, hip_abd[2] = {0, 0}, knee[2] = {0, 0};
  double lift = 0;
};

// (1 - w) a + w b, member-wise.
JointAngles Blend(const JointAngles& a, const JointAngles& b, double w);

// The pose of a primitive at `phase` (in cycles; the fractional part
// matters), scaled by `amplitude` (1 = the motion's full range). `variant`
// in [0, 1) picks a style: for arm swings pendulum, jumping jack or
// punching; for bends a forward bend or a squat.
JointAngles MotionAngles(SynthMotion motion, double phase, double amplitude,
                         double variant);

// Forward speed of a primitive in body heights per cycle (walking only).
double MotionStride(SynthMotion motion, double amplitude, double stride_length);

// 3-D points of the figure, feet on the ground (y = 0) plus `lift`, pelvis
// above the origin.
struct Skeleton3 {
  Eigen::Vector3d pelvis, belly, neck, head;
  Eigen::Vector3d shoulder[2], elbow[2], wrist[2], hand[2];
  Eigen::Vector3d hip[2], knee[2], ankle[2], toe[2];
  // The body's own axes in the world (for textures and shading).
  Eigen::Vector3d torso_up, torso_left, facing;
};

Skeleton3 ForwardKinematics(const BodyShape& body, const JointAngles& angles,
                            double yaw);

}  // namespace mapn::synth

#endif  // MAPN_DATA_SYNTH_BODY_H_
