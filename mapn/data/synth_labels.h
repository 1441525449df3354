// File: synth_labels.h
//
// SynthPose's ground truth, read off a drawn frame (synth_draw.h): which of
// the figure's points a dataset's joint names, whether a joint counts as
// visible (inside the frame and, where occlusion counts, not hidden behind
// another body part), the person mask and its box, and the clip-level names
// (the action, Penn Action's viewpoint).
//
// Example:
//
//   const int wrist = synth::PointOfJoint("l_wrist");   // synth::kPtWrist
//   std::vector<uint8_t> mask;
//   std::optional<Box> box = synth::FigureMask(canvas, mask);
//   const bool visible = synth::IsPointVisible(canvas, figure, wrist,
//                                              /*occlusion=*/true);
#ifndef MAPN_DATA_SYNTH_LABELS_H_
#define MAPN_DATA_SYNTH_LABELS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mapn/data/pose_sequence.h"
#include "mapn/data/synth_draw.h"
#include "mapn/data/synth_motion.h"
#include "mapn/data/synth_render.h"
#include "mapn/data/synthpose.h"

namespace mapn::synth {

// The figure's Point a joint name of a JointSet refers to ("head" and
// "face" are the head, "l_wrist" the left wrist, ...); -1 when unknown.
int PointOfJoint(const std::string& name);

// Whether PartId `part` belongs to Point `point` (the limbs that meet there,
// the torso at shoulders and hips): any other part on top hides the point.
bool IsOwnPart(int point, int part);

// Whether `point` of the drawn figure counts as visible: inside the frame
// and, with `occlusion`, neither under another part nor (shoulders and hips)
// on the far side of the chest.
bool IsPointVisible(const Canvas& canvas, const DrawnFigure& figure, int point,
                    bool occlusion);

// Fills `mask` (width * height, 1 where the figure covers at least half a
// pixel) and returns its box, none when the figure is out of view.
std::optional<Box> FigureMask(const Canvas& canvas, std::vector<uint8_t>& mask);

// The motion that fills most frames of the clip (the first on ties): the
// clip's action.
SynthMotion MainMotion(const std::vector<SynthSegment>& segments);

// Penn Action's viewpoint of a figure turned by `yaw` radians: "front",
// "back", "left" or "right".
std::string PoseName(double yaw);

}  // namespace mapn::synth

#endif  // MAPN_DATA_SYNTH_LABELS_H_
