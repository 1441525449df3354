// File: synth_draw.h
//
// Drawing one SynthPose frame from its plan and state (synth_plan.h): the
// projection of the figure's 3-D points to the screen, the two background
// layers, the figure's shadow, the figure itself (limbs, torso, head, drawn
// far to near so that it hides itself correctly) and the finishing of the
// float canvas into RGB24 bytes (lighting gain and tint, sensor noise).
//
// Drawing also records what the labels need: where each of the figure's
// points lands (DrawnFigure) and which body part is on top of each pixel and
// how much of it the figure covers (Canvas::part and Canvas::cover, with the
// part ids below).
//
// Example:
//
//   const synth::ClipPlan plan = synth::MakePlan(options, 1);
//   const std::vector<synth::FrameState> states =
//       synth::Simulate(options, plan);
//   synth::Canvas canvas(options.width, options.height);
//   const synth::DrawnFigure figure =
//       synth::DrawFrame(options, plan, states[0], /*t=*/0, canvas);
//   std::vector<uint8_t> rgb;
//   synth::FinishFrame(options, plan, states[0], 0, canvas, rgb);
//   synth::Vec2 head = figure.points[synth::kPtHead];  // pixels
#ifndef MAPN_DATA_SYNTH_DRAW_H_
#define MAPN_DATA_SYNTH_DRAW_H_

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <vector>

#include "mapn/data/synth_body.h"
#include "mapn/data/synth_plan.h"
#include "mapn/data/synth_render.h"
#include "mapn/data/synthpose.h"

namespace mapn::synth {

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

// Maps body points (body heights, relative to the figure's root) to the
// screen (pixels) for one frame: perspective from a camera a few body
// heights away, then the camera's pan and zoom.
struct Projector {
  const SynthPoseOptions& o;
  const ClipPlan& p;
  const FrameState& f;

  // Magnification of a point at depth q.z() (1 at the root's depth).
  double Persp(const Eigen::Vector3d& q) const;
  Vec2 operator()(const Eigen::Vector3d& q) const;
  // A radius of r body heights at q, in pixels.
  double Radius(const Eigen::Vector3d& q, double r) const;
};

// Fills the whole canvas with the far layer (which drifts and moves with
// parallax) above the floor line and the floor below it.
void DrawBackground(const SynthPoseOptions& o, const ClipPlan& p,
                    const FrameState& f, int64_t t, Canvas& canvas);

// Darkens an ellipse on the floor under the pelvis, fading as the feet
// leave the ground.
void DrawShadow(const Projector& proj, const Skeleton3& s, Canvas& canvas);

// Where the figure's points landed on the screen in one frame.
struct DrawnFigure {
  std::array<Vec2, kNumPoints> points;   // pixels, indexed by Point
  std::array<double, kNumPoints> depth;  // body heights, + towards the camera
  double torso_depth = 0;                // the torso's mean depth
};

// Draws the figure posed by skeleton `s` over what the canvas holds, marking
// each part's pixels with its PartId.
DrawnFigure DrawFigure(const SynthPoseOptions& o, const ClipPlan& p,
                       const FrameState& f, const Skeleton3& s, Canvas& canvas);

// Background, shadow and figure of frame t, on a canvas of the frame's size.
DrawnFigure DrawFrame(const SynthPoseOptions& o, const ClipPlan& p,
                      const FrameState& f, int64_t t, Canvas& canvas);

// The canvas as RGB24 bytes (`out` is resized): scaled by the frame's gain
// and tint, with sensor noise of o.noise_sigma grey levels seeded by the
// plan and t.
void FinishFrame(const SynthPoseOptions& o, const ClipPlan& p,
                 const FrameState& f, int64_t t, const Canvas& canvas,
                 std::vector<uint8_t>& out);

}  // namespace mapn::synth

#endif  // MAPN_DATA_SYNTH_DRAW_H_
