// File: options_json.h
//
// The options of a whole pipeline as JSON, the form checkpoints store and
// `mapn train --set` edits: the input size and each component's options by
// role,
//
//   {"input_size": 256,
//    "extractor": {"depth": 18, "width": 64},
//    "propagator": {"in_channels": 512, "kernel": 3},
//    "policy": {"downsample": 8, ...},
//    "head": {"in_channels": 512, "width": 256, "out_channels": 13}}
//
// held between parsing and the typed options (pipeline.h) as named values
// (options.h), so this file is the only one that includes the JSON library.
// A role that is absent keeps its component's defaults; anything else that
// is unknown is an error naming it.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(PipelineOptionValues values,
//                         ParsePipelineOptions(json, "checkpoint 'm.ckpt'"));
//   MAPN_RETURN_IF_ERROR(ApplyOptionOverride("policy.interval=6", values));
//   std::string back = PipelineOptionsToJson(values);
#ifndef MAPN_MODEL_OPTIONS_JSON_H_
#define MAPN_MODEL_OPTIONS_JSON_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/options.h"

namespace mapn::model {

// The four component roles, in pipeline order.
inline constexpr std::array<std::string_view, 4> kComponentRoles = {
    "extractor", "propagator", "policy", "head"};

struct PipelineOptionValues {
  int64_t input_size = 0;  // 0: not given
  // Indexed like kComponentRoles.
  std::array<std::vector<NamedOption>, 4> components;
};

// The JSON above, one line, keys in Fields() order.
std::string PipelineOptionsToJson(const PipelineOptionValues& values);

// Parses it; `what` names the source in messages. Numbers become int64_t
// when integral, else double.
absl::StatusOr<PipelineOptionValues> ParsePipelineOptions(
    const std::string& json, const std::string& what);

// Applies "role.field=value" (or "input_size=value") to `values`, replacing
// a value of that name or adding it as text; the typed conversion and the
// check that the component has such a field happen when the pipeline's
// options are built. InvalidArgument for a malformed assignment or an
// unknown role.
absl::Status ApplyOptionOverride(std::string_view assignment,
                                 PipelineOptionValues& values);

// The assignments of `settings` (as ApplyOptionOverride takes them) whose
// field a pipeline with option values `defaults` has, applied to empty
// values: settings written for a family of compositions (an experiment
// scale's widths, say) whose members do not all have every component. A
// malformed assignment is an error; a field the pipeline lacks is skipped
// and listed in `skipped` when given.
absl::StatusOr<PipelineOptionValues> SettingsFor(
    const PipelineOptionValues& defaults,
    const std::vector<std::string>& settings,
    std::vector<std::string>* skipped = nullptr);

}  // namespace mapn::model

#endif  // MAPN_MODEL_OPTIONS_JSON_H_
