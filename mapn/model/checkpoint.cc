#include "mapn/model/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>
#include <torch/serialize.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/checkpoint_pickle.h"
#include "mapn/model/legacy_config.h"
#include "mapn/model/pipeline_support.h"

namespace mapn::model {
namespace {

constexpr char kFormat[] = "mapn-checkpoint";
constexpr int64_t kVersion = 2;
constexpr char kTrainingStateFormat[] = "mapn-training-state";

// A training state's model: nested in version 2, flat in version 1.
absl::StatusOr<ModelFile> ParseTrainingStateModel(const GenericDict& dict,
                                                  const std::string& path) {
  const c10::IValue version = DictGet(dict, "version");
  const std::string bad =
      absl::StrCat("'", path, "' is not a readable mapn training state");
  ModelFile model;
  if (version.isInt() && version.toInt() == 2) {
    MAPN_ASSIGN_OR_RETURN(model,
                          ParseCheckpointDict(DictGet(dict, "model"), path));
  } else if (version.isInt() && version.toInt() == 1) {
    const c10::IValue type = DictGet(dict, "model_type");
    const c10::IValue config = DictGet(dict, "model_config");
    if (!type.isString() || !config.isString()) {
      return absl::InvalidArgumentError(
          absl::StrCat(bad, ": model_type or model_config missing"));
    }
    model.type_name = type.toStringRef();
    MAPN_ASSIGN_OR_RETURN(
        model.options_json,
        LegacyConfigToOptions(config.toStringRef(), model.type_name,
                              absl::StrCat("training state '", path, "'")));
    MAPN_ASSIGN_OR_RETURN(model.tensors,
                          ParseTensorDict(DictGet(dict, "model"), bad));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' has training-state version ",
                     version.isInt() ? absl::StrCat(version.toInt()) : "?",
                     "; this build reads versions 1 and 2"));
  }
  const c10::IValue stage = DictGet(dict, "stage");
  const c10::IValue epochs = DictGet(dict, "epochs_done");
  if (!stage.isInt() || !epochs.isInt()) {
    return absl::InvalidArgumentError(
        absl::StrCat(bad, ": stage or epochs_done missing"));
  }
  model.training_state = true;
  model.stage = static_cast<int>(stage.toInt());
  model.epochs_done = epochs.toInt();
  return model;
}

}  // namespace

GenericDict TensorDict(const std::vector<NamedTensor>& tensors) {
  GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, tensor] : tensors) {
    dict.insert(name, tensor.detach().cpu().contiguous());
  }
  return dict;
}

absl::StatusOr<std::vector<NamedTensor>> ParseTensorDict(
    const c10::IValue& dict, std::string_view what) {
  if (!dict.isGenericDict()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": the tensors are missing"));
  }
  std::vector<NamedTensor> tensors;
  for (const auto& item : dict.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(what), ": a tensor entry is malformed"));
    }
    tensors.emplace_back(item.key().toStringRef(), item.value().toTensor());
  }
  return tensors;
}

c10::IValue DictGet(const GenericDict& dict, const char* key) {
  const auto it = dict.find(key);
  return it == dict.end() ? c10::IValue() : it->value();
}

bool HasFormat(const c10::IValue& top, std::string_view format) {
  if (!top.isGenericDict()) return false;
  const c10::IValue f = DictGet(top.toGenericDict(), "format");
  return f.isString() && f.toStringRef() == format;
}

absl::StatusOr<c10::IValue> LoadPickleFile(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  try {
    return torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path,
        "' is not a readable checkpoint: ", e.what_without_backtrace()));
  }
}

absl::Status WritePickleFile(const std::string& path, const c10::IValue& top,
                             std::string_view what) {
  std::vector<char> bytes;
  try {
    bytes = torch::pickle_save(top);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot serialise ",
                                            std::string(what), " '", path,
                                            "': ", e.what_without_backtrace()));
  }
  return WriteFileAtomically(path,
                             std::string_view(bytes.data(), bytes.size()));
}

