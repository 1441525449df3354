// `bazel run //experiments:fig5_lambda_sweep`: Figure 5 of the paper: MAPN
// trained with several gate weights lambda; CSV and a PNG plot of PCK against
// keyframe percentage, marker size by GMACs. Flags: experiment_main.h; results:
// docs/results.md.
#include "experiments/experiment_main.h"

int main(int argc, char** argv) {
  return mapn::experiments::ExperimentMain(
      argc, argv, "fig5_lambda_sweep",
      "Figure 5 of the paper: MAPN trained with several gate weights lambda; "
      "CSV and a PNG plot of PCK against keyframe percentage, marker size by "
      "GMACs.",
      mapn::experiments::RunFig5LambdaSweep);
}
