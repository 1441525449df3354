#include "mapn/data/synth_body.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>

namespace mapn {

const char* SynthMotionName(SynthMotion motion) {
  switch (motion) {
    case SynthMotion::kStand:
      return "stand";
    case SynthMotion::kWalk:
      return "walk";
    case SynthMotion::kJump:
      return "jump";
    case SynthMotion::kArmSwing:
      return "arm_swing";
    case SynthMotion::kBend:
      return "bend";
  }
  return "?";
}

namespace synth {
namespace {

using Eigen::Matrix3d;
using Eigen::Vector3d;

constexpr double kPi = 3.14159265358979323846;
constexpr double kTwoPi = 2 * kPi;

Matrix3d Rx(double a) {
  return Eigen::AngleAxisd(a, Vector3d::UnitX()).toRotationMatrix();
}
Matrix3d Ry(double a) {
  return Eigen::AngleAxisd(a, Vector3d::UnitY()).toRotationMatrix();
}
Matrix3d Rz(double a) {
  return Eigen::AngleAxisd(a, Vector3d::UnitZ()).toRotationMatrix();
}

double Smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return x * x * (3 - 2 * x);
}

// A bump 0 -> 1 -> 0 over [a, b].
double Bump(double x, double a, double b) {
  if (x <= a || x >= b) return 0;
  return std::sin(kPi * (x - a) / (b - a));
}

// The relaxed standing pose every primitive starts from.
JointAngles Rest() {
  JointAngles r;
  for (int s = 0; s < 2; ++s) {
    r.shoulder_abd[s] = 0.12;
    r.elbow[s] = 0.18;
    r.knee[s] = 0.04;
    r.hip_abd[s] = 0.04;
  }
  return r;
}

JointAngles Stand(double p, double a) {
  JointAngles r = Rest();
  const double w = std::sin(kTwoPi * p);
  r.spine_side = 0.05 * a * w;
  r.head_pitch = 0.08 * a * std::sin(kTwoPi * p + 1.0);
  for (int s = 0; s < 2; ++s) {
    const double sign = s == kLeft ? 1 : -1;
    r.shoulder_flex[s] = 0.12 * a * std::sin(kTwoPi * p + sign);
    r.elbow[s] += 0.2 * a * (0.5 + 0.5 * std::sin(kTwoPi * p + 2 * sign));
    r.hip_flex[s] = 0.03 * a * sign * w;
  }
  return r;
}

JointAngles Walk(double p, double a) {
  JointAngles r = Rest();
  const double c = kTwoPi * p;
  for (int s = 0; s < 2; ++s) {
    const double off = s == kLeft ? 0 : kPi;
    r.hip_flex[s] = 0.45 * a * std::sin(c + off);
    // The knee bends while the leg swings forward.
    r.knee[s] += a * (0.12 + 0.75 * std::max(0.0, std::cos(c + off)));
    // Arms swing against the legs.
    r.shoulder_flex[s] = -0.45 * a * std::sin(c + off);
    r.elbow[s] += 0.35 * a * (0.5 - 0.5 * std::sin(c + off));
  }
  r.spine_flex = 0.06 * a;
  r.lift = 0.012 * a * std::abs(std::cos(c));
  return r;
}

JointAngles Jump(double p, double a) {
  JointAngles r = Rest();
  p -= std::floor(p);
  // Crouch, push off, flight, landing.
  double crouch = 0, arms_up = 0, tuck = 0;
  if (p < 0.35) {
    crouch = Smoothstep(p / 0.35);
    arms_up = -0.6 * crouch;
  } else if (p < 0.45) {
    const double k = (p - 0.35) / 0.10;
    crouch = 1 - Smoothstep(k);
    arms_up = -0.6 + 3.2 * Smoothstep(k);
  } else if (p < 0.8) {
    const double k = (p - 0.45) / 0.35;
    r.lift = 0.22 * a * std::sin(kPi * k);
    tuck = Bump(k, 0.1, 0.9);
    arms_up = 2.6 - 1.2 * Smoothstep(k);
  } else {
    const double k = (p - 0.8) / 0.2;
    crouch = 0.7 * Bump(k, 0, 1);
    arms_up = 1.4 * (1 - Smoothstep(k));
  }
  r.spine_flex = 0.45 * a * crouch + 0.15 * a * tuck;
  for (int s = 0; s < 2; ++s) {
    r.hip_flex[s] = a * (1.0 * crouch + 0.7 * tuck);
    r.knee[s] += a * (1.6 * crouch + 1.1 * tuck);
    r.shoulder_flex[s] = a * arms_up;
    r.elbow[s] += 0.3 * a * tuck;
  }
  return r;
}

JointAngles ArmSwing(double p, double a, double variant) {
  JointAngles r = Rest();
  const double c = kTwoPi * p;
  if (variant < 0.4) {
    // Pendulum swings, the arms a quarter cycle apart.
    for (int s = 0; s < 2; ++s) {
      r.shoulder_flex[s] = 1.5 * a * std::sin(c + (s == kLeft ? 0 : 1.6));
      r.elbow[s] += 0.5 * a * (0.5 + 0.5 * std::sin(c + 0.5));
    }
    r.spine_side = 0.08 * a * std::sin(c);
  } else if (variant < 0.7) {
    // Jumping jacks: arms and legs out and in.
    const double open = 0.5 - 0.5 * std::cos(c);
    for (int s = 0; s < 2; ++s) {
      r.shoulder_abd[s] += 2.5 * a * open;
      r.hip_abd[s] += 0.35 * a * open;
      r.elbow[s] += 0.2 * a * open;
    }
    r.lift = 0.05 * a * std::abs(std::sin(c));
  } else {
    // Punches: one arm drives forward and straightens while the other
    // pulls back and bends.
    for (int s = 0; s < 2; ++s) {
      const double drive = 0.5 - 0.5 * std::cos(c + (s == kLeft ? 0 : kPi));
      r.shoulder_flex[s] = a * (-0.2 + 1.7 * drive);
      r.elbow[s] = 0.2 + a * 1.8 * (1 - drive);
      r.shoulder_abd[s] = 0.25;
    }
    r.spine_side = 0.1 * a * std::sin(c);
    r.knee[kLeft] += 0.2 * a;
    r.knee[kRight] += 0.2 * a;
  }
  return r;
}

JointAngles Bend(double p, double a, double variant) {
  JointAngles r = Rest();
  const double down = 0.5 - 0.5 * std::cos(kTwoPi * p);
  if (variant < 0.55) {
    // Bend forward from the hips and reach towards the floor.
    r.spine_flex = 1.25 * a * down;
    r.head_pitch = 0.3 * a * down;
    for (int s = 0; s < 2; ++s) {
      r.knee[s] += 0.35 * a * down;
      r.hip_flex[s] = 0.2 * a * down;
      // Arms hang: they follow the lean.
      r.shoulder_flex[s] = 1.1 * a * down;
      r.elbow[s] += 0.2 * a * down;
    }
  } else {
    // Squat with the arms held out in front.
    r.spine_flex = 0.5 * a * down;
    for (int s = 0; s < 2; ++s) {
      r.hip_flex[s] = 1.4 * a * down;
      r.knee[s] += 2.0 * a * down;
      r.shoulder_flex[s] = 1.4 * a * down;
      r.elbow[s] = 0.1;
    }
  }
  return r;
}

}  // namespace

BodyShape RandomBodyShape(SynthRandom& rng, double variation,
                          double thickness) {
  BodyShape b;
  auto vary = [&](double& v, double extra) {
    v *= extra * (1 + rng.Uniform(-variation, variation));
  };
  for (double* v : {&b.thigh, &b.shin, &b.upper_arm, &b.forearm, &b.hand,
                    &b.foot, &b.spine, &b.neck, &b.head_radius,
                    &b.shoulder_half, &b.hip_half, &b.ankle_height}) {
    vary(*v, 1.0);
  }
  for (double* v :
       {&b.torso_depth, &b.upper_arm_r0, &b.upper_arm_r1, &b.forearm_r0,
        &b.forearm_r1, &b.thigh_r0, &b.thigh_r1, &b.shin_r0, &b.shin_r1,
        &b.neck_r, &b.hand_r, &b.foot_r, &b.torso_round}) {
    vary(*v, thickness);
  }
  return b;
}

JointAngles Blend(const JointAngles& a, const JointAngles& b, double w) {
  auto mix = [w](double x, double y) { return (1 - w) * x + w * y; };
  JointAngles r;
  r.spine_flex = mix(a.spine_flex, b.spine_flex);
  r.spine_side = mix(a.spine_side, b.spine_side);
  r.head_pitch = mix(a.head_pitch, b.head_pitch);
  r.lift = mix(a.lift, b.lift);
  for (int s = 0; s < 2; ++s) {
    r.shoulder_flex[s] = mix(a.shoulder_flex[s], b.shoulder_flex[s]);
    r.shoulder_abd[s] = mix(a.shoulder_abd[s], b.shoulder_abd[s]);
    r.elbow[s] = mix(a.elbow[s], b.elbow[s]);
    r.hip_flex[s] = mix(a.hip_flex[s], b.hip_flex[s]);
    r.hip_abd[s] = mix(a.hip_abd[s], b.hip_abd[s]);
    r.knee[s] = mix(a.knee[s], b.knee[s]);
  }
  return r;
}

JointAngles MotionAngles(SynthMotion motion, double phase, double amplitude,
                         double variant) {
  switch (motion) {
    case SynthMotion::kStand:
      return Stand(phase, amplitude);
    case SynthMotion::kWalk:
      return Walk(phase, amplitude);
    case SynthMotion::kJump:
      return Jump(phase, amplitude);
    case SynthMotion::kArmSwing:
      return ArmSwing(phase, amplitude, variant);
    case SynthMotion::kBend:
      return Bend(phase, amplitude, variant);
  }
  return Rest();
}

double MotionStride(SynthMotion motion, double amplitude,
                    double stride_length) {
  return motion == SynthMotion::kWalk ? stride_length * amplitude : 0.0;
}

Skeleton3 ForwardKinematics(const BodyShape& b, const JointAngles& a,
                            double yaw) {
  const Vector3d down(0, -1, 0);
  const Matrix3d pelvis_rot = Ry(yaw);
  const Matrix3d torso_rot = pelvis_rot * Rz(a.spine_side) * Rx(a.spine_flex);
  Skeleton3 s;
  // Built with the pelvis at the origin, then lifted onto the floor.
  s.pelvis = Vector3d::Zero();
  s.torso_up = torso_rot * Vector3d::UnitY();
  s.torso_left = torso_rot * Vector3d::UnitX();
  s.facing = pelvis_rot * Vector3d::UnitZ();
  s.neck = s.pelvis + b.spine * s.torso_up;
  s.belly = s.pelvis + 0.3 * b.spine * s.torso_up;
  s.head = s.neck + torso_rot * Rx(a.head_pitch) *
                        Vector3d(0, b.neck + b.head_radius, 0);
  for (int side = 0; side < 2; ++side) {
    const double sign = side == kLeft ? 1 : -1;
    s.shoulder[side] =
        s.neck + torso_rot * Vector3d(sign * b.shoulder_half, -0.035, 0);
    const Matrix3d upper = torso_rot * Rz(sign * a.shoulder_abd[side]) *
                           Rx(-a.shoulder_flex[side]);
    s.elbow[side] = s.shoulder[side] + b.upper_arm * (upper * down);
    const Matrix3d fore = upper * Rx(-a.elbow[side]);
    s.wrist[side] = s.elbow[side] + b.forearm * (fore * down);
    s.hand[side] = s.wrist[side] + b.hand * (fore * down);

    s.hip[side] = s.pelvis + pelvis_rot * Vector3d(sign * b.hip_half, 0, 0);
    const Matrix3d thigh =
        pelvis_rot * Rz(sign * a.hip_abd[side]) * Rx(-a.hip_flex[side]);
    s.knee[side] = s.hip[side] + b.thigh * (thigh * down);
    const Matrix3d shin = thigh * Rx(a.knee[side]);
    s.ankle[side] = s.knee[side] + b.shin * (shin * down);
    s.toe[side] =
        s.ankle[side] + b.foot * (shin * Vector3d(0, -0.3, 1).normalized());
  }
  // The lowest foot point touches the floor, plus the jump.
  double lowest = 1e9;
  for (int side = 0; side < 2; ++side) {
    lowest = std::min({lowest, s.ankle[side].y() - b.ankle_height,
                       s.toe[side].y() - b.foot_r});
  }
  const Vector3d shift(0, -lowest + a.lift, 0);
  for (Vector3d* p :
       {&s.pelvis,      &s.belly,    &s.neck,     &s.head,     &s.shoulder[0],
        &s.shoulder[1], &s.elbow[0], &s.elbow[1], &s.wrist[0], &s.wrist[1],
        &s.hand[0],     &s.hand[1],  &s.hip[0],   &s.hip[1],   &s.knee[0],
        &s.knee[1],     &s.ankle[0], &s.ankle[1], &s.toe[0],   &s.toe[1]}) {
    *p += shift;
  }
  return s;
}

}  // namespace synth
}  // namespace mapn
