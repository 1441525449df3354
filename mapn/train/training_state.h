// File: training_state.h
//
// What the trainer writes after every epoch so that a run can stop and go
// on: the model (as a checkpoint would hold it: its type, composition,
// options and tensors), the Adam state of every trained parameter, the
// stage, the number of finished epochs, the per-epoch losses and the
// options the stage was started with. Written atomically (a temporary
// file, then a rename), in PyTorch's pickle format like
// mapn/model/checkpoint.h, so an interrupted write leaves the previous
// epoch's file in place. model::ReadModelFile and model::LoadPipeline read
// the model out of a training state as out of a checkpoint.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(TrainingState state, ReadTrainingState(path));
//   // state.model.composition, state.stage, state.epochs_done
#ifndef MAPN_TRAIN_TRAINING_STATE_H_
#define MAPN_TRAIN_TRAINING_STATE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/checkpoint.h"

namespace mapn::train {

// Adam's state of one parameter.
struct AdamSlot {
  std::string name;  // the parameter's dotted path in the model
  int64_t step = 0;
  at::Tensor exp_avg;
  at::Tensor exp_avg_sq;
};

struct TrainingState {
  model::ModelFile model;  // its training fields are the ones below
  int stage = 0;           // 1 to 4
  int64_t epochs_done = 0;
  std::vector<double> epoch_losses;  // one per finished epoch
  std::string options_json;          // TrainOptionsToJson of the stage
  std::vector<AdamSlot> optimizer;
};

absl::Status WriteTrainingState(const std::string& path,
                                const TrainingState& state);

// NotFound when the file does not exist; InvalidArgument naming the file
// when it is not a training state.
absl::StatusOr<TrainingState> ReadTrainingState(const std::string& path);

}  // namespace mapn::train

#endif  // MAPN_TRAIN_TRAINING_STATE_H_
