#include "mapn/train/trainer.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/train/distributed.h"
#include "mapn/train/stage_steps.h"
#include "mapn/train/training_state.h"

namespace mapn::train {
namespace {

using model::AnyPipeline;
using model::NamedTensor;

// What one stage carries from epoch to epoch.
struct StageRun {
  std::vector<NamedTensor> params;  // what the stage trains, by name
  std::unique_ptr<torch::optim::Adam> optimizer;
  bool gate_term = false;  // lambda's sparsity term of loss (15)
  int64_t steps_per_epoch = 0;
};

// The stage's parameters unfrozen and everything else frozen, and the
// optimiser over them.
absl::StatusOr<StageRun> StartStage(const AnyPipeline& model,
                                    const PoseWindows& data,
                                    const TrainOptions& options) {
  StageRun run;
  run.params = TrainedParameters(model, options.stage);
  if (run.params.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("stage ", StageName(options.stage),
                     " has nothing to train in ", model.type_name()));
  }
  for (at::Tensor& p : model.module().parameters(/*recurse=*/true)) {
    p.set_requires_grad(false);
  }
  std::vector<at::Tensor> trained;
  for (const auto& [name, p] : run.params) {
    at::Tensor t = p;
    t.set_requires_grad(true);
    trained.push_back(t);
  }
  run.optimizer = std::make_unique<torch::optim::Adam>(
      trained, torch::optim::AdamOptions(options.learning_rate)
                   .betas({options.beta1, options.beta2})
                   .eps(options.adam_epsilon)
                   .weight_decay(options.weight_decay));
  run.gate_term = model.learned_policy() && (options.stage == Stage::kGate ||
                                             options.stage == Stage::kJoint);
  const int64_t n = data.size();
  const int64_t b = options.batch_size;
  run.steps_per_epoch = (n + b - 1) / b;
  if (options.max_steps_per_epoch > 0) {
    run.steps_per_epoch =
        std::min(run.steps_per_epoch, options.max_steps_per_epoch);
  }
  return run;
}

// With options.resume, continues an interrupted run of this stage (its
// weights, optimiser state, finished epochs and losses into `report`).
absl::Status ResumeIfAsked(const AnyPipeline& model,
                           const TrainOptions& options, StageRun& run,
                           TrainReport& report) {
  if (!options.resume) return absl::OkStatus();
  const absl::Status resumed =
      Resume(model, options, *run.optimizer, run.params, &report.first_epoch,
             &report.epoch_losses);
  if (absl::IsNotFound(resumed)) {
    if (!options.quiet) {
      std::fprintf(
          stderr, "[train] no checkpoint at %s; stage %s starts afresh\n",
          options.checkpoint_path.c_str(), StageName(options.stage).c_str());
    }
    return absl::OkStatus();
  }
  if (!resumed.ok()) return resumed;
  if (!options.quiet) {
    std::fprintf(stderr, "[train] resuming stage %s after epoch %lld of %s\n",
                 StageName(options.stage).c_str(),
                 static_cast<long long>(report.first_epoch),
                 options.checkpoint_path.c_str());
  }
  if (report.first_epoch > options.epochs) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", options.checkpoint_path,
                     "' has finished ", report.first_epoch,
                     " epochs, more than the ", options.epochs, " asked for"));
  }
  return absl::OkStatus();
}

// The learning rate of `epoch` after the step decays.
double EpochLearningRate(const TrainOptions& options, int64_t epoch) {
  double lr = options.learning_rate;
  for (int64_t e : options.lr_decay_epochs) {
    if (epoch >= e) lr *= options.lr_decay_factor;
  }
  return lr;
}

// The windows of step `step` in this epoch's order: the global batch,
// whichever ranks share it.
std::vector<int64_t> StepWindows(int64_t n, const TrainOptions& options,
                                 const std::vector<int64_t>& order,
                                 int64_t step) {
  const int64_t b = options.batch_size;
  const auto first = order.begin() + step * b;
  return std::vector<int64_t>(first, first + std::min(b, n - step * b));
}

