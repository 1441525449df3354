// File: train_options.h
//
// The recipe of one training stage (the paper's section 3.5) and its
// checks: which stage, how long, the optimiser, the schedule, lambda of
// eq. (15), stage 2's random decisions, the augmentation and the seed,
// plus the run control (checkpoint, resume, progress, the processes it
// runs on) that is not part of the recipe. trainer.h runs it.
//
// Example:
//
//   TrainOptions stage1 = StageDefaults(Stage::kSingleFrame);
//   stage1.epochs = 20;
//   MAPN_RETURN_IF_ERROR(ValidateTrainOptions(stage1));
//   std::string recipe = TrainOptionsToJson(stage1);  // what a resume checks
#ifndef MAPN_TRAIN_TRAIN_OPTIONS_H_
#define MAPN_TRAIN_TRAIN_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/train/augmentation.h"

namespace mapn::train {

class Communicator;  // distributed.h

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
  // The processes training together (distributed.h); null or a world of
  // one: this process alone, exactly as without it. Every rank gets the
  // same options; each computes its contiguous block of every step's
  // global batch of `batch_size` windows, rank 0 writes the checkpoints.
  // Not part of the recipe: a run may resume with another world size.
  std::shared_ptr<Communicator> communicator = {};
};

// The options of a stage with its default learning rate (1e-3 for stages 1
// to 3, 1e-4 for the joint fine-tuning).
TrainOptions StageDefaults(Stage stage);

// Ranges of every field; the message names it.
absl::Status ValidateTrainOptions(const TrainOptions& options);

// The recipe (every field but the run control and `epochs`) as JSON; a
// resume requires the stored recipe to equal the current one.
std::string TrainOptionsToJson(const TrainOptions& options);

}  // namespace mapn::train

#endif  // MAPN_TRAIN_TRAIN_OPTIONS_H_
