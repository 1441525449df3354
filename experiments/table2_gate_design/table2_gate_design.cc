// Table 2: its rows (types and labels), the two-process plan, and the
// table with its notes.
#include "experiments/table2_gate_design/table2_gate_design.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "experiments/harness/experiment.h"
#include "experiments/harness/plan.h"
#include "experiments/harness/report.h"
#include "experiments/harness/rows.h"
#include "experiments/paper_tables.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/compositions.h"

namespace mapn::experiments {
namespace {

// Columns Temporal (the gate sees neighbouring frames), P.E. (positional
// encoding of the frame's place in the window); the id is the composition.
std::vector<TableRow> Table2Rows() {
  return {
      Row<model::MapnGateNoTemporalNoPe>{
          "gate_no_temporal_no_pe", {"no", "no"}, PaperTable2()[0]},
      Row<model::MapnGateNoPe>{"gate_no_pe", {"yes", "no"}, PaperTable2()[1]},
      Row<model::Mapn>{"mapn", {"yes", "yes"}, PaperTable2()[2]},
  };
}

// One split: the shared models on every core, then the gates in two
// processes, then every row evaluated here.
absl::StatusOr<Rows> RunSplit(Experiment& exp,
                              const std::vector<TableRow>& rows) {
  const PartTrainer train_row = [&](size_t i) -> absl::StatusOr<TrainedModel> {
    MAPN_ASSIGN_OR_RETURN(TrainedModel sb, TrainBaseline(exp));
    MAPN_ASSIGN_OR_RETURN(TrainedModel shared, TrainPropagation(exp, sb));
    return rows[i].train(exp, {.stages = {kStage3, kStage4}, .init = shared});
  };
  MAPN_ASSIGN_OR_RETURN(TrainedModel sb, TrainBaseline(exp));
  MAPN_RETURN_IF_ERROR(TrainPropagation(exp, sb).status());
  const TwoProcessOrder order = HelperTakesFirstHalf(rows.size());
  MAPN_RETURN_IF_ERROR(
      TrainInTwoProcesses(exp, train_row, order.helper, order.own));
  if (exp.is_helper()) return Rows();
  std::vector<std::pair<TrainedModel, std::string>> models;
  for (size_t i = 0; i < rows.size(); ++i) {
    MAPN_ASSIGN_OR_RETURN(TrainedModel trained, train_row(i));
    models.emplace_back(trained, rows[i].composition);
  }
  return EvaluateAll(exp, models);
}

// Signed changes, row to row: a design choice may add keyframes as well as
// save them.
std::string ClaimNote(const Rows& rows) {
  return absl::StrCat(
      "keyframe points: temporal ",
      Signed(rows[1].keyframe_percent - rows[0].keyframe_percent), ", PE ",
      Signed(rows[2].keyframe_percent - rows[1].keyframe_percent),
      " (paper -6.6, -3.5); PCK ", Signed(rows[1].pck.mean - rows[0].pck.mean),
      " and ", Signed(rows[2].pck.mean - rows[1].pck.mean),
      " (paper -0.2, +0.1)");
}

absl::StatusOr<ExperimentReport> RunTable2GateDesign(Experiment& exp) {
  const std::vector<TableRow> rows = Table2Rows();
  MAPN_ASSIGN_OR_RETURN(
      Rows results, RunOverSplits(exp, [&] { return RunSplit(exp, rows); }));
  if (exp.is_helper()) return ExperimentReport();

  ComparisonTable table;
  table.title = absl::StrCat(
      "Table 2: design of the residual gate (ours: ResNet-",
      exp.reference_model().extractor.depth, "; paper: Sub-JHMDB, 3 splits)");
  table.notes = OurNotes(exp, {ClaimNote(results)});
  table.setting_names = {"Temporal", "P.E."};
  table.rows = ComparisonRows(rows, results);
  return FinishReport(exp, "table2", table, std::move(results));
}

}  // namespace

const ExperimentDefinition kTable2GateDesign = {
    "table2_gate_design",
    "Table 2 of the paper: the residual gate without temporal convolutions "
    "or positional encoding, with temporal convolutions, and with both.",
    RunTable2GateDesign,
};

}  // namespace mapn::experiments
