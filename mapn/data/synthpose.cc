// SynthPose's public functions: checking options, rendering a clip from its
// plan (synth_plan.h), drawing (synth_draw.h) and labels (synth_labels.h),
// and generating a dataset with the writers of synthpose_writer.h.
#include "mapn/data/synthpose.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/synth_draw.h"
#include "mapn/data/synth_labels.h"
#include "mapn/data/synth_plan.h"
#include "mapn/data/synth_render.h"
#include "mapn/data/synthpose_writer.h"

namespace mapn {

namespace {

using synth::Canvas;
using synth::ClipPlan;
using synth::DrawnFigure;
using synth::FrameState;

absl::Status BadOption(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("SynthPose option ", what));
}

// Number of clips, frame size, clip length and frame rate.
absl::Status CheckClipSize(const SynthPoseOptions& o) {
  if (o.num_clips < 1 || o.num_clips > 9999) {
    return BadOption(
        absl::StrCat("num_clips ", o.num_clips, " must be 1..9999"));
  }
  if (o.width < 32 || o.height < 32 || o.width % 2 || o.height % 2 ||
      o.width > 4096 || o.height > 4096) {
    return BadOption(absl::StrCat("size ", o.width, "x", o.height,
                                  " must be even and within 32..4096"));
  }
  if (o.min_frames < 1 || o.max_frames < o.min_frames ||
      o.max_frames > 100000) {
    return BadOption(absl::StrCat("min_frames ", o.min_frames, " / max_frames ",
                                  o.max_frames,
                                  " must satisfy 1 <= min <= max"));
  }
  if (!(o.frame_rate > 0 && o.frame_rate <= 1000)) {
    return BadOption(
        absl::StrCat("frame_rate ", o.frame_rate, " must be in (0, 1000]"));
  }
  return absl::OkStatus();
}

// The shares of training clips and fast segments, the segment lengths.
absl::Status CheckFractionsAndSegments(const SynthPoseOptions& o) {
  for (const auto& [name, v] :
       {std::pair<const char*, double>{"train_fraction", o.train_fraction},
        {"fast_fraction", o.fast_fraction}}) {
    if (!(v >= 0 && v <= 1))
      return BadOption(absl::StrCat(name, " ", v, " must be in [0, 1]"));
  }
  if (o.min_segment_frames < 1 || o.max_segment_frames < o.min_segment_frames) {
    return BadOption(absl::StrCat(
        "min_segment_frames ", o.min_segment_frames, " / max_segment_frames ",
        o.max_segment_frames, " must satisfy 1 <= min <= max"));
  }
  if (o.blend_frames < 0) return BadOption("blend_frames must not be negative");
  return absl::OkStatus();
}

// Rates, the figure's size and build, amplitudes and motion weights.
absl::Status CheckMotionAndFigure(const SynthPoseOptions& o) {
  for (const auto& [name, v] :
       {std::pair<const char*, double>{"slow_rate", o.slow_rate},
        {"fast_rate", o.fast_rate},
        {"figure_height", o.figure_height},
        {"limb_thickness", o.limb_thickness}}) {
    if (!(v > 0 && v < 100))
      return BadOption(absl::StrCat(name, " ", v, " must be positive"));
  }
  if (!(o.slow_amplitude_min >= 0 &&
        o.slow_amplitude_max >= o.slow_amplitude_min &&
        o.fast_amplitude_min >= 0 &&
        o.fast_amplitude_max >= o.fast_amplitude_min &&
        o.fast_amplitude_max <= 3 && o.slow_amplitude_max <= 3)) {
    return BadOption("amplitude ranges must satisfy 0 <= min <= max <= 3");
  }
  const double weights = o.stand_weight + o.walk_weight + o.jump_weight +
                         o.arm_swing_weight + o.bend_weight;
  if (o.stand_weight < 0 || o.walk_weight < 0 || o.jump_weight < 0 ||
      o.arm_swing_weight < 0 || o.bend_weight < 0 || !(weights > 0)) {
    return BadOption("motion weights must be non-negative with a positive sum");
  }
  return absl::OkStatus();
}

// The knobs that only need to be >= 0 (and body_variation below 0.5).
absl::Status CheckNonNegativeKnobs(const SynthPoseOptions& o) {
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
      return BadOption(absl::StrCat(name, " ", v, " must be >= 0"));
  }
  if (o.body_variation >= 0.5) {
    return BadOption("body_variation must be below 0.5");
  }
  return absl::OkStatus();
}

