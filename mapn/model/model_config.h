// File: model_config.h
//
// The sizes and options that describe one composition of the model: every
// component is constructed from it, and checkpoints store it so that loading
// into a model of another shape fails with a message naming the field. The
// defaults are the paper's where it gives them (ResNet-18 Simple Baseline,
// 256 x 256 input, 256 head channels) and documented choices where it is
// silent (docs/architecture.md, "Choices the paper leaves open").
//
// Example:
//
//   ModelConfig config;               // the paper's MAPN with ResNet-18
//   config.joints = 15;               // Sub-JHMDB
//   MAPN_RETURN_IF_ERROR(ValidateModelConfig(config));
//   std::string json = ModelConfigToJson(config);
#ifndef MAPN_MODEL_MODEL_CONFIG_H_
#define MAPN_MODEL_MODEL_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn::model {

struct ModelConfig {
  // Encoder: torchvision ResNet-18/34/50. base width 64 is torchvision's (and
  // required to import its weights); smaller widths give CPU-trainable
  // models of the same structure.
  int backbone_depth = 18;
  int64_t backbone_width = 64;
  // Square input side S; a multiple of 32 (the encoder's stride).
  int64_t input_size = 256;
  // Output maps of the head: J joints (13 Penn Action, 15 Sub-JHMDB), or the
  // channels of any other per-pixel output.
  int64_t joints = 13;
  // Simple Baseline's deconvolution width.
  int64_t head_channels = 256;

  // ConvLSTM gate kernel (odd). The state width equals the encoder's
  // channels, because h0 = c0 = x0 (equation (3)).
  int64_t lstm_kernel = 3;

  // Learned gate (section 3.4): residuals average-pooled by this factor
  // (1/8 in the paper), two 3 x 3 stride-2 convolutions of these widths,
  // sinusoidal position encoding of this many dimensions, two temporal
  // convolutions of this width and kernel.
  int64_t gate_downsample = 8;
  int64_t gate_conv1_channels = 16;
  int64_t gate_conv2_channels = 32;
  int64_t gate_pe_dims = 8;
  int64_t gate_temporal_channels = 32;
  int64_t gate_temporal_kernel = 3;

  // Training-free policies: FixedIntervalKeyframes extracts every k-th
  // frame; ResidualEnergyGate extracts when the mean absolute residual
  // (grey levels / 255) of a frame exceeds the threshold.
  int64_t keyframe_interval = 4;
  double energy_threshold = 0.02;
};

// Checks ranges and the relations between fields; the message names the
// field and its value.
absl::Status ValidateModelConfig(const ModelConfig& config);

// Output channels of the encoder this config builds.
int64_t FeatureChannels(const ModelConfig& config);

// JSON round trip (every field, by name). Parsing rejects unknown fields and
// wrong types, naming them; missing fields keep their defaults.
std::string ModelConfigToJson(const ModelConfig& config);
absl::StatusOr<ModelConfig> ModelConfigFromJson(const std::string& json);

// OK when equal, else an error listing every field that differs as
// "field: <name of a> value vs <name of b> value".
absl::Status CompareModelConfigs(const ModelConfig& a,
                                 const std::string& a_name,
                                 const ModelConfig& b,
                                 const std::string& b_name);

}  // namespace mapn::model

#endif  // MAPN_MODEL_MODEL_CONFIG_H_
