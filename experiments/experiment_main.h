// File: experiment_main.h
//
// The main() of every experiment binary: the shared flags (--scale,
// --dataset, --data_root, --work_dir, --threads, --seed, --quiet, --helper),
// the Experiment they describe (harness/experiment.h), the run, the paths of
// what it wrote and, last on stdout, its table. Progress goes to stderr.
// Relative paths are taken from the directory `bazel run` was called in.
// An experiment is an ExperimentDefinition: its name (the binary's, and the
// folder its results go to), the summary --help prints, and its run.
//
// Example (experiments/table1_ablation/main.cc):
//
//   int main(int argc, char** argv) {
//     return mapn::experiments::ExperimentMain(
//         argc, argv, mapn::experiments::kTable1Ablation);
//   }
#ifndef MAPN_EXPERIMENTS_EXPERIMENT_MAIN_H_
#define MAPN_EXPERIMENTS_EXPERIMENT_MAIN_H_

#include "absl/status/statusor.h"

namespace mapn::experiments {

// Declared here so that a binary's main() compiles without LibTorch's
// headers (harness/experiment.h, harness/report.h).
class Experiment;
struct ExperimentReport;

struct ExperimentDefinition {
  const char* name;     // "table1_ablation"
  const char* summary;  // the first paragraph of --help
  absl::StatusOr<ExperimentReport> (*run)(Experiment& experiment);
};

// Exit codes: 0 done, 1 failed (the message on stderr), 2 bad flags.
int ExperimentMain(int argc, char** argv,
                   const ExperimentDefinition& experiment);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_EXPERIMENT_MAIN_H_
