// File: box_source.h
//
// Where the person is in each frame of a video, for `mapn estimate`: the
// whole frame (the library's default; `mapn estimate --detector=none`), one
// fixed box (--box x,y,w,h), a box per frame from a file (--boxes FILE):
// JSON, CSV, or a Penn Action label .mat (its `bbox` field), or boxes found
// by a person detector (mapn/detect, `mapn estimate`'s default). The model
// sees an S x S crop around the box, one crop box per window:
//   * given boxes: like training, the mean of the boxes at the window's
//     first frame and at the frame after its last (the paper's mean of this
//     and the next I-frame's box), made square and enlarged by 1.25;
//   * detected boxes: the detector runs on the window's keyframe (frame 0:
//     an I-frame, or the P-frame opening a continuation window); its best
//     box, if it scores at least `min_person_score`, is carried through the
//     window's frames by the motion vectors (mapn/track/motion_boxes.h),
//     (a person already in view, whose box ended the previous window,
//     needs only `keep_person_score` on a box overlapping it: hysteresis,
//     so that a person does not blink out on a keyframe that scores a
//     little low, while nobody is ever started below `min_person_score`),
//     and the crop is the union of the carried boxes, made square and
//     enlarged by 1.25 (the next keyframe is not known yet when a window is
//     processed). With no box scoring enough, the window has nobody: no
//     crop, and no person box in any of its frames; a carried box that
//     leaves the frame leaves the rest of its window without a person.
//
// Box files:
//   JSON  [[x, y, w, h], ...]                     one per frame, in order, or
//         [{"frame": 12, "bbox": [x, y, w, h]}, ...]   (COCO-style, sparse)
//   CSV   frame,x,y,w,h   (a header line is allowed; sparse)
//   .mat  a Penn Action label file (bbox = x1 y1 x2 y2 per frame)
// Frames a sparse file does not list take the box of the nearest listed
// frame before them (or after, before the first); a box must overlap the
// frame, and boxes with zero or negative size are errors naming the frame.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(BoxSource boxes, BoxSource::FromFile("boxes.csv"));
//   MAPN_RETURN_IF_ERROR(boxes.Validate(width, height));
//   Box crop = boxes.WindowCropBox(first_frame, 12, width, height);
//
//   // Detected boxes, window by window:
//   DetectedBoxOptions options;
//   options.min_person_score = 0.5f;
//   BoxSource detected = BoxSource::Detected(std::move(detector), options);
//   MAPN_ASSIGN_OR_RETURN(WindowBoxes boxes,
//                         detected.ForWindow(window, width, height));
//   if (!boxes.crop) { /* nobody in this window */ }
#ifndef MAPN_ESTIMATE_BOX_SOURCE_H_
#define MAPN_ESTIMATE_BOX_SOURCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/detect/person_detector.h"
#include "mapn/estimate/pose_track.h"
#include "mapn/geometry/box.h"
#include "mapn/track/motion_boxes.h"
#include "mapn/track/tracker.h"
#include "mapn/video/gop.h"

