// File: estimator.h
//
// Poses for every person in every frame of a video, in one pass over its
// compressed stream: each GOP window of any StreamSource is cropped around
// each person (BoxSource: the whole frame or given boxes, one person; or
// people found by a person detector on the window's keyframe and followed
// by a track::Tracker, their boxes carried by the motion vectors), the
// crops of one window go through any composition (a model::AnyPipeline) as
// one batch, a row per person, so that each person has their own ConvLSTM
// state and their own gate decisions, and the head's keypoints are carried
// back to image pixels (mapn/pose/keypoints.h). A person the tracker starts
// in a continuation window (mid-GOP) starts with an encoder pass: every
// window's first frame is a keyframe of each of its rows. A window where
// nobody is found is not run, and its frames get no pose.
// Optionally the per-frame baseline with the same extractor and head runs
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
#include <vector>

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
#include "mapn/track/tracker.h"
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
  // Labels of this video (one person, one label frame per decoded frame;
  // the video may have neither more nor fewer frames): PCK@0.2 of the
  // estimates goes into the summary, with the labels' dataset convention
  // (PckOptionsFor), in the joint set the model's and the labels' joints
  // meet in (mapn/data/joint_mapping.h). With several people in a frame,
  // the one whose box overlaps the label's box most is scored. Frames the
  // labels mark unlabelled do not count; a labelled frame where nobody was
  // found counts as a miss for each of its counted joints.
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

  // One person of a window: their batch row.
  struct WindowPerson {
    int64_t track_id = 1;
    Box crop;  // what the model sees of them, in source pixels
    // Per frame of the window (T entries): their box, nullopt where they
    // are not (before they appear, after they leave, padding).
    std::vector<std::optional<Box>> boxes;
    std::vector<PersonBoxOrigin> origin;
    std::optional<float> score;  // detected: the last detection's
  };

  // The window's people: the given box, or the tracker's tracks after
  // the detector ran on the window's keyframe.
  absl::StatusOr<std::vector<WindowPerson>> PeopleOfWindow(
      const GopWindow& window);
  // Scores the frame's estimate against the labels (AddWindow).
  absl::Status AddToPck(const FrameMeta& meta, const FramePose& pose);

  PoseEstimator(const model::AnyPipeline& model,
                const model::AnyPipeline* baseline,
                const EstimateOptions& options, const StreamInfo& stream,
                std::optional<PckAccumulator> pck,
                std::optional<track::Tracker> tracker);

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
  // Detected boxes: follows the people from window to window.
  std::optional<track::Tracker> tracker_;
  model::MacCount total_macs_;
  // Person crops the model ran on, summed over frames (the per-frame
  // baseline's work in units of one crop).
  int64_t person_rows_ = 0;
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
