// File: estimator.h
//
// Poses for every frame of a video, in one pass over its compressed stream:
// each GOP window of any StreamSource is cropped around the person
// (BoxSource: given, or found by a person detector on the window's keyframe
// and carried by the motion vectors; a window where nobody is found is not
// run, and its frames get no pose), run through any composition (a
// model::AnyPipeline), and the
// head's keypoints are carried back to image pixels (mapn/pose/keypoints.h);
// optionally the per-frame baseline with the same extractor and head runs
// on the same crops in the same run, so the wall-clock speed-up is measured
// rather than assumed, and overlay pictures (a video, PNGs or both) and PCK
// against ground truth are produced on the way. `mapn estimate` is a thin
// command line around this. Nothing here depends on training.
//
// EstimatePoses reads the source; PoseEstimator does the work of one window
// at a time, for callers that get their windows another way.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(model::AnyPipeline model,
//                         model::LoadPipeline("mapn.ckpt",
//                                             model::DefaultCompositions()));
//   MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
//                         FfmpegStreamSource::Open("clip.mp4"));
//   EstimateOptions options;               // whole frame, no overlay
//   options.joint_set = JointSetForModel(model.joints());
//   MAPN_ASSIGN_OR_RETURN(PoseTrack track,
//                         EstimatePoses(model, source, options));
#ifndef MAPN_ESTIMATE_ESTIMATOR_H_
#define MAPN_ESTIMATE_ESTIMATOR_H_

#include <chrono>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/ground_truth.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/estimate/box_source.h"
#include "mapn/estimate/overlay.h"
#include "mapn/estimate/pose_track.h"
#include "mapn/estimate/progress.h"
#include "mapn/eval/pck.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/video/gop.h"
#include "mapn/video/stream_source.h"

namespace mapn {

struct EstimateOptions {
  BoxSource boxes = BoxSource::WholeFrame();
  // Names and skeleton of the model's joints (must match its joint count).
  JointSet joint_set;
  // Optional outputs, owned by the caller.
  OverlaySink* overlay = nullptr;
  ProgressBar* progress = nullptr;
  // Labels of this video (one label frame per decoded frame; the video may
  // have neither more nor fewer frames): PCK@0.2 of the estimates goes into
  // the summary, with the labels' dataset convention (PckOptionsFor), in
  // the joint set the model's and the labels' joints meet in
  // (mapn/data/joint_mapping.h). Frames the labels mark unlabelled do not
  // count; a labelled frame where nobody was found counts as a miss for
  // each of its counted joints.
  const GroundTruth* ground_truth = nullptr;
};

// The per-window work of EstimatePoses.
class PoseEstimator {
 public:
  // Checks that `options` fit the model and the stream (a joint set of the
  // model's joint count, ground truth whose joints map onto the model's,
  // boxes inside the frame) and
  // puts the models in eval mode. `baseline`, when given, runs on the same
  // batches and is timed.
  static absl::StatusOr<PoseEstimator> Start(
      const model::AnyPipeline& model, const StreamInfo& stream,
      const EstimateOptions& options,
      const model::AnyPipeline* baseline = nullptr);

  // Finds the window's boxes, crops, runs and decodes it; its valid frames
  // join the track (without a pose where nobody was found).
  absl::Status AddWindow(const GopWindow& window);

  // The track with its summary; InvalidArgument when no frame was added.
  absl::StatusOr<PoseTrack> Finish() &&;

 private:
  using Clock = std::chrono::steady_clock;

  PoseEstimator(const model::AnyPipeline& model,
                const model::AnyPipeline* baseline,
                const EstimateOptions& options, const StreamInfo& stream,
                std::optional<PckAccumulator> pck);

  const model::AnyPipeline* model_;
  const model::AnyPipeline* baseline_;
  const EstimateOptions* options_;
  Clock::time_point start_;
  PoseTrack track_;
  std::optional<PckAccumulator> pck_;
  double model_seconds_ = 0;
  double baseline_seconds_ = 0;
  double detector_seconds_ = 0;
  int64_t detections_ = 0;
  int64_t frames_without_person_ = 0;
  // The person box of the last frame added, for BoxSource::ForWindow.
  std::optional<Box> previous_person_;
  model::MacCount total_macs_;
};

// Runs `model` (in eval mode, which this sets) over every window of
// `source`. Fills every PoseTrack field except the description strings the
// caller knows (the checkpoint; the boxes' origin is filled).
template <StreamSource Source>
absl::StatusOr<PoseTrack> EstimatePoses(
    const model::AnyPipeline& model, Source& source,
    const EstimateOptions& options,
    const model::AnyPipeline* baseline = nullptr) {
  MAPN_ASSIGN_OR_RETURN(
      PoseEstimator estimator,
      PoseEstimator::Start(model, source.info(), options, baseline));
  while (true) {
    MAPN_ASSIGN_OR_RETURN(std::optional<GopWindow> window, source.Next());
    if (!window) break;
    MAPN_RETURN_IF_ERROR(estimator.AddWindow(*window));
  }
  return std::move(estimator).Finish();
}

// The joint set for a model with `joints` outputs: Penn Action's for 13,
// JHMDB's for 15, COCO's for 17, otherwise generic names joint_0, joint_1,
// ... with no skeleton.
JointSet JointSetForModel(int64_t joints);

}  // namespace mapn

#endif  // MAPN_ESTIMATE_ESTIMATOR_H_
