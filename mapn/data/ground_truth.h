// File: ground_truth.h
//
// The labels of one person in one video, from whichever label format mapn
// reads, for scoring estimates against them (`mapn estimate
// --ground_truth FILE`):
//
//   *.mat with `x`, `y`   a Penn Action label file (mapn/data/penn_action.h)
//   *.mat with `pos_img`  a JHMDB joint_positions.mat (mapn/data/jhmdb.h):
//                         2 x 15 x T, MATLAB's 1-based pixels shifted to
//                         0-based; label k is the k-th decoded frame; the
//                         box of a frame is its joints' extent (no puppet
//                         mask is read)
//   *.json                COCO or PoseTrack keypoint labels
//                         (mapn/data/keypoint_json.h); `person` picks one
//                         person when a frame has several
//
// Frame t of `labels` belongs to the t-th decoded frame of the video;
// `labelled` says which frames count (all of them for the .mat formats).
// Anything else (another extension, a .mat with neither variable, --person
// for a single-person format) is InvalidArgument naming the file.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(GroundTruth truth,
//                         ReadGroundTruth("joint_positions.mat"));
//   // truth.joints is JhmdbJoints(); truth.labels.num_frames == 40.
#ifndef MAPN_DATA_GROUND_TRUTH_H_
#define MAPN_DATA_GROUND_TRUTH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/pose_sequence.h"

namespace mapn {

struct GroundTruthOptions {
  // Keypoint JSON only: the person to read (its track_id, or its index in
  // each image without track ids); -1 for the only one.
  int64_t person = -1;
};

struct GroundTruth {
  std::string path;
  std::string format;   // "Penn Action .mat", "JHMDB joint_positions.mat",
                        // "COCO keypoint JSON", "PoseTrack keypoint JSON"
  JointSet joints;      // the labels' joint set
  PoseSequence labels;  // one person; `dataset` picks the PCK convention
  std::vector<uint8_t> labelled;  // [T]: 1 where the frame counts
  std::string person;             // which person (JSON), else empty

  int64_t labelled_frames() const;
};

absl::StatusOr<GroundTruth> ReadGroundTruth(
    const std::string& path, const GroundTruthOptions& options = {});

// Labels already in memory (every frame counts).
GroundTruth GroundTruthOf(PoseSequence labels, const JointSet& joints);

}  // namespace mapn

#endif  // MAPN_DATA_GROUND_TRUTH_H_
