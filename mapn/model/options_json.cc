#include "mapn/model/options_json.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "nlohmann/json.hpp"

namespace mapn::model {
namespace {

nlohmann::json ToJson(const OptionValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

absl::StatusOr<OptionValue> FromJson(const nlohmann::ordered_json& j,
                                     const std::string& what) {
  if (j.is_boolean()) return OptionValue(j.get<bool>());
  if (j.is_number_integer()) return OptionValue(j.get<int64_t>());
  if (j.is_number()) return OptionValue(j.get<double>());
  if (j.is_string()) return OptionValue(j.get<std::string>());
  return absl::InvalidArgumentError(absl::StrCat(
      what, " must be a number, a bool or a string, got ", j.dump()));
}

int RoleIndex(std::string_view role) {
  const auto it =
      std::find(kComponentRoles.begin(), kComponentRoles.end(), role);
  return it == kComponentRoles.end()
             ? -1
             : static_cast<int>(it - kComponentRoles.begin());
}

}  // namespace

std::string PipelineOptionsToJson(const PipelineOptionValues& values) {
  // ordered_json keeps the Fields() order, so a checkpoint reads like the
  // options structs.
  nlohmann::ordered_json out;
  out["input_size"] = values.input_size;
  for (size_t r = 0; r < kComponentRoles.size(); ++r) {
    nlohmann::ordered_json component = nlohmann::ordered_json::object();
    for (const NamedOption& o : values.components[r]) {
      component[o.name] = ToJson(o.value);
    }
    out[std::string(kComponentRoles[r])] = component;
  }
  return out.dump();
}

absl::StatusOr<PipelineOptionValues> ParsePipelineOptions(
    const std::string& json, const std::string& what) {
  // ordered_json keeps the file's order (Fields() order in checkpoints), so
  // parsing and writing back gives the same text.
  nlohmann::ordered_json top;
  try {
    top = nlohmann::ordered_json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the model options are not JSON: ", e.what()));
  }
  if (!top.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the model options are not a JSON object"));
  }
  PipelineOptionValues values;
  for (const auto& [key, value] : top.items()) {
    if (key == "input_size") {
      if (!value.is_number_integer()) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": input_size must be an integer, got ", value.dump()));
      }
      values.input_size = value.get<int64_t>();
      continue;
    }
    const int role = RoleIndex(key);
    if (role < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": unknown model option '", key,
          "' (expected input_size, extractor, propagator, policy, head)"));
    }
    if (!value.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the ", key, " options must be a JSON object"));
    }
    for (const auto& [name, v] : value.items()) {
      absl::StatusOr<OptionValue> parsed =
          FromJson(v, absl::StrCat(what, ": ", key, ".", name));
      if (!parsed.ok()) return parsed.status();
      values.components[role].push_back(NamedOption{name, *parsed});
    }
  }
  return values;
}

absl::Status ApplyOptionOverride(std::string_view assignment,
                                 PipelineOptionValues& values) {
  const size_t eq = assignment.find('=');
  const auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("option '", std::string(assignment), "': ", why,
                     " (expected ROLE.NAME=VALUE, ROLE one of extractor, "
                     "propagator, policy, head, or input_size=VALUE)"));
  };
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == assignment.size()) {
    return bad("no '='");
  }
  const std::string_view path = assignment.substr(0, eq);
  const std::string value(assignment.substr(eq + 1));
  if (path == "input_size") {
    absl::StatusOr<OptionValue> size =
        ConvertOption(OptionValue(value), OptionValue(int64_t{0}));
    if (!size.ok()) return bad(std::string(size.status().message()));
    values.input_size = std::get<int64_t>(*size);
    return absl::OkStatus();
  }
  const size_t dot = path.find('.');
  if (dot == std::string_view::npos || dot + 1 == path.size()) {
    return bad("no option name after the role");
  }
  const int role = RoleIndex(path.substr(0, dot));
  if (role < 0) return bad("unknown role");
  const std::string name(path.substr(dot + 1));
  std::vector<NamedOption>& component = values.components[role];
  auto it = std::find_if(component.begin(), component.end(),
                         [&](const NamedOption& o) { return o.name == name; });
  if (it == component.end()) {
    component.push_back(NamedOption{name, OptionValue(value)});
  } else {
    it->value = OptionValue(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<PipelineOptionValues> SettingsFor(
    const PipelineOptionValues& defaults,
    const std::vector<std::string>& settings,
    std::vector<std::string>* skipped) {
  PipelineOptionValues out;
  for (const std::string& setting : settings) {
    PipelineOptionValues one;
    MAPN_RETURN_IF_ERROR(ApplyOptionOverride(setting, one));
    if (one.input_size != 0) {
      out.input_size = one.input_size;
      continue;
    }
    bool applies = false;
    for (size_t role = 0; role < one.components.size(); ++role) {
      for (const NamedOption& option : one.components[role]) {
        const std::vector<NamedOption>& known = defaults.components[role];
        if (std::any_of(known.begin(), known.end(), [&](const NamedOption& k) {
              return k.name == option.name;
            })) {
          MAPN_RETURN_IF_ERROR(ApplyOptionOverride(setting, out));
          applies = true;
        }
      }
    }
    if (!applies && skipped != nullptr) skipped->push_back(setting);
  }
  return out;
}

}  // namespace mapn::model
