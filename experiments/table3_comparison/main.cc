// `bazel run //experiments:table3_comparison`: Table 3 of the paper. Flags:
// experiments/experiment_main.h; results: docs/results.md.
#include "experiments/experiment_main.h"
#include "experiments/table3_comparison/table3_comparison.h"

int main(int argc, char** argv) {
  return mapn::experiments::ExperimentMain(
      argc, argv, mapn::experiments::kTable3Comparison);
}
