#include "mapn/train/trainer.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/synth_random.h"
#include "mapn/model/checkpoint.h"
#include "mapn/pose/heatmaps.h"
#include "mapn/train/training_state.h"
#include "nlohmann/json.hpp"

namespace mapn::train {
namespace {

using Clock = std::chrono::steady_clock;
using model::NamedTensor;

// Independent random streams of one run.
enum StreamTag : uint64_t {
  kOrder = 1,
  kAugment = 2,
  kDecisions = 3,
  kTorch = 4
};

uint64_t StreamSeed(uint64_t seed, StreamTag tag, Stage stage, int64_t epoch,
                    int64_t index) {
  uint64_t s = MixSeed(seed, tag);
  s = MixSeed(s, static_cast<uint64_t>(stage));
  s = MixSeed(s, static_cast<uint64_t>(epoch));
  return MixSeed(s, static_cast<uint64_t>(index));
}

std::vector<int64_t> Permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  SynthRandom rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j =
        static_cast<int64_t>(rng.Next() % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

bool HasParameters(torch::nn::Module* module) {
  return !module->parameters(/*recurse=*/true).empty();
}

// The dotted prefixes of the parameters a stage trains.
std::vector<std::string> TrainedPrefixes(Stage stage) {
  switch (stage) {
    case Stage::kSingleFrame:
      return {"extractor.", "head."};
    case Stage::kPropagation:
      return {"propagator.", "head."};
    case Stage::kGate:
      return {"policy."};
    case Stage::kJoint:
      return {"extractor.", "propagator.", "policy.", "head."};
  }
  return {};
}

std::vector<NamedTensor> TrainedParameters(const ModelHandle& model,
                                           Stage stage) {
  const std::vector<std::string> prefixes = TrainedPrefixes(stage);
  std::vector<NamedTensor> out;
  for (const auto& item : model.module->named_parameters(/*recurse=*/true)) {
    for (const std::string& p : prefixes) {
      if (absl::StartsWith(item.key(), p)) {
        out.emplace_back(item.key(), item.value());
        break;
      }
    }
  }
  return out;
}

// Train mode for what the stage trains, eval mode (frozen batch-norm
// statistics) for the rest.
void SetModes(const ModelHandle& model, Stage stage) {
  model.module->train(true);
  switch (stage) {
    case Stage::kSingleFrame:
      model.propagator->eval();
      model.policy->eval();
      break;
    case Stage::kPropagation:
      model.extractor->eval();
      model.policy->eval();
      break;
    case Stage::kGate:
      model.extractor->eval();
      model.propagator->eval();
      model.head->eval();
      break;
    case Stage::kJoint:
      break;
  }
}

std::string Duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

std::string OptimizerKey(const at::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

std::vector<AdamSlot> SaveAdam(torch::optim::Adam& optimizer,
                               const std::vector<NamedTensor>& params) {
  std::vector<AdamSlot> slots;
  for (const auto& [name, p] : params) {
    const auto it = optimizer.state().find(OptimizerKey(p));
    if (it == optimizer.state().end()) continue;
    const auto& s =
        static_cast<const torch::optim::AdamParamState&>(*it->second);
    slots.push_back({name, s.step(), s.exp_avg(), s.exp_avg_sq()});
  }
  return slots;
}

absl::Status RestoreAdam(torch::optim::Adam& optimizer,
                         const std::vector<NamedTensor>& params,
                         const std::vector<AdamSlot>& slots,
                         const std::string& path) {
  for (const AdamSlot& slot : slots) {
    const auto it = std::find_if(
        params.begin(), params.end(),
        [&](const NamedTensor& p) { return p.first == slot.name; });
    if (it == params.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("training state '", path, "' has Adam state for '",
                       slot.name, "', which this stage does not train"));
    }
    if (slot.exp_avg.sizes() != it->second.sizes() ||
        slot.exp_avg_sq.sizes() != it->second.sizes()) {
      return absl::FailedPreconditionError(
          absl::StrCat("training state '", path, "': Adam state of '",
                       slot.name, "' does not fit the parameter's shape"));
    }
    auto state = std::make_unique<torch::optim::AdamParamState>();
    state->step(slot.step);
    state->exp_avg(slot.exp_avg.to(it->second.options()).clone());
    state->exp_avg_sq(slot.exp_avg_sq.to(it->second.options()).clone());
    optimizer.state()[OptimizerKey(it->second)] = std::move(state);
  }
  return absl::OkStatus();
}

// "field: a in the checkpoint, b now" for every field of two recipes that
// differs.
std::string RecipeDifferences(const std::string& stored,
                              const std::string& current) {
  const nlohmann::json a = nlohmann::json::parse(stored, nullptr, false);
  const nlohmann::json b = nlohmann::json::parse(current, nullptr, false);
  if (a.is_discarded() || !a.is_object())
    return "the stored options are unreadable";
  std::vector<std::string> out;
  for (const auto& [key, value] : b.items()) {
    if (!a.contains(key)) {
      out.push_back(absl::StrCat(key, ": absent in the checkpoint"));
    } else if (a[key] != value) {
      out.push_back(absl::StrCat(key, ": ", a[key].dump(),
                                 " in the checkpoint, ", value.dump(), " now"));
    }
  }
  for (const auto& [key, value] : a.items()) {
    if (!b.contains(key))
      out.push_back(absl::StrCat(key, ": only in the checkpoint"));
  }
  return absl::StrJoin(out, "; ");
}

struct Loss {
  at::Tensor total;
  double heatmap = 0;
  double keyframe_rate = NAN;
};

Loss ComputeLoss(const ModelHandle& model, const PoseBatch& batch,
                 const model::ForwardResult& out, const TrainOptions& options,
                 bool gate_term) {
  const int64_t s = model.config.input_size;
  const int64_t h = model.heatmap_size;
  const at::Tensor index = batch.inputs.valid.flatten().nonzero().flatten();
  const at::Tensor pred = out.heatmaps.flatten(0, 1).index_select(0, index);
  const at::Tensor joints =
      InputToHeatmap(batch.joints.flatten(0, 1).index_select(0, index), s, h);
  const at::Tensor visible = batch.visible.flatten(0, 1).index_select(0, index);
  const HeatmapTargets targets =
      MakeGaussianTargets(joints, visible, h, h, options.heatmap_sigma);
  Loss loss;
  loss.total = WeightedHeatmapMse(pred, targets.heatmaps, targets.weights);
  loss.heatmap = loss.total.item<double>();
  if (options.stage != Stage::kSingleFrame && batch.inputs.length() > 1) {
    const at::Tensor p_valid = batch.inputs.valid.slice(1, 1).to(at::kFloat);
    const double c = p_valid.sum().item<double>();
    if (c > 0) {
      const at::Tensor l1 = (out.g_mix.slice(1, 1) * p_valid).sum() / c;
      loss.keyframe_rate = l1.item<double>();
      if (gate_term) loss.total = loss.total + options.gate_lambda * l1;
    }
  }
  return loss;
}

absl::Status CheckCompatible(const ModelHandle& model, const PoseWindows& data,
                             const TrainOptions& options) {
  if (data.size() == 0) {
    return absl::InvalidArgumentError("the training set has no windows");
  }
  if (data.options().input_size != model.config.input_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the windows are ", data.options().input_size, " x ",
        data.options().input_size, " but the model's input_size is ",
        model.config.input_size));
  }
  if (data.num_joints() != model.config.joints) {
    return absl::InvalidArgumentError(
        absl::StrCat("the dataset has ", data.num_joints(), " joints (",
                     data.dataset().joints.name, ") but the model predicts ",
                     model.config.joints));
  }
  if (options.stage == Stage::kPropagation &&
      !HasParameters(model.propagator)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stage 2 trains the propagator, but the propagator of ",
        model.type_name, " has no parameters (this model needs stage 1 only)"));
  }
  if (options.stage == Stage::kGate && !HasParameters(model.policy)) {
    return absl::FailedPreconditionError(
        absl::StrCat("stage 3 trains the gate, but the policy of ",
                     model.type_name, " is training-free"));
  }
  return absl::OkStatus();
}

