// File: trainer.h
//
// Trains any composition (mapn/model/compositions.h) on PoseWindows, one
// stage of the paper's section 3.5 per call:
//
//   stage 1  kSingleFrame   the Simple Baseline on single frames:
//                           Forward(single_frame), extractor + head train.
//   stage 2  kPropagation   the propagator on whole windows: the extractor
//                           is frozen (eval mode, no gradients), propagator
//                           + head train. A learned policy is bypassed by
//                           random decisions (each P-frame extracted with
//                           keep_probability); a training-free policy
//                           (AlwaysExtract, NeverExtract, fixed interval,
//                           residual energy) makes its own decisions.
//   stage 3  kGate          the gate alone (everything else frozen, in eval
//                           mode), loss (15).
//   stage 4  kJoint         everything, loss (15), a smaller learning rate.
//
// Loss (15): the Simple Baseline's weighted heatmap MSE (mapn/pose/
// heatmaps.h; Gaussian targets with sigma 2 heatmap pixels) over the valid
// frames of the batch, plus, when the policy is learned and the stage is 3
// or 4, lambda * ||g_mix||_1 / c over the valid P-frames, with c their
// number: the term is the batch's keyframe rate among P-frames, so lambda
// is the loss one unit of that rate is worth.
//
// Optimiser: Adam (lr, betas, epsilon, weight decay; the paper's 1e-3 for
// stage 1) on the stage's parameters, with step decay (lr x factor at each
// listed epoch). A step is one batch of `batch_size` windows; an epoch
// visits every window once in an order drawn from (seed, stage, epoch),
// each window with its augmentation drawn from (seed, stage, epoch, window),
// and LibTorch's generator (the gate's noise) is re-seeded from (seed,
// stage, epoch, step) before every step. After every epoch the training
// state (training_state.h) is written atomically to checkpoint_path; with
// `resume` a run continues from it and reaches the same weights, bit for
// bit, as an uninterrupted run with the same seed and thread count (LibTorch
// 1.13's CPU kernels are deterministic for a fixed thread count: tested).
// Progress goes to stderr: stage, epoch, step, the epoch's running loss,
// windows per second and the ETA.
//
// Example:
//
//   at::manual_seed(1);                    // initial weights
//   Mapn model(config);
//   TrainOptions stage1 = StageDefaults(Stage::kSingleFrame);
//   stage1.epochs = 20;
//   stage1.checkpoint_path = "mapn.state";
//   MAPN_ASSIGN_OR_RETURN(TrainReport report, Train(model, windows, stage1));
#ifndef MAPN_TRAIN_TRAINER_H_
#define MAPN_TRAIN_TRAINER_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/train/augmentation.h"
#include "mapn/train/model_handle.h"
#include "mapn/train/pose_windows.h"

namespace mapn::train {

enum class Stage : int {
  kSingleFrame = 1,
  kPropagation = 2,
  kGate = 3,
  kJoint = 4,
};

// "1 (single frame)", "2 (propagation)", "3 (gate)", "4 (joint)".
std::string StageName(Stage stage);
// 1..4; InvalidArgument otherwise.
absl::StatusOr<Stage> StageFromNumber(int number);

// What the trainer tells on_step after every step.
struct StepReport {
  Stage stage = Stage::kSingleFrame;
  int64_t epoch = 0;  // 0-based
  int64_t step = 0;   // 0-based, within the epoch
  int64_t steps_in_epoch = 0;
  double loss = 0;          // the step's loss (15)
  double heatmap_loss = 0;  // its MSE part
  // Mean g_mix over the valid P-frames (the keyframe rate the gate chose,
  // or the decisions used); NaN for stage 1.
  double keyframe_rate = 0;
};

struct TrainOptions {
  Stage stage = Stage::kSingleFrame;
  int64_t epochs = 10;
  int64_t batch_size = 4;  // windows per step
  // Steps per epoch at most (0: every window once); for short runs.
  int64_t max_steps_per_epoch = 0;

  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double adam_epsilon = 1e-8;
  double weight_decay = 0;
  // Step decay: the rate is multiplied by lr_decay_factor at the start of
  // each epoch listed (0-based epochs of this stage).
  std::vector<int64_t> lr_decay_epochs = {};
  double lr_decay_factor = 0.1;

  double gate_lambda = 1e-4;      // lambda of eq. (15), stages 3 and 4
  double keep_probability = 0.3;  // stage 2's random decisions
  double heatmap_sigma = 2.0;     // in heatmap pixels
  AugmentOptions augment = {};
  uint64_t seed = 1;

  // Run control; not part of the recipe a resume checks.
  std::string checkpoint_path = {};  // empty: no checkpoints
  bool resume = false;               // continue from checkpoint_path if present
  bool quiet = false;                // no progress on stderr
  double progress_seconds = 10;      // between progress lines
  std::function<void(const StepReport&)> on_step = {};
};

// The options of a stage with its default learning rate (1e-3 for stages 1
// to 3, 1e-4 for the joint fine-tuning).
TrainOptions StageDefaults(Stage stage);

// Ranges of every field; the message names it.
absl::Status ValidateTrainOptions(const TrainOptions& options);

// The recipe (every field but the run control and `epochs`) as JSON; a
// resume requires the stored recipe to equal the current one.
std::string TrainOptionsToJson(const TrainOptions& options);

struct TrainReport {
  Stage stage = Stage::kSingleFrame;
  int64_t first_epoch = 0;           // > 0 when resumed
  int64_t epochs = 0;                // finished, including resumed ones
  int64_t steps = 0;                 // run by this call
  std::vector<double> epoch_losses;  // mean loss of every finished epoch
  double seconds = 0;
  double windows_per_second = 0;
};

// One stage on a type-erased model (model_handle.h). Leaves every
// parameter with requires_grad set and the model in eval mode.
absl::StatusOr<TrainReport> TrainStage(const ModelHandle& model,
                                       PoseWindows& data,
                                       const TrainOptions& options);

template <typename Model>
absl::StatusOr<TrainReport> Train(Model& model, PoseWindows& data,
                                  const TrainOptions& options) {
  return TrainStage(MakeModelHandle(model), data, options);
}

// The stages worth running for this model, in order: 1; 2 when the
// propagator has parameters; 3 when the policy has; 4 when either has.
std::vector<Stage> StagesFor(const ModelHandle& model);

// Runs `stages` in order, all with the same checkpoint_path and resume
// flag (taken from the first). With resume, the stage the checkpoint was
// written in continues where it stopped and earlier stages are skipped
// (the checkpoint holds their result); later stages start afresh.
absl::StatusOr<std::vector<TrainReport>> TrainStages(
    const ModelHandle& model, PoseWindows& data,
    std::span<const TrainOptions> stages);

template <typename Model>
absl::StatusOr<std::vector<TrainReport>> TrainAllStages(
    Model& model, PoseWindows& data, std::span<const TrainOptions> stages) {
  return TrainStages(MakeModelHandle(model), data, stages);
}

}  // namespace mapn::train

#endif  // MAPN_TRAIN_TRAINER_H_
