// `mapn eval`: evaluates a trained model (a checkpoint of `mapn train`, or
// its training state) on a dataset's test sequences the way the paper's
// tables report it: PCK@0.2 per joint group, keyframe percentage, MACs per
// frame in both conventions and frames per second (mapn/train/evaluate.h).
// Its flags are defined as eval_<name> and given as --<name>
// (subcommand.h explains why).
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "mapn/cli/model_flags.h"
#include "mapn/cli/subcommand.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/composition.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/train/datasets.h"
#include "mapn/train/evaluate.h"
#include "mapn/train/pose_windows.h"

ABSL_FLAG(std::string, eval_checkpoint, "",
          "The model: a checkpoint of mapn train (or its OUT.state).");
ABSL_FLAG(std::string, eval_data_root, "", "Root directory of the dataset.");
ABSL_FLAG(std::string, eval_dataset, "synthpose",
          "synthpose, penn_action or jhmdb.");
ABSL_FLAG(int, eval_split, 1, "Sub-JHMDB split, 1 to 3.");
ABSL_FLAG(std::string, eval_subset, "test",
          "Sequences to evaluate: train, test or all.");
ABSL_FLAG(std::string, eval_cache_dir, "",
          "Where sequences without an MPEG-4 GOP-12 video get one.");
ABSL_FLAG(std::string, eval_csv, "", "Also write the table row as CSV here.");
ABSL_FLAG(std::string, eval_json, "", "Also write the results as JSON here.");
ABSL_FLAG(std::string, eval_label, "",
          "The row's name (default: the model's name).");
ABSL_FLAG(int, eval_batch, 1, "Windows per Run().");
ABSL_FLAG(std::vector<std::string>, eval_set, {},
          "Change model options that shape no tensor before evaluating, "
          "comma-separated ROLE.NAME=VALUE (e.g. policy.interval=6).");
ABSL_FLAG(int, eval_set_keyframe_interval, 0,
          "fixed_interval: evaluate with this interval instead of the "
          "checkpoint's (policy.interval; 0: keep).");
ABSL_FLAG(double, eval_set_energy_threshold, -1,
          "residual_energy: evaluate with this threshold instead of the "
          "checkpoint's (policy.threshold; < 0: keep).");

namespace mapn::cli {

extern const Subcommand kEvalCommand;  // defined at the end of the file

namespace {

int RunEval(const std::vector<std::string>& /*args*/,
            const CommandContext& context) {
  const Subcommand& self = kEvalCommand;
  const std::string checkpoint = absl::GetFlag(FLAGS_eval_checkpoint);
  const std::string root = absl::GetFlag(FLAGS_eval_data_root);
  if (checkpoint.empty()) return UsageError(self, "--checkpoint is required");
  if (root.empty()) return UsageError(self, "--data_root is required");
  if (absl::GetFlag(FLAGS_eval_batch) < 1) {
    return UsageError(self, "--batch must be >= 1");
  }
  absl::StatusOr<Split> subset =
      train::SplitFromName(absl::GetFlag(FLAGS_eval_subset));
  if (!subset.ok()) {
    return UsageError(self,
                      absl::StrCat("--subset: ", subset.status().message()));
  }
  const int interval = absl::GetFlag(FLAGS_eval_set_keyframe_interval);
  const double threshold = absl::GetFlag(FLAGS_eval_set_energy_threshold);
  absl::StatusOr<std::vector<std::string>> overrides =
      ModelSettings(nullptr, absl::GetFlag(FLAGS_eval_set),
                    {{"set_keyframe_interval", "policy.interval",
                      interval > 0 ? absl::StrCat(interval) : ""},
                     {"set_energy_threshold", "policy.threshold",
                      threshold >= 0 ? absl::StrCat(threshold) : ""}});
  if (!overrides.ok()) {
    return UsageError(self, std::string(overrides.status().message()));
  }
  absl::StatusOr<model::AnyPipeline> net =
      movenet::LoadOnPretrained(checkpoint, *context.compositions, *overrides);
  if (!net.ok()) return Failure(self.name, std::string(net.status().message()));

  absl::StatusOr<PoseDataset> dataset =
      train::LoadDatasetByName(absl::GetFlag(FLAGS_eval_dataset), root,
                               absl::GetFlag(FLAGS_eval_split), *subset);
  if (!dataset.ok()) {
    if (absl::IsInvalidArgument(dataset.status())) {
      return UsageError(self, std::string(dataset.status().message()));
    }
    return Failure(self.name, std::string(dataset.status().message()));
  }
  train::PoseWindowsOptions window_options;
  window_options.input_size = static_cast<int>(net->input_size());
  window_options.cache_megabytes =
      0;  // stream: end-to-end fps includes decoding
  window_options.video_cache_dir = absl::GetFlag(FLAGS_eval_cache_dir);
  absl::StatusOr<train::PoseWindows> windows =
      train::PoseWindows::Create(*std::move(dataset), window_options);
  if (!windows.ok())
    return Failure(self.name, std::string(windows.status().message()));

  train::EvalOptions options;
  options.label = absl::GetFlag(FLAGS_eval_label).empty()
                      ? net->composition()
                      : absl::GetFlag(FLAGS_eval_label);
  options.batch_size = absl::GetFlag(FLAGS_eval_batch);
  options.quiet = false;
  absl::StatusOr<train::EvalResult> result =
      train::Evaluate(*net, *windows, options);
  if (!result.ok())
    return Failure(self.name, std::string(result.status().message()));
  const std::vector<train::EvalResult> rows = {*result};
  std::cout << train::FormatEvalTable(rows);
  if (const std::string path = absl::GetFlag(FLAGS_eval_csv); !path.empty()) {
    if (const absl::Status s = train::WriteEvalCsv(path, rows); !s.ok()) {
      return Failure(self.name, std::string(s.message()));
    }
    std::cerr << "wrote " << path << "\n";
  }
  if (const std::string path = absl::GetFlag(FLAGS_eval_json); !path.empty()) {
    if (const absl::Status s = train::WriteEvalJson(path, rows); !s.ok()) {
      return Failure(self.name, std::string(s.message()));
    }
    std::cerr << "wrote " << path << "\n";
  }
  return kExitOk;
}

}  // namespace

const Subcommand kEvalCommand = {
    "eval",
    "Evaluates a trained model: PCK@0.2 per joint group, keyframes, MACs, fps.",
    "mapn eval --checkpoint MODEL --data_root DIR [--dataset "
    "synthpose|penn_action|jhmdb] [--csv FILE] [--json FILE] [flags]",
    "Runs the model of MODEL (written by mapn train; its composition is read\n"
    "from the file) on the --subset sequences, each GOP cropped with its\n"
    "box, and prints the paper's table row: PCK@0.2 (L = max(w, h) of each\n"
    "frame's box; Penn Action and SynthPose count visible joints, Sub-JHMDB\n"
    "all; Mean = mean of the per-joint PCKs) per joint group, the keyframe\n"
    "percentage, executed GMACs per frame (true and HRNet-tool conventions)\n"
    "and their ratio to the per-frame Simple Baseline, and frames per second\n"
    "of the model alone and end to end (decoding included).",
    __FILE__,
    0,
    0,
    &RunEval};

}  // namespace mapn::cli
