// `bazel run //experiments:table1_ablation`: Table 1 of the paper. Flags:
// experiments/experiment_main.h; results: docs/results.md.
#include "experiments/experiment_main.h"
#include "experiments/table1_ablation/table1_ablation.h"

int main(int argc, char** argv) {
  return mapn::experiments::ExperimentMain(argc, argv,
                                           mapn::experiments::kTable1Ablation);
}
