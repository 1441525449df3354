// File: evaluate.h
//
// Evaluates a composition on PoseWindows the way the paper's tables report
// it: PCK@0.2 per joint group (Head, Sho., Elb., Wri., Hip, Knee, Ank.,
// Mean; mapn/eval/pck.h, with the dataset's visibility rule and the
// per-joint mean), the keyframe percentage, MACs per frame in both
// conventions (mapn/model/flops.h) and wall-clock frames per second.
//
// Every window goes through Run() in eval mode (hard gate decisions, no
// autograd), in batches of consecutive windows. The head's maps become
// keypoints in input pixels (AnyPipeline::Keypoints, which checks their
// shape) and go through the window's output -> source map to image pixels
// (mapn/pose/keypoints.h, as estimation does), scored against the labels
// with L = max(w, h) of each frame's own box (not the GOP crop box).
//
//   keyframe %   frames the extractor ran on / valid frames (padding
//                excluded), frame 0 of every window included
//   MACs/frame   the model's executed MACs (RunResult::frame_macs) averaged
//                over valid frames, in true and HRNet-tool conventions, and
//                as a fraction of the per-frame Simple Baseline at the same
//                config (extractor + head on every frame)
//   model fps    valid frames / seconds inside Run() alone
//   end-to-end   valid frames / seconds of the whole loop: decoding with
//                motion vectors and residuals (when PoseWindows has not
//                cached the window: build the evaluation set with
//                cache_megabytes = 0 for a streaming measurement, as
//                `mapn eval` does), cropping, Run() and heatmap decoding;
//                PoseWindows::Create's indexing pass is not counted
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(EvalResult result,
//                         Evaluate(model, test_windows, {.label = "MAPN"}));
//   // model: a model::AnyPipeline (LoadPipeline, CompositionTable::Create)
//   std::cout << FormatEvalTable({&result, 1});
//   MAPN_RETURN_IF_ERROR(WriteEvalJson("results.json", {&result, 1}));
#ifndef MAPN_TRAIN_EVALUATE_H_
#define MAPN_TRAIN_EVALUATE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/eval/pck.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/flops.h"
#include "mapn/model/pipeline_support.h"
#include "mapn/train/pose_windows.h"

namespace mapn::train {

struct EvalOptions {
  std::string label = "model";  // the table row's name
  int64_t batch_size = 1;       // windows per Run()
  // PCK conventions; default: PckOptionsFor(the dataset's name).
  std::optional<PckOptions> pck = {};
  // Keep every frame's prediction and decision in EvalResult::sequences.
  bool keep_predictions = false;
  bool quiet = true;  // else one progress line per 10 s on stderr
};

// Predictions of one sequence, in image pixels.
struct SequencePredictions {
  std::string id;
  std::vector<float> joints;       // [T, J, 2]; NaN for unlabelled frames
  std::vector<uint8_t> extracted;  // [T]: 1 where the extractor ran
};

struct EvalResult {
  std::string label;
  std::string model_type;
  std::string dataset;
  PckResult pck;
  int64_t frames = 0;           // valid (real) frames run
  int64_t keyframes = 0;        // of them, frames the extractor ran on
  double keyframe_percent = 0;  // 100 * keyframes / frames
  model::MacCount macs_per_frame;
  model::MacCount baseline_macs_per_frame;  // per-frame Simple Baseline
  double true_macs_ratio = 0;               // macs / baseline, true convention
  double hrnet_macs_ratio = 0;              // the same in the HRNet convention
  double model_seconds = 0;                 // inside Run()
  double total_seconds = 0;                 // the whole loop
  double model_fps = 0;
  double end_to_end_fps = 0;
  std::vector<SequencePredictions> sequences;  // with keep_predictions
};

// The inference run the evaluator times: the model's Run(), or a stand-in
// in tests.
using RunFunction =
    std::function<absl::StatusOr<model::RunResult>(const PoseBatch&)>;

// The evaluation loop on any runner; `model` supplies the input size, the
// joints, the keypoint decoding and the baseline cost.
absl::StatusOr<EvalResult> EvaluateWithRunner(const model::AnyPipeline& model,
                                              const RunFunction& run,
                                              PoseWindows& data,
                                              const EvalOptions& options = {});

// Puts the model in eval mode and evaluates it.
absl::StatusOr<EvalResult> Evaluate(const model::AnyPipeline& model,
                                    PoseWindows& data,
                                    const EvalOptions& options = {});

// The paper's table: the PCK columns (FormatPckTable's caption and rows)
// followed by Keyframe %, GMACs per frame (true, HRNet tool), the ratio to
// the per-frame Simple Baseline and frames per second (model, end to end).
std::string FormatEvalTable(std::span<const EvalResult> rows);
// PckCsv's columns plus keyframe_percent, true_gmacs, hrnet_gmacs,
// true_macs_ratio, hrnet_macs_ratio, model_fps, end_to_end_fps.
std::string EvalCsv(std::span<const EvalResult> rows);
// {"rows": [{"label", "model_type", "dataset", "pck": <PckJson row>,
// "frames", "keyframes", "keyframe_percent", "macs_per_frame": {"true_gmacs",
// "hrnet_gmacs"}, "baseline_macs_per_frame": {...}, "macs_ratio": {"true",
// "hrnet"}, "fps": {"model", "end_to_end"}, "seconds": {"model", "total"}}],
// "gmacs_unit": "2^30 multiply-adds"}.
std::string EvalJson(std::span<const EvalResult> rows);

// Both written atomically.
absl::Status WriteEvalCsv(const std::string& path,
                          std::span<const EvalResult> rows);
absl::Status WriteEvalJson(const std::string& path,
                           std::span<const EvalResult> rows);

}  // namespace mapn::train

#endif  // MAPN_TRAIN_EVALUATE_H_
