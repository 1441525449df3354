// File: keypoint_json.h
//
// Reads COCO-style keypoint label files: COCO's person_keypoints_*.json and
// PoseTrack18's per-video files, which share the layout
//
//   {"images": [{"id", "file_name", "frame_id"?, "is_labeled"?, ...}],
//    "annotations": [{"image_id", "keypoints": [x, y, v] * J, "bbox":
//                     [x, y, w, h], "track_id"?, "iscrowd"?, ...}],
//    "categories": [{"name": "person", "keypoints": [J names], ...}]}
//
// The joint set comes from the category's keypoint names: COCO's 17
// ("nose", "left_eye", ...) or PoseTrack's 17 ("nose", "head_bottom",
// "head_top", ...); other names are refused. A keypoint counts when its v is
// above 0 (COCO's 1 = labelled but hidden, 2 = visible; PoseTrack writes 1).
// Positions are used as stored.
//
// Frames: the images in order of PoseTrack's `frame_id` when every image
// has one, else in the file's order; image k labels the k-th decoded frame
// of the video (a PoseTrack18 file lists every frame of its video, with
// `is_labeled`; a single image is frame 0). Crowd annotations (`iscrowd`)
// are skipped.
//
// People: SelectPerson picks one person across the frames: the person whose
// `track_id` is `person` (PoseTrack), or the `person`-th annotation of each
// image in file order when the file has no track ids (COCO); with `person`
// < 0 every image must hold at most one person, and a file with several is
// refused with a message that lists them and names --person.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(KeypointLabels file,
//                         ReadKeypointJson("009473_mpii_test.json"));
//   MAPN_ASSIGN_OR_RETURN(PersonLabels person, SelectPerson(file, 1));
//   // person.sequence: [T, 17, 2] PoseTrack joints, boxes from "bbox";
//   // person.labelled[t]: whether track 1 is labelled in frame t.
#ifndef MAPN_DATA_KEYPOINT_JSON_H_
#define MAPN_DATA_KEYPOINT_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/geometry/box.h"

namespace mapn {

struct KeypointImage {
  int64_t id = 0;
  std::string file_name;
  int64_t frame_id = -1;   // PoseTrack's frame_id; -1 when absent
  bool is_labeled = true;  // PoseTrack's is_labeled; true when absent
  int width = 0;           // 0 when absent
  int height = 0;
};

struct KeypointPerson {
  int64_t image_id = 0;
  int64_t track_id = -1;         // PoseTrack's track_id; -1 when absent
  std::vector<float> keypoints;  // [J, 3]: x, y, v
  Box box;                       // "bbox" as corners
};

struct KeypointLabels {
  std::string path;
  JointSet joints;
  std::vector<KeypointImage> images;  // frame order: image k is frame k
  std::vector<KeypointPerson> people;
  // people_of_frame[k]: indices into `people` of image k, in file order.
  std::vector<std::vector<int>> people_of_frame;
  bool has_track_ids = false;  // every person has a track_id
};

// Reads and checks a keypoint JSON file; InvalidArgument naming the file
// and the entry for anything malformed (a missing field, keypoints that are
// not 3 x J numbers, an annotation of an unknown image, a box of no size,
// keypoint names of no joint set mapn knows).
absl::StatusOr<KeypointLabels> ReadKeypointJson(const std::string& path);

// One person's labels over every frame of the file.
struct PersonLabels {
  // [T, J, 2] and [T, J]; frames where the person is not labelled have no
  // visible joint and the nearest labelled frame's box.
  PoseSequence sequence;
  std::vector<uint8_t> labelled;  // [T]: 1 where the person is labelled
  std::string description;        // "track_id 1", "annotation 0 of each image"
};

// See the file comment. NotFound when no image labels the person asked for.
absl::StatusOr<PersonLabels> SelectPerson(const KeypointLabels& labels,
                                          int64_t person);

}  // namespace mapn

#endif  // MAPN_DATA_KEYPOINT_JSON_H_