// `ids` cropped, with their augmentation.
absl::StatusOr<PoseBatch> BatchOf(PoseWindows& data,
                                  const TrainOptions& options,
                                  const std::vector<int64_t>& ids,
                                  int64_t epoch) {
  std::vector<AugmentDraw> draws;
  for (int64_t id : ids) {
    draws.push_back(DrawAugmentation(
        options.augment,
        StreamSeed(options.seed, kAugment, options.stage, epoch, id)));
  }
  return data.Batch(ids, draws);
}

// One forward, loss (15) and update.
absl::StatusOr<StepReport> TrainStep(const AnyPipeline& model,
                                     const PoseBatch& batch,
                                     const TrainOptions& options, StageRun& run,
                                     int64_t epoch, int64_t step) {
  const Stage stage = options.stage;
  model::ForwardOptions forward;
  forward.single_frame = stage == Stage::kSingleFrame;
  if (stage == Stage::kPropagation && model.learned_policy()) {
    forward.decisions = RandomDecisions(
        options, epoch, step, batch.inputs.batch_size(), batch.inputs.length());
  }
  StepReport report;
  try {
    at::manual_seed(StreamSeed(options.seed, kTorch, stage, epoch, step));
    SetModes(model, stage);
    MAPN_ASSIGN_OR_RETURN(model::ForwardResult out,
                          model.Forward(batch.inputs, forward));
    const Loss loss = ComputeLoss(model, batch, out, options, run.gate_term);
    run.optimizer->zero_grad();
    loss.total.backward();
    run.optimizer->step();
    report.loss = loss.total.item<double>();
    report.heatmap_loss = loss.heatmap;
    report.keyframe_rate = loss.keyframe_rate;
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("stage ", StageName(stage), " epoch ", epoch + 1, " step ",
                     step + 1, ": ", e.what_without_backtrace()));
  }
  if (!std::isfinite(report.loss)) {
    return absl::InternalError(absl::StrCat(
        "stage ", StageName(stage), " epoch ", epoch + 1, " step ", step + 1,
        ": the loss is ", report.loss, " (lower the learning rate?)"));
  }
  report.stage = stage;
  report.epoch = epoch;
  report.step = step;
  report.steps_in_epoch = run.steps_per_epoch;
  return report;
}

std::string StepPlace(Stage stage, int64_t epoch, int64_t step) {
  return absl::StrCat("stage ", StageName(stage), " epoch ", epoch + 1,
                      " step ", step + 1);
}

