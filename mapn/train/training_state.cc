#include "mapn/train/training_state.h"

#include <ATen/ATen.h>
#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>
#include <torch/serialize.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/checkpoint.h"

namespace mapn::train {
namespace {

constexpr char kFormat[] = "mapn-training-state";
constexpr int64_t kVersion = 1;

using c10::impl::GenericDict;
using model::NamedTensor;

GenericDict TensorDict(const std::vector<NamedTensor>& tensors) {
  GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, tensor] : tensors) {
    dict.insert(name, tensor.detach().cpu().contiguous());
  }
  return dict;
}

absl::StatusOr<c10::IValue> LoadPickle(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  try {
    return torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path,
        "' is not a readable checkpoint: ", e.what_without_backtrace()));
  }
}

c10::IValue Get(const GenericDict& dict, const char* key) {
  const auto it = dict.find(key);
  return it == dict.end() ? c10::IValue() : it->value();
}

bool IsTrainingState(const c10::IValue& top) {
  if (!top.isGenericDict()) return false;
  const c10::IValue format = Get(top.toGenericDict(), "format");
  return format.isString() && format.toStringRef() == kFormat;
}

absl::StatusOr<TrainingState> ParseTrainingState(const c10::IValue& top,
                                                 const std::string& path) {
  const std::string bad =
      absl::StrCat("'", path, "' is not a mapn training state");
  if (!IsTrainingState(top)) return absl::InvalidArgumentError(bad);
  const GenericDict dict = top.toGenericDict();
  const c10::IValue version = Get(dict, "version");
  if (!version.isInt() || version.toInt() != kVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' has training-state version ",
                     version.isInt() ? absl::StrCat(version.toInt()) : "?",
                     "; this build reads version ", kVersion));
  }
  const c10::IValue type = Get(dict, "model_type");
  const c10::IValue config = Get(dict, "model_config");
  const c10::IValue tensors = Get(dict, "model");
  const c10::IValue stage = Get(dict, "stage");
  const c10::IValue epochs = Get(dict, "epochs_done");
  const c10::IValue losses = Get(dict, "epoch_losses");
  const c10::IValue options = Get(dict, "options");
  const c10::IValue steps = Get(dict, "adam_step");
  const c10::IValue avg = Get(dict, "adam_exp_avg");
  const c10::IValue avg_sq = Get(dict, "adam_exp_avg_sq");
  if (!type.isString() || !config.isString() || !tensors.isGenericDict() ||
      !stage.isInt() || !epochs.isInt() || !losses.isList() ||
      !options.isString() || !steps.isGenericDict() || !avg.isGenericDict() ||
      !avg_sq.isGenericDict()) {
    return absl::InvalidArgumentError(
        absl::StrCat(bad, ": a field is missing"));
  }
  TrainingState state;
  state.model_type = type.toStringRef();
  absl::StatusOr<model::ModelConfig> parsed =
      model::ModelConfigFromJson(config.toStringRef());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': ", parsed.status().message()));
  }
  state.model_config = *parsed;
  for (const auto& item : tensors.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) {
      return absl::InvalidArgumentError(
          absl::StrCat(bad, ": a tensor is malformed"));
    }
    state.model_tensors.emplace_back(item.key().toStringRef(),
                                     item.value().toTensor());
  }
  state.stage = static_cast<int>(stage.toInt());
  state.epochs_done = epochs.toInt();
  for (const c10::IValue& v : losses.toListRef()) {
    if (!v.isDouble()) {
      return absl::InvalidArgumentError(
          absl::StrCat(bad, ": a loss is malformed"));
    }
    state.epoch_losses.push_back(v.toDouble());
  }
  state.options_json = options.toStringRef();
  const GenericDict avg_dict = avg.toGenericDict();
  const GenericDict avg_sq_dict = avg_sq.toGenericDict();
  for (const auto& item : steps.toGenericDict()) {
    if (!item.key().isString() || !item.value().isInt()) {
      return absl::InvalidArgumentError(
          absl::StrCat(bad, ": Adam state is malformed"));
    }
    AdamSlot slot;
    slot.name = item.key().toStringRef();
    slot.step = item.value().toInt();
    const c10::IValue m = Get(avg_dict, slot.name.c_str());
    const c10::IValue v = Get(avg_sq_dict, slot.name.c_str());
    if (!m.isTensor() || !v.isTensor()) {
      return absl::InvalidArgumentError(
          absl::StrCat(bad, ": Adam state of '", slot.name, "' is incomplete"));
    }
    slot.exp_avg = m.toTensor();
    slot.exp_avg_sq = v.toTensor();
    state.optimizer.push_back(std::move(slot));
  }
  return state;
}

}  // namespace

