// File: table1_ablation.h
//
// Table 1 of the paper, the usage of the compressed information: rows a to
// e (keyframe features only, without and with the motion warp; features of
// every frame; the gate on decoded P-frames; the residual gate), plus the
// per-frame Simple Baseline for reference. Each row is a composition type
// and its labels (table1_ablation.cc); a row whose policy learns trains
// stages 3 and 4 on the shared stage-2 model, any other its own ConvLSTM
// on its own decisions (stage 2) and then everything (stage 4), both from
// the stage-1 Simple Baseline.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Experiment exp,
//                         Experiment::Create(kTable1Ablation.name, options));
//   MAPN_ASSIGN_OR_RETURN(ExperimentReport report, kTable1Ablation.run(exp));
//   std::cout << report.table;
#ifndef MAPN_EXPERIMENTS_TABLE1_ABLATION_TABLE1_ABLATION_H_
#define MAPN_EXPERIMENTS_TABLE1_ABLATION_TABLE1_ABLATION_H_

#include "experiments/experiment_main.h"

namespace mapn::experiments {

extern const ExperimentDefinition kTable1Ablation;

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_TABLE1_ABLATION_TABLE1_ABLATION_H_
