// File: stage_steps.h
//
// The named steps a training stage (trainer.h) is made of, each small
// enough to read and test alone: the random streams that make a run
// reproducible, which parameters a stage trains and which modules it
// freezes, the compatibility of a model with its data, the stage's own
// decisions, loss (15), the optimiser's state in and out of a training
// state, resuming, the progress line, and the steps of data-parallel
// training (distributed.h): each rank's block of the global batch, its
// share of loss (15), the start every rank must agree on, and the
// broadcasts and gradient all-reduce around a step.
//
// Reproducibility. Every random draw of a run comes from a stream seeded by
// (seed, what it is for, stage, epoch, index), so a run that stops after
// an epoch and resumes draws exactly what an uninterrupted one would.
//
// Example:
//
//   const std::vector<int64_t> order =
//       Permutation(data.size(), StreamSeed(seed, kOrder, stage, epoch, 0));
//   SetModes(model, stage);
//   Loss loss = ComputeLoss(model, batch, forward_result, options,
//                           /*gate_term=*/true);
#ifndef MAPN_TRAIN_STAGE_STEPS_H_
#define MAPN_TRAIN_STAGE_STEPS_H_

#include <ATen/core/Tensor.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/checkpoint.h"
#include "mapn/train/distributed.h"
#include "mapn/train/pose_windows.h"
#include "mapn/train/train_options.h"
#include "mapn/train/training_state.h"

