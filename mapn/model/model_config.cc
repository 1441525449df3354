#include "mapn/model/model_config.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/model/flops.h"
#include "nlohmann/json.hpp"

namespace mapn::model {
namespace {

// One entry per field: its name and typed accessors, so that JSON, the
// comparison and the unknown-field check cannot drift apart.
struct Field {
  const char* name;
  std::function<nlohmann::json(const ModelConfig&)> get;
  // Returns false when the JSON value has the wrong type.
  std::function<bool(const nlohmann::json&, ModelConfig&)> set;
};

template <typename T>
Field MakeField(const char* name, T ModelConfig::*member) {
  return Field{
      name,
      [member](const ModelConfig& c) { return nlohmann::json(c.*member); },
      [member](const nlohmann::json& j, ModelConfig& c) {
        if constexpr (std::is_floating_point_v<T>) {
          if (!j.is_number()) return false;
        } else {
          if (!j.is_number_integer()) return false;
        }
        c.*member = j.get<T>();
        return true;
      }};
}

const std::vector<Field>& Fields() {
  static const std::vector<Field> fields = {
      MakeField("backbone_depth", &ModelConfig::backbone_depth),
      MakeField("backbone_width", &ModelConfig::backbone_width),
      MakeField("input_size", &ModelConfig::input_size),
      MakeField("joints", &ModelConfig::joints),
      MakeField("head_channels", &ModelConfig::head_channels),
      MakeField("lstm_kernel", &ModelConfig::lstm_kernel),
      MakeField("gate_downsample", &ModelConfig::gate_downsample),
      MakeField("gate_conv1_channels", &ModelConfig::gate_conv1_channels),
      MakeField("gate_conv2_channels", &ModelConfig::gate_conv2_channels),
      MakeField("gate_pe_dims", &ModelConfig::gate_pe_dims),
      MakeField("gate_temporal_channels", &ModelConfig::gate_temporal_channels),
      MakeField("gate_temporal_kernel", &ModelConfig::gate_temporal_kernel),
      MakeField("keyframe_interval", &ModelConfig::keyframe_interval),
      MakeField("energy_threshold", &ModelConfig::energy_threshold),
  };
  return fields;
}

absl::Status Invalid(const char* field, const std::string& value,
                     const char* requirement) {
  return absl::InvalidArgumentError(
      absl::StrCat("ModelConfig.", field, " = ", value, ": ", requirement));
}

}  // namespace

absl::Status ValidateModelConfig(const ModelConfig& c) {
  if (c.backbone_depth != 18 && c.backbone_depth != 34 &&
      c.backbone_depth != 50) {
    return Invalid("backbone_depth", absl::StrCat(c.backbone_depth),
                   "must be 18, 34 or 50");
  }
  if (c.backbone_width < 1 || c.backbone_width > 1024) {
    return Invalid("backbone_width", absl::StrCat(c.backbone_width),
                   "must be in [1, 1024]");
  }
  if (c.input_size < 32 || c.input_size % 32 != 0) {
    return Invalid("input_size", absl::StrCat(c.input_size),
                   "must be a positive multiple of 32 (the encoder stride)");
  }
  if (c.joints < 1) {
    return Invalid("joints", absl::StrCat(c.joints), "must be at least 1");
  }
  if (c.head_channels < 1) {
    return Invalid("head_channels", absl::StrCat(c.head_channels),
                   "must be at least 1");
  }
  if (c.lstm_kernel < 1 || c.lstm_kernel % 2 == 0) {
    return Invalid("lstm_kernel", absl::StrCat(c.lstm_kernel),
                   "must be odd and positive (same-size padding)");
  }
  if (c.gate_downsample < 1 || c.input_size % c.gate_downsample != 0) {
    return Invalid("gate_downsample", absl::StrCat(c.gate_downsample),
                   "must divide input_size");
  }
  if (c.gate_conv1_channels < 1 || c.gate_conv2_channels < 1 ||
      c.gate_temporal_channels < 1) {
    return Invalid(
        "gate_conv1_channels/gate_conv2_channels/"
        "gate_temporal_channels",
        absl::StrCat(c.gate_conv1_channels, "/", c.gate_conv2_channels, "/",
                     c.gate_temporal_channels),
        "must all be at least 1");
  }
  if (c.gate_pe_dims < 2 || c.gate_pe_dims % 2 != 0) {
    return Invalid("gate_pe_dims", absl::StrCat(c.gate_pe_dims),
                   "must be even and at least 2 (sin/cos pairs)");
  }
  if (c.gate_temporal_kernel < 1 || c.gate_temporal_kernel % 2 == 0) {
    return Invalid("gate_temporal_kernel", absl::StrCat(c.gate_temporal_kernel),
                   "must be odd and positive");
  }
  if (c.keyframe_interval < 1) {
    return Invalid("keyframe_interval", absl::StrCat(c.keyframe_interval),
                   "must be at least 1");
  }
  if (!(c.energy_threshold >= 0)) {
    return Invalid("energy_threshold", absl::StrCat(c.energy_threshold),
                   "must be a non-negative number");
  }
  return absl::OkStatus();
}

int64_t FeatureChannels(const ModelConfig& config) {
  return ResNetChannels(
      {.depth = config.backbone_depth, .base_width = config.backbone_width});
}

std::string ModelConfigToJson(const ModelConfig& config) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const Field& field : Fields()) json[field.name] = field.get(config);
  return json.dump();
}

absl::StatusOr<ModelConfig> ModelConfigFromJson(const std::string& text) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model config is not a JSON object: '", text.substr(0, 80), "'"));
  }
  ModelConfig config;
  for (const auto& [key, value] : json.items()) {
    const Field* field = nullptr;
    for (const Field& f : Fields()) {
      if (key == f.name) field = &f;
    }
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("model config has an unknown field '", key, "'"));
    }
    if (!field->set(value, config)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model config field '", key, "' has the wrong type: ", value.dump()));
    }
  }
  return config;
}

absl::Status CompareModelConfigs(const ModelConfig& a,
                                 const std::string& a_name,
                                 const ModelConfig& b,
                                 const std::string& b_name) {
  std::vector<std::string> differences;
  for (const Field& field : Fields()) {
    const nlohmann::json va = field.get(a);
    const nlohmann::json vb = field.get(b);
    if (va != vb) {
      differences.push_back(absl::StrCat(field.name, ": ", a_name, " ",
                                         va.dump(), " vs ", b_name, " ",
                                         vb.dump()));
    }
  }
  if (differences.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "model configs differ in ", absl::StrJoin(differences, "; ")));
}

}  // namespace mapn::model
