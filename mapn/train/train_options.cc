#include "mapn/train/train_options.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace mapn::train {

std::string StageName(Stage stage) {
  switch (stage) {
    case Stage::kSingleFrame:
      return "1 (single frame)";
    case Stage::kPropagation:
      return "2 (propagation)";
    case Stage::kGate:
      return "3 (gate)";
    case Stage::kJoint:
      return "4 (joint)";
  }
  return "?";
}

absl::StatusOr<Stage> StageFromNumber(int number) {
  if (number < 1 || number > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("stage must be 1, 2, 3 or 4, got ", number));
  }
  return static_cast<Stage>(number);
}

TrainOptions StageDefaults(Stage stage) {
  TrainOptions options;
  options.stage = stage;
  options.learning_rate = stage == Stage::kJoint ? 1e-4 : 1e-3;
  return options;
}

absl::Status ValidateTrainOptions(const TrainOptions& o) {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(what);
  };
  const int stage = static_cast<int>(o.stage);
  if (stage < 1 || stage > 4)
    return bad(absl::StrCat("stage must be 1 to 4, got ", stage));
  if (o.epochs < 1)
    return bad(absl::StrCat("epochs must be >= 1, got ", o.epochs));
  if (o.batch_size < 1) {
    return bad(absl::StrCat("batch_size must be >= 1, got ", o.batch_size));
  }
  if (o.max_steps_per_epoch < 0) {
    return bad(absl::StrCat("max_steps_per_epoch must be >= 0, got ",
                            o.max_steps_per_epoch));
  }
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) {
    return bad(
        absl::StrCat("learning_rate must be positive, got ", o.learning_rate));
  }
  if (!(o.beta1 >= 0 && o.beta1 < 1)) {
    return bad(absl::StrCat("beta1 must be in [0, 1), got ", o.beta1));
  }
  if (!(o.beta2 >= 0 && o.beta2 < 1)) {
    return bad(absl::StrCat("beta2 must be in [0, 1), got ", o.beta2));
  }
  if (!(o.adam_epsilon > 0)) {
    return bad(
        absl::StrCat("adam_epsilon must be positive, got ", o.adam_epsilon));
  }
  if (!(o.weight_decay >= 0)) {
    return bad(absl::StrCat("weight_decay must be >= 0, got ", o.weight_decay));
  }
  for (int64_t e : o.lr_decay_epochs) {
    if (e < 0)
      return bad(absl::StrCat("lr_decay_epochs must be >= 0, got ", e));
  }
  if (!(o.lr_decay_factor > 0 && o.lr_decay_factor <= 1)) {
    return bad(absl::StrCat("lr_decay_factor must be in (0, 1], got ",
                            o.lr_decay_factor));
  }
  if (!(o.gate_lambda >= 0) || !std::isfinite(o.gate_lambda)) {
    return bad(absl::StrCat("gate_lambda must be >= 0, got ", o.gate_lambda));
  }
  if (!(o.keep_probability >= 0 && o.keep_probability <= 1)) {
    return bad(absl::StrCat("keep_probability must be in [0, 1], got ",
                            o.keep_probability));
  }
  if (!(o.heatmap_sigma > 0)) {
    return bad(
        absl::StrCat("heatmap_sigma must be positive, got ", o.heatmap_sigma));
  }
  if (!(o.progress_seconds >= 0)) {
    return bad(absl::StrCat("progress_seconds must be >= 0, got ",
                            o.progress_seconds));
  }
  if (o.resume && o.checkpoint_path.empty()) {
    return bad("resume needs a checkpoint_path");
  }
  return ValidateAugmentOptions(o.augment);
}

std::string TrainOptionsToJson(const TrainOptions& o) {
  nlohmann::json j;
  j["stage"] = static_cast<int>(o.stage);
  j["batch_size"] = o.batch_size;
  j["max_steps_per_epoch"] = o.max_steps_per_epoch;
  j["learning_rate"] = o.learning_rate;
  j["beta1"] = o.beta1;
  j["beta2"] = o.beta2;
  j["adam_epsilon"] = o.adam_epsilon;
  j["weight_decay"] = o.weight_decay;
  j["lr_decay_epochs"] = o.lr_decay_epochs;
  j["lr_decay_factor"] = o.lr_decay_factor;
  j["gate_lambda"] = o.gate_lambda;
  j["keep_probability"] = o.keep_probability;
  j["heatmap_sigma"] = o.heatmap_sigma;
  j["augment_scale_factor"] = o.augment.scale_factor;
  j["augment_rotation_degrees"] = o.augment.rotation_degrees;
  j["augment_rotation_probability"] = o.augment.rotation_probability;
  j["augment_flip_probability"] = o.augment.flip_probability;
  j["seed"] = o.seed;
  return j.dump();
}

}  // namespace mapn::train