// Zoom and lighting ranges, the JPEG quantiser and the joint set.
absl::Status CheckCameraAndOutput(const SynthPoseOptions& o) {
  if (!(o.camera_zoom >= 0 && o.camera_zoom < 0.5)) {
    return BadOption(
        absl::StrCat("camera_zoom ", o.camera_zoom, " must be in [0, 0.5)"));
  }
  if (!(o.lighting_change >= 0 && o.lighting_change < 1)) {
    return BadOption(absl::StrCat("lighting_change ", o.lighting_change,
                                  " must be in [0, 1)"));
  }
  if (o.jpeg_quality < 1 || o.jpeg_quality > 31) {
    return BadOption(
        absl::StrCat("jpeg_quality ", o.jpeg_quality, " must be 1..31"));
  }
  // The figure has the points of these two sets (not COCO's eyes and ears).
  if (o.joint_set != PennActionJoints().name &&
      o.joint_set != JhmdbJoints().name) {
    return BadOption(absl::StrCat("joint_set '", o.joint_set,
                                  "' is neither 'penn_action' nor 'jhmdb'"));
  }
  return absl::OkStatus();
}

// The figure's Point behind each joint of the set, in the set's order.
std::vector<int> PointsOfJoints(const JointSet& joint_set) {
  std::vector<int> points;
  for (const std::string& name : joint_set.joint_names) {
    points.push_back(synth::PointOfJoint(name));
  }
  return points;
}

// A clip with everything known before drawing (sizes, segments, action,
// viewpoint, split, fast flags) and room for `num_joints` joints per frame.
SynthClip StartClip(const SynthPoseOptions& o, const ClipPlan& plan,
                    int clip_number, int num_joints) {
  const int64_t n = plan.num_frames;
  SynthClip clip;
  clip.width = o.width;
  clip.height = o.height;
  clip.segments = plan.segments;
  clip.pose = synth::PoseName(plan.initial_yaw);
  PoseSequence& seq = clip.labels;
  seq.dataset = "synthpose";
  seq.id = absl::StrFormat("%04d", clip_number);
  seq.action = SynthMotionName(synth::MainMotion(plan.segments));
  seq.train =
      o.layout == SynthLayout::kJhmdb ? plan.train_split[0] : plan.train;
  seq.width = o.width;
  seq.height = o.height;
  seq.num_frames = n;
  seq.num_joints = num_joints;
  seq.frame_rate = o.frame_rate;
  seq.joints.resize(static_cast<size_t>(n) * num_joints * 2);
  seq.visible.resize(static_cast<size_t>(n) * num_joints);
  seq.boxes.resize(n);
  clip.frames.resize(n);
  clip.masks.resize(n);
  clip.fast.resize(n);
  clip.joint_motion.assign(n, 0.f);
  for (const SynthSegment& s : plan.segments) {
    for (int64_t t = s.first_frame; t < s.first_frame + s.num_frames; ++t) {
      clip.fast[t] = s.fast;
    }
  }
  return clip;
}

// Frame t's joints: positions, visibility and the mean distance they moved
// since frame t - 1.
void LabelJoints(const SynthPoseOptions& o, const Canvas& canvas,
                 const DrawnFigure& fig, const std::vector<int>& point_of_joint,
                 int64_t t, SynthClip& clip) {
  PoseSequence& seq = clip.labels;
  const int jn = seq.num_joints;
  double moved = 0;
  for (int j = 0; j < jn; ++j) {
    const int point = point_of_joint[j];
    const synth::Vec2& q = fig.points[point];
    const size_t at = static_cast<size_t>(t) * jn + j;
    seq.joints[2 * at] = static_cast<float>(q.x());
    seq.joints[2 * at + 1] = static_cast<float>(q.y());
    seq.visible[at] =
        synth::IsPointVisible(canvas, fig, point, o.occluded_joints_invisible);
    if (t > 0) {
      const size_t prev = at - jn;
      moved += std::hypot(seq.joints[2 * at] - seq.joints[2 * prev],
                          seq.joints[2 * at + 1] - seq.joints[2 * prev + 1]);
    }
  }
  clip.joint_motion[t] = static_cast<float>(moved / jn);
}

