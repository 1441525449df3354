#include "mapn/train/stage_steps.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/synth_random.h"
#include "mapn/pose/heatmaps.h"
#include "mapn/pose/keypoints.h"
#include "nlohmann/json.hpp"

namespace mapn::train {
namespace {

using model::NamedTensor;

std::string OptimizerKey(const at::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

}  // namespace

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

bool HasParameters(const torch::nn::Module& module) {
  return !module.parameters(/*recurse=*/true).empty();
}

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

std::vector<NamedTensor> TrainedParameters(const model::AnyPipeline& model,
                                           Stage stage) {
  return ParametersWithPrefixes(model, TrainedPrefixes(stage));
}

std::vector<NamedTensor> ParametersWithPrefixes(
    const model::AnyPipeline& model, const std::vector<std::string>& prefixes) {
  std::vector<NamedTensor> out;
  for (const auto& item : model.module().named_parameters(/*recurse=*/true)) {
    for (const std::string& p : prefixes) {
      if (absl::StartsWith(item.key(), p)) {
        out.emplace_back(item.key(), item.value());
        break;
      }
    }
  }
  return out;
}

void SetModes(const model::AnyPipeline& model, Stage stage) {
  model.module().train(true);
  switch (stage) {
    case Stage::kSingleFrame:
      model.propagator().eval();
      model.policy().eval();
      break;
    case Stage::kPropagation:
      model.extractor().eval();
      model.policy().eval();
      break;
    case Stage::kGate:
      model.extractor().eval();
      model.propagator().eval();
      model.head().eval();
      break;
    case Stage::kJoint:
      break;
  }
}

absl::Status CheckCompatible(const model::AnyPipeline& model,
                             const PoseWindows& data,
                             const TrainOptions& options) {
  MAPN_RETURN_IF_ERROR(data.CheckFits(model.input_size(), model.joints()));
  if (options.stage == Stage::kPropagation &&
      !HasParameters(model.propagator())) {
    return absl::FailedPreconditionError(
        absl::StrCat("stage 2 trains the propagator, but the propagator of ",
                     model.type_name(),
                     " has no parameters (this model needs stage 1 only)"));
  }
  if (options.stage == Stage::kGate && !model.learned_policy()) {
    return absl::FailedPreconditionError(
        absl::StrCat("stage 3 trains the gate, but the policy of ",
                     model.type_name(), " is training-free"));
  }
  return absl::OkStatus();
}

at::Tensor RandomDecisions(const TrainOptions& options, int64_t epoch,
                           int64_t step, int64_t rows, int64_t length) {
  SynthRandom rng(
      StreamSeed(options.seed, kDecisions, options.stage, epoch, step));
  at::Tensor decisions = at::zeros({rows, length});
  auto d = decisions.accessor<float, 2>();
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t t = 0; t < length; ++t) {
      d[i][t] = rng.Bernoulli(options.keep_probability) ? 1.0f : 0.0f;
    }
  }
  return decisions;
}

