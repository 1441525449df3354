// File: table2_gate_design.h
//
// Table 2 of the paper, the design of the residual gate: without temporal
// context or positional encoding, with temporal context, with both (the
// paper's). Each row is a composition type and its labels
// (table2_gate_design.cc); every gate trains stages 3 and 4 on the shared
// stage-2 model.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Experiment exp,
//                         Experiment::Create(kTable2GateDesign.name, options));
//   MAPN_ASSIGN_OR_RETURN(ExperimentReport report,
//                         kTable2GateDesign.run(exp));
#ifndef MAPN_EXPERIMENTS_TABLE2_GATE_DESIGN_TABLE2_GATE_DESIGN_H_
#define MAPN_EXPERIMENTS_TABLE2_GATE_DESIGN_TABLE2_GATE_DESIGN_H_

#include "experiments/experiment_main.h"

namespace mapn::experiments {

extern const ExperimentDefinition kTable2GateDesign;

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_TABLE2_GATE_DESIGN_TABLE2_GATE_DESIGN_H_
