// `bazel run //experiments:table2_gate_design`: Table 2 of the paper: the
// residual gate without temporal convolutions or positional encoding, with
// temporal convolutions, and with both. Flags: experiment_main.h; results:
// docs/results.md.
#include "experiments/experiment_main.h"

int main(int argc, char** argv) {
  return mapn::experiments::ExperimentMain(
      argc, argv, "table2_gate_design",
      "Table 2 of the paper: the residual gate without temporal convolutions "
      "or positional encoding, with temporal convolutions, and with both.",
      mapn::experiments::RunTable2GateDesign);
}