// Loads the checkpoint of an interrupted run of this stage into the model
// and the optimiser; returns the epochs it had finished and their losses.
// NotFound when there is no checkpoint.
absl::Status Resume(const ModelHandle& model, const TrainOptions& options,
                    torch::optim::Adam& optimizer,
                    const std::vector<NamedTensor>& params,
                    int64_t* first_epoch, std::vector<double>* losses) {
  const std::string& path = options.checkpoint_path;
  MAPN_ASSIGN_OR_RETURN(TrainingState state, ReadTrainingState(path));
  if (state.model_type != model.type_name) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", path, "' holds a ", state.model_type,
                     ", not a ", model.type_name));
  }
  const absl::Status same = model::CompareModelConfigs(
      state.model_config, "checkpoint", model.config, "model");
  if (!same.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", path,
                     "' does not fit the model: ", same.message()));
  }
  if (state.stage != static_cast<int>(options.stage)) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", path, "' was written in stage ",
                     state.stage, ", not in stage ", StageName(options.stage)));
  }
  const std::string recipe = TrainOptionsToJson(options);
  if (state.options_json != recipe) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training state '", path,
        "' was started with other options; resume with the same ones (",
        RecipeDifferences(state.options_json, recipe), ")"));
  }
  MAPN_RETURN_IF_ERROR(
      AssignAllTensors(*model.module, state.model_tensors,
                       absl::StrCat("training state '", path, "'")));
  MAPN_RETURN_IF_ERROR(RestoreAdam(optimizer, params, state.optimizer, path));
  *first_epoch = state.epochs_done;
  *losses = state.epoch_losses;
  return absl::OkStatus();
}

