#include "mapn/model/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mapn::model {

const std::vector<std::string>& CompositionNames() {
  static const std::vector<std::string>* const names =
      new std::vector<std::string>{"mapn",
                                   "simple_baseline",
                                   "iframe_nowarp",
                                   "iframe_warp",
                                   "always_extract",
                                   "frame_gate",
                                   "gate_no_temporal_no_pe",
                                   "gate_no_pe",
                                   "fixed_interval",
                                   "residual_energy",
                                   "causal_mapn"};
  return *names;
}

std::string CompositionNameList() {
  return absl::StrJoin(CompositionNames(), ", ");
}

absl::Status UnknownCompositionError(const std::string& name) {
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown model '", name, "'; expected one of ", CompositionNameList()));
}

absl::StatusOr<std::string> CompositionNameForType(
    const std::string& type_name) {
  for (const std::string& name : CompositionNames()) {
    const bool match =
        VisitComposition(
            name,
            [&]<typename Model>(CompositionTag<Model>) -> absl::StatusOr<bool> {
              return Model::Impl::TypeName() == type_name;
            })
            .value_or(false);
    if (match) return name;
  }
  return absl::NotFoundError(
      absl::StrCat("no registered model is a ", type_name,
                   " (registered: ", CompositionNameList(), ")"));
}

}  // namespace mapn::model
