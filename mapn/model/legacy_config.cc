#include "mapn/model/legacy_config.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace mapn::model {
namespace {

// Version 1's fields and defaults.
nlohmann::json LegacyDefaults() {
  return {{"backbone_depth", 18},
          {"backbone_width", 64},
          {"input_size", 256},
          {"joints", 13},
          {"head_channels", 256},
          {"lstm_kernel", 3},
          {"gate_downsample", 8},
          {"gate_conv1_channels", 16},
          {"gate_conv2_channels", 32},
          {"gate_pe_dims", 8},
          {"gate_temporal_channels", 32},
          {"gate_temporal_kernel", 3},
          {"keyframe_interval", 4},
          {"energy_threshold", 0.02}};
}

// The encoder's output channels in version 1: 8 x width for ResNet-18/34,
// 32 x width for ResNet-50.
int64_t LegacyChannels(const nlohmann::json& c) {
  const int64_t width = c["backbone_width"].get<int64_t>();
  return c["backbone_depth"].get<int64_t>() >= 50 ? 32 * width : 8 * width;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ComponentNamesOf(
    const std::string& type_name) {
  absl::string_view inner(type_name);
  if (!absl::ConsumePrefix(&inner, "Pipeline<") ||
      !absl::ConsumeSuffix(&inner, ">")) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", type_name, "' is not a Pipeline<...> type name"));
  }
  // Component names may hold template arguments with commas
  // (LearnedGate<residual, none, pe>): split at top-level commas only.
  std::vector<std::string> names;
  std::string current;
  int depth = 0;
  for (const char ch : inner) {
    if (ch == '<') ++depth;
    if (ch == '>') --depth;
    if (ch == ',' && depth == 0) {
      names.push_back(std::string(absl::StripAsciiWhitespace(current)));
      current.clear();
      continue;
    }
    current += ch;
  }
  names.push_back(std::string(absl::StripAsciiWhitespace(current)));
  if (names.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", type_name, "' does not name four components"));
  }
  return names;
}

absl::StatusOr<std::string> LegacyConfigToOptions(
    const std::string& config_json, const std::string& type_name,
    const std::string& what) {
  const nlohmann::json given =
      nlohmann::json::parse(config_json, nullptr, false);
  if (given.is_discarded() || !given.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": its model config is not a JSON object"));
  }
  nlohmann::json c = LegacyDefaults();
  for (const auto& [key, value] : given.items()) {
    if (!c.contains(key) || !value.is_number()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": unknown or malformed model config field '", key, "'"));
    }
    c[key] = value;
  }
  absl::StatusOr<std::vector<std::string>> names = ComponentNamesOf(type_name);
  if (!names.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", names.status().message()));
  }
  const int64_t channels = LegacyChannels(c);
  const std::set<std::string> learned_gates = {
      "ResidualGate", "FrameGate", "ResidualGateNoPe",
      "ResidualGateNoTemporalNoPe", "CausalResidualGate"};
  nlohmann::ordered_json out;
  out["input_size"] = c["input_size"];
  for (size_t role = 0; role < 4; ++role) {
    const std::string& name = (*names)[role];
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    if (name == "SimpleBaselineEncoder") {
      o["depth"] = c["backbone_depth"];
      o["width"] = c["backbone_width"];
    } else if (name == "MotionWarpConvLstm" || name == "NoWarpConvLstm") {
      o["in_channels"] = channels;
      o["kernel"] = c["lstm_kernel"];
    } else if (learned_gates.count(name) > 0) {
      o["downsample"] = c["gate_downsample"];
      o["conv1_channels"] = c["gate_conv1_channels"];
      o["conv2_channels"] = c["gate_conv2_channels"];
      o["pe_dims"] = c["gate_pe_dims"];
      o["temporal_channels"] = c["gate_temporal_channels"];
      o["temporal_kernel"] = c["gate_temporal_kernel"];
    } else if (name == "FixedIntervalKeyframes") {
      o["interval"] = c["keyframe_interval"];
    } else if (name == "ResidualEnergyGate") {
      o["threshold"] = c["energy_threshold"].get<double>();
    } else if (name == "DeconvHead") {
      o["in_channels"] = channels;
      o["width"] = c["head_channels"];
      o["out_channels"] = c["joints"];
    } else if (name != "PassThrough" && name != "AlwaysExtract" &&
               name != "NeverExtract") {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " was written by an earlier mapn with component ",
                       name, ", whose options it cannot tell"));
    }
    static const char* const kRoles[] = {"extractor", "propagator", "policy",
                                         "head"};
    out[kRoles[role]] = o;
  }
  return out.dump();
}

}  // namespace mapn::model