// Restores requires_grad and eval mode however the stage ends.
class ModelModeGuard {
 public:
  explicit ModelModeGuard(const ModelHandle& model) : model_(model) {}
  ~ModelModeGuard() {
    for (at::Tensor& p : model_.module->parameters(/*recurse=*/true)) {
      p.set_requires_grad(true);
    }
    model_.module->eval();
  }

 private:
  const ModelHandle& model_;
};

}  // namespace

std::string StageName(Stage stage) {
  switch (stage) {
    case Stage::kSingleFrame:
      return "1 (single frame)";
    case Stage::kPropagation:
      return "2 (propagation)";
    case Stage::kGate:
      return "3 (gate)";
    case Stage::kJoint:
      return "4 (joint)";
  }
  return "?";
}

absl::StatusOr<Stage> StageFromNumber(int number) {
  if (number < 1 || number > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("stage must be 1, 2, 3 or 4, got ", number));
  }
  return static_cast<Stage>(number);
}

TrainOptions StageDefaults(Stage stage) {
  TrainOptions options;
  options.stage = stage;
  options.learning_rate = stage == Stage::kJoint ? 1e-4 : 1e-3;
  return options;
}

absl::Status ValidateTrainOptions(const TrainOptions& o) {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(what);
  };
  const int stage = static_cast<int>(o.stage);
  if (stage < 1 || stage > 4)
    return bad(absl::StrCat("stage must be 1 to 4, got ", stage));
  if (o.epochs < 1)
    return bad(absl::StrCat("epochs must be >= 1, got ", o.epochs));
  if (o.batch_size < 1) {
    return bad(absl::StrCat("batch_size must be >= 1, got ", o.batch_size));
  }
  if (o.max_steps_per_epoch < 0) {
    return bad(absl::StrCat("max_steps_per_epoch must be >= 0, got ",
                            o.max_steps_per_epoch));
  }
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) {
    return bad(
        absl::StrCat("learning_rate must be positive, got ", o.learning_rate));
  }
  if (!(o.beta1 >= 0 && o.beta1 < 1)) {
    return bad(absl::StrCat("beta1 must be in [0, 1), got ", o.beta1));
  }
  if (!(o.beta2 >= 0 && o.beta2 < 1)) {
    return bad(absl::StrCat("beta2 must be in [0, 1), got ", o.beta2));
  }
  if (!(o.adam_epsilon > 0)) {
    return bad(
        absl::StrCat("adam_epsilon must be positive, got ", o.adam_epsilon));
  }
  if (!(o.weight_decay >= 0)) {
    return bad(absl::StrCat("weight_decay must be >= 0, got ", o.weight_decay));
  }
  for (int64_t e : o.lr_decay_epochs) {
    if (e < 0)
      return bad(absl::StrCat("lr_decay_epochs must be >= 0, got ", e));
  }
  if (!(o.lr_decay_factor > 0 && o.lr_decay_factor <= 1)) {
    return bad(absl::StrCat("lr_decay_factor must be in (0, 1], got ",
                            o.lr_decay_factor));
  }
  if (!(o.gate_lambda >= 0) || !std::isfinite(o.gate_lambda)) {
    return bad(absl::StrCat("gate_lambda must be >= 0, got ", o.gate_lambda));
  }
  if (!(o.keep_probability >= 0 && o.keep_probability <= 1)) {
    return bad(absl::StrCat("keep_probability must be in [0, 1], got ",
                            o.keep_probability));
  }
  if (!(o.heatmap_sigma > 0)) {
    return bad(
        absl::StrCat("heatmap_sigma must be positive, got ", o.heatmap_sigma));
  }
  if (!(o.progress_seconds >= 0)) {
    return bad(absl::StrCat("progress_seconds must be >= 0, got ",
                            o.progress_seconds));
  }
  if (o.resume && o.checkpoint_path.empty()) {
    return bad("resume needs a checkpoint_path");
  }
  return ValidateAugmentOptions(o.augment);
}