namespace mapn::train {

// Independent random streams of one run.
enum StreamTag : uint64_t {
  kOrder = 1,
  kAugment = 2,
  kDecisions = 3,
  kTorch = 4
};

// The seed of one stream at one place of the run.
uint64_t StreamSeed(uint64_t seed, StreamTag tag, Stage stage, int64_t epoch,
                    int64_t index);

// A permutation of 0 .. n-1 drawn from `seed` (Fisher-Yates).
std::vector<int64_t> Permutation(int64_t n, uint64_t seed);

bool HasParameters(const torch::nn::Module& module);

// The dotted prefixes of the parameters a stage trains: 1 extractor and
// head, 2 propagator and head, 3 policy, 4 all.
std::vector<std::string> TrainedPrefixes(Stage stage);
std::vector<model::NamedTensor> TrainedParameters(
    const model::AnyPipeline& model, Stage stage);
// The parameters of `model` whose dotted names start with one of `prefixes`.
std::vector<model::NamedTensor> ParametersWithPrefixes(
    const model::AnyPipeline& model, const std::vector<std::string>& prefixes);

// Train mode for what the stage trains, eval mode (frozen batch-norm
// statistics) for the rest.
void SetModes(const model::AnyPipeline& model, Stage stage);

// Whether `model` can train `stage` on `data`: windows of its input size,
// the dataset's joints its joints, and something for the stage to train.
absl::Status CheckCompatible(const model::AnyPipeline& model,
                             const PoseWindows& data,
                             const TrainOptions& options);

// Stage 2's decisions for a learned policy, float [rows, length]: each
// frame extracted with keep_probability, drawn from the kDecisions stream.
at::Tensor RandomDecisions(const TrainOptions& options, int64_t epoch,
                           int64_t step, int64_t rows, int64_t length);

struct Loss {
  at::Tensor total;
  double heatmap = 0;
  double keyframe_rate = NAN;  // mean g_mix over valid P-frames
};

// Loss (15) of one batch: the weighted heatmap MSE over its valid frames,
// plus lambda times the keyframe rate among P-frames when `gate_term`.
Loss ComputeLoss(const model::AnyPipeline& model, const PoseBatch& batch,
                 const model::ForwardResult& out, const TrainOptions& options,
                 bool gate_term);

// --- Data-parallel steps (world_size > 1) ---

// The seed of LibTorch's generator (the learned gate's training noise) for
// a step: the single-process seed on rank 0, an independent stream on the
// others (so the ranks' noise differs, as it would among the windows of one
// process, but is not the same draw: stages 3 and 4 of a learned gate match
// single-process training in distribution, not bit for bit).
uint64_t TorchSeed(const TrainOptions& options, int64_t epoch, int64_t step,
                   int rank);

// Rank `rank`'s contiguous block [begin, end) of `count` windows split
// among `world` ranks as evenly as possible (the first blocks are the
// smaller ones when it does not divide; a block may be empty).
struct RankBlock {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};
RankBlock BlockOfRank(int64_t count, int rank, int world);

// The global batch's counts loss (15) divides by: valid frames (the heatmap
// MSE is a mean over them) and valid P-frames (the gate term's c).
struct GlobalCounts {
  double valid_frames = 0;
  double valid_p_frames = 0;
};

// This rank's counts, all-reduced: the sums over the ranks' blocks. `batch`
// is null for a rank whose block is empty.
absl::StatusOr<GlobalCounts> AllReduceCounts(Communicator& comm,
                                             const PoseBatch* batch,
                                             const TrainOptions& options);

// This rank's part of loss (15): its heatmap MSE weighted by its share of
// the valid frames and its gate term divided by the global c, both times
// world_size, so that the average over the ranks of the gradients of
// `total` is exactly the gradient of the single-process loss of the global
// batch (docs/training.md, "Distributed training"). `heatmap` and
// `keyframe_rate` are this rank's contributions to the global values (they
// sum to them over the ranks); `total` is undefined when nothing here has
// a gradient (no valid frame and no gate term).
Loss ComputeRankLoss(const model::AnyPipeline& model, const PoseBatch& batch,
                     const model::ForwardResult& out,
                     const TrainOptions& options, bool gate_term,
                     const GlobalCounts& global, int world_size);

// Every rank must start a stage at the same epoch with the same number of
// windows, or their collectives would not pair up; FailedPrecondition on
// every rank, listing each rank's values, when they differ.
absl::Status CheckRanksAgree(Communicator& comm, int64_t first_epoch,
                             int64_t windows);

// Parameters and buffers (or buffers only) take rank 0's values, as
// PyTorch's DistributedDataParallel does at construction (and for buffers
// before every forward).
absl::Status BroadcastModel(Communicator& comm, const torch::nn::Module& module,
                            bool buffers_only);

// Averages the gradients of `params` over the ranks (a parameter without a
// gradient on a rank counts as zero there; one without a gradient on every
// rank keeps none, as Adam then skips it as in one process), and sums
// `sums` over the ranks, in one all-reduce per dtype.
absl::Status AverageGradients(Communicator& comm,
                              const std::vector<model::NamedTensor>& params,
                              std::vector<double>* sums);

// Adam's state of `params`, by name, and back.
std::vector<AdamSlot> SaveAdam(torch::optim::Adam& optimizer,
                               const std::vector<model::NamedTensor>& params);
absl::Status RestoreAdam(torch::optim::Adam& optimizer,
                         const std::vector<model::NamedTensor>& params,
                         const std::vector<AdamSlot>& slots,
                         const std::string& path);

// "field: a in the checkpoint, b now" for every top-level field of two JSON
// objects that differs.
std::string JsonDifferences(const std::string& stored,
                            const std::string& current);

// Loads the training state of an interrupted run of this stage into the
// model and the optimiser; returns the epochs it had finished and their
// losses. NotFound when there is none; FailedPrecondition naming what
// differs when it belongs to another model, stage or recipe.
absl::Status Resume(const model::AnyPipeline& model,
                    const TrainOptions& options, torch::optim::Adam& optimizer,
                    const std::vector<model::NamedTensor>& params,
                    int64_t* first_epoch, std::vector<double>* losses);
// The same with the recipe a resume must match given (other trainers, such
// as mapn/distill's, add their own fields to TrainOptionsToJson's).
absl::Status Resume(const model::AnyPipeline& model,
                    const TrainOptions& options, const std::string& recipe,
                    torch::optim::Adam& optimizer,
                    const std::vector<model::NamedTensor>& params,
                    int64_t* first_epoch, std::vector<double>* losses);

// For a run of `stages` (stage numbers) that share one training state at
// `path`: InvalidArgument unless they increase; with `resume`, the stage the
// state was written in (the one to continue; earlier ones are skipped), or
// 0 when there is no state; FailedPrecondition when that stage is not
// among `stages`.
absl::StatusOr<int> StageToResume(const std::vector<int>& stages,
                                  const std::string& path, bool resume);

// "1h05m", "3m20s", "42s", or "?".
std::string Duration(double seconds);

// Restores requires_grad and eval mode however the stage ends.
class ModelModeGuard {
 public:
  explicit ModelModeGuard(const model::AnyPipeline& model) : model_(model) {}
  ~ModelModeGuard();
  ModelModeGuard(const ModelModeGuard&) = delete;
  ModelModeGuard& operator=(const ModelModeGuard&) = delete;

 private:
  const model::AnyPipeline& model_;
};

// The progress lines on stderr: one every options.progress_seconds and at
// the end of every epoch, with the running loss, the speed and the ETA.
class ProgressPrinter {
 public:
  ProgressPrinter(const TrainOptions& options, int64_t steps_per_epoch,
                  int64_t total_steps);
  // After step `step` (0-based) of `epoch`; `steps_done` by this run,
  // `windows_done` by this run, `loss_sum` over the epoch so far.
  void AfterStep(int64_t epoch, int64_t step, int64_t steps_done,
                 int64_t windows_done, double loss_sum);

 private:
  using Clock = std::chrono::steady_clock;
  const TrainOptions& options_;
  int64_t steps_per_epoch_;
  int64_t total_steps_;
  Clock::time_point start_;
  Clock::time_point last_print_;
};

}  // namespace mapn::train

#endif  // MAPN_TRAIN_STAGE_STEPS_H_
