// File: plan.h
//
// The plan every experiment shares. Its models grow from two checkpoints
// per backbone: the stage-1 Simple Baseline, and the stage-2 MAPN (ConvLSTM
// and head trained with random keyframes) on top of it; rows add their own
// stages (docs/results.md lists every recipe). Its work runs over the
// dataset's splits (rows averaged) and over two processes: what every row
// needs trains first on every core, then a helper process (helper_process.h)
// and this one split the rest, and this one evaluates.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Rows rows, RunOverSplits(exp, [&]() -> ... {
//     MAPN_ASSIGN_OR_RETURN(TrainedModel sb, TrainBaseline(exp));
//     const TwoProcessOrder order = HelperTakesFirstHalf(rows.size());
//     MAPN_RETURN_IF_ERROR(
//         TrainInTwoProcesses(exp, train_row, order.helper, order.own));
//     if (exp.is_helper()) return Rows();
//     return EvaluateAll(exp, ...);
//   }));
#ifndef MAPN_EXPERIMENTS_HARNESS_PLAN_H_
#define MAPN_EXPERIMENTS_HARNESS_PLAN_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/harness/experiment.h"
#include "experiments/harness/report.h"

namespace mapn::experiments {

// The stage-1 Simple Baseline with `settings` on top of the scale's
// ("extractor.depth=34").
absl::StatusOr<TrainedModel> TrainBaseline(
    Experiment& exp, const std::vector<std::string>& settings = {});
// The stage-2 MAPN on top of `baseline`, with the baseline's settings.
absl::StatusOr<TrainedModel> TrainPropagation(Experiment& exp,
                                              const TrainedModel& baseline);

// Runs `body` once per split of `exp` (after UseSplit; a helper only its
// own split) and averages its rows over the splits (AverageEvalResults);
// one split: its rows.
absl::StatusOr<Rows> RunOverSplits(
    Experiment& exp, const std::function<absl::StatusOr<Rows>()>& body);

// Trains part i of an experiment's models.
using PartTrainer = std::function<absl::StatusOr<TrainedModel>(size_t)>;

// Trains the parts in two processes: a helper process trains
// `helper_order`; this one `own_order`, which should end with the helper's
// parts in reverse, so that what the helper has not started yet is trained
// here (the checkpoint locks make each skip what the other trained). In this
// process it returns once both have finished (a failed helper costs time,
// not results: its parts are then trained here), in the helper once its part
// is done. Without a helper, this process trains `own_order`.
absl::Status TrainInTwoProcesses(Experiment& exp, const PartTrainer& train,
                                 const std::vector<size_t>& helper_order,
                                 const std::vector<size_t>& own_order);

// Waits for `helper`; on failure logs a warning and returns false (whatever
// it did not train is trained here when asked for).
bool WaitForHelper(const Experiment& exp, HelperProcess& helper);

struct TwoProcessOrder {
  std::vector<size_t> helper;
  std::vector<size_t> own;
};
// For `parts` rows of like cost: the helper trains the first half (rounded
// up) in order, this process every row from the last, so that the two meet
// in the middle.
TwoProcessOrder HelperTakesFirstHalf(size_t parts);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_PLAN_H_
