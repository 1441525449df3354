// `bazel run //experiments:table2_gate_design`: Table 2 of the paper. Flags:
// experiments/experiment_main.h; results: docs/results.md.
#include "experiments/experiment_main.h"
#include "experiments/table2_gate_design/table2_gate_design.h"

int main(int argc, char** argv) {
  return mapn::experiments::ExperimentMain(
      argc, argv, mapn::experiments::kTable2GateDesign);
}