// One data-parallel step: this rank's block of the global batch (`batch`,
// null when the block is empty) through the forward and its share of loss
// (15), the gradients averaged over the ranks, then the same update on
// every rank. The report holds the global loss.
absl::StatusOr<StepReport> DistributedTrainStep(
    const AnyPipeline& model, const PoseBatch* batch, int64_t global_windows,
    RankBlock block, const TrainOptions& options, StageRun& run,
    Communicator& comm, int64_t epoch, int64_t step) {
  const Stage stage = options.stage;
  MAPN_ASSIGN_OR_RETURN(GlobalCounts global,
                        AllReduceCounts(comm, batch, options));
  // DDP's buffer broadcast before every forward: rank 0's batch-norm
  // statistics (each rank's batch statistics update them differently).
  MAPN_RETURN_IF_ERROR(BroadcastModel(comm, model.module(),
                                      /*buffers_only=*/true));
  // The global heatmap loss, keyframe-rate numerator and gate term, summed
  // over the ranks with the gradients.
  std::vector<double> sums = {0, 0};
  try {
    at::manual_seed(TorchSeed(options, epoch, step, comm.rank()));
    SetModes(model, stage);
    run.optimizer->zero_grad();
    if (batch != nullptr) {
      model::ForwardOptions forward;
      forward.single_frame = stage == Stage::kSingleFrame;
      if (stage == Stage::kPropagation && model.learned_policy()) {
        // Drawn for the whole global batch, as one process draws them.
        forward.decisions =
            RandomDecisions(options, epoch, step, global_windows,
                            batch->inputs.length())
                .slice(0, block.begin, block.end)
                .contiguous();
      }
      MAPN_ASSIGN_OR_RETURN(model::ForwardResult out,
                            model.Forward(batch->inputs, forward));
      const Loss loss =
          ComputeRankLoss(model, *batch, out, options, run.gate_term, global,
                          comm.world_size());
      if (loss.total.defined() && loss.total.requires_grad()) {
        loss.total.backward();
      }
      sums = {loss.heatmap, loss.keyframe_rate};
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(StepPlace(stage, epoch, step),
                                            " on rank ", comm.rank(), ": ",
                                            e.what_without_backtrace()));
  }
  MAPN_RETURN_IF_ERROR(AverageGradients(comm, run.params, &sums));
  StepReport report;
  report.heatmap_loss = sums[0];
  const bool rate = stage != Stage::kSingleFrame && global.valid_p_frames > 0;
  report.keyframe_rate = rate ? sums[1] : NAN;
  report.loss = report.heatmap_loss +
                (rate && run.gate_term ? options.gate_lambda * sums[1] : 0.0);
  // Every rank sees the same global loss, so all stop here together.
  if (!std::isfinite(report.loss)) {
    return absl::InternalError(absl::StrCat(StepPlace(stage, epoch, step),
                                            ": the loss is ", report.loss,
                                            " (lower the learning rate?)"));
  }
  try {
    run.optimizer->step();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(StepPlace(stage, epoch, step),
                                            " on rank ", comm.rank(), ": ",
                                            e.what_without_backtrace()));
  }
  report.stage = stage;
  report.epoch = epoch;
  report.step = step;
  report.steps_in_epoch = run.steps_per_epoch;
  return report;
}

// The training state after `report`'s last finished epoch, written
// atomically to options.checkpoint_path (when there is one).
absl::Status WriteEpochState(const AnyPipeline& model,
                             const TrainOptions& options, StageRun& run,
                             const TrainReport& report) {
  if (options.checkpoint_path.empty()) return absl::OkStatus();
  TrainingState state;
  state.model =
      model::ModelFile{.type_name = model.type_name(),
                       .composition = model.composition(),
                       .options_json = model.options_json(),
                       .tensors = model::ModuleTensors(model.module())};
  state.stage = static_cast<int>(options.stage);
  state.epochs_done = static_cast<int64_t>(report.epoch_losses.size());
  state.epoch_losses = report.epoch_losses;
  state.options_json = TrainOptionsToJson(options);
  state.optimizer = SaveAdam(*run.optimizer, run.params);
  return WriteTrainingState(options.checkpoint_path, state);
}

}  // namespace

std::vector<Stage> StagesFor(const AnyPipeline& model) {
  std::vector<Stage> stages = {Stage::kSingleFrame};
  const bool propagator = HasParameters(model.propagator());
  const bool policy = model.learned_policy();
  if (propagator) stages.push_back(Stage::kPropagation);
  if (policy) stages.push_back(Stage::kGate);
  if (propagator || policy) stages.push_back(Stage::kJoint);
  return stages;
}

