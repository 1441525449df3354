// File: table3_comparison.h
//
// Table 3 of the paper (Table 4 on Sub-JHMDB), the comparison: the
// per-frame Simple Baseline with ResNet-18 and ResNet-34, MAPN with each,
// and the two training-free policies at MAPN-R18's measured keyframe rate
// (fixed-interval keyframes, and the residual-energy gate calibrated on the
// training split to that rate), each fine-tuned (stage 4) on its own
// decisions from the shared stage-2 model. The helper process trains the
// ResNet-34 chain while this one trains and evaluates the ResNet-18 rows;
// every row is evaluated on the same thread count, so the fps compare.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Experiment exp,
//                         Experiment::Create(kTable3Comparison.name, options));
//   MAPN_ASSIGN_OR_RETURN(ExperimentReport report,
//                         kTable3Comparison.run(exp));
#ifndef MAPN_EXPERIMENTS_TABLE3_COMPARISON_TABLE3_COMPARISON_H_
#define MAPN_EXPERIMENTS_TABLE3_COMPARISON_TABLE3_COMPARISON_H_

#include "experiments/experiment_main.h"

namespace mapn::experiments {

extern const ExperimentDefinition kTable3Comparison;

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_TABLE3_COMPARISON_TABLE3_COMPARISON_H_