Loss ComputeLoss(const model::AnyPipeline& model, const PoseBatch& batch,
                 const model::ForwardResult& out, const TrainOptions& options,
                 bool gate_term) {
  const int64_t s = model.input_size();
  const int64_t h = model.heatmap_size();
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

uint64_t TorchSeed(const TrainOptions& options, int64_t epoch, int64_t step,
                   int rank) {
  const uint64_t seed =
      StreamSeed(options.seed, kTorch, options.stage, epoch, step);
  return rank == 0 ? seed : MixSeed(seed, static_cast<uint64_t>(rank));
}

RankBlock BlockOfRank(int64_t count, int rank, int world) {
  return {count * rank / world, count * (rank + 1) / world};
}

absl::StatusOr<GlobalCounts> AllReduceCounts(Communicator& comm,
                                             const PoseBatch* batch,
                                             const TrainOptions& options) {
  at::Tensor counts = at::zeros({2}, at::kDouble);
  if (batch != nullptr) {
    const at::Tensor& valid = batch->inputs.valid;
    counts[0] = valid.sum().item<double>();
    // The same P-frames ComputeLoss counts.
    if (options.stage != Stage::kSingleFrame && batch->inputs.length() > 1) {
      counts[1] = valid.slice(1, 1).sum().item<double>();
    }
  }
  std::vector<at::Tensor> tensors = {counts};
  MAPN_RETURN_IF_ERROR(comm.AllReduceSum(tensors));
  return GlobalCounts{counts[0].item<double>(), counts[1].item<double>()};
}

Loss ComputeRankLoss(const model::AnyPipeline& model, const PoseBatch& batch,
                     const model::ForwardResult& out,
                     const TrainOptions& options, bool gate_term,
                     const GlobalCounts& global, int world_size) {
  const double w = static_cast<double>(world_size);
  Loss loss;
  loss.keyframe_rate = 0;
  const at::Tensor index = batch.inputs.valid.flatten().nonzero().flatten();
  const double n = static_cast<double>(index.numel());
  if (n > 0) {
    // WeightedHeatmapMse is a mean over this rank's n valid frames (times
    // joints and pixels); the global loss is the mean over all of them.
    const int64_t s = model.input_size();
    const int64_t h = model.heatmap_size();
    const at::Tensor pred = out.heatmaps.flatten(0, 1).index_select(0, index);
    const at::Tensor joints =
        InputToHeatmap(batch.joints.flatten(0, 1).index_select(0, index), s, h);
    const at::Tensor visible =
        batch.visible.flatten(0, 1).index_select(0, index);
    const HeatmapTargets targets =
        MakeGaussianTargets(joints, visible, h, h, options.heatmap_sigma);
    const at::Tensor mse =
        WeightedHeatmapMse(pred, targets.heatmaps, targets.weights);
    const double share = n / global.valid_frames;
    loss.heatmap = mse.item<double>() * share;
    loss.total = mse * (share * w);
  }
  if (options.stage != Stage::kSingleFrame && batch.inputs.length() > 1 &&
      global.valid_p_frames > 0) {
    const at::Tensor p_valid = batch.inputs.valid.slice(1, 1).to(at::kFloat);
    const at::Tensor l1_sum = (out.g_mix.slice(1, 1) * p_valid).sum();
    loss.keyframe_rate = l1_sum.item<double>() / global.valid_p_frames;
    if (gate_term) {
      const at::Tensor term =
          options.gate_lambda * l1_sum * (w / global.valid_p_frames);
      loss.total = loss.total.defined() ? loss.total + term : term;
    }
  }
  return loss;
}

absl::Status CheckRanksAgree(Communicator& comm, int64_t first_epoch,
                             int64_t windows) {
  const int world = comm.world_size();
  at::Tensor table = at::zeros({world, 2}, at::kLong);
  table[comm.rank()][0] = first_epoch;
  table[comm.rank()][1] = windows;
  std::vector<at::Tensor> tensors = {table};
  MAPN_RETURN_IF_ERROR(comm.AllReduceSum(tensors));
  bool same = true;
  std::vector<std::string> rows;
  for (int r = 0; r < world; ++r) {
    const int64_t e = table[r][0].item<int64_t>();
    const int64_t n = table[r][1].item<int64_t>();
    same = same && e == table[0][0].item<int64_t>() &&
           n == table[0][1].item<int64_t>();
    rows.push_back(
        absl::StrCat("rank ", r, ": ", n, " windows, ", e, " epochs done"));
  }
  if (!same) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ranks do not start alike (every rank needs the same data and "
        "the same training state to resume from): ",
        absl::StrJoin(rows, "; ")));
  }
  return absl::OkStatus();
}

absl::Status BroadcastModel(Communicator& comm, const torch::nn::Module& module,
                            bool buffers_only) {
  std::vector<at::Tensor> tensors;
  if (!buffers_only) {
    for (const at::Tensor& p : module.parameters(/*recurse=*/true)) {
      tensors.push_back(p);
    }
  }
  for (const at::Tensor& b : module.buffers(/*recurse=*/true)) {
    tensors.push_back(b);
  }
  return comm.Broadcast(tensors, /*root=*/0);
}

absl::Status AverageGradients(Communicator& comm,
                              const std::vector<NamedTensor>& params,
                              std::vector<double>* sums) {
  const int64_t n = static_cast<int64_t>(params.size());
  std::vector<at::Tensor> tensors;
  at::Tensor has_grad = at::zeros({n}, at::kFloat);
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor& g = params[static_cast<size_t>(i)].second.grad();
    if (g.defined()) {
      has_grad[i] = 1.0f;
      tensors.push_back(g);
    } else {
      tensors.push_back(at::zeros_like(params[static_cast<size_t>(i)].second));
    }
  }
  tensors.push_back(has_grad);
  at::Tensor sum_tensor = at::tensor(*sums, at::kDouble);
  tensors.push_back(sum_tensor);
  MAPN_RETURN_IF_ERROR(comm.AllReduceSum(tensors));
  const at::NoGradGuard no_grad;
  const double world = static_cast<double>(comm.world_size());
  for (int64_t i = 0; i < n; ++i) {
    at::Tensor p = params[static_cast<size_t>(i)].second;
    if (has_grad[i].item<float>() == 0) continue;
    at::Tensor& g = tensors[static_cast<size_t>(i)];
    g.div_(world);
    if (!p.grad().defined()) p.mutable_grad() = g;
  }
  for (size_t k = 0; k < sums->size(); ++k) {
    (*sums)[k] = sum_tensor[static_cast<int64_t>(k)].item<double>();
  }
  return absl::OkStatus();
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

