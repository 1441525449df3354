// File: penn_action.h
//
// Loads Penn Action (Zhang, Zhu & Derpanis, ICCV 2013) in its published
// layout, and anything written in the same layout (SynthPose):
//
//   <root>/labels/0001.mat ... 2326.mat   x, y, visibility, bbox, nframes,
//                                          dimensions, action, pose, train
//   <root>/frames/0001/000001.jpg ...      one JPEG per frame, from 1
//
// What the reader copes with (all seen in the real label files):
//   * x / y / bbox / nframes stored as uint8 or uint16 (MATLAB's compact
//     storage of whole doubles), visibility stored as double instead of
//     logical, train stored as int32 (1 = train, -1 = test);
//   * bbox with one row fewer than frames (sequences 1154 and 1865): the last
//     frame takes the previous frame's box, as common practice does;
//   * zlib streams without a proper end (1605 and one other): libmatio
//     inflates in streaming mode and reads them whole.
// Degenerate boxes (zero width or height) are replaced by the nearest earlier
// (else later) valid box; PoseSequence::repaired_boxes counts the frames
// whose box was copied, for either reason.
// Coordinates are used as stored (docs/data.md, "Coordinates").
//
// Example:
//
//   PennActionOptions options;
//   options.split = Split::kTest;
//   MAPN_ASSIGN_OR_RETURN(PoseDataset test, LoadPennAction(root, options));
#ifndef MAPN_DATA_PENN_ACTION_H_
#define MAPN_DATA_PENN_ACTION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/data/pose_sequence.h"

namespace mapn {

struct PennActionOptions {
  Split split = Split::kAll;
  // Sequence numbers to load (1 = labels/0001.mat); empty loads every
  // labels/NNNN.mat there is.
  std::vector<int> ids;
  // Fail unless frames/NNNN/ holds the first and the last frame. Off for
  // label-only copies (tests on the published label files).
  bool require_frames = true;
  // Penn Action was filmed at 30 frames per second; the video cache encodes
  // at this rate.
  double frame_rate = 30.0;
  // Take <root>/mpeg4_gop12/NNNN.mp4, where it exists, as the sequence's
  // MPEG-4 conversion (SynthPose writes them from its lossless frames; the
  // video cache checks their frame count).
  bool use_prebuilt_videos = true;
};

// Reads one label file. `id` names the sequence ("0001"); frame paths are
// filled in by LoadPennAction, not here.
absl::StatusOr<PoseSequence> ReadPennActionLabels(const std::string& mat_path,
                                                  const std::string& id);

absl::StatusOr<PoseDataset> LoadPennAction(
    const std::string& root, const PennActionOptions& options = {});

}  // namespace mapn

#endif  // MAPN_DATA_PENN_ACTION_H_
