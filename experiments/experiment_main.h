// File: experiment_main.h
//
// The main() of every experiment binary: the shared flags (--scale,
// --dataset, --data_root, --work_dir, --threads, --seed, --quiet), the
// Experiment they describe, the run, the paths of what it wrote and, last on
// stdout, its table. Progress goes to stderr. Relative paths are taken from
// the directory `bazel run` was called in.
//
// Example (experiments/table1_ablation.cc):
//
//   int main(int argc, char** argv) {
//     return mapn::experiments::ExperimentMain(
//         argc, argv, "table1_ablation", "Table 1 of the paper: ...",
//         mapn::experiments::RunTable1Ablation);
//   }
#ifndef MAPN_EXPERIMENTS_EXPERIMENT_MAIN_H_
#define MAPN_EXPERIMENTS_EXPERIMENT_MAIN_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "experiments/experiment_lib.h"
#include "experiments/experiments.h"

namespace mapn::experiments {

using ExperimentRunner =
    std::function<absl::StatusOr<ExperimentReport>(Experiment&)>;

// Exit codes: 0 done, 1 failed (the message on stderr), 2 bad flags.
int ExperimentMain(int argc, char** argv, const std::string& name,
                   const std::string& summary, const ExperimentRunner& run);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_EXPERIMENT_MAIN_H_
