// File: scales.h
//
// The scales of the experiments: what data, how large a model and how long
// a schedule one run of every experiment uses. A scale gives its model as
// option settings ("extractor.width=24", the form of `mapn train --set`),
// applied to each composition where the composition has the field
// (model::SettingsFor): the Simple Baseline has no ConvLSTM, so
// "propagator.kernel=1" does not apply to it, and an ablation of any shape
// gets the scale's widths without being listed anywhere. Every setting must
// fit the paper's composition (Mapn), which has every field a scale sets,
// so a misspelt field is an error rather than silently ignored; the
// settings on Mapn are also what the tables' notes describe.
//
//   smoke    seconds, for tests: the code path end to end
//   default  each experiment within 45 minutes on the 2-core machine
//   large    the default model on 2.7 x the data, 2.5 x the schedule
//   paper    the paper's model size (days on a CPU)
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Scale scale, ScaleByName("default"));
//   MAPN_ASSIGN_OR_RETURN(model::Mapn::Options reference,
//                         ReferenceModel(scale));
//   std::cout << ModelText(reference);  // "ResNet-18 (base width 24), ..."
//   train::TrainOptions stage1 =
//       StageOptions(scale, train::Stage::kSingleFrame, /*seed=*/1);
#ifndef MAPN_EXPERIMENTS_HARNESS_SCALES_H_
#define MAPN_EXPERIMENTS_HARNESS_SCALES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/data/synthpose.h"
#include "mapn/model/compositions.h"
#include "mapn/train/train_options.h"

namespace mapn::experiments {

struct Scale {
  std::string name;
  std::string description;
  // The SynthPose set (--dataset=synthpose); its knobs are part of the key.
  SynthPoseOptions synth;
  // The model of every row as "role.field=value" settings (and
  // "input_size=S", every row's crop size); the joints come from the
  // dataset, Table 3 adds "extractor.depth=34".
  std::vector<std::string> model;
  int64_t windows_per_step = 4;
  int64_t max_steps_per_epoch = 0;  // 0: every window once per epoch
  std::array<int64_t, 4> epochs = {1, 1, 1, 1};  // stages 1 to 4
  // Stage 1's step decay (x 0.1 at these 0-based epochs).
  std::vector<int64_t> stage1_lr_decay_epochs;
  double keep_probability = 0.3;  // stage 2
  // Lambda of eq. (15) for the learned gates of Tables 1 to 3.
  double gate_lambda = 1e-4;
  // Figure 5's sweep.
  std::vector<double> lambda_sweep;
};

std::vector<std::string> ScaleNames();
// InvalidArgument listing the names for an unknown one.
absl::StatusOr<Scale> ScaleByName(const std::string& name);

// The scale's settings on the paper's composition: InvalidArgument naming
// the scale and the setting when one is malformed or fits no field of it.
absl::StatusOr<model::Mapn::Options> ReferenceModel(const Scale& scale);

// "ResNet-18 (base width 24), 128 x 128 crops, head 32 channels, 1 x 1
// ConvLSTM".
std::string ModelText(const model::Mapn::Options& options);
// "epochs per stage 16/4/2/2, 4 windows of 12 frames per step".
std::string ScheduleText(const Scale& scale);

// The options of one stage at this scale: its epochs, batch, schedule and
// stage 2's keep probability; `gate_lambda` when given (learned policies),
// else the trainer's default.
train::TrainOptions StageOptions(const Scale& scale, train::Stage stage,
                                 uint64_t seed, bool quiet = false,
                                 std::optional<double> gate_lambda = {});

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_SCALES_H_
