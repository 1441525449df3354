#include "mapn/model/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>
#include <torch/serialize.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/atomic_file.h"
#include "mapn/model/pipeline_support.h"

namespace mapn::model {
namespace {

constexpr char kFormat[] = "mapn-checkpoint";
constexpr int64_t kVersion = 1;

}  // namespace

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

absl::Status WriteCheckpoint(const std::string& path,
                             const CheckpointContents& contents) {
  c10::impl::GenericDict tensors(c10::StringType::get(),
                                 c10::TensorType::get());
  for (const auto& [name, tensor] : contents.tensors) {
    tensors.insert(name, tensor.detach().cpu().contiguous());
  }
  c10::impl::GenericDict top(c10::StringType::get(), c10::AnyType::get());
  top.insert("format", std::string(kFormat));
  top.insert("version", kVersion);
  top.insert("type", contents.type_name);
  top.insert("config", ModelConfigToJson(contents.config));
  top.insert("tensors", tensors);
  std::vector<char> bytes;
  try {
    bytes = torch::pickle_save(c10::IValue(top));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot serialise checkpoint for '",
                                            path,
                                            "': ", e.what_without_backtrace()));
  }
  return WriteFileAtomically(path,
                             std::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<CheckpointContents> ReadCheckpoint(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  c10::IValue top;
  try {
    top = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path,
        "' is not a readable checkpoint: ", e.what_without_backtrace()));
  }
  const std::string bad = absl::StrCat("'", path, "' is not a mapn checkpoint");
  if (!top.isGenericDict()) return absl::InvalidArgumentError(bad);
  const c10::impl::GenericDict dict = top.toGenericDict();
  auto get = [&dict](const char* key) -> c10::IValue {
    const auto it = dict.find(key);
    return it == dict.end() ? c10::IValue() : it->value();
  };
  const c10::IValue format = get("format");
  if (!format.isString() || format.toStringRef() != kFormat) {
    return absl::InvalidArgumentError(bad);
  }
  const c10::IValue version = get("version");
  if (!version.isInt() || version.toInt() != kVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' has checkpoint version ",
                     version.isInt() ? absl::StrCat(version.toInt()) : "?",
                     "; this build reads version ", kVersion));
  }
  const c10::IValue type = get("type");
  const c10::IValue config = get("config");
  const c10::IValue tensors = get("tensors");
  if (!type.isString() || !config.isString() || !tensors.isGenericDict()) {
    return absl::InvalidArgumentError(
        absl::StrCat(bad, ": type, config or tensors missing"));
  }
  CheckpointContents contents;
  contents.type_name = type.toStringRef();
  absl::StatusOr<ModelConfig> parsed =
      ModelConfigFromJson(config.toStringRef());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': ", parsed.status().message()));
  }
  contents.config = *parsed;
  for (const auto& item : tensors.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) {
      return absl::InvalidArgumentError(
          absl::StrCat(bad, ": a tensor entry is malformed"));
    }
    contents.tensors.emplace_back(item.key().toStringRef(),
                                  item.value().toTensor());
  }
  return contents;
}

absl::Status SaveCheckpoint(const std::string& path,
                            const torch::nn::Module& module,
                            const ModelConfig& config) {
  return WriteCheckpoint(path, {module.name(), config, ModuleTensors(module)});
}

absl::Status LoadCheckpoint(const std::string& path, torch::nn::Module& module,
                            const ModelConfig& config) {
  MAPN_ASSIGN_OR_RETURN(CheckpointContents contents, ReadCheckpoint(path));
  if (contents.type_name != module.name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint '", path, "' holds a ", contents.type_name,
                     ", not a ", module.name()));
  }
  const absl::Status same =
      CompareModelConfigs(contents.config, "checkpoint", config, "model");
  if (!same.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint '", path, "' does not fit the model: ", same.message()));
  }
  return AssignTensors(module, contents.tensors,
                       absl::StrCat("checkpoint '", path, "'"))
      .status();
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
