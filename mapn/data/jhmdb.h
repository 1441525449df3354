// File: jhmdb.h
//
// Loads Sub-JHMDB (Jhuang et al., ICCV 2013): the 316 clips of JHMDB's 12
// fully visible action classes, with one of the three official splits. The
// root is the unpacked JHMDB release:
//
//   <root>/joint_positions/<class>/<video>/joint_positions.mat
//       pos_img 2 x 15 x T (1-based MATLAB pixels); pos_world, scale and
//       viewpoint are not used (some copies lack them)
//   <root>/puppet_mask/<class>/<video>/puppet_mask.mat
//       part_mask H x W x T; the person box of frame t spans its non-zero
//       pixels (the boxes of Luo et al., which the paper follows)
//   <root>/sub_splits/<class>_test_split_<k>.txt, k = 1, 2, 3
//       one "<video>.avi 1|2" line per clip, 1 = train, 2 = test
//   <root>/Rename_Images/<class>/<video>/00001.png ...   frames, or
//   <root>/ReCompress_Videos/<class>/<video>.avi         the videos
//
// The clips are the ones the split files list. Positions are shifted by -1
// into 0-based pixels; all 15 joints are marked visible (JHMDB has no
// visibility labels and Sub-JHMDB PCK counts every joint). A frame whose
// mask is empty takes the nearest earlier (else later) frame's box.
//
// Example:
//
//   SubJhmdbOptions options;
//   options.split = 2;
//   options.subset = Split::kTest;
//   MAPN_ASSIGN_OR_RETURN(PoseDataset test, LoadSubJhmdb(root, options));
#ifndef MAPN_DATA_JHMDB_H_
#define MAPN_DATA_JHMDB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/data/pose_sequence.h"

namespace mapn {

enum class JhmdbFrameSource : uint8_t {
  kAuto,    // Rename_Images when the clip has it, else ReCompress_Videos
  kImages,  // Rename_Images only
  kVideos,  // ReCompress_Videos only
};

struct SubJhmdbOptions {
  int split = 1;  // 1, 2 or 3
  Split subset = Split::kAll;
  JhmdbFrameSource frames = JhmdbFrameSource::kAuto;
  // Fail when a clip has neither frames nor a video; off for label-only
  // copies.
  bool require_frames = true;
  double frame_rate = 30.0;
};

struct JhmdbSplitEntry {
  std::string video;  // without ".avi"
  bool train = false;
};

// Parses one sub_splits/<class>_test_split_<k>.txt file.
absl::StatusOr<std::vector<JhmdbSplitEntry>> ReadJhmdbSplitFile(
    const std::string& path);

// Reads one clip's joint_positions.mat and, when `puppet_mask_path` is not
// empty, its puppet_mask.mat (boxes and frame size). Without a mask the
// boxes are those of the joints and the frame size stays 0 unless given.
absl::StatusOr<PoseSequence> ReadJhmdbLabels(
    const std::string& joint_positions_path,
    const std::string& puppet_mask_path, const std::string& id);

// Boxes from a part mask (H x W x T, non-zero = person): one per frame, in
// 0-based corners with x2/y2 exclusive. `empty_frames` counts frames without
// any mask pixel, whose box is copied from a neighbour.
struct MaskBoxes {
  std::vector<Box> boxes;
  int empty_frames = 0;
  int width = 0;
  int height = 0;
};
absl::StatusOr<MaskBoxes> ReadPuppetMaskBoxes(const std::string& path);

absl::StatusOr<PoseDataset> LoadSubJhmdb(const std::string& root,
                                         const SubJhmdbOptions& options = {});

}  // namespace mapn

#endif  // MAPN_DATA_JHMDB_H_
