// File: fig5_lambda_sweep.h
//
// Figure 5 of the paper: MAPN trained with each lambda of eq. (15) of the
// scale's sweep, beside always extracting (Table 1 c) and the per-frame
// Simple Baseline; a CSV of the sweep, a PNG scatter plot of PCK against
// keyframe percentage (marker size by GMACs per frame) and the table.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Experiment exp,
//                         Experiment::Create(kFig5LambdaSweep.name, options));
//   MAPN_ASSIGN_OR_RETURN(ExperimentReport report, kFig5LambdaSweep.run(exp));
//   // report.files: ..., fig5_lambda_sweep.csv, fig5_lambda_sweep.png
#ifndef MAPN_EXPERIMENTS_FIG5_LAMBDA_SWEEP_FIG5_LAMBDA_SWEEP_H_
#define MAPN_EXPERIMENTS_FIG5_LAMBDA_SWEEP_FIG5_LAMBDA_SWEEP_H_

#include "experiments/experiment_main.h"

namespace mapn::experiments {

extern const ExperimentDefinition kFig5LambdaSweep;

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_FIG5_LAMBDA_SWEEP_FIG5_LAMBDA_SWEEP_H_
