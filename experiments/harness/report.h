// File: report.h
//
// What an experiment hands back and writes: its report (the table printed
// last, the files written, the evaluated rows) with the table's files (rows
// as CSV and JSON, the comparison as CSV, the text), the notes every table
// carries about our side of it (data, model, schedule, lambda, seed), the
// evaluation of a list of models in order, and the average of a row over
// several splits.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Rows rows,
//                         EvaluateAll(exp, {{sb, "SB"}, {mapn, "MAPN"}}));
//   ComparisonTable table;                         // paper_tables.h
//   table.notes = OurNotes(exp, {"MAPN - SB: " + Signed(d) + " PCK"});
//   table.rows.push_back({"e", {"yes"}, &rows[1], PaperTable1()[4]});
//   return FinishReport(exp, "table1", table, std::move(rows));
#ifndef MAPN_EXPERIMENTS_HARNESS_REPORT_H_
#define MAPN_EXPERIMENTS_HARNESS_REPORT_H_

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/harness/experiment.h"
#include "experiments/paper_tables.h"
#include "mapn/train/evaluate.h"

namespace mapn::experiments {

using Rows = std::vector<train::EvalResult>;

struct ExperimentReport {
  std::string table;               // printed last
  std::vector<std::string> files;  // CSV, JSON, PNG written
  Rows rows;
};

// "1e-04"-style text of a lambda, as row labels and the CSV use it.
std::string LambdaText(double lambda);
// "+0.25", "-1.50": a change, with its sign.
std::string Signed(double value);

// The lines under a table's title about our side: the data, the model, the
// schedule, lambda and seed, whether rows are averaged over splits, then
// `extra`, each indented under "Ours: ".
std::vector<std::string> OurNotes(const Experiment& exp,
                                  const std::vector<std::string>& extra);

// The report of a table whose rows point into `rows`: the table's text,
// and its files written into the results folder, <stem>_rows.csv / .json
// (every row), <stem>.csv (the comparison) and <stem>.txt (the text).
absl::StatusOr<ExperimentReport> FinishReport(const Experiment& exp,
                                              const std::string& stem,
                                              const ComparisonTable& table,
                                              Rows rows);

// Evaluates the models in order, each under its label.
absl::StatusOr<Rows> EvaluateAll(
    Experiment& exp,
    const std::vector<std::pair<TrainedModel, std::string>>& models);

// The column-wise mean of the same row over several splits: PCK by
// AveragePck, keyframe %, MACs, ratios and fps by their means, frames and
// keyframes summed. InvalidArgument for no rows.
absl::StatusOr<train::EvalResult> AverageEvalResults(
    std::span<const train::EvalResult> splits);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_REPORT_H_