absl::StatusOr<TrainReport> TrainStage(const AnyPipeline& model,
                                       PoseWindows& data,
                                       const TrainOptions& options) {
  MAPN_RETURN_IF_ERROR(ValidateTrainOptions(options));
  MAPN_RETURN_IF_ERROR(CheckCompatible(model, data, options));
  const ModelModeGuard restore_modes(model);
  MAPN_ASSIGN_OR_RETURN(StageRun run, StartStage(model, data, options));
  TrainReport report;
  report.stage = options.stage;
  MAPN_RETURN_IF_ERROR(ResumeIfAsked(model, options, run, report));
  report.epochs = std::max(report.first_epoch, options.epochs);

  // Data-parallel: every rank starts from the same place with rank 0's
  // weights (after its resume, so a resumed run continues from the file).
  Communicator* comm = options.communicator.get();
  const bool distributed = comm != nullptr && comm->world_size() > 1;
  const int rank = distributed ? comm->rank() : 0;
  if (distributed) {
    MAPN_RETURN_IF_ERROR(
        CheckRanksAgree(*comm, report.first_epoch, data.size()));
    MAPN_RETURN_IF_ERROR(
        BroadcastModel(*comm, model.module(), /*buffers_only=*/false));
  }

  const int64_t total_steps =
      (options.epochs - report.first_epoch) * run.steps_per_epoch;
  ProgressPrinter progress(options, run.steps_per_epoch, total_steps);
  const auto start = std::chrono::steady_clock::now();
  int64_t windows_done = 0;
  for (int64_t epoch = report.first_epoch; epoch < options.epochs; ++epoch) {
    for (auto& group : run.optimizer->param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options())
          .lr(EpochLearningRate(options, epoch));
    }
    const std::vector<int64_t> order = Permutation(
        data.size(), StreamSeed(options.seed, kOrder, options.stage, epoch, 0));
    double loss_sum = 0;
    for (int64_t step = 0; step < run.steps_per_epoch; ++step) {
      const std::vector<int64_t> ids =
          StepWindows(data.size(), options, order, step);
      StepReport step_report;
      if (!distributed) {
        MAPN_ASSIGN_OR_RETURN(PoseBatch batch,
                              BatchOf(data, options, ids, epoch));
        MAPN_ASSIGN_OR_RETURN(
            step_report, TrainStep(model, batch, options, run, epoch, step));
      } else {
        const int64_t global = static_cast<int64_t>(ids.size());
        const RankBlock block = BlockOfRank(global, rank, comm->world_size());
        std::optional<PoseBatch> batch;
        if (block.size() > 0) {
          const std::vector<int64_t> mine(ids.begin() + block.begin,
                                          ids.begin() + block.end);
          MAPN_ASSIGN_OR_RETURN(batch, BatchOf(data, options, mine, epoch));
        }
        MAPN_ASSIGN_OR_RETURN(
            step_report,
            DistributedTrainStep(model, batch ? &*batch : nullptr, global,
                                 block, options, run, *comm, epoch, step));
      }
      loss_sum += step_report.loss;
      windows_done += static_cast<int64_t>(ids.size());
      ++report.steps;
      if (options.on_step) options.on_step(step_report);
      progress.AfterStep(epoch, step, report.steps, windows_done, loss_sum);
    }
    report.epoch_losses.push_back(loss_sum /
                                  static_cast<double>(run.steps_per_epoch));
    // Rank 0 writes the state every rank resumes from.
    if (rank == 0) {
      MAPN_RETURN_IF_ERROR(WriteEpochState(model, options, run, report));
    }
  }
  // No rank reports success before all have finished (rank 0 its last
  // state): a rank that failed makes this fail on the others.
  if (distributed) MAPN_RETURN_IF_ERROR(comm->Barrier());
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  report.windows_per_second =
      report.seconds > 0 ? static_cast<double>(windows_done) / report.seconds
                         : 0;
  return report;
}

absl::StatusOr<std::vector<TrainReport>> TrainStages(
    const model::AnyPipeline& model, PoseWindows& data,
    std::span<const TrainOptions> stages) {
  std::vector<int> numbers;
  for (const TrainOptions& o : stages)
    numbers.push_back(static_cast<int>(o.stage));
  const std::string path = stages.empty() ? "" : stages[0].checkpoint_path;
  const bool resume = !stages.empty() && stages[0].resume;
  MAPN_ASSIGN_OR_RETURN(const int resume_stage,
                        StageToResume(numbers, path, resume));
  std::vector<TrainReport> reports;
  for (const TrainOptions& stage_options : stages) {
    const int stage = static_cast<int>(stage_options.stage);
    if (stage < resume_stage) continue;
    TrainOptions options = stage_options;
    options.checkpoint_path = path;
    options.resume = resume && stage == resume_stage;
    MAPN_ASSIGN_OR_RETURN(TrainReport report, TrainStage(model, data, options));
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace mapn::train
