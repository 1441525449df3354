// `bazel run //experiments:table3_comparison`: Table 3 of the paper: per-frame
// Simple Baseline R18 and R34, MAPN R18 and R34, fixed-interval keyframes at
// MAPN's keyframe rate and the residual-energy gate calibrated to it. Flags:
// experiment_main.h; results: docs/results.md.
#include "experiments/experiment_main.h"

int main(int argc, char** argv) {
  return mapn::experiments::ExperimentMain(
      argc, argv, "table3_comparison",
      "Table 3 of the paper: per-frame Simple Baseline R18 and R34, MAPN R18 "
      "and R34, fixed-interval keyframes at MAPN's keyframe rate and the "
      "residual-energy gate calibrated to it.",
      mapn::experiments::RunTable3Comparison);
}
