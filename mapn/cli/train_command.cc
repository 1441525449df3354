// `mapn train`: trains a composition (mapn/model/compositions.h) on a labelled
// dataset, one stage of the paper's section 3.5 or all of them in order
// (mapn/train/trainer.h), writing a resumable training state after every
// epoch (OUT.state) and the trained model to OUT.
#include <ATen/ATen.h>
#include <sys/stat.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mapn/cli/list_flags.h"
#include "mapn/cli/model_flags.h"
#include "mapn/cli/subcommand.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/composition.h"
#include "mapn/train/datasets.h"
#include "mapn/train/distributed.h"
#include "mapn/train/pose_windows.h"
#include "mapn/train/trainer.h"

ABSL_FLAG(std::string, data_root, "", "Root directory of the dataset.");
ABSL_FLAG(std::string, dataset, "synthpose",
          "synthpose (SynthPose in Penn Action's layout), penn_action or "
          "jhmdb (Sub-JHMDB).");
ABSL_FLAG(int, split, 1, "Sub-JHMDB split, 1 to 3.");
ABSL_FLAG(std::string, subset, "train",
          "Sequences to train on: train, test or all.");
ABSL_FLAG(std::string, cache_dir, "",
          "Where sequences without an MPEG-4 GOP-12 video get one (Penn Action "
          "and Sub-JHMDB frames); SynthPose brings its own.");
ABSL_FLAG(std::string, model, "mapn",
          "The composition to train (the list below).");
ABSL_FLAG(std::vector<std::string>, set, {},
          "Model options by path, comma-separated: ROLE.NAME=VALUE with ROLE "
          "extractor, propagator, policy or head (e.g. "
          "extractor.depth=34,propagator.kernel=1), or input_size=S. The "
          "flags below are shorthands for the common ones.");
ABSL_FLAG(std::string, stage, "all",
          "1 (single-frame Simple Baseline), 2 (propagator), 3 (gate), 4 "
          "(joint fine-tuning), or all: every stage the model has parameters "
          "for, in order.");
ABSL_FLAG(std::string, init, "",
          "Checkpoint (model or training state) whose tensors of the same "
          "names initialise the model, e.g. a stage-1 simple_baseline for a "
          "mapn.");
ABSL_FLAG(std::string, imagenet, "",
          "torchvision ResNet state_dict (.pth) for the encoder (needs "
          "--backbone_width 64).");
ABSL_FLAG(std::string, out, "",
          "Where the trained model goes; OUT.state holds the "
          "training state written after every epoch.");
ABSL_FLAG(std::string, epochs, "10",
          "Epochs per stage: one number for every stage, or one per stage run "
          "(comma-separated).");
ABSL_FLAG(bool, resume, false,
          "Continue from OUT.state if it exists (same flags as the run that "
          "wrote it; --epochs may grow).");
ABSL_FLAG(std::string, lr, "",
          "Adam learning rate per stage (one value or one per stage); empty: "
          "1e-3, and 1e-4 for stage 4.");
ABSL_FLAG(
    std::string, lr_decay_epochs, "",
    "Comma-separated epochs of each stage at which the rate is multiplied "
    "by --lr_decay_factor.");
ABSL_FLAG(double, lr_decay_factor, 0.1, "Step decay factor.");
ABSL_FLAG(double, weight_decay, 0.0, "Adam weight decay.");
ABSL_FLAG(int, windows_per_step, 4,
          "Batch size: GOP windows of 12 frames per step.");
ABSL_FLAG(int, max_steps, 0, "Steps per epoch at most (0: every window once).");
ABSL_FLAG(
    double, gate_lambda, 3e-4,
    "lambda of loss (15): the loss one unit of P-frame keyframe rate costs "
    "(stages 3 and 4). Its effect depends on the heatmap loss's scale: on "
    "SynthPose with the bundled model's size, 1e-4 keeps every frame, 3e-4 "
    "about 30 %, 5e-4 only the I-frames (docs/results.md).");
ABSL_FLAG(double, keep_probability, 0.3,
          "Stage 2: chance that a P-frame's features are extracted (learned "
          "gates only; training-free policies decide themselves).");