std::vector<NamedTensor> ModuleTensors(const torch::nn::Module& module) {
  std::vector<NamedTensor> out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    out.emplace_back(item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    out.emplace_back(item.key(), item.value());
  }
  return out;
}

std::string NameList(const std::vector<std::string>& names) {
  constexpr size_t kShown = 5;
  std::vector<std::string> shown(
      names.begin(), names.begin() + std::min(kShown, names.size()));
  std::string out = absl::StrJoin(shown, ", ");
  if (names.size() > shown.size()) {
    absl::StrAppend(&out, " and ", names.size() - shown.size(), " more");
  }
  return out;
}

absl::StatusOr<AssignReport> AssignTensors(
    torch::nn::Module& module, const std::vector<NamedTensor>& source,
    const std::string& what, const TensorMatching& matching) {
  std::map<std::string, const at::Tensor*> by_name;
  for (const auto& [name, tensor] : source) {
    if (!by_name.emplace(name, &tensor).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " holds tensor '", name, "' twice"));
    }
  }
  AssignReport report;
  std::vector<std::string> missing;
  std::vector<std::pair<at::Tensor, const at::Tensor*>> copies;
  std::map<std::string, bool> used;
  for (const auto& [name, target] : ModuleTensors(module)) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      if (matching.may_be_absent && matching.may_be_absent(name)) {
        report.absent.push_back(name);
      } else {
        missing.push_back(absl::StrCat(name, " ", ShapeString(target)));
      }
      continue;
    }
    used[name] = true;
    if (it->second->sizes() != target.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": tensor '", name, "' has shape ", ShapeString(*it->second),
          " but the model's is ", ShapeString(target), matching.mismatch_hint));
    }
    copies.emplace_back(target, it->second);
  }
  if (!missing.empty()) {
    return absl::NotFoundError(
        absl::StrCat(what, " lacks ", missing.size(),
                     " tensor(s) of the model: ", NameList(missing)));
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : source) {
    if (used.count(name)) continue;
    if (matching.may_be_extra && matching.may_be_extra(name)) {
      report.extra.push_back(name);
    } else {
      unexpected.push_back(absl::StrCat(name, " ", ShapeString(tensor)));
    }
  }
  if (!unexpected.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has ", unexpected.size(),
                     " tensor(s) the model does not: ", NameList(unexpected)));
  }
  const at::NoGradGuard no_grad;
  for (auto& [target, value] : copies) {
    target.copy_(value->to(target.device(), target.scalar_type()));
  }
  report.loaded = static_cast<int64_t>(copies.size());
  return report;
}

GenericDict CheckpointDict(const ModelFile& model) {
  GenericDict top(c10::StringType::get(), c10::AnyType::get());
  top.insert("format", std::string(kFormat));
  top.insert("version", kVersion);
  top.insert("type", model.type_name);
  top.insert("composition", model.composition);
  top.insert("options", model.options_json);
  top.insert("tensors", TensorDict(model.tensors));
  return top;
}

absl::StatusOr<ModelFile> ParseCheckpointDict(const c10::IValue& top,
                                              const std::string& path) {
  const std::string bad = absl::StrCat("'", path, "' is not a mapn checkpoint");
  if (!HasFormat(top, kFormat)) return absl::InvalidArgumentError(bad);
  const GenericDict dict = top.toGenericDict();
  const c10::IValue version = DictGet(dict, "version");
  const c10::IValue type = DictGet(dict, "type");
  if (!type.isString()) {
    return absl::InvalidArgumentError(
        absl::StrCat(bad, ": its type is missing"));
  }
  ModelFile model;
  model.type_name = type.toStringRef();
  if (version.isInt() && version.toInt() == 2) {
    const c10::IValue composition = DictGet(dict, "composition");
    const c10::IValue options = DictGet(dict, "options");
    if (!composition.isString() || !options.isString()) {
      return absl::InvalidArgumentError(
          absl::StrCat(bad, ": composition or options missing"));
    }
    model.composition = composition.toStringRef();
    model.options_json = options.toStringRef();
  } else if (version.isInt() && version.toInt() == 1) {
    const c10::IValue config = DictGet(dict, "config");
    if (!config.isString()) {
      return absl::InvalidArgumentError(
          absl::StrCat(bad, ": its config is missing"));
    }
    MAPN_ASSIGN_OR_RETURN(
        model.options_json,
        LegacyConfigToOptions(config.toStringRef(), model.type_name,
                              absl::StrCat("checkpoint '", path, "'")));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' has checkpoint version ",
                     version.isInt() ? absl::StrCat(version.toInt()) : "?",
                     "; this build reads versions 1 and 2"));
  }
  MAPN_ASSIGN_OR_RETURN(model.tensors,
                        ParseTensorDict(DictGet(dict, "tensors"), bad));
  return model;
}

