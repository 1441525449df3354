// File: legacy_config.h
//
// Files written before components had options of their own (checkpoint and
// training-state version 1) describe the whole model with one flat config:
// backbone_depth, backbone_width, input_size, joints, head_channels,
// lstm_kernel, gate_*, keyframe_interval, energy_threshold. This turns such
// a config into the per-component options JSON of options_json.h, for the
// components those versions had, so that every checkpoint trained then
// (the bundled models among them) still loads.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(std::string options,
//       LegacyConfigToOptions(config_json,
//                             "Pipeline<SimpleBaselineEncoder, "
//                             "MotionWarpConvLstm, ResidualGate, DeconvHead>",
//                             "checkpoint 'old.ckpt'"));
#ifndef MAPN_MODEL_LEGACY_CONFIG_H_
#define MAPN_MODEL_LEGACY_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mapn::model {

// "Pipeline<A, B, C, D>" -> {"A", "B", "C", "D"}; InvalidArgument otherwise.
absl::StatusOr<std::vector<std::string>> ComponentNamesOf(
    const std::string& type_name);

// The options JSON of the pipeline `type_name` whose version-1 config is
// `config_json`; `what` names the file in messages (an unknown field, or a
// component version 1 did not have).
absl::StatusOr<std::string> LegacyConfigToOptions(
    const std::string& config_json, const std::string& type_name,
    const std::string& what);

}  // namespace mapn::model

#endif  // MAPN_MODEL_LEGACY_CONFIG_H_
