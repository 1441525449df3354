#include "experiments/harness/plan.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"

namespace mapn::experiments {

absl::StatusOr<TrainedModel> TrainBaseline(
    Experiment& exp, const std::vector<std::string>& settings) {
  return exp.Train<model::PerFrameSimpleBaseline>(
      {.stages = {kStage1}, .settings = settings});
}

absl::StatusOr<TrainedModel> TrainPropagation(Experiment& exp,
                                              const TrainedModel& baseline) {
  return exp.Train<model::Mapn>(
      {.stages = {kStage2}, .init = baseline, .settings = baseline.settings});
}

absl::StatusOr<Rows> RunOverSplits(
    Experiment& exp, const std::function<absl::StatusOr<Rows>()>& body) {
  std::vector<Rows> per_split;
  const int helper_split = exp.options().helper_split;
  for (int split = 1; split <= exp.num_splits(); ++split) {
    if (helper_split > 0 && split != helper_split) continue;
    MAPN_RETURN_IF_ERROR(exp.UseSplit(split));
    MAPN_ASSIGN_OR_RETURN(Rows rows, body());
    if (!per_split.empty() && rows.size() != per_split[0].size()) {
      return absl::InternalError(absl::StrCat("split ", split, " gave ",
                                              rows.size(), " rows, split 1 ",
                                              per_split[0].size()));
    }
    per_split.push_back(std::move(rows));
  }
  if (per_split.size() == 1) return per_split[0];
  if (per_split.empty() || per_split[0].empty()) return Rows();
  Rows averaged;
  for (size_t row = 0; row < per_split[0].size(); ++row) {
    Rows same;
    for (const Rows& rows : per_split) same.push_back(rows[row]);
    MAPN_ASSIGN_OR_RETURN(train::EvalResult mean, AverageEvalResults(same));
    averaged.push_back(std::move(mean));
  }
  return averaged;
}

bool WaitForHelper(const Experiment& exp, HelperProcess& helper) {
  const absl::Status status = helper.Wait();
  if (status.ok()) return true;
  exp.Log(absl::StrCat("warning: ", status.message(),
                       "; training what it left here"));
  return false;
}

absl::Status TrainInTwoProcesses(Experiment& exp, const PartTrainer& train,
                                 const std::vector<size_t>& helper_order,
                                 const std::vector<size_t>& own_order) {
  if (exp.is_helper()) {
    for (size_t i : helper_order) MAPN_RETURN_IF_ERROR(train(i).status());
    return absl::OkStatus();
  }
  MAPN_ASSIGN_OR_RETURN(HelperProcess helper, exp.StartHelper());
  for (size_t i : own_order) MAPN_RETURN_IF_ERROR(train(i).status());
  if (!WaitForHelper(exp, helper)) {
    for (size_t i : helper_order) MAPN_RETURN_IF_ERROR(train(i).status());
  }
  return absl::OkStatus();
}

TwoProcessOrder HelperTakesFirstHalf(size_t parts) {
  TwoProcessOrder order;
  for (size_t i = 0; i < (parts + 1) / 2; ++i) order.helper.push_back(i);
  for (size_t i = parts; i > 0; --i) order.own.push_back(i - 1);
  return order;
}

}  // namespace mapn::experiments