absl::Status WriteCheckpoint(const std::string& path, const ModelFile& model) {
  return WritePickleFile(path, c10::IValue(CheckpointDict(model)),
                         "checkpoint");
}

absl::StatusOr<ModelFile> ParseModelFile(const c10::IValue& top,
                                         const std::string& path) {
  if (HasFormat(top, kTrainingStateFormat)) {
    return ParseTrainingStateModel(top.toGenericDict(), path);
  }
  return ParseCheckpointDict(top, path);
}

absl::StatusOr<ModelFile> ReadModelFile(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(c10::IValue top, LoadPickleFile(path));
  return ParseModelFile(top, path);
}

absl::StatusOr<WeightsReport> LoadMatchingWeights(
    const std::string& path, torch::nn::Module& module,
    const std::vector<std::string>& required_prefixes) {
  MAPN_ASSIGN_OR_RETURN(ModelFile file, ReadModelFile(path));
  const std::string what =
      absl::StrCat("checkpoint '", path, "' (a ", file.type_name, ")");
  TensorMatching matching;
  matching.may_be_absent = [&](const std::string& name) {
    return std::none_of(
        required_prefixes.begin(), required_prefixes.end(),
        [&](const std::string& p) { return absl::StartsWith(name, p); });
  };
  matching.may_be_extra = [](const std::string&) { return true; };
  matching.mismatch_hint = " (was it trained with other options?)";
  // Nothing shared would copy nothing: refuse before touching the model.
  const std::vector<NamedTensor> targets = ModuleTensors(module);
  const bool shares_any =
      std::any_of(targets.begin(), targets.end(), [&](const NamedTensor& t) {
        return std::any_of(
            file.tensors.begin(), file.tensors.end(),
            [&](const NamedTensor& f) { return f.first == t.first; });
      });
  if (!shares_any) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " shares no tensor with the model"));
  }
  MAPN_ASSIGN_OR_RETURN(AssignReport assigned,
                        AssignTensors(module, file.tensors, what, matching));
  WeightsReport report;
  report.loaded = assigned.loaded;
  report.kept = std::move(assigned.absent);
  report.unused = std::move(assigned.extra);
  return report;
}

absl::StatusOr<ImportReport> ImportTorchvisionResNet(
    const std::string& path, torch::nn::Module& encoder) {
  MAPN_ASSIGN_OR_RETURN(std::vector<NamedTensor> tensors,
                        ReadStateDictFile(path));
  TensorMatching matching;
  matching.may_be_absent = [](const std::string& name) {
    return absl::EndsWith(name, "num_batches_tracked");
  };
  matching.may_be_extra = [](const std::string& name) {
    return absl::StartsWith(name, "fc.");
  };
  MAPN_ASSIGN_OR_RETURN(
      AssignReport assigned,
      AssignTensors(encoder, tensors,
                    absl::StrCat("torchvision file '", path, "'"), matching));
  ImportReport report;
  report.loaded = assigned.loaded;
  report.skipped = assigned.absent;
  report.skipped.insert(report.skipped.end(), assigned.extra.begin(),
                        assigned.extra.end());
  return report;
}

}  // namespace mapn::model
