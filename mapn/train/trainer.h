// File: trainer.h
//
// Trains any composition (mapn/model/compositions.h) on PoseWindows, one
// stage of the paper's section 3.5 per call:
//
//   stage 1  kSingleFrame   the Simple Baseline on single frames:
//                           Forward(single_frame), extractor + head train.
//   stage 2  kPropagation   the propagator on whole windows: the extractor
//                           is frozen (eval mode, no gradients), propagator
//                           + head train. A learned policy (kLearned) is
//                           bypassed by random decisions (each P-frame
//                           extracted with keep_probability); a
//                           training-free one (AlwaysExtract, NeverExtract,
//                           fixed interval, residual energy) makes its own
//                           decisions.
//   stage 3  kGate          the gate alone (everything else frozen, in eval
//                           mode), loss (15).
//   stage 4  kJoint         everything, loss (15), a smaller learning rate.
//
// Loss (15): the Simple Baseline's weighted heatmap MSE (mapn/pose/
// heatmaps.h; Gaussian targets with sigma 2 heatmap pixels) over the valid
// frames of the batch, plus, when the policy is learned (kLearned) and the
// stage is 3 or 4, lambda * ||g_mix||_1 / c over the valid P-frames, with c
// their number: the term is the batch's keyframe rate among P-frames, so lambda
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
// Data-parallel (options.communicator, distributed.h, world_size > 1):
// every rank takes the same global batch per step and crops its contiguous
// block of it; loss (15) is weighted by each rank's share of the valid
// frames and P-frames so that the all-reduced average of the gradients is
// the single-process gradient; parameters and buffers come from rank 0 at
// the start of the stage (after resume) and buffers before every step, as
// PyTorch's DDP does; rank 0 alone writes the state. docs/training.md,
// "Distributed training", has the argument and the caveats (batch norm,
// the gate's noise).
//
// A stage is a sequence of named steps (stage_steps.h): choose and unfreeze
// the stage's parameters, build the optimiser, resume, then per epoch draw
// the order, and per step draw the batch and the stage's decisions, run
// the forward, the loss (15) and the update, then write the state.
//
// Example:
//
//   at::manual_seed(1);                    // initial weights
//   MAPN_ASSIGN_OR_RETURN(AnyPipeline model,
//                         DefaultCompositions().Create("mapn", values));
//   TrainOptions stage1 = StageDefaults(Stage::kSingleFrame);
//   stage1.epochs = 20;
//   stage1.checkpoint_path = "mapn.state";
//   MAPN_ASSIGN_OR_RETURN(TrainReport report,
//                         TrainStage(model, windows, stage1));
#ifndef MAPN_TRAIN_TRAINER_H_
#define MAPN_TRAIN_TRAINER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/train/pose_windows.h"
#include "mapn/train/train_options.h"

namespace mapn::train {

struct TrainReport {
  Stage stage = Stage::kSingleFrame;
  int64_t first_epoch = 0;           // > 0 when resumed
  int64_t epochs = 0;                // finished, including resumed ones
  int64_t steps = 0;                 // run by this call
  std::vector<double> epoch_losses;  // mean loss of every finished epoch
  double seconds = 0;
  double windows_per_second = 0;
};

// One stage on any composition. Leaves every parameter with requires_grad
// set and the model in eval mode.
absl::StatusOr<TrainReport> TrainStage(const model::AnyPipeline& model,
                                       PoseWindows& data,
                                       const TrainOptions& options);

// The stages worth running for this model, in order: 1; 2 when the
// propagator has parameters; 3 when the policy is learned; 4 when either.
std::vector<Stage> StagesFor(const model::AnyPipeline& model);

// Runs `stages` in order, all with the same checkpoint_path and resume
// flag (taken from the first). With resume, the stage the checkpoint was
// written in continues where it stopped and earlier stages are skipped
// (the checkpoint holds their result); later stages start afresh.
absl::StatusOr<std::vector<TrainReport>> TrainStages(
    const model::AnyPipeline& model, PoseWindows& data,
    std::span<const TrainOptions> stages);

}  // namespace mapn::train

#endif  // MAPN_TRAIN_TRAINER_H_
