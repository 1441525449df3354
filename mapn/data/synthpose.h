// File: synthpose.h
//
// SynthPose: short videos of one articulated human figure with exact pose
// ground truth, made by the project itself so that everyone (our tests, users
// without Penn Action or Sub-JHMDB) has labelled data for the paper's
// experiments.
//
// A clip is a 3-D stick figure driven by forward kinematics (walking,
// jumping, arm swings, bending, standing; blended segments that are slow or
// fast, with turning), dressed as thick tapered limbs with clothing-like
// textures and skin tones, drawn back to front (self-occlusion) with
// anti-aliasing over a textured background of two parallax layers that
// drift; the camera pans and zooms over both, the lighting changes and
// sensor noise is added. Every property is a knob of SynthPoseOptions
// (docs/data.md lists them all); the seed makes the output byte-identical.
//
// GenerateSynthPose writes clips in Penn Action's layout (frames/NNNN/
// %06d.jpg, labels/NNNN.mat with fields typed like the real ones), so
// LoadPennAction reads them unchanged, plus each clip encoded from the
// lossless frames as MPEG-4 Part 2, GOP 12, no B-frames, q 1
// (mpeg4_gop12/NNNN.mp4, which the video cache uses as the sequence's
// conversion) and a manifest synthpose.json (options, per-clip segments and
// per-frame motion). With layout kJhmdb it writes the Sub-JHMDB layout with
// the 15-joint order instead (mapn/data/jhmdb.h).
//
// Example:
//
//   SynthPoseOptions options;       // 320 x 240, 40-80 frames per clip
//   options.num_clips = 100;
//   options.seed = 7;
//   MAPN_RETURN_IF_ERROR(GenerateSynthPose(options, "/data/synthpose"));
//   MAPN_ASSIGN_OR_RETURN(PoseDataset data, LoadPennAction("/data/synthpose"));
//
//   // In memory (tests, the demo):
//   MAPN_ASSIGN_OR_RETURN(SynthClip clip, RenderSynthClip(options, 1));
//   at::Tensor frames = SynthClipFrames(clip);   // uint8 [T, 3, H, W]
#ifndef MAPN_DATA_SYNTHPOSE_H_
#define MAPN_DATA_SYNTHPOSE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/data/synth_motion.h"

namespace mapn {

enum class SynthLayout : uint8_t {
  kPennAction,  // 13 joints, frames/ + labels/ (+ mpeg4_gop12/)
  kJhmdb,       // 15 joints, joint_positions/ + puppet_mask/ + sub_splits/
                // + Rename_Images/ (+ ReCompress_Videos/ as MPEG-4 .avi)
};

struct SynthPoseOptions {
  // --- Output -------------------------------------------------------------
  uint64_t seed = 1;  // same seed, same options: byte-identical output
  int num_clips = 16;
  int width = 320;      // even
  int height = 240;     // even
  int min_frames = 40;  // clip length, uniform in [min_frames, max_frames]
  int max_frames = 80;
  double frame_rate = 30.0;
  // Share of clips in the training split (Penn Action has 54 %); the split
  // is drawn per clip from the seed. With kJhmdb each of the three splits
  // draws its own.
  double train_fraction = 0.5;
  SynthLayout layout = SynthLayout::kPennAction;
  // Joint order of the in-memory labels ("penn_action" or "jhmdb"); the
  // layout fixes it for files.
  std::string joint_set = "penn_action";

  // --- Motion -------------------------------------------------------------
  // Share of segments that are fast (large, quick movement, turning): the
  // frames where motion-vector propagation fails and a gate should ask for
  // fresh features. 0 gives only slow clips, 1 only fast ones.
  double fast_fraction = 0.4;
  int min_segment_frames = 10;  // segment length, uniform in [min, max]
  int max_segment_frames = 30;
  int blend_frames = 6;  // cross-fade between consecutive segments
  // Cycle rates in cycles per second (a walking stride, one jump, one arm
  // swing) and the amplitude ranges of slow and fast segments (1 = full
  // range of the motion).
  double slow_rate = 0.3;
  double fast_rate = 1.4;
  double slow_amplitude_min = 0.2;
  double slow_amplitude_max = 0.5;
  double fast_amplitude_min = 0.8;
  double fast_amplitude_max = 1.2;
  // Relative weights of the primitives when a segment picks one.
  double stand_weight = 0.6;
  double walk_weight = 1.0;
  double jump_weight = 0.8;
  double arm_swing_weight = 1.0;
  double bend_weight = 0.8;
  // Turning speed of fast segments in degrees per second (slow ones turn at
  // a tenth of it).
  double turn_speed = 120.0;
  // Walking speed in body heights per stride cycle.
  double stride_length = 0.7;

