#include "experiments/harness/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/status_macros.h"
#include "mapn/eval/pck.h"

namespace mapn::experiments {

using train::EvalResult;

std::string LambdaText(double lambda) {
  return absl::StrFormat("%.0e", lambda);
}

std::string Signed(double value) { return absl::StrFormat("%+.2f", value); }

std::vector<std::string> OurNotes(const Experiment& exp,
                                  const std::vector<std::string>& extra) {
  std::vector<std::string> notes = {
      absl::StrCat("Ours: ", exp.DataDescription()),
      absl::StrCat("      ", ModelText(exp.reference_model()), "; ",
                   ScheduleText(exp.scale()), "; lambda ",
                   LambdaText(exp.scale().gate_lambda), ", seed ",
                   exp.options().seed)};
  if (exp.num_splits() > 1) {
    notes.push_back(absl::StrCat("      rows averaged over the ",
                                 exp.num_splits(), " splits"));
  }
  for (const std::string& n : extra) notes.push_back("      " + n);
  return notes;
}

absl::StatusOr<ExperimentReport> FinishReport(const Experiment& exp,
                                              const std::string& stem,
                                              const ComparisonTable& table,
                                              Rows rows) {
  ExperimentReport report;
  report.table = FormatComparisonTable(table);
  MAPN_ASSIGN_OR_RETURN(report.files, exp.WriteRows(stem + "_rows", rows));
  MAPN_ASSIGN_OR_RETURN(std::string csv,
                        exp.WriteResult(stem + ".csv", ComparisonCsv(table)));
  MAPN_ASSIGN_OR_RETURN(std::string txt,
                        exp.WriteResult(stem + ".txt", report.table));
  report.files.push_back(csv);
  report.files.push_back(txt);
  // Moving the vector keeps its elements where the table's rows point.
  report.rows = std::move(rows);
  return report;
}

absl::StatusOr<Rows> EvaluateAll(
    Experiment& exp,
    const std::vector<std::pair<TrainedModel, std::string>>& models) {
  Rows rows;
  for (const auto& [trained, label] : models) {
    MAPN_ASSIGN_OR_RETURN(EvalResult row, exp.Evaluate(trained, label));
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<EvalResult> AverageEvalResults(
    std::span<const EvalResult> splits) {
  if (splits.empty()) {
    return absl::InvalidArgumentError("no rows to average");
  }
  if (splits.size() == 1) return splits[0];
  EvalResult out = splits[0];
  std::vector<PckResult> pck;
  const double n = static_cast<double>(splits.size());
  out.frames = out.keyframes = 0;
  out.keyframe_percent = out.true_macs_ratio = out.hrnet_macs_ratio = 0;
  out.model_seconds = out.total_seconds = out.model_fps = out.end_to_end_fps =
      0;
  out.macs_per_frame = {};
  out.baseline_macs_per_frame = {};
  out.sequences.clear();
  for (const EvalResult& r : splits) {
    pck.push_back(r.pck);
    out.frames += r.frames;
    out.keyframes += r.keyframes;
    out.keyframe_percent += r.keyframe_percent / n;
    out.macs_per_frame = out.macs_per_frame + r.macs_per_frame * (1.0 / n);
    out.baseline_macs_per_frame =
        out.baseline_macs_per_frame + r.baseline_macs_per_frame * (1.0 / n);
    out.true_macs_ratio += r.true_macs_ratio / n;
    out.hrnet_macs_ratio += r.hrnet_macs_ratio / n;
    out.model_seconds += r.model_seconds;
    out.total_seconds += r.total_seconds;
    out.model_fps += r.model_fps / n;
    out.end_to_end_fps += r.end_to_end_fps / n;
  }
  MAPN_ASSIGN_OR_RETURN(out.pck, AveragePck(pck, out.label));
  return out;
}

}  // namespace mapn::experiments
