// `bazel run //experiments:table1_ablation`: Table 1 of the paper: rows a to e
// (keyframe features only, without and with the motion warp; every frame; the
// frame gate; the residual gate), plus the per-frame Simple Baseline. Flags:
// experiment_main.h; results: docs/results.md.
#include "experiments/experiment_main.h"

int main(int argc, char** argv) {
  return mapn::experiments::ExperimentMain(
      argc, argv, "table1_ablation",
      "Table 1 of the paper: rows a to e (keyframe features only, without and "
      "with the motion warp; every frame; the frame gate; the residual gate), "
      "plus the per-frame Simple Baseline.",
      mapn::experiments::RunTable1Ablation);
}
