#include "mapn/estimate/loaded_model.h"

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/compositions.h"
#include "mapn/model/registry.h"
#include "mapn/train/training_state.h"

namespace mapn {

absl::StatusOr<LoadedModel> LoadedModel::Load(const std::string& path,
                                              bool with_baseline) {
  MAPN_ASSIGN_OR_RETURN(train::CheckpointSummary summary,
                        train::ReadCheckpointSummary(path));
  MAPN_ASSIGN_OR_RETURN(std::string name,
                        model::CompositionNameForType(summary.type_name));
  LoadedModel loaded;
  loaded.composition_ = name;
  MAPN_RETURN_IF_ERROR(model::VisitComposition(
      name, [&]<typename Model>(model::CompositionTag<Model>) -> absl::Status {
        MAPN_ASSIGN_OR_RETURN(Model model,
                              train::LoadModelFromAnyCheckpoint<Model>(path));
        auto holder = std::make_shared<Model>(std::move(model));
        loaded.handle_ = train::MakeModelHandle(*holder);
        loaded.causal_ = Model::Impl::PolicyType::ContainedType::kCausal;
        loaded.model_ = std::move(holder);
        return absl::OkStatus();
      }));
  if (with_baseline) {
    auto baseline =
        std::make_shared<model::PerFrameSimpleBaseline>(loaded.handle_.config);
    absl::StatusOr<train::WeightsReport> report = train::LoadMatchingWeights(
        path, **baseline, {"extractor.", "head."});
    if (!report.ok()) {
      return absl::Status(
          report.status().code(),
          absl::StrCat("building the per-frame baseline from '", path,
                       "': ", report.status().message()));
    }
    loaded.baseline_handle_ = train::MakeModelHandle(*baseline);
    loaded.baseline_ = std::move(baseline);
  }
  return loaded;
}

}  // namespace mapn