std::string JsonDifferences(const std::string& stored,
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

absl::Status Resume(const model::AnyPipeline& model,
                    const TrainOptions& options, torch::optim::Adam& optimizer,
                    const std::vector<NamedTensor>& params,
                    int64_t* first_epoch, std::vector<double>* losses) {
  return Resume(model, options, TrainOptionsToJson(options), optimizer, params,
                first_epoch, losses);
}

absl::Status Resume(const model::AnyPipeline& model,
                    const TrainOptions& options, const std::string& recipe,
                    torch::optim::Adam& optimizer,
                    const std::vector<NamedTensor>& params,
                    int64_t* first_epoch, std::vector<double>* losses) {
  const std::string& path = options.checkpoint_path;
  MAPN_ASSIGN_OR_RETURN(TrainingState state, ReadTrainingState(path));
  if (state.model.type_name != model.type_name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", path, "' holds a ",
                     state.model.type_name, ", not a ", model.type_name()));
  }
  const std::string options_json = model.options_json();
  if (state.model.options_json != options_json) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", path, "' does not fit the model: ",
                     JsonDifferences(state.model.options_json, options_json)));
  }
  if (state.stage != static_cast<int>(options.stage)) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", path, "' was written in stage ",
                     state.stage, ", not in stage ", StageName(options.stage)));
  }
  if (state.options_json != recipe) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training state '", path,
        "' was started with other options; resume with the same ones (",
        JsonDifferences(state.options_json, recipe), ")"));
  }
  MAPN_RETURN_IF_ERROR(
      model::AssignTensors(model.module(), state.model.tensors,
                           absl::StrCat("training state '", path, "'"))
          .status());
  MAPN_RETURN_IF_ERROR(RestoreAdam(optimizer, params, state.optimizer, path));
  *first_epoch = state.epochs_done;
  *losses = state.epoch_losses;
  return absl::OkStatus();
}

absl::StatusOr<int> StageToResume(const std::vector<int>& stages,
                                  const std::string& path, bool resume) {
  if (stages.empty()) return absl::InvalidArgumentError("no stages to run");
  for (size_t i = 1; i < stages.size(); ++i) {
    if (stages[i] <= stages[i - 1]) {
      return absl::InvalidArgumentError(
          "stages must be given in increasing order, each once");
    }
  }
  if (!resume) return 0;
  absl::StatusOr<TrainingState> state = ReadTrainingState(path);
  if (absl::IsNotFound(state.status())) return 0;
  if (!state.ok()) return state.status();
  if (std::find(stages.begin(), stages.end(), state->stage) == stages.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("training state '", path, "' was written in stage ",
                     state->stage, ", which is not among the stages to run"));
  }
  return state->stage;
}

std::string Duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

ModelModeGuard::~ModelModeGuard() {
  for (at::Tensor& p : model_.module().parameters(/*recurse=*/true)) {
    p.set_requires_grad(true);
  }
  model_.module().eval();
}

ProgressPrinter::ProgressPrinter(const TrainOptions& options,
                                 int64_t steps_per_epoch, int64_t total_steps)
    : options_(options),
      steps_per_epoch_(steps_per_epoch),
      total_steps_(total_steps),
      start_(Clock::now()),
      last_print_(start_) {}

void ProgressPrinter::AfterStep(int64_t epoch, int64_t step, int64_t steps_done,
                                int64_t windows_done, double loss_sum) {
  const Clock::time_point now = Clock::now();
  if (options_.quiet ||
      (std::chrono::duration<double>(now - last_print_).count() <
           options_.progress_seconds &&
       step + 1 != steps_per_epoch_)) {
    return;
  }
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double per_step = elapsed / static_cast<double>(steps_done);
  std::fprintf(
      stderr,
      "[train] stage %s epoch %lld/%lld step %lld/%lld | loss %.6g | "
      "%.2f windows/s | ETA %s\n",
      StageName(options_.stage).c_str(), static_cast<long long>(epoch + 1),
      static_cast<long long>(options_.epochs), static_cast<long long>(step + 1),
      static_cast<long long>(steps_per_epoch_),
      loss_sum / static_cast<double>(step + 1),
      static_cast<double>(windows_done) / elapsed,
      Duration(per_step * static_cast<double>(total_steps_ - steps_done))
          .c_str());
}

}  // namespace mapn::train
