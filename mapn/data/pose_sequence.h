// File: pose_sequence.h
//
// A dataset-neutral labelled pose video: what the Penn Action, Sub-JHMDB and
// SynthPose loaders produce and what training, evaluation and the video cache
// consume. Labels are plain arrays (no LibTorch) so that loading thousands of
// sequences stays cheap; the model side turns them into tensors per batch.
//
// Conventions (docs/data.md):
//   * joints: float [T, J, 2] row-major, (x, y) in 0-based pixels of the
//     original frame, in the JointSet's order. Penn Action's stored values are
//     used as they are (every published Penn Action evaluation does); JHMDB's
//     1-based MATLAB positions are shifted by -1 once, in the loader.
//   * visible: uint8 [T, J], 1 where the joint counts (Penn Action's
//     `visibility`; all ones for JHMDB, which has no visibility labels).
//   * boxes: one mapn::Box per frame, corners (x1, y1) inclusive and (x2, y2)
//     exclusive, 0-based.
//   * The frames come either from an image sequence (`frame_pattern`, an
//     FFmpeg image2 pattern such as "<root>/frames/0001/%06d.jpg", numbered
//     from `frame_start_number`) or from a video file (`source_video`).
//     `cached_video` is the MPEG-4 GOP-12 conversion (mapn/data/video_cache.h),
//     empty until the cache has produced it.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(PoseDataset penn,
//   LoadPennAction("/data/Penn_Action")); for (const PoseSequence& seq :
//   penn.sequences) {
//     if (seq.is_visible(0, 5)) use(seq.x(0, 5), seq.y(0, 5), seq.boxes[0]);
//   }
#ifndef MAPN_DATA_POSE_SEQUENCE_H_
#define MAPN_DATA_POSE_SEQUENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/data/joint_set.h"
#include "mapn/geometry/box.h"

namespace mapn {

// Which part of a dataset to load.
enum class Split : uint8_t { kTrain, kTest, kAll };

// "train", "test" or "all".
const char* SplitName(Split split);

struct PoseSequence {
  std::string dataset;  // "penn_action", "sub_jhmdb", "synthpose"
  std::string id;       // "0001" (Penn Action), "catch/<video>" (JHMDB)
  std::string action;   // the action class
  bool train = false;   // in the training split (of the split loaded)
  int width = 0;        // frame size in pixels
  int height = 0;
  int64_t num_frames = 0;
  int num_joints = 0;

  std::vector<float> joints;     // [T, J, 2]
  std::vector<uint8_t> visible;  // [T, J]
  std::vector<Box> boxes;        // [T]
  // Frames whose box was missing or degenerate in the source and was copied
  // from a neighbour (RepairBoxes).
  int repaired_boxes = 0;

  std::string frame_pattern;   // image2 pattern, or empty
  int frame_start_number = 1;  // number of the first frame file
  std::string source_video;    // a video file, or empty
  double frame_rate = 30.0;    // of the source, for the conversion
  std::string cached_video;    // MPEG-4 GOP-12 conversion, or empty

  float x(int64_t t, int j) const { return joints[(t * num_joints + j) * 2]; }
  float y(int64_t t, int j) const {
    return joints[(t * num_joints + j) * 2 + 1];
  }
  bool is_visible(int64_t t, int j) const {
    return visible[t * num_joints + j] != 0;
  }

  // Checks that the arrays have the sizes num_frames and num_joints imply,
  // that coordinates are finite and that the frame size is positive; the
  // message names the sequence.
  absl::Status Validate() const;
};

// Replaces every box with `valid[t] == false` or zero width or height by the
// nearest valid box before it (after it for a leading run) and returns how
// many were replaced; FailedPrecondition when no box is valid.
absl::StatusOr<int> RepairBoxes(std::vector<Box>& boxes,
                                const std::vector<bool>& valid);

struct PoseDataset {
  std::string name;  // "penn_action", "sub_jhmdb", "synthpose"
  std::string root;  // the directory it was loaded from
  JointSet joints;
  std::vector<PoseSequence> sequences;

  int64_t TotalFrames() const;
};

}  // namespace mapn

#endif  // MAPN_DATA_POSE_SEQUENCE_H_