ABSL_FLAG(bool, augment, true,
          "Scale +-25 %, rotation +-30 degrees, horizontal flip (Simple "
          "Baseline's).");
ABSL_FLAG(int64_t, seed, 1,
          "Seed of the initial weights, order, augmentation and noise.");
ABSL_FLAG(int, input_size, 0,
          "Crop side S, a multiple of the encoder's stride (32 for ResNet); 0: "
          "the model's default, 256.");
ABSL_FLAG(int, backbone_depth, 0,
          "ResNet depth 18, 34 or 50 (extractor.depth); 0: 18.");
ABSL_FLAG(int, backbone_width, 0,
          "ResNet base width (extractor.width; 64 is torchvision's); 0: 64.");
ABSL_FLAG(int, head_channels, 0,
          "Deconvolution head width (head.width); 0: 256.");
ABSL_FLAG(int, lstm_kernel, 0,
          "ConvLSTM gate kernel, odd (propagator.kernel; 1: a 1 x 1 ConvLSTM, "
          "9 x cheaper per step than 3); 0: 3.");
ABSL_FLAG(int, keyframe_interval, 0,
          "fixed_interval: extract every k-th frame (policy.interval); 0: 4.");
ABSL_FLAG(double, energy_threshold, -1,
          "residual_energy: extract when the mean |residual| / 255 exceeds "
          "it (policy.threshold); < 0: 0.02.");
ABSL_FLAG(std::string, world_size, "",
          "Processes training together (data-parallel, c10d Gloo); empty: "
          "$WORLD_SIZE, else 1. Each step's --windows_per_step windows are "
          "split among them.");
ABSL_FLAG(std::string, rank, "",
          "This process's rank, 0 to world_size - 1; empty: $RANK, else 0. "
          "Rank 0 prints progress and writes OUT.state and OUT.");
ABSL_FLAG(std::string, master_addr, "",
          "Where rank 0 listens for the others; empty: $MASTER_ADDR, else "
          "127.0.0.1.");
ABSL_FLAG(std::string, master_port, "",
          "Rank 0's port; empty: $MASTER_PORT, else 29500.");
ABSL_FLAG(double, dist_timeout_s, 300,
          "Seconds the ranks wait for each other (rendezvous, every step); a "
          "rank that dies makes the others fail within this.");
ABSL_FLAG(
    int, window_cache_mb, 1024,
    "Decoded windows kept in memory between epochs (0: decode every time).");

