#include "mapn/distill/distiller.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/checkpoint.h"
#include "mapn/movenet/movenet.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/train/stage_steps.h"
#include "mapn/train/training_state.h"
#include "nlohmann/json.hpp"

namespace mapn::distill {
namespace {

using model::AnyPipeline;
using model::NamedTensor;
using train::Stage;
using train::StageName;

std::vector<std::string> DistilledPrefixes(const DistillOptions& options) {
  switch (options.train.stage) {
    case Stage::kPropagation:
      return {"propagator."};
    case Stage::kGate:
      return {"policy."};
    case Stage::kJoint:
      if (options.train_encoder)
        return {"propagator.", "policy.", "extractor."};
      return {"propagator.", "policy."};
    case Stage::kSingleFrame:
      break;
  }
  return {};
}

std::vector<NamedTensor> DistilledParameters(const AnyPipeline& model,
                                             const DistillOptions& options) {
  return train::ParametersWithPrefixes(model, DistilledPrefixes(options));
}

// Eval mode everywhere but in what the stage trains.
void SetDistillModes(const AnyPipeline& model, const DistillOptions& options) {
  model.module().eval();
  for (const std::string& prefix : DistilledPrefixes(options)) {
    if (prefix == "propagator.") model.propagator().train(true);
    if (prefix == "policy.") model.policy().train(true);
    if (prefix == "extractor.") model.extractor().train(true);
  }
}

// What a resume must find again: mapn train's recipe, the distillation's
// own fields and the data.
std::string Recipe(const DistillOptions& options, const DistillData& data,
                   const Teacher& teacher) {
  nlohmann::json recipe =
      nlohmann::json::parse(train::TrainOptionsToJson(options.train));
  recipe["distill"] = {{"teacher", teacher.key},
                       {"data", data.key()},
                       {"train_encoder", options.train_encoder},
                       {"geometry_weight", options.geometry_weight}};
  return recipe.dump();
}

double EpochLearningRate(const train::TrainOptions& options, int64_t epoch) {
  double lr = options.learning_rate;
  for (int64_t e : options.lr_decay_epochs) {
    if (epoch >= e) lr *= options.lr_decay_factor;
  }
  return lr;
}

absl::Status WriteEpochState(const AnyPipeline& model,
                             const DistillOptions& options,
                             const std::string& recipe,
                             torch::optim::Adam& optimizer,
                             const std::vector<NamedTensor>& params,
                             const train::TrainReport& report) {
  if (options.train.checkpoint_path.empty()) return absl::OkStatus();
  train::TrainingState state;
  state.model =
      model::ModelFile{.type_name = model.type_name(),
                       .composition = model.composition(),
                       .options_json = model.options_json(),
                       .tensors = model::ModuleTensors(model.module())};
  state.stage = static_cast<int>(options.train.stage);
  state.epochs_done = static_cast<int64_t>(report.epoch_losses.size());
  state.epoch_losses = report.epoch_losses;
  state.options_json = recipe;
  state.optimizer = train::SaveAdam(optimizer, params);
  return train::WriteTrainingState(options.train.checkpoint_path, state);
}

}  // namespace

absl::Status ValidateDistillOptions(const DistillOptions& options) {
  MAPN_RETURN_IF_ERROR(train::ValidateTrainOptions(options.train));
  if (options.train.stage == Stage::kSingleFrame) {
    return absl::InvalidArgumentError(
        "distillation has no stage 1: the encoder and head are the teacher's "
        "(stages 2, 3 and 4)");
  }
  if (options.train_encoder && options.train.stage != Stage::kJoint) {
    return absl::InvalidArgumentError(
        "the encoder is fine-tuned only in stage 4");
  }
  if (!(options.geometry_weight >= 0)) {
    return absl::InvalidArgumentError("geometry_weight must be >= 0");
  }
  return absl::OkStatus();
}

absl::Status CheckStudent(const AnyPipeline& student, const Teacher& teacher) {
  const std::string variant = movenet::MoveNetVariantOf(student);
  if (variant.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the student '", student.composition(), "' has ", student.joints(),
        " joints and no MoveNet encoder and head; the teacher is MoveNet ",
        teacher.variant(), " with COCO's ", teacher.joints(),
        " joints: distil a movenet_* composition"));
  }
  if (student.joints() != teacher.joints()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the student has ", student.joints(),
                     " joints, the teacher ", teacher.joints()));
  }
  if (variant != teacher.variant()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the student's encoder and head are MoveNet ", variant,
                     ", the teacher is MoveNet ", teacher.variant()));
  }
  if (student.input_size() != teacher.input_size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the student's input is ", student.input_size(), " x ",
        student.input_size(), ", the teacher's ", teacher.input_size()));
  }
  return absl::OkStatus();
}