  // --- Figure -------------------------------------------------------------
  // Standing height as a fraction of the frame height.
  double figure_height = 0.72;
  // Random change of every limb length and thickness (+- fraction).
  double body_variation = 0.08;
  // Limb thickness multiplier (1 = average build).
  double limb_thickness = 1.0;
  // Contrast of clothing patterns (stripes, checks, noise), 0 = plain.
  double texture_contrast = 0.5;
  // Mark joints hidden behind another body part invisible (Penn Action
  // marks occluded joints invisible); positions stay exact either way.
  // Joints outside the frame are always invisible.
  bool occluded_joints_invisible = true;

  // --- Scene and camera ---------------------------------------------------
  // Contrast of the background texture (0 = flat).
  double background_contrast = 1.0;
  // The far background layer's own drift in pixels per frame (clouds, a
  // passing train); the near floor moves only with the camera.
  double background_drift = 0.6;
  // Speed of the far layer relative to camera motion (parallax; 1 = moves
  // like the floor).
  double parallax = 0.5;
  // Random camera pan speed in pixels per frame (the camera also follows
  // the figure to keep it in view).
  double camera_pan = 1.2;
  // Zoom varies smoothly within 1 +- camera_zoom.
  double camera_zoom = 0.12;
  // Global brightness varies within 1 +- lighting_change, with a slow tint
  // and a moving light direction on the body's shading.
  double lighting_change = 0.25;
  // Standard deviation of Gaussian sensor noise in grey levels.
  double noise_sigma = 2.0;

  // --- Encoding -----------------------------------------------------------
  // JPEG quantiser of the frame files (FFmpeg mjpeg, 1 = best, 31 = worst).
  int jpeg_quality = 2;
  // Also encode each clip as MPEG-4 Part 2, GOP 12, q 1 from the lossless
  // frames (mpeg4_gop12/NNNN.mp4, or ReCompress_Videos/ for kJhmdb).
  bool write_videos = true;
};

// Checks ranges; the message names the knob.
absl::Status ValidateSynthPoseOptions(const SynthPoseOptions& options);

// One rendered clip.
struct SynthSegment {
  int64_t first_frame = 0;
  int64_t num_frames = 0;
  SynthMotion motion = SynthMotion::kStand;
  bool fast = false;
  double amplitude = 0;
  double rate = 0;  // cycles per second
};

struct SynthClip {
  int width = 0;
  int height = 0;
  // RGB24 rows, width * height * 3 bytes per frame.
  std::vector<std::vector<uint8_t>> frames;
  // Labels in options.joint_set's order (layout kJhmdb: JHMDB's), 0-based
  // pixel coordinates (pixel centres at integers).
  PoseSequence labels;
  // Person mask per frame (1 where the figure covers at least half a pixel),
  // the puppet mask of the JHMDB layout.
  std::vector<std::vector<uint8_t>> masks;
  std::vector<SynthSegment> segments;
  // Per frame: 1 inside a fast segment.
  std::vector<uint8_t> fast;
  // Per frame: mean distance in pixels that the joints moved since the
  // previous frame (0 for frame 0).
  std::vector<float> joint_motion;
  std::string pose;  // Penn Action's viewpoint: front, back, left or right
};

// Renders clip `clip_number` (1-based, the NNNN of its files) of the set the
// options describe; independent of num_clips and of the other clips.
absl::StatusOr<SynthClip> RenderSynthClip(const SynthPoseOptions& options,
                                          int clip_number);

// uint8 [T, 3, H, W] of the clip's frames.
at::Tensor SynthClipFrames(const SynthClip& clip);

// Writes options.num_clips clips under `root` (created if needed; existing
// files of the same names are replaced, each atomically).
absl::Status GenerateSynthPose(const SynthPoseOptions& options,
                               const std::string& root);

}  // namespace mapn

#endif  // MAPN_DATA_SYNTHPOSE_H_
