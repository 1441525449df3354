// File: box_source.h
//
// Where the person is in each frame of a video, for `mapn estimate`: the
// whole frame (the default), one fixed box (--box x,y,w,h), or a box per
// frame from a file (--boxes FILE): JSON, CSV, or a Penn Action label .mat
// (its `bbox` field). The model sees an S x S crop around the box; like
// training, each window of a GOP uses one crop box, the mean of the boxes at
// the window's first frame and at the frame after its last (the paper's mean
// of this and the next I-frame's box), made square and enlarged by 1.25.
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
#ifndef MAPN_ESTIMATE_BOX_SOURCE_H_
#define MAPN_ESTIMATE_BOX_SOURCE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/geometry/box.h"
#include "mapn/video/gop.h"

namespace mapn {

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

  bool whole_frame() const { return boxes_.empty(); }
  // Frames listed explicitly (0 for the whole frame and --box).
  int64_t listed_frames() const;

  // Every box must overlap a width x height frame: InvalidArgument naming
  // the frame and the box otherwise.
  absl::Status Validate(int64_t width, int64_t height) const;

  // The person box of frame `index` (x1, y1, x2, y2 corners).
  Box ForFrame(int64_t index, int64_t width, int64_t height) const;

  // The crop box of a window of `length` frames starting at `first`.
  Box WindowCropBox(int64_t first, int64_t length, int64_t width,
                    int64_t height) const;

  std::string Describe() const;

 private:
  BoxSource() = default;
  // Keyed by frame index; kFixedKey for --box.
  static constexpr int64_t kFixedKey = -1;
  std::map<int64_t, Box> boxes_;
  std::string origin_;
};

}  // namespace mapn

#endif  // MAPN_ESTIMATE_BOX_SOURCE_H_
