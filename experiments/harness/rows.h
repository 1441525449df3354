// File: rows.h
//
// A row of an experiment's table is a composition type plus its labels:
// the id printed in the table, the labels of its setting columns and,
// when the paper has the same setting, the paper's row to print beneath.
// Row<C> turns the type into what the harness needs of it at run time (its
// name, whether its policy learns, how to train it), so that a list of rows
// of different types is one std::vector<TableRow>, and an ablation is one
// alias and one line in its experiment's file:
//
//   using NoWarpEveryFrame =
//       model::SimpleBaselineComposition<"nowarp_every_frame",
//                                        model::NoWarpConvLstm,
//                                        model::AlwaysExtract>;
//   const std::vector<TableRow> rows = {
//       Row<model::IFrameOnlyNoWarp>{"a", {"no", "no", "no"},
//                                    PaperTable1()[0]},
//       Row<NoWarpEveryFrame>{"f", {"yes", "no", "no"}},
//   };
//   MAPN_ASSIGN_OR_RETURN(TrainedModel f,
//                         rows[1].train(exp, {.stages = {kStage2, kStage4},
//                                             .init = sb}));
//   ...
//   table.rows = ComparisonRows(rows, results);  // id, labels, ours, paper
#ifndef MAPN_EXPERIMENTS_HARNESS_ROWS_H_
#define MAPN_EXPERIMENTS_HARNESS_ROWS_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/harness/experiment.h"
#include "experiments/paper_tables.h"
#include "mapn/model/composition.h"
#include "mapn/train/evaluate.h"

namespace mapn::experiments {

struct TableRow {
  std::string id;                   // "a"
  std::vector<std::string> labels;  // one per setting column
  std::optional<PaperRow> paper;    // absent: beyond the paper
  std::string composition;          // the type's kName
  // The type's policy learns (kLearned, as its table entry says): it needs
  // the shared stage-2 model and stages 3 and 4.
  bool learned_policy = false;
  // Experiment::Train<C>.
  std::function<absl::StatusOr<TrainedModel>(Experiment&, const TrainSpec&)>
      train;
};

template <model::NamedComposition C>
struct Row : TableRow {
  Row(std::string id, std::vector<std::string> labels,
      std::optional<PaperRow> paper = std::nullopt)
      : TableRow{std::move(id),
                 std::move(labels),
                 std::move(paper),
                 std::string(C::kName),
                 C::Impl::PolicyType::ContainedType::kLearned,
                 [](Experiment& exp, const TrainSpec& spec) {
                   return exp.Train<C>(spec);
                 }} {}
};

// The table rows of `rows`, each with its result (results[i] for rows[i],
// which must outlive the table) and its paper row.
inline std::vector<ComparisonRow> ComparisonRows(
    const std::vector<TableRow>& rows,
    const std::vector<train::EvalResult>& results) {
  std::vector<ComparisonRow> out;
  for (size_t i = 0; i < rows.size() && i < results.size(); ++i) {
    out.push_back({rows[i].id, rows[i].labels, &results[i], rows[i].paper});
  }
  return out;
}

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_ROWS_H_