absl::Status WriteTrainingState(const std::string& path,
                                const TrainingState& state) {
  GenericDict top(c10::StringType::get(), c10::AnyType::get());
  top.insert("format", std::string(kFormat));
  top.insert("version", kVersion);
  top.insert("model_type", state.model_type);
  top.insert("model_config", model::ModelConfigToJson(state.model_config));
  top.insert("model", TensorDict(state.model_tensors));
  top.insert("stage", static_cast<int64_t>(state.stage));
  top.insert("epochs_done", state.epochs_done);
  c10::List<double> losses;
  for (double loss : state.epoch_losses) losses.push_back(loss);
  top.insert("epoch_losses", losses);
  top.insert("options", state.options_json);
  GenericDict steps(c10::StringType::get(), c10::IntType::get());
  std::vector<NamedTensor> avg, avg_sq;
  for (const AdamSlot& slot : state.optimizer) {
    steps.insert(slot.name, slot.step);
    avg.emplace_back(slot.name, slot.exp_avg);
    avg_sq.emplace_back(slot.name, slot.exp_avg_sq);
  }
  top.insert("adam_step", steps);
  top.insert("adam_exp_avg", TensorDict(avg));
  top.insert("adam_exp_avg_sq", TensorDict(avg_sq));
  std::vector<char> bytes;
  try {
    bytes = torch::pickle_save(c10::IValue(top));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot serialise training state '",
                                            path,
                                            "': ", e.what_without_backtrace()));
  }
  return WriteFileAtomically(path,
                             std::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<TrainingState> ReadTrainingState(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(c10::IValue top, LoadPickle(path));
  return ParseTrainingState(top, path);
}

absl::StatusOr<CheckpointSummary> ReadCheckpointSummary(
    const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(c10::IValue top, LoadPickle(path));
  CheckpointSummary summary;
  if (IsTrainingState(top)) {
    MAPN_ASSIGN_OR_RETURN(TrainingState state, ParseTrainingState(top, path));
    summary.type_name = std::move(state.model_type);
    summary.config = state.model_config;
    summary.tensors = std::move(state.model_tensors);
    summary.training_state = true;
    summary.stage = state.stage;
    summary.epochs_done = state.epochs_done;
    return summary;
  }
  MAPN_ASSIGN_OR_RETURN(model::CheckpointContents contents,
                        model::ReadCheckpoint(path));
  summary.type_name = std::move(contents.type_name);
  summary.config = contents.config;
  summary.tensors = std::move(contents.tensors);
  return summary;
}

absl::Status AssignAllTensors(torch::nn::Module& module,
                              const std::vector<NamedTensor>& tensors,
                              const std::string& what) {
  return model::AssignTensors(module, tensors, what).status();
}

absl::StatusOr<WeightsReport> LoadMatchingWeights(
    const std::string& path, torch::nn::Module& module,
    const std::vector<std::string>& required_prefixes) {
  MAPN_ASSIGN_OR_RETURN(CheckpointSummary file, ReadCheckpointSummary(path));
  const std::string what =
      absl::StrCat("checkpoint '", path, "' (a ", file.type_name, ")");
  model::TensorMatching matching;
  matching.may_be_absent = [&](const std::string& name) {
    return std::none_of(
        required_prefixes.begin(), required_prefixes.end(),
        [&](const std::string& p) { return absl::StartsWith(name, p); });
  };
  matching.may_be_extra = [](const std::string&) { return true; };
  matching.mismatch_hint = " (was it trained with another config?)";
  // Nothing shared would copy nothing: refuse before touching the model.
  const std::vector<model::NamedTensor> targets = model::ModuleTensors(module);
  const bool shares_any = std::any_of(
      targets.begin(), targets.end(), [&](const model::NamedTensor& t) {
        return std::any_of(file.tensors.begin(), file.tensors.end(),
                           [&](const model::NamedTensor& f) {
                             return f.first == t.first;
                           });
      });
  if (!shares_any) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " shares no tensor with the model"));
  }
  MAPN_ASSIGN_OR_RETURN(model::AssignReport assigned,
                        model::AssignTensors(module, file.tensors, what, matching));
  WeightsReport report;
  report.loaded = assigned.loaded;
  report.kept = std::move(assigned.absent);
  report.unused = std::move(assigned.extra);
  return report;
}

}  // namespace mapn::train