// Frame t's labels: mask, box and joints. Returns whether the figure is in
// view (has a box).
bool LabelFrame(const SynthPoseOptions& o, const Canvas& canvas,
                const DrawnFigure& fig, const std::vector<int>& point_of_joint,
                int64_t t, SynthClip& clip) {
  const std::optional<Box> box = synth::FigureMask(canvas, clip.masks[t]);
  if (box) clip.labels.boxes[t] = *box;
  LabelJoints(o, canvas, fig, point_of_joint, t, clip);
  return box.has_value();
}

// Boxes of frames where the figure is out of view come from a neighbour.
absl::Status RepairAndCheckLabels(int clip_number,
                                  const std::vector<bool>& box_found,
                                  PoseSequence& seq) {
  absl::StatusOr<int> repaired = RepairBoxes(seq.boxes, box_found);
  if (!repaired.ok()) {
    return absl::InternalError(absl::StrCat("SynthPose clip ", clip_number,
                                            ": the figure is in no frame"));
  }
  seq.repaired_boxes = *repaired;
  return seq.Validate();
}

}  // namespace

absl::Status ValidateSynthPoseOptions(const SynthPoseOptions& o) {
  MAPN_RETURN_IF_ERROR(CheckClipSize(o));
  MAPN_RETURN_IF_ERROR(CheckFractionsAndSegments(o));
  MAPN_RETURN_IF_ERROR(CheckMotionAndFigure(o));
  MAPN_RETURN_IF_ERROR(CheckNonNegativeKnobs(o));
  return CheckCameraAndOutput(o);
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
  const std::vector<int> point_of_joint = PointsOfJoints(joint_set);
  const ClipPlan plan = synth::MakePlan(o, clip_number);
  const std::vector<FrameState> states = synth::Simulate(o, plan);
  SynthClip clip = StartClip(o, plan, clip_number, joint_set.num_joints());
  std::vector<bool> box_found(plan.num_frames, false);
  for (int64_t t = 0; t < plan.num_frames; ++t) {
    Canvas canvas(o.width, o.height);
    const DrawnFigure fig = synth::DrawFrame(o, plan, states[t], t, canvas);
    synth::FinishFrame(o, plan, states[t], t, canvas, clip.frames[t]);
    box_found[t] = LabelFrame(o, canvas, fig, point_of_joint, t, clip);
  }
  MAPN_RETURN_IF_ERROR(
      RepairAndCheckLabels(clip_number, box_found, clip.labels));
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

absl::Status GenerateSynthPose(const SynthPoseOptions& requested,
                               const std::string& root) {
  MAPN_RETURN_IF_ERROR(ValidateSynthPoseOptions(requested));
  // Files follow their layout's joint order whatever joint_set says.
  SynthPoseOptions options = requested;
  options.joint_set =
      options.layout == SynthLayout::kJhmdb ? "jhmdb" : "penn_action";
  if (root.empty())
    return absl::InvalidArgumentError("SynthPose root is empty");
  MAPN_RETURN_IF_ERROR(synth::MakeDirs(root));
  const bool jhmdb = options.layout == SynthLayout::kJhmdb;
  nlohmann::json clips = nlohmann::json::array();
  synth::JhmdbSplits splits;
  for (int number = 1; number <= options.num_clips; ++number) {
    MAPN_ASSIGN_OR_RETURN(SynthClip clip, RenderSynthClip(options, number));
    if (jhmdb) {
      MAPN_RETURN_IF_ERROR(synth::WriteJhmdbClip(options, root, clip));
      splits.Add(clip.labels, synth::MakePlan(options, number).train_split);
    } else {
      MAPN_RETURN_IF_ERROR(synth::WritePennClip(options, root, clip));
    }
    clips.push_back(synth::ClipJson(clip, options.layout));
  }
  if (jhmdb) MAPN_RETURN_IF_ERROR(splits.Write(root));
  return synth::WriteManifest(options, clips, root);
}

}  // namespace mapn
