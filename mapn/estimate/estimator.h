// File: estimator.h
//
// Poses for every frame of a video, in one pass over its compressed stream:
// each GOP window is cropped around the person (BoxSource), run through any
// composition (through its type-erased train::ModelHandle), and the heatmap
// peaks are carried back to image pixels; optionally the per-frame Simple
// Baseline runs on the same crops in the same run, so the wall-clock
// speed-up is measured rather than assumed, and overlay pictures (a video,
// PNGs or both) and PCK against ground truth are produced on the way.
// `mapn estimate` is a thin command line around this.
//
// Example:
//
//   Mapn model = ...;                      // e.g. LoadModel<Mapn>(path)
//   model->eval();
//   train::ModelHandle handle = train::MakeModelHandle(model);
//   MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
//                         FfmpegStreamSource::Open("clip.mp4"));
//   EstimateOptions options;               // whole frame, no overlay
//   MAPN_ASSIGN_OR_RETURN(PoseTrack track,
//                         EstimatePoses(handle, source, options));
#ifndef MAPN_ESTIMATE_ESTIMATOR_H_
#define MAPN_ESTIMATE_ESTIMATOR_H_

#include "absl/status/statusor.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/estimate/box_source.h"
#include "mapn/estimate/overlay.h"
#include "mapn/estimate/pose_track.h"
#include "mapn/estimate/progress.h"
#include "mapn/train/model_handle.h"
#include "mapn/video/ffmpeg_stream_source.h"

namespace mapn {

struct EstimateOptions {
  BoxSource boxes = BoxSource::WholeFrame();
  // Names and skeleton of the model's joints (must match its joint count).
  JointSet joint_set;
  // Optional outputs, owned by the caller.
  OverlaySink* overlay = nullptr;
  ProgressBar* progress = nullptr;
  // Labels of this video: PCK@0.2 of the estimates (Penn Action's
  // visibility convention) goes into the summary.
  const PoseSequence* ground_truth = nullptr;
};

// Runs `model` (in eval mode, which this sets) over every window of
// `source`; `baseline`, when given, is run on the same batches and timed.
// Fills every PoseTrack field except the description strings the caller
// knows (checkpoint, boxes origin is filled).
absl::StatusOr<PoseTrack> EstimatePoses(
    const train::ModelHandle& model, FfmpegStreamSource& source,
    const EstimateOptions& options,
    const train::ModelHandle* baseline = nullptr);

// The joint set for a model with `joints` outputs: Penn Action's for 13,
// JHMDB's for 15, otherwise generic names joint_0, joint_1, ... with no
// skeleton.
JointSet JointSetForModel(int64_t joints);

}  // namespace mapn

#endif  // MAPN_ESTIMATE_ESTIMATOR_H_