namespace mapn::cli {

extern const Subcommand kTrainCommand;  // defined at the end of the file

namespace {

// The distributed flags as given (empty ones are not), resolved against
// torchrun's variables (train/distributed.h).
absl::StatusOr<train::DistributedOptions> DistributedFromFlags() {
  train::DistributedFlags flags;
  const std::pair<const char*, std::optional<int>*> integers[] = {
      {"world_size", &flags.world_size},
      {"rank", &flags.rank},
      {"master_port", &flags.master_port}};
  const std::string values[] = {absl::GetFlag(FLAGS_world_size),
                                absl::GetFlag(FLAGS_rank),
                                absl::GetFlag(FLAGS_master_port)};
  for (size_t i = 0; i < 3; ++i) {
    if (values[i].empty()) continue;
    int value = 0;
    if (!absl::SimpleAtoi(values[i], &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", integers[i].first, " has '", values[i],
                       "', which is not an integer"));
    }
    *integers[i].second = value;
  }
  if (const std::string addr = absl::GetFlag(FLAGS_master_addr);
      !addr.empty()) {
    flags.master_addr = addr;
  }
  flags.timeout_seconds = absl::GetFlag(FLAGS_dist_timeout_s);
  return train::ResolveDistributedOptions(flags, train::EnvironmentVariable);
}

// The shorthand flags of model options, as given.
std::vector<OptionShorthand> ModelShorthands() {
  const auto positive = [](int v) {
    return v > 0 ? absl::StrCat(v) : std::string();
  };
  const double threshold = absl::GetFlag(FLAGS_energy_threshold);
  return {
      {"input_size", "input_size", positive(absl::GetFlag(FLAGS_input_size))},
      {"backbone_depth", "extractor.depth",
       positive(absl::GetFlag(FLAGS_backbone_depth))},
      {"backbone_width", "extractor.width",
       positive(absl::GetFlag(FLAGS_backbone_width))},
      {"head_channels", "head.width",
       positive(absl::GetFlag(FLAGS_head_channels))},
      {"lstm_kernel", "propagator.kernel",
       positive(absl::GetFlag(FLAGS_lstm_kernel))},
      {"keyframe_interval", "policy.interval",
       positive(absl::GetFlag(FLAGS_keyframe_interval))},
      {"energy_threshold", "policy.threshold",
       threshold >= 0 ? absl::StrCat(threshold) : std::string()},
  };
}

// Imports --imagenet and --init into the model, trains the stages the
// flags ask for and writes the model to `out`.
absl::Status TrainAndSave(
    const model::AnyPipeline& net, train::PoseWindows& windows,
    const std::string& stage_flag, const std::vector<int64_t>& epochs,
    const std::vector<double>& lr, const std::vector<int64_t>& decay,
    const std::string& out, const std::shared_ptr<train::Communicator>& comm) {
  // Rank 0 speaks and writes; the others train quietly (they get rank 0's
  // weights at the start of every stage).
  const bool lead = comm->rank() == 0;
  if (const std::string path = absl::GetFlag(FLAGS_imagenet); !path.empty()) {
    MAPN_ASSIGN_OR_RETURN(
        model::ImportReport report,
        model::ImportTorchvisionResNet(path, net.extractor()));
    if (lead) {
      std::cerr << "encoder: " << report.loaded << " tensors from " << path
                << "\n";
    }
  }
  if (const std::string path = absl::GetFlag(FLAGS_init); !path.empty()) {
    MAPN_ASSIGN_OR_RETURN(model::WeightsReport report,
                          model::LoadMatchingWeights(path, net.module()));
    if (lead) {
      std::cerr << "init: " << report.loaded << " tensors from " << path << ", "
                << report.kept.size() << " kept their initial values, "
                << report.unused.size() << " in the file unused\n";
    }
  }
  std::vector<train::Stage> stages;
  if (stage_flag == "all") {
    stages = train::StagesFor(net);
  } else {
    stages = {static_cast<train::Stage>(std::stoi(stage_flag))};
  }
  MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> stage_epochs,
                        PerStage("epochs", epochs, stages.size()));
  std::vector<double> stage_lr;
  if (!lr.empty()) {
    MAPN_ASSIGN_OR_RETURN(stage_lr, PerStage("lr", lr, stages.size()));
  }
  std::vector<train::TrainOptions> options;
  for (size_t i = 0; i < stages.size(); ++i) {
    train::TrainOptions o = train::StageDefaults(stages[i]);
    o.epochs = stage_epochs[i];
    if (!stage_lr.empty()) o.learning_rate = stage_lr[i];
    o.lr_decay_epochs = decay;
    o.lr_decay_factor = absl::GetFlag(FLAGS_lr_decay_factor);
    o.weight_decay = absl::GetFlag(FLAGS_weight_decay);
    o.batch_size = absl::GetFlag(FLAGS_windows_per_step);
    o.max_steps_per_epoch = absl::GetFlag(FLAGS_max_steps);
    o.gate_lambda = absl::GetFlag(FLAGS_gate_lambda);
    o.keep_probability = absl::GetFlag(FLAGS_keep_probability);
    if (!absl::GetFlag(FLAGS_augment)) o.augment = train::NoAugmentation();
    o.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
    o.checkpoint_path = out + ".state";
    o.resume = absl::GetFlag(FLAGS_resume);
    o.quiet = !lead;
    o.communicator = comm;
    MAPN_RETURN_IF_ERROR(train::ValidateTrainOptions(o));
    options.push_back(std::move(o));
  }
  MAPN_ASSIGN_OR_RETURN(std::vector<train::TrainReport> reports,
                        train::TrainStages(net, windows, options));
  if (!lead) return absl::OkStatus();
  for (const train::TrainReport& r : reports) {
    std::cerr << "stage " << train::StageName(r.stage) << ": " << r.epochs
              << " epochs, final loss "
              << (r.epoch_losses.empty() ? 0.0 : r.epoch_losses.back()) << ", "
              << r.seconds << " s\n";
  }
  return net.Save(out);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int RunTrain(const std::vector<std::string>& /*args*/,
             const CommandContext& context) {
  const Subcommand& self = kTrainCommand;
  const std::string root = absl::GetFlag(FLAGS_data_root);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (root.empty()) return UsageError(self, "--data_root is required");
  if (!IsDirectory(root)) {
    return UsageError(
        self, absl::StrCat("--data_root '", root, "' is not a directory"));
  }
  if (out.empty()) return UsageError(self, "--out is required");
  const std::string stage_flag = absl::GetFlag(FLAGS_stage);
  if (stage_flag != "all" && stage_flag != "1" && stage_flag != "2" &&
      stage_flag != "3" && stage_flag != "4") {
    return UsageError(self,
                      absl::StrCat("--stage must be 1, 2, 3, 4 or all, got '",
                                   stage_flag, "'"));
  }
  const std::string model_name = absl::GetFlag(FLAGS_model);
  absl::StatusOr<const model::CompositionEntry*> entry =
      context.compositions->Get(model_name);
  if (!entry.ok()) {
    return UsageError(self, std::string(entry.status().message()));
  }
  absl::StatusOr<Split> subset =
      train::SplitFromName(absl::GetFlag(FLAGS_subset));
  if (!subset.ok())
    return UsageError(self,
                      absl::StrCat("--subset: ", subset.status().message()));
  absl::StatusOr<std::vector<int64_t>> epochs =
      ParseList<int64_t>("epochs", absl::GetFlag(FLAGS_epochs));
  if (!epochs.ok())
    return UsageError(self, std::string(epochs.status().message()));
  if (epochs->empty()) return UsageError(self, "--epochs is empty");
  absl::StatusOr<std::vector<double>> lr =
      ParseList<double>("lr", absl::GetFlag(FLAGS_lr));
  if (!lr.ok()) return UsageError(self, std::string(lr.status().message()));
  absl::StatusOr<std::vector<int64_t>> decay = ParseList<int64_t>(
      "lr_decay_epochs", absl::GetFlag(FLAGS_lr_decay_epochs));
  if (!decay.ok())
    return UsageError(self, std::string(decay.status().message()));
  if (absl::GetFlag(FLAGS_windows_per_step) < 1) {
    return UsageError(self, "--windows_per_step must be >= 1");
  }
  if (absl::GetFlag(FLAGS_max_steps) < 0)
    return UsageError(self, "--max_steps must be >= 0");
  if (absl::GetFlag(FLAGS_window_cache_mb) < 0) {
    return UsageError(self, "--window_cache_mb must be >= 0");
  }
  absl::StatusOr<train::DistributedOptions> distributed =
      DistributedFromFlags();
  if (!distributed.ok()) {
    return UsageError(self, std::string(distributed.status().message()));
  }
  const bool lead = distributed->rank == 0;

  std::vector<std::string> notes;
  absl::StatusOr<std::vector<std::string>> settings = ModelSettings(
      *entry, absl::GetFlag(FLAGS_set), ModelShorthands(), &notes);
  for (const std::string& note : notes) {
    std::cerr << "mapn train: " << note << "\n";
  }

  absl::StatusOr<PoseDataset> dataset = train::LoadDatasetByName(
      absl::GetFlag(FLAGS_dataset), root, absl::GetFlag(FLAGS_split), *subset);
  if (!dataset.ok()) {
    if (absl::IsInvalidArgument(dataset.status())) {
      return UsageError(self, std::string(dataset.status().message()));
    }
    return Failure(self.name, std::string(dataset.status().message()));
  }
  if (!settings.ok()) {
    return UsageError(self, std::string(settings.status().message()));
  }
  model::PipelineOptionValues values;
  for (const std::string& setting : *settings) {
    // Malformed ones were refused by ModelSettings.
    model::ApplyOptionOverride(setting, values).IgnoreError();
  }
  // The head outputs the dataset's joints, where that is one of its options.
  absl::StatusOr<model::PipelineOptionValues> joints = model::SettingsFor(
      (*entry)->defaults,
      {absl::StrCat("head.out_channels=", dataset->joints.num_joints())});
  if (joints.ok() && !joints->components[3].empty()) {
    values.components[3].push_back(joints->components[3].front());
  }
  at::manual_seed(static_cast<uint64_t>(absl::GetFlag(FLAGS_seed)));
  absl::StatusOr<model::AnyPipeline> net = (*entry)->create(values, "");
  if (!net.ok()) return UsageError(self, std::string(net.status().message()));
  if (lead) {
    std::cerr << "training on " << dataset->sequences.size() << " sequences ("
              << dataset->TotalFrames() << " frames) of " << root << "\n";
  }
  train::PoseWindowsOptions window_options;
  window_options.input_size = static_cast<int>(net->input_size());
  window_options.cache_megabytes = absl::GetFlag(FLAGS_window_cache_mb);
  window_options.video_cache_dir = absl::GetFlag(FLAGS_cache_dir);
  absl::StatusOr<train::PoseWindows> windows =
      train::PoseWindows::Create(*std::move(dataset), window_options);
  if (!windows.ok())
    return Failure(self.name, std::string(windows.status().message()));

  // After the data, so that a rank whose data fails does not hold the
  // others in the rendezvous longer than its own loading took.
  absl::StatusOr<std::shared_ptr<train::Communicator>> comm =
      train::ConnectGloo(*distributed);
  if (!comm.ok())
    return Failure(self.name, std::string(comm.status().message()));
  if (lead && distributed->world_size > 1) {
    std::cerr << "distributed: " << distributed->world_size
              << " processes (gloo) through " << distributed->master_addr << ":"
              << distributed->master_port << "\n";
  }

  const absl::Status status = TrainAndSave(*net, *windows, stage_flag, *epochs,
                                           *lr, *decay, out, *comm);
  if (!status.ok()) {
    if (absl::IsInvalidArgument(status)) {
      return UsageError(self, std::string(status.message()));
    }
    return Failure(self.name, std::string(status.message()));
  }
  if (lead) std::cerr << "wrote " << out << "\n";
  return kExitOk;
}

}  // namespace