std::vector<Stage> DistillStagesFor(const AnyPipeline& student) {
  std::vector<Stage> stages;
  const bool propagator = train::HasParameters(student.propagator());
  const bool policy = student.learned_policy();
  if (propagator) stages.push_back(Stage::kPropagation);
  if (policy) stages.push_back(Stage::kGate);
  if (propagator || policy) stages.push_back(Stage::kJoint);
  return stages;
}

at::Tensor TeacherMaps(const Teacher& teacher, const DistillBatch& batch) {
  const at::NoGradGuard no_grad;
  const at::Tensor valid = batch.inputs.valid.flatten();
  const at::Tensor index = valid.nonzero().flatten();
  const at::Tensor features = batch.features.flatten(0, 1);
  movenet::MoveNetHead head = teacher.head;  // Decode is not const
  const at::Tensor maps =
      head->Decode(features.index_select(0, index)).contiguous();
  at::Tensor all =
      at::zeros({features.size(0), maps.size(1), maps.size(2), maps.size(3)},
                maps.options());
  all.index_copy_(0, index, maps);
  return all.view({batch.features.size(0), batch.features.size(1), maps.size(1),
                   maps.size(2), maps.size(3)});
}

DistillLoss ComputeDistillLoss(const at::Tensor& student,
                               const at::Tensor& teacher,
                               const at::Tensor& valid, const at::Tensor& g_mix,
                               const DistillOptions& options, bool gate_term) {
  using movenet::kCenterChannel;
  using movenet::kHeatmapChannel;
  using movenet::kNumKeypoints;
  using movenet::kOffsetChannel;
  using movenet::kRegressionChannel;
  const at::Tensor index = valid.flatten().nonzero().flatten();
  const double frames = static_cast<double>(index.size(0));
  const at::Tensor s = student.flatten(0, 1).index_select(0, index);
  const at::Tensor t = teacher.flatten(0, 1).index_select(0, index).detach();

  // Heatmaps and centre: probabilities.
  const int64_t n_prob = kNumKeypoints + 1;
  const at::Tensor sp = at::sigmoid(s.narrow(1, kHeatmapChannel, n_prob));
  const at::Tensor tp = at::sigmoid(t.narrow(1, kHeatmapChannel, n_prob));
  const at::Tensor maps =
      (sp - tp).pow(2).sum() / (frames * static_cast<double>(n_prob));

  // Regression where the centre is, offsets where each keypoint is.
  const at::Tensor centre = tp.narrow(1, kCenterChannel - kHeatmapChannel, 1);
  const at::Tensor keypoints = tp.narrow(1, 0, kNumKeypoints);
  const at::Tensor regression_error =
      (s.narrow(1, kRegressionChannel, 2 * kNumKeypoints) -
       t.narrow(1, kRegressionChannel, 2 * kNumKeypoints))
          .pow(2) *
      centre;
  const at::Tensor offset_error =
      (s.narrow(1, kOffsetChannel, 2 * kNumKeypoints) -
       t.narrow(1, kOffsetChannel, 2 * kNumKeypoints))
          .pow(2) *
      keypoints.repeat_interleave(2, 1);
  const at::Tensor geometry = (regression_error.sum() + offset_error.sum()) /
                              (frames * static_cast<double>(4 * kNumKeypoints));

  DistillLoss loss;
  loss.total = maps + options.geometry_weight * geometry;
  loss.maps = maps.item<double>();
  loss.geometry = geometry.item<double>();
  // The keyframe rate among the valid P-frames.
  at::Tensor p_frames = valid.to(at::kFloat).clone();
  p_frames.select(1, 0).zero_();
  const double count = p_frames.sum().item<double>();
  if (count > 0 && g_mix.defined()) {
    const at::Tensor rate = (g_mix * p_frames).sum() / count;
    loss.keyframe_rate = rate.item<double>();
    if (gate_term) loss.total = loss.total + options.train.gate_lambda * rate;
  }
  return loss;
}

