// File: registry.h
//
// Run-time names for the compositions of compositions.h, for the command
// line and the experiments: "mapn", "simple_baseline", "iframe_nowarp",
// "iframe_warp", "always_extract", "frame_gate", "gate_no_temporal_no_pe",
// "gate_no_pe", "fixed_interval", "residual_energy", "causal_mapn".
// VisitComposition turns a name into a type: it calls a generic visitor with
// a CompositionTag<Model>, so the code that follows is compiled for every
// composition and still works on a concrete Pipeline type. An unknown name
// is an InvalidArgument error that lists the valid ones.
//
// Example:
//
//   absl::Status status = VisitComposition(
//       name, [&]<typename Model>(CompositionTag<Model>) -> absl::Status {
//         MAPN_ASSIGN_OR_RETURN(Model model, MakeModel<Model>(config));
//         return Use(model);
//       });
#ifndef MAPN_MODEL_REGISTRY_H_
#define MAPN_MODEL_REGISTRY_H_

#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/compositions.h"

namespace mapn::model {

// Carries a composition type into a generic lambda.
template <typename Model>
struct CompositionTag {
  using type = Model;
};

// Every registered name, in the order help texts list them.
const std::vector<std::string>& CompositionNames();

// "mapn, simple_baseline, ...".
std::string CompositionNameList();

// InvalidArgument: "unknown model 'x'; expected one of mapn, ...".
absl::Status UnknownCompositionError(const std::string& name);

// Calls visitor(CompositionTag<Model>{}) for the composition called `name`
// and returns its result; for an unknown name returns
// UnknownCompositionError(name) converted to the visitor's result type
// (absl::Status or an absl::StatusOr).
template <typename Visitor>
auto VisitComposition(const std::string& name, Visitor&& visitor)
    -> std::invoke_result_t<Visitor&, CompositionTag<Mapn>> {
  using Result = std::invoke_result_t<Visitor&, CompositionTag<Mapn>>;
  if (name == "mapn") return visitor(CompositionTag<Mapn>{});
  if (name == "simple_baseline") {
    return visitor(CompositionTag<PerFrameSimpleBaseline>{});
  }
  if (name == "iframe_nowarp")
    return visitor(CompositionTag<IFrameOnlyNoWarp>{});
  if (name == "iframe_warp") return visitor(CompositionTag<IFrameOnlyWarp>{});
  if (name == "always_extract") {
    return visitor(CompositionTag<AlwaysExtractWarp>{});
  }
  if (name == "frame_gate") return visitor(CompositionTag<FrameGateWarp>{});
  if (name == "gate_no_temporal_no_pe") {
    return visitor(CompositionTag<MapnGateNoTemporalNoPe>{});
  }
  if (name == "gate_no_pe") return visitor(CompositionTag<MapnGateNoPe>{});
  if (name == "fixed_interval") {
    return visitor(CompositionTag<FixedIntervalWarp>{});
  }
  if (name == "residual_energy") {
    return visitor(CompositionTag<ResidualEnergyWarp>{});
  }
  if (name == "causal_mapn") return visitor(CompositionTag<CausalMapn>{});
  return Result(UnknownCompositionError(name));
}

// The registered name of the composition whose Pipeline type name (what
// checkpoints record, PipelineImpl::TypeName()) is `type_name`; NotFound
// naming it otherwise.
absl::StatusOr<std::string> CompositionNameForType(
    const std::string& type_name);

}  // namespace mapn::model

#endif  // MAPN_MODEL_REGISTRY_H_
