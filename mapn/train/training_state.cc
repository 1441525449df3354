#include "mapn/train/training_state.h"

#include <ATen/ATen.h>
#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/checkpoint_pickle.h"

namespace mapn::train {
namespace {

constexpr char kFormat[] = "mapn-training-state";
constexpr int64_t kVersion = 2;

using model::DictGet;
using model::GenericDict;
using model::NamedTensor;

absl::StatusOr<TrainingState> ParseTrainingState(const c10::IValue& top,
                                                 const std::string& path) {
  const std::string bad =
      absl::StrCat("'", path, "' is not a mapn training state");
  if (!model::HasFormat(top, kFormat)) return absl::InvalidArgumentError(bad);
  TrainingState state;
  // The model, its stage and epochs, of either version.
  MAPN_ASSIGN_OR_RETURN(state.model, model::ParseModelFile(top, path));
  state.stage = state.model.stage;
  state.epochs_done = state.model.epochs_done;
  const GenericDict dict = top.toGenericDict();
  const c10::IValue losses = DictGet(dict, "epoch_losses");
  const c10::IValue options = DictGet(dict, "options");
  const c10::IValue steps = DictGet(dict, "adam_step");
  const c10::IValue avg = DictGet(dict, "adam_exp_avg");
  const c10::IValue avg_sq = DictGet(dict, "adam_exp_avg_sq");
  if (!losses.isList() || !options.isString() || !steps.isGenericDict() ||
      !avg.isGenericDict() || !avg_sq.isGenericDict()) {
    return absl::InvalidArgumentError(
        absl::StrCat(bad, ": a field is missing"));
  }
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
    const c10::IValue m = DictGet(avg_dict, slot.name.c_str());
    const c10::IValue v = DictGet(avg_sq_dict, slot.name.c_str());
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
  top.insert("model", model::CheckpointDict(state.model));
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
  top.insert("adam_exp_avg", model::TensorDict(avg));
  top.insert("adam_exp_avg_sq", model::TensorDict(avg_sq));
  return model::WritePickleFile(path, c10::IValue(top), "training state");
}

absl::StatusOr<TrainingState> ReadTrainingState(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(c10::IValue top, model::LoadPickleFile(path));
  return ParseTrainingState(top, path);
}

}  // namespace mapn::train