std::string TrainOptionsToJson(const TrainOptions& o) {
  nlohmann::json j;
  j["stage"] = static_cast<int>(o.stage);
  j["batch_size"] = o.batch_size;
  j["max_steps_per_epoch"] = o.max_steps_per_epoch;
  j["learning_rate"] = o.learning_rate;
  j["beta1"] = o.beta1;
  j["beta2"] = o.beta2;
  j["adam_epsilon"] = o.adam_epsilon;
  j["weight_decay"] = o.weight_decay;
  j["lr_decay_epochs"] = o.lr_decay_epochs;
  j["lr_decay_factor"] = o.lr_decay_factor;
  j["gate_lambda"] = o.gate_lambda;
  j["keep_probability"] = o.keep_probability;
  j["heatmap_sigma"] = o.heatmap_sigma;
  j["augment_scale_factor"] = o.augment.scale_factor;
  j["augment_rotation_degrees"] = o.augment.rotation_degrees;
  j["augment_rotation_probability"] = o.augment.rotation_probability;
  j["augment_flip_probability"] = o.augment.flip_probability;
  j["seed"] = o.seed;
  return j.dump();
}

std::vector<Stage> StagesFor(const ModelHandle& model) {
  std::vector<Stage> stages = {Stage::kSingleFrame};
  const bool propagator = HasParameters(model.propagator);
  const bool policy = HasParameters(model.policy);
  if (propagator) stages.push_back(Stage::kPropagation);
  if (policy) stages.push_back(Stage::kGate);
  if (propagator || policy) stages.push_back(Stage::kJoint);
  return stages;
}

