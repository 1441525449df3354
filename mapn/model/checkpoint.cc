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

namespace mapn::model {
namespace {

constexpr char kFormat[] = "mapn-checkpoint";
constexpr int64_t kVersion = 1;

std::string Shape(const at::Tensor& t) {
  std::string out = "[";
  for (int64_t d = 0; d < t.dim(); ++d) {
    absl::StrAppend(&out, d > 0 ? ", " : "", t.size(d));
  }
  return out + "]";
}

// Up to five names, then "and N more".
std::string Names(const std::vector<std::string>& names) {
  std::vector<std::string> shown(
      names.begin(), names.begin() + std::min<size_t>(5, names.size()));
  std::string out = absl::StrJoin(shown, ", ");
  if (names.size() > shown.size()) {
    absl::StrAppend(&out, " and ", names.size() - shown.size(), " more");
  }
  return out;
}

// Checks that `source` covers the tensors of `module` with equal shapes
// (names for which `may_be_absent` holds may be missing; names of `source`
// for which `may_be_extra` holds may be unused), then copies. Nothing is
// changed on error.
template <typename AbsentFn, typename ExtraFn>
absl::Status AssignTensors(torch::nn::Module& module,
                           const std::vector<NamedTensor>& source,
                           const std::string& what, AbsentFn may_be_absent,
                           ExtraFn may_be_extra,
                           std::vector<std::string>* skipped, int64_t* loaded) {
  std::map<std::string, const at::Tensor*> by_name;
  for (const auto& [name, tensor] : source) {
    if (!by_name.emplace(name, &tensor).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " holds tensor '", name, "' twice"));
    }
  }
  const std::vector<NamedTensor> targets = ModuleTensors(module);
  std::vector<std::string> missing;
  std::vector<std::pair<at::Tensor, const at::Tensor*>> copies;
  std::map<std::string, bool> used;
  for (const auto& [name, target] : targets) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      if (may_be_absent(name)) {
        if (skipped) skipped->push_back(name);
      } else {
        missing.push_back(absl::StrCat(name, " ", Shape(target)));
      }
      continue;
    }
    used[name] = true;
    if (it->second->sizes() != target.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": tensor '", name, "' has shape ", Shape(*it->second),
          " but the model's is ", Shape(target)));
    }
    copies.emplace_back(target, it->second);
  }
  if (!missing.empty()) {
    return absl::NotFoundError(
        absl::StrCat(what, " lacks ", missing.size(),
                     " tensor(s) of the model: ", Names(missing)));
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : source) {
    if (used.count(name)) continue;
    if (may_be_extra(name)) {
      if (skipped) skipped->push_back(name);
    } else {
      unexpected.push_back(absl::StrCat(name, " ", Shape(tensor)));
    }
  }
  if (!unexpected.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has ", unexpected.size(),
                     " tensor(s) the model does not: ", Names(unexpected)));
  }
  const at::NoGradGuard no_grad;
  for (auto& [target, value] : copies) {
    target.copy_(value->to(target.device(), target.scalar_type()));
  }
  if (loaded) *loaded = static_cast<int64_t>(copies.size());
  return absl::OkStatus();
}

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
  return AssignTensors(
      module, contents.tensors, absl::StrCat("checkpoint '", path, "'"),
      [](const std::string&) { return false; },
      [](const std::string&) { return false; }, nullptr, nullptr);
}

absl::StatusOr<ImportReport> ImportTorchvisionResNet(
    const std::string& path, torch::nn::Module& encoder) {
  MAPN_ASSIGN_OR_RETURN(std::vector<NamedTensor> tensors,
                        ReadStateDictFile(path));
  ImportReport report;
  MAPN_RETURN_IF_ERROR(AssignTensors(
      encoder, tensors, absl::StrCat("torchvision file '", path, "'"),
      [](const std::string& name) {
        return absl::EndsWith(name, "num_batches_tracked");
      },
      [](const std::string& name) { return absl::StartsWith(name, "fc."); },
      &report.skipped, &report.loaded));
  return report;
}

}  // namespace mapn::model
