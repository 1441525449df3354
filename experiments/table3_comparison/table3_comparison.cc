// Table 3: the two backbone chains, the calibrated training-free rows, the
// plan over two processes and thread counts, and the table with its goals.
// Rows: 0 SB R18, 1 SB R34, 2 MAPN R34, 3 MAPN R18, 4 fixed interval R18,
// 5 residual energy R18.
#include "experiments/table3_comparison/table3_comparison.h"

#include <ATen/Parallel.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "experiments/harness/calibration.h"
#include "experiments/harness/experiment.h"
#include "experiments/harness/plan.h"
#include "experiments/harness/report.h"
#include "experiments/paper_tables.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/compositions.h"

namespace mapn::experiments {
namespace {

using train::EvalResult;

const std::vector<std::string> kR18 = {"extractor.depth=18"};
const std::vector<std::string> kR34 = {"extractor.depth=34"};

// What the run learns besides its rows: how the training-free rows were
// set, and the thread count of every evaluation.
struct RunNotes {
  std::vector<std::string> calibration;  // one line per split
  int eval_threads = 0;
};

// The stage-1 Simple Baseline, the shared stage-2 model and MAPN's stages 3
// and 4 of one backbone.
absl::StatusOr<TrainedModel> TrainMapnChain(
    Experiment& exp, const std::vector<std::string>& backbone) {
  MAPN_ASSIGN_OR_RETURN(TrainedModel sb, TrainBaseline(exp, backbone));
  MAPN_ASSIGN_OR_RETURN(TrainedModel shared, TrainPropagation(exp, sb));
  return exp.Train<model::Mapn>(
      {.stages = {kStage3, kStage4}, .init = shared, .settings = backbone});
}

struct TrainingFreeRows {
  int64_t interval = 0;
  TrainedModel fixed;
  TrainedModel energy;
};

// The two training-free policies at `rate`, each fine-tuned (stage 4) on
// its own decisions from the shared stage-2 model, like MAPN's own stage 4.
absl::StatusOr<TrainingFreeRows> TrainAtRate(Experiment& exp,
                                             const TrainedModel& shared,
                                             double rate, RunNotes& notes) {
  TrainingFreeRows out;
  out.interval = IntervalForKeyframePercent(rate);
  MAPN_ASSIGN_OR_RETURN(const double threshold,
                        exp.CalibrateEnergyThreshold(rate));
  notes.calibration.push_back(absl::StrCat(
      exp.num_splits() > 1 ? absl::StrCat("split ", exp.split(), ": ") : "",
      "MAPN R18 keyframes ", absl::StrFormat("%.1f", rate),
      " % -> fixed interval ", out.interval,
      " (round(100 / rate)), residual-energy threshold ",
      absl::StrFormat("%.5f", threshold),
      " (calibrated on the training split to that rate)"));
  exp.Log(notes.calibration.back());
  std::vector<std::string> fixed = shared.settings;
  fixed.push_back(absl::StrCat("policy.interval=", out.interval));
  // %.17g: the setting's text parses back to this very double.
  std::vector<std::string> energy = shared.settings;
  energy.push_back(absl::StrFormat("policy.threshold=%.17g", threshold));
  MAPN_ASSIGN_OR_RETURN(
      out.fixed, exp.Train<model::FixedIntervalWarp>(
                     {.stages = {kStage4}, .init = shared, .settings = fixed}));
  MAPN_ASSIGN_OR_RETURN(
      out.energy,
      exp.Train<model::ResidualEnergyWarp>(
          {.stages = {kStage4}, .init = shared, .settings = energy}));
  return out;
}

// The two chains share nothing, so the helper starts at once with the
// longer ResNet-34 chain; the ResNet-18 rows are evaluated while it still
// trains, and the ResNet-34 rows after it on as many threads, so that every
// row's fps compares.
absl::StatusOr<Rows> RunSplit(Experiment& exp, RunNotes& notes) {
  if (exp.is_helper()) {
    MAPN_RETURN_IF_ERROR(TrainMapnChain(exp, kR34).status());
    return Rows();
  }
  MAPN_ASSIGN_OR_RETURN(HelperProcess helper, exp.StartHelper());
  MAPN_ASSIGN_OR_RETURN(TrainedModel mapn18, TrainMapnChain(exp, kR18));
  MAPN_ASSIGN_OR_RETURN(TrainedModel sb18, TrainBaseline(exp, kR18));
  MAPN_ASSIGN_OR_RETURN(TrainedModel shared18, TrainPropagation(exp, sb18));
  MAPN_ASSIGN_OR_RETURN(EvalResult mapn18_row,
                        exp.Evaluate(mapn18, "MAPN R18"));
  MAPN_ASSIGN_OR_RETURN(
      TrainingFreeRows free,
      TrainAtRate(exp, shared18, mapn18_row.keyframe_percent, notes));

  notes.eval_threads = at::get_num_threads();
  MAPN_ASSIGN_OR_RETURN(
      Rows r18,
      EvaluateAll(exp, {{sb18, "SimpleBaseline R18"},
                        {free.fixed, absl::StrCat("fixed interval ",
                                                  free.interval, " R18")},
                        {free.energy, "residual energy R18"}}));
  MAPN_ASSIGN_OR_RETURN(TrainedModel mapn34, TrainMapnChain(exp, kR34));
  WaitForHelper(exp, helper);
  MAPN_ASSIGN_OR_RETURN(TrainedModel sb34, TrainBaseline(exp, kR34));
  const int all_threads = at::get_num_threads();
  at::set_num_threads(notes.eval_threads);
  absl::StatusOr<Rows> r34 =
      EvaluateAll(exp, {{sb34, "SimpleBaseline R34"}, {mapn34, "MAPN R34"}});
  at::set_num_threads(all_threads);
  if (!r34.ok()) return r34.status();
  return Rows{std::move(r18[0]),     std::move((*r34)[0]), std::move((*r34)[1]),
              std::move(mapn18_row), std::move(r18[1]),    std::move(r18[2])};
}

// The goals of the project against the per-frame baseline and the
// training-free policies, and every row's speed.
std::vector<std::string> GoalNotes(const Rows& rows, const RunNotes& notes) {
  const EvalResult& sb18 = rows[0];
  const EvalResult& mapn18 = rows[3];
  const EvalResult& fixed = rows[4];
  const EvalResult& energy = rows[5];
  const double gap = mapn18.pck.mean - sb18.pck.mean;
  auto verdict = [](bool ok) { return ok ? "met" : "NOT met"; };
  std::vector<std::string> extra = notes.calibration;
  extra.push_back(absl::StrCat(
      "Goal, MAPN R18 against the per-frame Simple Baseline R18: PCK ",
      Signed(gap), " (within 0.5: ", verdict(gap >= -0.5), "), keyframes ",
      absl::StrFormat("%.1f", mapn18.keyframe_percent),
      " % (<= 35 %: ", verdict(mapn18.keyframe_percent <= 35), "), MACs ",
      absl::StrFormat("%.3f", mapn18.true_macs_ratio),
      " x (<= 0.35 x: ", verdict(mapn18.true_macs_ratio <= 0.35), ")"));
  extra.push_back(absl::StrCat(
      "Goal, MAPN R18 against fixed-interval keyframes at its rate: PCK ",
      Signed(mapn18.pck.mean - fixed.pck.mean), " at ",
      absl::StrFormat("%.1f", mapn18.keyframe_percent), " vs ",
      absl::StrFormat("%.1f", fixed.keyframe_percent), " % keyframes (",
      verdict(mapn18.pck.mean > fixed.pck.mean),
      "); against the residual-energy gate: PCK ",
      Signed(mapn18.pck.mean - energy.pck.mean), " at ",
      absl::StrFormat("%.1f", energy.keyframe_percent), " %"));
  std::vector<std::string> speeds;
  for (const EvalResult& r : rows) {
    speeds.push_back(absl::StrFormat("%s %.0f", r.label, r.model_fps));
  }
  extra.push_back(
      absl::StrCat("model fps (one window at a time, ", notes.eval_threads,
                   " thread", notes.eval_threads == 1 ? "" : "s",
                   ", this machine): ", absl::StrJoin(speeds, ", ")));
  return extra;
}

ComparisonTable ComparisonOf(const Experiment& exp, const Rows& rows,
                             const RunNotes& notes) {
  const bool jhmdb = exp.options().dataset == "jhmdb";
  const std::vector<PaperRow>& paper = jhmdb ? PaperTable4() : PaperTable3();
  ComparisonTable table;
  table.title =
      absl::StrCat("Table 3: comparison (paper: ",
                   jhmdb ? "Table 4, Sub-JHMDB" : "Penn Action",
                   "; its baseline row is the Simple Baseline with ResNet-50)");
  table.notes = OurNotes(exp, GoalNotes(rows, notes));
  table.setting_names = {"Method"};
  table.rows = {
      {"1", {"Simple Baseline R18, every frame"}, &rows[0], paper[0]},
      {"2", {"Simple Baseline R34, every frame"}, &rows[1], std::nullopt},
      {"-", {paper[1].label}, nullptr, paper[1]},
  };
  if (!jhmdb) {
    table.rows.push_back({"3", {"MAPN R34"}, &rows[2], paper[2]});
    table.rows.push_back({"4", {"MAPN R18"}, &rows[3], paper[3]});
  } else {
    table.rows.push_back({"3", {"MAPN R34"}, &rows[2], std::nullopt});
    table.rows.push_back({"4", {"MAPN R18"}, &rows[3], paper[2]});
  }
  table.rows.push_back(
      {"5", {"fixed-interval keyframes R18"}, &rows[4], std::nullopt});
  table.rows.push_back(
      {"6", {"residual-energy gate R18"}, &rows[5], std::nullopt});
  return table;
}

absl::StatusOr<ExperimentReport> RunTable3Comparison(Experiment& exp) {
  RunNotes notes;
  MAPN_ASSIGN_OR_RETURN(
      Rows rows, RunOverSplits(exp, [&] { return RunSplit(exp, notes); }));
  if (exp.is_helper()) return ExperimentReport();
  const ComparisonTable table = ComparisonOf(exp, rows, notes);
  return FinishReport(exp, "table3", table, std::move(rows));
}

}  // namespace

const ExperimentDefinition kTable3Comparison = {
    "table3_comparison",
    "Table 3 of the paper: per-frame Simple Baseline R18 and R34, MAPN R18 "
    "and R34, fixed-interval keyframes at MAPN's keyframe rate and the "
    "residual-energy gate calibrated to it.",
    RunTable3Comparison,
};

}  // namespace mapn::experiments