absl::StatusOr<train::TrainReport> DistillStage(const AnyPipeline& student,
                                                const Teacher& teacher,
                                                const DistillData& data,
                                                const DistillOptions& options) {
  MAPN_RETURN_IF_ERROR(ValidateDistillOptions(options));
  MAPN_RETURN_IF_ERROR(CheckStudent(student, teacher));
  if (data.input_size() != student.input_size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data's crops are ", data.input_size(), " x ", data.input_size(),
        ", the student's input ", student.input_size()));
  }
  if (options.train_encoder && !data.has_frames()) {
    return absl::FailedPreconditionError(
        "fine-tuning the encoder needs the frames: build the data with "
        "keep_frames");
  }
  const train::TrainOptions& to = options.train;
  const Stage stage = to.stage;
  const train::ModelModeGuard restore_modes(student);

  std::vector<NamedTensor> params = DistilledParameters(student, options);
  if (params.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("stage ", StageName(stage), " has nothing to train in ",
                     student.composition()));
  }
  for (at::Tensor& p : student.module().parameters(/*recurse=*/true)) {
    p.set_requires_grad(false);
  }
  std::vector<at::Tensor> trained;
  for (auto& [name, p] : params) {
    at::Tensor t = p;
    t.set_requires_grad(true);
    trained.push_back(t);
  }
  torch::optim::Adam optimizer(trained,
                               torch::optim::AdamOptions(to.learning_rate)
                                   .betas({to.beta1, to.beta2})
                                   .eps(to.adam_epsilon)
                                   .weight_decay(to.weight_decay));
  const bool gate_term = student.learned_policy() &&
                         (stage == Stage::kGate || stage == Stage::kJoint);
  const int64_t n = data.size();
  int64_t steps_per_epoch = (n + to.batch_size - 1) / to.batch_size;
  if (to.max_steps_per_epoch > 0) {
    steps_per_epoch = std::min(steps_per_epoch, to.max_steps_per_epoch);
  }

  const std::string recipe = Recipe(options, data, teacher);
  train::TrainReport report;
  report.stage = stage;
  if (to.resume) {
    const absl::Status resumed =
        train::Resume(student, to, recipe, optimizer, params,
                      &report.first_epoch, &report.epoch_losses);
    if (absl::IsNotFound(resumed)) {
      if (!to.quiet) {
        std::fprintf(stderr,
                     "[distill] no training state at %s; stage %s starts "
                     "afresh\n",
                     to.checkpoint_path.c_str(), StageName(stage).c_str());
      }
    } else if (!resumed.ok()) {
      return resumed;
    } else {
      if (!to.quiet) {
        std::fprintf(stderr, "[distill] resuming stage %s after epoch %lld\n",
                     StageName(stage).c_str(),
                     static_cast<long long>(report.first_epoch));
      }
      if (report.first_epoch > to.epochs) {
        return absl::FailedPreconditionError(
            absl::StrCat("training state '", to.checkpoint_path,
                         "' has finished ", report.first_epoch,
                         " epochs, more than the ", to.epochs, " asked for"));
      }
    }
  }
  report.epochs = std::max(report.first_epoch, to.epochs);

  const int64_t total_steps =
      (to.epochs - report.first_epoch) * steps_per_epoch;
  train::ProgressPrinter progress(to, steps_per_epoch, total_steps);
  const auto start = std::chrono::steady_clock::now();
  int64_t windows_done = 0;
  for (int64_t epoch = report.first_epoch; epoch < to.epochs; ++epoch) {
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options())
          .lr(EpochLearningRate(to, epoch));
    }
    const std::vector<int64_t> order = train::Permutation(
        n, train::StreamSeed(to.seed, train::kOrder, stage, epoch, 0));
    bool said_nothing_to_learn = false;
    double loss_sum = 0, maps_sum = 0, geometry_sum = 0, rate_sum = 0;
    int64_t rate_steps = 0;
    for (int64_t step = 0; step < steps_per_epoch; ++step) {
      const int64_t first = step * to.batch_size;
      const std::vector<int64_t> ids(
          order.begin() + first,
          order.begin() + std::min(n, first + to.batch_size));
      MAPN_ASSIGN_OR_RETURN(DistillBatch batch, data.Batch(ids));
      train::StepReport step_report;
      try {
        at::manual_seed(
            train::StreamSeed(to.seed, train::kTorch, stage, epoch, step));
        SetDistillModes(student, options);
        model::ForwardOptions forward;
        if (!options.train_encoder) forward.features = batch.features;
        if (stage == Stage::kPropagation && student.learned_policy()) {
          forward.decisions =
              train::RandomDecisions(to, epoch, step, batch.inputs.batch_size(),
                                     batch.inputs.length());
        }
        MAPN_ASSIGN_OR_RETURN(model::ForwardResult out,
                              student.Forward(batch.inputs, forward));
        const at::Tensor targets = TeacherMaps(teacher, batch);
        const DistillLoss loss =
            ComputeDistillLoss(out.heatmaps, targets, batch.inputs.valid,
                               out.g_mix, options, gate_term);
        optimizer.zero_grad();
        // With a resetting propagator a batch whose frames are all
        // keyframes (keyframes every frame, say) is the teacher exactly:
        // no trained parameter reaches the loss, nothing to step.
        if (loss.total.requires_grad()) {
          loss.total.backward();
          optimizer.step();
        } else if (!said_nothing_to_learn) {
          said_nothing_to_learn = true;
          std::fprintf(stderr,
                       "[distill] stage %s: a batch with every frame a "
                       "keyframe has nothing to learn; skipped\n",
                       StageName(stage).c_str());
        }
        step_report.loss = loss.total.item<double>();
        step_report.heatmap_loss = loss.maps;
        step_report.keyframe_rate = loss.keyframe_rate;
        maps_sum += loss.maps;
        geometry_sum += loss.geometry;
        if (std::isfinite(loss.keyframe_rate)) {
          rate_sum += loss.keyframe_rate;
          ++rate_steps;
        }
      } catch (const c10::Error& e) {
        return absl::InternalError(absl::StrCat(
            "distillation stage ", StageName(stage), " epoch ", epoch + 1,
            " step ", step + 1, ": ", e.what_without_backtrace()));
      }
      if (!std::isfinite(step_report.loss)) {
        return absl::InternalError(
            absl::StrCat("distillation stage ", StageName(stage), " epoch ",
                         epoch + 1, " step ", step + 1, ": the loss is ",
                         step_report.loss, " (lower the learning rate?)"));
      }
      step_report.stage = stage;
      step_report.epoch = epoch;
      step_report.step = step;
      step_report.steps_in_epoch = steps_per_epoch;
      loss_sum += step_report.loss;
      windows_done += static_cast<int64_t>(ids.size());
      ++report.steps;
      if (to.on_step) to.on_step(step_report);
      progress.AfterStep(epoch, step, report.steps, windows_done, loss_sum);
    }
    report.epoch_losses.push_back(loss_sum /
                                  static_cast<double>(steps_per_epoch));
    if (!to.quiet) {
      const double steps = static_cast<double>(steps_per_epoch);
      std::fprintf(
          stderr,
          "[distill] stage %s epoch %lld: maps %.4g, geometry %.4g, "
          "P-frame keyframe rate %.3f\n",
          StageName(stage).c_str(), static_cast<long long>(epoch + 1),
          maps_sum / steps, geometry_sum / steps,
          rate_steps > 0 ? rate_sum / static_cast<double>(rate_steps) : NAN);
    }
    MAPN_RETURN_IF_ERROR(
        WriteEpochState(student, options, recipe, optimizer, params, report));
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  report.windows_per_second =
      report.seconds > 0 ? static_cast<double>(windows_done) / report.seconds
                         : 0;
  return report;
}

absl::StatusOr<std::vector<train::TrainReport>> DistillStages(
    const AnyPipeline& student, const Teacher& teacher, const DistillData& data,
    std::span<const DistillOptions> stages) {
  std::vector<int> numbers;
  for (const DistillOptions& o : stages) {
    numbers.push_back(static_cast<int>(o.train.stage));
  }
  const std::string path =
      stages.empty() ? "" : stages[0].train.checkpoint_path;
  const bool resume = !stages.empty() && stages[0].train.resume;
  MAPN_ASSIGN_OR_RETURN(const int resume_stage,
                        train::StageToResume(numbers, path, resume));
  std::vector<train::TrainReport> reports;
  for (const DistillOptions& stage_options : stages) {
    const int stage = static_cast<int>(stage_options.train.stage);
    if (stage < resume_stage) continue;
    DistillOptions options = stage_options;
    options.train.checkpoint_path = path;
    options.train.resume = resume && stage == resume_stage;
    MAPN_ASSIGN_OR_RETURN(train::TrainReport report,
                          DistillStage(student, teacher, data, options));
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace mapn::distill