const Subcommand kTrainCommand = {
    "train",
    "Trains a model (the paper's four stages) on a labelled dataset.",
    "mapn train --data_root DIR --out MODEL [--dataset "
    "synthpose|penn_action|jhmdb] "
    "[--model NAME] [--stage 1|2|3|4|all] [flags]",
    "Trains the composition --model (listed below) on the --subset\n"
    "sequences of the dataset, cropped per GOP to the model's input size.\n"
    "Its options: --set ROLE.NAME=VALUE, or the shorthand flags. Stages: 1 "
    "the\n"
    "Simple Baseline on single frames, 2 the ConvLSTM with the extractor\n"
    "frozen, 3 the gate alone with loss (15), 4 everything; 'all' runs those\n"
    "the model has parameters for. After every epoch OUT.state is written\n"
    "atomically; --resume continues from it and ends with the same weights\n"
    "as an uninterrupted run (same flags and thread count, MAPN_NUM_THREADS).\n"
    "OUT gets the trained model (for mapn eval). Data-parallel on several\n"
    "processes or machines: --world_size, --rank, --master_addr,\n"
    "--master_port (or torchrun's WORLD_SIZE, RANK, MASTER_ADDR,\n"
    "MASTER_PORT); every rank gets the same flags and data, each step's\n"
    "windows are split among them, rank 0 prints and writes. docs/training.md\n"
    "has the details and measured speeds.",
    __FILE__,
    0,
    0,
    &RunTrain,
    /*lists_compositions=*/true};

}  // namespace mapn::cli
