// `bazel run //experiments:fig5_lambda_sweep`: Figure 5 of the paper. Flags:
// experiments/experiment_main.h; results: docs/results.md.
#include "experiments/experiment_main.h"
#include "experiments/fig5_lambda_sweep/fig5_lambda_sweep.h"

int main(int argc, char** argv) {
  return mapn::experiments::ExperimentMain(argc, argv,
                                           mapn::experiments::kFig5LambdaSweep);
}