namespace mapn {

// What BoxSource::Detected needs besides the detector.
struct DetectedBoxOptions {
  // The keyframe's best box counts as a person from this score up
  // (`mapn estimate --min_person_score`); docs/models.md, "Person
  // detection", has the measurements behind the default of `mapn estimate`.
  float min_person_score = 0.5f;
  // A person already in view: when the previous window's last frame had a
  // person box, a keyframe box overlapping it by at least `keep_iou` (IoU)
  // continues them from this score up (`--keep_person_score`). Equal to
  // min_person_score: no hysteresis.
  float keep_person_score = 0.3f;
  float keep_iou = 0.3f;
  // Several people (PoseEstimator, with a track::Tracker): at most this
  // many at once (`--max_people`; 0: all the detector finds), and how many
  // keyframes in a row a person may go undetected before their track ends
  // (meanwhile their box is carried by the motion vectors).
  int max_people = 0;
  int max_missed = 1;
  // How boxes are carried between keyframes.
  track::BoxMotionOptions motion;
  // How the union of a window's boxes becomes its crop box.
  CropBoxOptions crop;
};

// The boxes of one window (BoxSource::ForWindow).
struct WindowBoxes {
  // The window's crop box; nullopt when nobody is in the window.
  std::optional<Box> crop;
  // Per frame of the window (T entries; padding frames nullopt): the
  // person's box, nullopt where nobody is.
  std::vector<std::optional<Box>> person;
  std::vector<PersonBoxOrigin> origin;  // T entries
  // Detected boxes: the keyframe detection's score (also when it fell
  // short of the threshold; nullopt when the detector found nothing).
  std::optional<float> score;
  bool detector_ran = false;
};

class BoxSource {
 public:
  // The whole frame: the crop is the frame made square (padded, not
  // enlarged further), so the model sees all of it.
  static BoxSource WholeFrame();
  // "x,y,w,h" in pixels (top-left corner, width, height).
  static absl::StatusOr<BoxSource> Fixed(const std::string& spec);
  static absl::StatusOr<BoxSource> FromFile(const std::string& path);
  // Boxes by frame index, sparse like a file's; `origin` says where they
  // came from ("the labels of --ground_truth ..."). InvalidArgument when
  // empty.
  static absl::StatusOr<BoxSource> FromBoxes(std::map<int64_t, Box> boxes,
                                             std::string origin);
  // Boxes found by `detector` on each window's keyframe and carried through
  // the window (above). `detector` must not be null.
  static BoxSource Detected(
      std::shared_ptr<const detect::PersonDetector> detector,
      const DetectedBoxOptions& options = {});

  bool whole_frame() const { return boxes_.empty() && detector_ == nullptr; }
  bool detected() const { return detector_ != nullptr; }
  // Detected boxes: the detector (null otherwise) and the options.
  const detect::PersonDetector* detector() const { return detector_.get(); }
  const DetectedBoxOptions& detected_options() const {
    return detected_options_;
  }
  // Detected boxes: the tracker options that follow people as set here
  // (min_person_score, keep_person_score, max_people, max_missed, motion).
  track::TrackerOptions TrackerOptionsForPeople() const;
  // Frames listed explicitly (0 for the whole frame and --box).
  int64_t listed_frames() const;

  // Every box must overlap a width x height frame: InvalidArgument naming
  // the frame and the box otherwise.
  absl::Status Validate(int64_t width, int64_t height) const;

  // Given boxes (not Detected, which only answers ForWindow): the person
  // box of frame `index` (x1, y1, x2, y2 corners), and the crop box of a
  // window of `length` frames starting at `first`.
  Box ForFrame(int64_t index, int64_t width, int64_t height) const;
  Box WindowCropBox(int64_t first, int64_t length, int64_t width,
                    int64_t height) const;

  // One person: the crop box and per-frame person boxes of `window` of a
  // width x height video, for every kind (detected: the keyframe's best
  // box; `mapn distill` crops its training windows so); errors come from
  // the detector. PoseEstimator follows every person with a tracker
  // instead. `previous`: the
  // person box of the frame before the window, if there was one (detected
  // boxes use it for keep_person_score; given boxes ignore it).
  absl::StatusOr<WindowBoxes> ForWindow(
      const GopWindow& window, int64_t width, int64_t height,
      const std::optional<Box>& previous = std::nullopt) const;

  std::string Describe() const;

 private:
  BoxSource() = default;
  // Keyed by frame index; kFixedKey for --box.
  static constexpr int64_t kFixedKey = -1;
  std::map<int64_t, Box> boxes_;
  std::string origin_;
  std::shared_ptr<const detect::PersonDetector> detector_;
  DetectedBoxOptions detected_options_;
};

}  // namespace mapn

#endif  // MAPN_ESTIMATE_BOX_SOURCE_H_
