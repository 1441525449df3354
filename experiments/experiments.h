// File: experiments.h
//
// The paper's experiments, each from data to table on an Experiment
// (experiment_lib.h), shared by the binaries of experiments/BUILD and by
// the end-to-end test:
//
//   RunTable1Ablation    rows a to e of Table 1 (+ the per-frame Simple
//                        Baseline for reference)
//   RunTable2GateDesign  the three gate designs of Table 2
//   RunFig5LambdaSweep   lambda sweep of Figure 5: CSV and PNG scatter plot
//   RunTable3Comparison  Table 3: per-frame Simple Baseline R18 / R34, MAPN
//                        R18 / R34, fixed-interval keyframes at MAPN's rate,
//                        the residual-energy gate calibrated to that rate
//
// All of them start from the same two cached checkpoints per backbone: the
// stage-1 Simple Baseline and the stage-2 ConvLSTM trained with random
// keyframes ("mapn" after stage 2); rows add their own stages on top
// (docs/results.md lists every recipe).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Experiment exp,
//                         Experiment::Create("table1_ablation", options));
//   MAPN_ASSIGN_OR_RETURN(ExperimentReport report, RunTable1Ablation(exp));
//   std::cout << report.table;
#ifndef MAPN_EXPERIMENTS_EXPERIMENTS_H_
#define MAPN_EXPERIMENTS_EXPERIMENTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/experiment_lib.h"
#include "mapn/train/evaluate.h"

namespace mapn::experiments {

struct ExperimentReport {
  std::string table;               // printed last
  std::vector<std::string> files;  // CSV, JSON, PNG written
  std::vector<train::EvalResult> rows;
};

absl::StatusOr<ExperimentReport> RunTable1Ablation(Experiment& experiment);
absl::StatusOr<ExperimentReport> RunTable2GateDesign(Experiment& experiment);
absl::StatusOr<ExperimentReport> RunFig5LambdaSweep(Experiment& experiment);
absl::StatusOr<ExperimentReport> RunTable3Comparison(Experiment& experiment);

// The stage-1 Simple Baseline with a ResNet of `depth`, and the stage-2
// MAPN (ConvLSTM and head trained with random keyframes) on top of it:
// the checkpoints every experiment shares.
absl::StatusOr<TrainedModel> TrainBaseline(Experiment& experiment, int depth);
absl::StatusOr<TrainedModel> TrainPropagation(Experiment& experiment,
                                              const TrainedModel& baseline);

// "1e-04"-style text of a lambda, as row labels and the CSV use it.
std::string LambdaText(double lambda);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_EXPERIMENTS_H_
