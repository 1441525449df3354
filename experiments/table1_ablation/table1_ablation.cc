// Table 1: its rows (types and labels), the recipe of a row, the
// two-process plan, and the table with its notes.
#include "experiments/table1_ablation/table1_ablation.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "experiments/harness/experiment.h"
#include "experiments/harness/plan.h"
#include "experiments/harness/report.h"
#include "experiments/harness/rows.h"
#include "experiments/paper_tables.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/compositions.h"

namespace mapn::experiments {
namespace {

using train::EvalResult;

// Columns F_P (features of P-frames), Warp (motion-vector warp of the
// state), Gate (which gate decides the F_P).
std::vector<TableRow> Table1Rows() {
  return {
      Row<model::IFrameOnlyNoWarp>{"a", {"no", "no", "no"}, PaperTable1()[0]},
      Row<model::IFrameOnlyWarp>{"b", {"no", "yes", "no"}, PaperTable1()[1]},
      Row<model::AlwaysExtractWarp>{
          "c", {"yes", "yes", "no"}, PaperTable1()[2]},
      Row<model::FrameGateWarp>{"d", {"yes", "yes", "F_P"}, PaperTable1()[3]},
      Row<model::Mapn>{"e", {"yes", "yes", "Res."}, PaperTable1()[4]},
  };
}

// A learned gate: stages 3 and 4 on the shared stage-2 model; any other
// policy: its own ConvLSTM on its own decisions (stage 2), then everything
// (stage 4), from the Simple Baseline.
absl::StatusOr<TrainedModel> TrainRow(Experiment& exp, const TableRow& row) {
  MAPN_ASSIGN_OR_RETURN(TrainedModel sb, TrainBaseline(exp));
  if (row.learned_policy) {
    MAPN_ASSIGN_OR_RETURN(TrainedModel shared, TrainPropagation(exp, sb));
    return row.train(exp, {.stages = {kStage3, kStage4}, .init = shared});
  }
  return row.train(exp, {.stages = {kStage2, kStage4}, .init = sb});
}

// One split: every row trained and evaluated, then the Simple Baseline.
absl::StatusOr<Rows> RunSplit(Experiment& exp,
                              const std::vector<TableRow>& rows) {
  const PartTrainer train_row = [&](size_t i) {
    return TrainRow(exp, rows[i]);
  };
  // Every row starts from the Simple Baseline: it trains first, on every
  // core. Then the helper trains the first rows (a, b, c), this process
  // from the last (e, d), then whatever of c, b, a is left.
  MAPN_RETURN_IF_ERROR(TrainBaseline(exp).status());
  const TwoProcessOrder order = HelperTakesFirstHalf(rows.size());
  MAPN_RETURN_IF_ERROR(
      TrainInTwoProcesses(exp, train_row, order.helper, order.own));
  if (exp.is_helper()) return Rows();
  std::vector<std::pair<TrainedModel, std::string>> models;
  for (size_t i = 0; i < rows.size(); ++i) {
    MAPN_ASSIGN_OR_RETURN(TrainedModel trained, train_row(i));
    models.emplace_back(trained,
                        absl::StrCat(rows[i].id, " ", rows[i].composition));
  }
  MAPN_ASSIGN_OR_RETURN(TrainedModel sb, TrainBaseline(exp));
  models.emplace_back(sb, "per-frame simple_baseline");
  return EvaluateAll(exp, models);
}

// What the paper claims of rows a to e, against ours.
std::vector<std::string> ClaimNotes(const Rows& rows) {
  const EvalResult& a = rows[0];
  const EvalResult& b = rows[1];
  const EvalResult& c = rows[2];
  const EvalResult& d = rows[3];
  const EvalResult& e = rows[4];
  return {
      absl::StrCat("warping (b - a): ", Signed(b.pck.mean - a.pck.mean),
                   " PCK (paper +2.0); residual gate vs frame gate (e - d): ",
                   Signed(e.pck.mean - d.pck.mean), " PCK, ",
                   Signed(e.keyframe_percent - d.keyframe_percent),
                   " keyframe points (paper +0.2 PCK, -14.2 points)"),
      absl::StrCat("e against always extracting (e - c): ",
                   Signed(e.pck.mean - c.pck.mean), " PCK at ",
                   absl::StrFormat("%.1f", e.keyframe_percent),
                   " % keyframes (paper -0.4 at 29.0 %)")};
}

absl::StatusOr<ExperimentReport> RunTable1Ablation(Experiment& exp) {
  const std::vector<TableRow> rows = Table1Rows();
  MAPN_ASSIGN_OR_RETURN(
      Rows results, RunOverSplits(exp, [&] { return RunSplit(exp, rows); }));
  if (exp.is_helper()) return ExperimentReport();

  ComparisonTable table;
  table.title = absl::StrCat(
      "Table 1: usage of the compressed information (ours: ResNet-",
      exp.reference_model().extractor.depth,
      "; paper: Penn Action test, ResNet-34, 256 x 256)");
  table.notes = OurNotes(exp, ClaimNotes(results));
  table.setting_names = {"F_P", "Warp", "Gate"};
  table.rows = ComparisonRows(rows, results);
  table.rows.push_back(
      {"SB", {"every frame", "", ""}, &results[rows.size()], std::nullopt});
  return FinishReport(exp, "table1", table, std::move(results));
}

}  // namespace

const ExperimentDefinition kTable1Ablation = {
    "table1_ablation",
    "Table 1 of the paper: rows a to e (keyframe features only, without and "
    "with the motion warp; every frame; the frame gate; the residual gate), "
    "plus the per-frame Simple Baseline.",
    RunTable1Ablation,
};

}  // namespace mapn::experiments