absl::StatusOr<TrainReport> TrainStage(const ModelHandle& model,
                                       PoseWindows& data,
                                       const TrainOptions& options) {
  MAPN_RETURN_IF_ERROR(ValidateTrainOptions(options));
  MAPN_RETURN_IF_ERROR(CheckCompatible(model, data, options));
  const Stage stage = options.stage;
  const ModelModeGuard restore_modes(model);

  const std::vector<NamedTensor> params = TrainedParameters(model, stage);
  if (params.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("stage ", StageName(stage), " has nothing to train in ",
                     model.type_name));
  }
  for (at::Tensor& p : model.module->parameters(/*recurse=*/true)) {
    p.set_requires_grad(false);
  }
  std::vector<at::Tensor> trained;
  for (const auto& [name, p] : params) {
    at::Tensor t = p;
    t.set_requires_grad(true);
    trained.push_back(t);
  }
  torch::optim::Adam optimizer(trained,
                               torch::optim::AdamOptions(options.learning_rate)
                                   .betas({options.beta1, options.beta2})
                                   .eps(options.adam_epsilon)
                                   .weight_decay(options.weight_decay));

  TrainReport report;
  report.stage = stage;
  if (options.resume) {
    const absl::Status resumed =
        Resume(model, options, optimizer, params, &report.first_epoch,
               &report.epoch_losses);
    if (absl::IsNotFound(resumed)) {
      if (!options.quiet) {
        std::fprintf(stderr,
                     "[train] no checkpoint at %s; stage %s starts afresh\n",
                     options.checkpoint_path.c_str(), StageName(stage).c_str());
      }
    } else if (!resumed.ok()) {
      return resumed;
    } else if (!options.quiet) {
      std::fprintf(stderr, "[train] resuming stage %s after epoch %lld of %s\n",
                   StageName(stage).c_str(),
                   static_cast<long long>(report.first_epoch),
                   options.checkpoint_path.c_str());
    }
  }
  report.epochs = std::max(report.first_epoch, options.epochs);
  if (report.first_epoch > options.epochs) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", options.checkpoint_path,
                     "' has finished ", report.first_epoch,
                     " epochs, more than the ", options.epochs, " asked for"));
  }

  const bool learned_policy = HasParameters(model.policy);
  const bool gate_term =
      learned_policy && (stage == Stage::kGate || stage == Stage::kJoint);
  const int64_t n = data.size();
  const int64_t b = options.batch_size;
  int64_t steps_per_epoch = (n + b - 1) / b;
  if (options.max_steps_per_epoch > 0) {
    steps_per_epoch = std::min(steps_per_epoch, options.max_steps_per_epoch);
  }
  const int64_t total_steps =
      (options.epochs - report.first_epoch) * steps_per_epoch;
  const Clock::time_point start = Clock::now();
  Clock::time_point last_print = start;
  int64_t windows_done = 0;

  for (int64_t epoch = report.first_epoch; epoch < options.epochs; ++epoch) {
    double lr = options.learning_rate;
    for (int64_t e : options.lr_decay_epochs) {
      if (epoch >= e) lr *= options.lr_decay_factor;
    }
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
    const std::vector<int64_t> order =
        Permutation(n, StreamSeed(options.seed, kOrder, stage, epoch, 0));
    double loss_sum = 0;
    for (int64_t step = 0; step < steps_per_epoch; ++step) {
      const auto first = order.begin() + step * b;
      const std::vector<int64_t> ids(first, first + std::min(b, n - step * b));
      std::vector<AugmentDraw> draws;
      for (int64_t id : ids) {
        draws.push_back(DrawAugmentation(
            options.augment,
            StreamSeed(options.seed, kAugment, stage, epoch, id)));
      }
      MAPN_ASSIGN_OR_RETURN(PoseBatch batch, data.Batch(ids, draws));

      model::ForwardOptions forward;
      forward.single_frame = stage == Stage::kSingleFrame;
      if (stage == Stage::kPropagation && learned_policy) {
        SynthRandom rng(
            StreamSeed(options.seed, kDecisions, stage, epoch, step));
        const int64_t t_len = batch.inputs.length();
        forward.decisions =
            at::zeros({static_cast<int64_t>(ids.size()), t_len});
        auto d = forward.decisions.accessor<float, 2>();
        for (int64_t i = 0; i < static_cast<int64_t>(ids.size()); ++i) {
          for (int64_t t = 0; t < t_len; ++t) {
            d[i][t] = rng.Bernoulli(options.keep_probability) ? 1.0f : 0.0f;
          }
        }
      }
      StepReport step_report;
      try {
        at::manual_seed(StreamSeed(options.seed, kTorch, stage, epoch, step));
        SetModes(model, stage);
        MAPN_ASSIGN_OR_RETURN(model::ForwardResult out,
                              model.forward(batch.inputs, forward));
        const Loss loss = ComputeLoss(model, batch, out, options, gate_term);
        optimizer.zero_grad();
        loss.total.backward();
        optimizer.step();
        step_report.loss = loss.total.item<double>();
        step_report.heatmap_loss = loss.heatmap;
        step_report.keyframe_rate = loss.keyframe_rate;
      } catch (const c10::Error& e) {
        return absl::InternalError(
            absl::StrCat("stage ", StageName(stage), " epoch ", epoch + 1,
                         " step ", step + 1, ": ", e.what_without_backtrace()));
      }
      if (!std::isfinite(step_report.loss)) {
        return absl::InternalError(
            absl::StrCat("stage ", StageName(stage), " epoch ", epoch + 1,
                         " step ", step + 1, ": the loss is ", step_report.loss,
                         " (lower the learning rate?)"));
      }
      loss_sum += step_report.loss;
      windows_done += static_cast<int64_t>(ids.size());
      ++report.steps;
      step_report.stage = stage;
      step_report.epoch = epoch;
      step_report.step = step;
      step_report.steps_in_epoch = steps_per_epoch;
      if (options.on_step) options.on_step(step_report);

      const Clock::time_point now = Clock::now();
      const double elapsed = std::chrono::duration<double>(now - start).count();
      if (!options.quiet &&
          (std::chrono::duration<double>(now - last_print).count() >=
               options.progress_seconds ||
           step + 1 == steps_per_epoch)) {
        last_print = now;
        const double per_step = elapsed / static_cast<double>(report.steps);
        std::fprintf(
            stderr,
            "[train] stage %s epoch %lld/%lld step %lld/%lld | loss %.6g | "
            "%.2f windows/s | ETA %s\n",
            StageName(stage).c_str(), static_cast<long long>(epoch + 1),
            static_cast<long long>(options.epochs),
            static_cast<long long>(step + 1),
            static_cast<long long>(steps_per_epoch),
            loss_sum / static_cast<double>(step + 1),
            static_cast<double>(windows_done) / elapsed,
            Duration(per_step * static_cast<double>(total_steps - report.steps))
                .c_str());
      }
    }
    report.epoch_losses.push_back(loss_sum /
                                  static_cast<double>(steps_per_epoch));
    if (!options.checkpoint_path.empty()) {
      TrainingState state;
      state.model_type = model.type_name;
      state.model_config = model.config;
      state.model_tensors = model::ModuleTensors(*model.module);
      state.stage = static_cast<int>(stage);
      state.epochs_done = epoch + 1;
      state.epoch_losses = report.epoch_losses;
      state.options_json = TrainOptionsToJson(options);
      state.optimizer = SaveAdam(optimizer, params);
      MAPN_RETURN_IF_ERROR(WriteTrainingState(options.checkpoint_path, state));
    }
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.windows_per_second =
      report.seconds > 0 ? static_cast<double>(windows_done) / report.seconds
                         : 0;
  return report;
}

absl::StatusOr<std::vector<TrainReport>> TrainStages(
    const ModelHandle& model, PoseWindows& data,
    std::span<const TrainOptions> stages) {
  if (stages.empty()) return absl::InvalidArgumentError("no stages to train");
  for (size_t i = 1; i < stages.size(); ++i) {
    if (static_cast<int>(stages[i].stage) <=
        static_cast<int>(stages[i - 1].stage)) {
      return absl::InvalidArgumentError(
          "stages must be given in increasing order, each once");
    }
  }
  const std::string& path = stages[0].checkpoint_path;
  const bool resume = stages[0].resume;
  int resume_stage = 0;
  if (resume) {
    absl::StatusOr<TrainingState> state = ReadTrainingState(path);
    if (state.ok()) {
      resume_stage = state->stage;
      const bool listed =
          std::any_of(stages.begin(), stages.end(), [&](const TrainOptions& o) {
            return static_cast<int>(o.stage) == resume_stage;
          });
      if (!listed) {
        return absl::FailedPreconditionError(absl::StrCat(
            "training state '", path, "' was written in stage ", resume_stage,
            ", which is not among the stages to run"));
      }
    } else if (!absl::IsNotFound(state.status())) {
      return state.status();
    }
  }
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
