#include "experiments/experiment_lib.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/registry.h"
#include "mapn/train/datasets.h"
#include "mapn/train/pose_windows.h"
#include "mapn/train/training_state.h"
#include "nlohmann/json.hpp"

namespace mapn::experiments {
namespace {

namespace fs = std::filesystem;
using train::EvalResult;
using train::PoseWindows;
using train::Stage;
using Rows = std::vector<EvalResult>;

// Bumped when the meaning of a cached checkpoint changes without its recipe
// changing (e.g. a fix in the initialisation below).
constexpr int kRecipeVersion = 1;

Scale SmokeScale() {
  Scale s;
  s.name = "smoke";
  s.description =
      "a few steps on tiny clips: checks the code path end to end, numbers "
      "mean nothing";
  s.synth.seed = 3;
  s.synth.num_clips = 6;
  s.synth.width = 96;
  s.synth.height = 64;
  s.synth.min_frames = 14;
  s.synth.max_frames = 14;
  s.model.backbone_width = 8;
  s.model.input_size = 64;
  s.model.head_channels = 16;
  s.model.lstm_kernel = 1;
  s.windows_per_step = 2;
  s.max_steps_per_epoch = 1;
  s.epochs = {1, 1, 1, 1};
  s.gate_lambda = 1e-4;
  s.lambda_sweep = {1e-4, 1e-3};
  return s;
}

// The 45-minute scale. docs/results.md explains the choices: ResNet of base
// width 24 at 128 x 128 with a 32-channel head and a 1 x 1 ConvLSTM, so that
// the cost every frame pays whatever the gate decides (head, ConvLSTM, gate)
// is 7 % of a per-frame Simple Baseline and the 0.35 x goal is reachable.
Scale DefaultScale() {
  Scale s;
  s.name = "default";
  s.description =
      "SynthPose 96 clips (about half for training), ResNet base width 24, "
      "128 x 128 crops, head 32 channels, 1 x 1 ConvLSTM";
  s.synth.seed = 2021;
  s.synth.num_clips = 96;
  s.model.backbone_width = 24;
  s.model.input_size = 128;
  s.model.head_channels = 32;
  s.model.lstm_kernel = 1;
  s.windows_per_step = 4;
  s.epochs = {16, 4, 2, 2};
  s.stage1_lr_decay_epochs = {12};
  // Calibrated (docs/results.md): after stage 3, 1e-4 leaves the gate open
  // on every frame, 5e-4 closes it on every P-frame, 3e-4 extracts 30 %.
  s.gate_lambda = 3e-4;
  s.lambda_sweep = {1e-4, 2e-4, 3e-4, 4e-4, 1e-3};
  return s;
}

Scale LargeScale() {
  Scale s = DefaultScale();
  s.name = "large";
  s.description =
      "the default model on SynthPose 256 clips with a 2.5 x longer "
      "schedule (hours on 2 cores)";
  s.synth.num_clips = 256;
  s.epochs = {40, 10, 5, 5};
  s.stage1_lr_decay_epochs = {30};
  return s;
}

Scale PaperScale() {
  Scale s = LargeScale();
  s.name = "paper";
  s.description =
      "the paper's model (ResNet base width 64, 256 x 256, head 256, 3 x 3 "
      "ConvLSTM) on SynthPose 256 clips, Simple Baseline schedule (days on "
      "2 cores)";
  s.model = model::ModelConfig{};
  s.epochs = {140, 20, 10, 10};
  s.stage1_lr_decay_epochs = {90, 120};
  return s;
}

std::string Json(double v) { return absl::StrFormat("%.9g", v); }

// A file lock held while a checkpoint is trained, so that two experiments
// sharing a work directory do not train the same model at once.
class FileLock {
 public:
  static absl::StatusOr<FileLock> Acquire(const std::string& path) {
    const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot open lock file '", path, "'"));
    }
    if (::flock(fd, LOCK_EX) != 0) {
      ::close(fd);
      return absl::UnavailableError(absl::StrCat("cannot lock '", path, "'"));
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create directory '", dir, "': ", ec.message()));
  }
  return absl::OkStatus();
}

// Copies the extractor, propagator and head tensors of the checkpoint at
// `path` into `module`. A part the file has must match the model's part
// exactly (names and shapes); a part the file lacks (a Simple Baseline has
// no ConvLSTM) and the policy keep their initial values.
absl::Status LoadInitWeights(const std::string& path,
                             torch::nn::Module& module) {
  MAPN_ASSIGN_OR_RETURN(train::CheckpointSummary file,
                        train::ReadCheckpointSummary(path));
  static const std::vector<std::string> kParts = {"extractor.", "propagator.",
                                                  "head."};
  std::vector<model::NamedTensor> source;
  std::vector<std::string> parts_in_file;
  for (model::NamedTensor& tensor : file.tensors) {
    for (const std::string& part : kParts) {
      if (tensor.first.rfind(part, 0) == 0) {
        if (std::find(parts_in_file.begin(), parts_in_file.end(), part) ==
            parts_in_file.end()) {
          parts_in_file.push_back(part);
        }
        source.push_back(std::move(tensor));
        break;
      }
    }
  }
  model::TensorMatching matching;
  matching.may_be_absent = [&](const std::string& name) {
    for (const std::string& part : parts_in_file) {
      if (name.rfind(part, 0) == 0) return false;
    }
    return true;
  };
  MAPN_ASSIGN_OR_RETURN(
      model::AssignReport report,
      model::AssignTensors(module, source,
                           absl::StrCat("init checkpoint '", path, "'"),
                           matching));
  if (report.loaded == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "init checkpoint '", path, "' shares no tensor with the model"));
  }
  return absl::OkStatus();
}

void LogLine(const ExperimentOptions& options, const std::string& line) {
  std::cerr << (options.helper_split > 0 ? "[helper] " : "[exp] ") << line
            << std::endl;
}

std::string StageList(const std::vector<Stage>& stages) {
  std::vector<int> numbers;
  for (Stage s : stages) numbers.push_back(static_cast<int>(s));
  return absl::StrJoin(numbers, ", ");
}

}  // namespace

std::vector<std::string> ScaleNames() {
  return {"smoke", "default", "large", "paper"};
}

absl::StatusOr<Scale> ScaleByName(const std::string& name) {
  if (name == "smoke") return SmokeScale();
  if (name == "default") return DefaultScale();
  if (name == "large") return LargeScale();
  if (name == "paper") return PaperScale();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scale '", name, "'; expected one of ",
                   absl::StrJoin(ScaleNames(), ", ")));
}

std::string DefaultWorkDir() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "mapn-experiments";
  return absl::StrCat(home, "/.cache/mapn/experiments");
}

std::string HashKey(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", hash);
}

int64_t IntervalForKeyframePercent(double percent) {
  if (!(percent > 0)) return 1;
  return std::max<int64_t>(1, std::llround(100.0 / percent));
}

absl::StatusOr<double> ThresholdForKeyframePercent(
    const std::vector<std::vector<float>>& energies, double percent) {
  if (!(percent >= 0 && percent <= 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat("keyframe percent must be in [0, 100], got ", percent));
  }
  std::vector<float> p_frames;
  int64_t frames = 0;
  int64_t windows = 0;
  for (const std::vector<float>& window : energies) {
    if (window.empty()) continue;
    ++windows;
    frames += static_cast<int64_t>(window.size());
    p_frames.insert(p_frames.end(), window.begin() + 1, window.end());
  }
  if (frames == 0) {
    return absl::InvalidArgumentError(
        "no frames to calibrate the energy threshold on");
  }
  // Keyframes wanted among the P-frames (frame 0 of each window is one
  // already).
  const int64_t wanted = std::clamp<int64_t>(
      std::llround(percent / 100.0 * static_cast<double>(frames)) - windows, 0,
      static_cast<int64_t>(p_frames.size()));
  std::sort(p_frames.begin(), p_frames.end(), std::greater<float>());
  if (p_frames.empty()) return 0.0;
  if (wanted == 0) {
    // Above the largest energy: no P-frame passes "energy > threshold".
    return static_cast<double>(p_frames.front()) * 1.0001 + 1e-9;
  }
  if (wanted == static_cast<int64_t>(p_frames.size())) {
    return std::max(0.0, static_cast<double>(p_frames.back()) * 0.9999);
  }
  // Midway between the last frame in and the first frame out.
  return 0.5 * (static_cast<double>(p_frames[wanted - 1]) +
                static_cast<double>(p_frames[wanted]));
}

HelperProcess::HelperProcess(HelperProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      threads_after_(std::exchange(other.threads_after_, 0)) {}

HelperProcess& HelperProcess::operator=(HelperProcess&& other) noexcept {
  if (this != &other) {
    HelperProcess old(std::move(*this));
    pid_ = std::exchange(other.pid_, 0);
    threads_after_ = std::exchange(other.threads_after_, 0);
  }
  return *this;
}

HelperProcess::~HelperProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    RestoreThreads();
  }
}

void HelperProcess::RestoreThreads() {
  if (threads_after_ > 0) at::set_num_threads(threads_after_);
  threads_after_ = 0;
}

absl::Status HelperProcess::Wait() {
  if (pid_ <= 0) return absl::OkStatus();
  int status = 0;
  const int pid = std::exchange(pid_, 0);
  const pid_t waited = ::waitpid(pid, &status, 0);
  RestoreThreads();
  if (waited != pid) {
    return absl::InternalError(absl::StrCat("cannot wait for helper ", pid));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat(
      "helper process ", pid,
      WIFEXITED(status) ? absl::StrCat(" exited with ", WEXITSTATUS(status))
                        : absl::StrCat(" ended by signal ", WTERMSIG(status))));
}

struct Experiment::State {
  std::string name;
  ExperimentOptions options;
  Scale scale;
  std::string data_root;
  // Identifies the data in cache keys.
  std::string dataset_key;
  int split = 0;
  std::optional<PoseWindows> train;
  std::optional<PoseWindows> test;
  int64_t joints = 0;
  std::string description;
};

Experiment::Experiment(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
Experiment::Experiment(Experiment&&) noexcept = default;
Experiment& Experiment::operator=(Experiment&&) noexcept = default;
Experiment::~Experiment() = default;

absl::StatusOr<Experiment> Experiment::Create(
    const std::string& name, const ExperimentOptions& options) {
  auto state = std::make_unique<State>();
  state->name = name;
  state->options = options;
  if (state->options.work_dir.empty()) {
    state->options.work_dir = DefaultWorkDir();
  }
  MAPN_ASSIGN_OR_RETURN(state->scale, ScaleByName(options.scale));
  const std::string& dataset = options.dataset;
  if (dataset != "synthpose" && dataset != "penn_action" &&
      dataset != "jhmdb") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown dataset '", dataset,
                     "'; expected synthpose, penn_action or jhmdb"));
  }
  MAPN_RETURN_IF_ERROR(MakeDirs(state->options.work_dir));

  if (dataset == "synthpose") {
    if (!options.data_root.empty()) {
      return absl::InvalidArgumentError(
          "--data_root is for penn_action and jhmdb; SynthPose is generated "
          "into the work directory from the scale's options");
    }
    const SynthPoseOptions& synth = state->scale.synth;
    MAPN_RETURN_IF_ERROR(ValidateSynthPoseOptions(synth));
    // The knobs the scales set; the rest are SynthPoseOptions' defaults.
    const std::string knobs = absl::StrCat(
        "synthpose seed=", synth.seed, " clips=", synth.num_clips,
        " size=", synth.width, "x", synth.height, " frames=", synth.min_frames,
        "-", synth.max_frames, " train=", Json(synth.train_fraction),
        " fast=", Json(synth.fast_fraction));
    state->dataset_key = knobs;
    state->data_root = absl::StrCat(state->options.work_dir, "/data/synthpose-",
                                    HashKey(knobs));
    // The manifest is written last, so its presence means a complete set.
    if (!Exists(state->data_root + "/synthpose.json")) {
      MAPN_RETURN_IF_ERROR(MakeDirs(state->data_root));
      MAPN_ASSIGN_OR_RETURN(FileLock lock,
                            FileLock::Acquire(state->data_root + "/.lock"));
      if (!Exists(state->data_root + "/synthpose.json")) {
        const auto start = std::chrono::steady_clock::now();
        LogLine(options, absl::StrCat("generating SynthPose (", knobs,
                                      ") into ", state->data_root));
        MAPN_RETURN_IF_ERROR(GenerateSynthPose(synth, state->data_root));
        LogLine(options,
                absl::StrFormat("generated in %.0f s",
                                std::chrono::duration<double>(
                                    std::chrono::steady_clock::now() - start)
                                    .count()));
      }
    } else {
      LogLine(options, absl::StrCat("SynthPose found in ", state->data_root));
    }
  } else {
    if (options.data_root.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--data_root is required for --dataset=", dataset));
    }
    std::error_code ec;
    const fs::path root = fs::absolute(options.data_root, ec);
    if (ec || !fs::is_directory(root, ec)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--data_root '", options.data_root, "' is not a directory"));
    }
    state->data_root = root.string();
    state->dataset_key = absl::StrCat(dataset, " at ", state->data_root);
  }
  return Experiment(std::move(state));
}

const std::string& Experiment::name() const { return state_->name; }
const Scale& Experiment::scale() const { return state_->scale; }
const ExperimentOptions& Experiment::options() const { return state_->options; }
int Experiment::num_splits() const {
  return state_->options.dataset == "jhmdb" ? 3 : 1;
}
int Experiment::split() const { return state_->split; }
bool Experiment::is_helper() const { return state_->options.helper_split > 0; }

void Experiment::Log(const std::string& line) const {
  LogLine(state_->options, line);
}

absl::StatusOr<HelperProcess> Experiment::StartHelper() {
  const ExperimentOptions& o = state_->options;
  if (o.helper_command.empty() || is_helper() || o.threads < 2) {
    return HelperProcess();
  }
  const int helper_threads = o.threads / 2;
  std::vector<std::string> args = o.helper_command;
  // The last occurrence of a flag wins.
  args.push_back(absl::StrCat("--helper_split=", state_->split));
  args.push_back(absl::StrCat("--threads=", helper_threads));
  args.push_back("--quiet");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int error =
      ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot start a helper process '", args[0], "': error ", error));
  }
  at::set_num_threads(o.threads - helper_threads);
  Log(absl::StrCat("helper process ", pid, " trains part of split ",
                   state_->split, "; ", helper_threads, " + ",
                   o.threads - helper_threads, " threads until it ends"));
  return HelperProcess(pid, o.threads);
}

absl::Status Experiment::UseSplit(int split) {
  if (split < 1 || split > num_splits()) {
    return absl::InvalidArgumentError(
        absl::StrCat("split ", split, " out of range 1..", num_splits()));
  }
  State& s = *state_;
  s.train.reset();
  s.test.reset();
  MAPN_ASSIGN_OR_RETURN(PoseDataset train_set,
                        train::LoadDatasetByName(s.options.dataset, s.data_root,
                                                 split, Split::kTrain));
  MAPN_ASSIGN_OR_RETURN(PoseDataset test_set,
                        train::LoadDatasetByName(s.options.dataset, s.data_root,
                                                 split, Split::kTest));
  if (train_set.sequences.empty() || test_set.sequences.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", s.options.dataset, " data at '", s.data_root, "' has ",
        train_set.sequences.size(), " training and ", test_set.sequences.size(),
        " test sequences; both splits need at least one"));
  }
  s.joints = train_set.joints.num_joints();
  const std::string what =
      s.options.dataset == "synthpose"
          ? std::string("SynthPose")
          : (s.options.dataset == "jhmdb" ? std::string("Sub-JHMDB")
                                          : std::string("Penn Action"));
  s.description = absl::StrCat(
      what, num_splits() > 1 ? absl::StrCat(" split ", split) : "", ", scale ",
      s.scale.name, ": train ", train_set.sequences.size(), " clips / ",
      train_set.TotalFrames(), " frames, test ", test_set.sequences.size(),
      " clips / ", test_set.TotalFrames(), " frames");
  train::PoseWindowsOptions window_options;
  window_options.input_size = static_cast<int>(s.scale.model.input_size);
  window_options.video_cache_dir =
      absl::StrCat(s.options.work_dir, "/video_cache/", s.options.dataset);
  MAPN_ASSIGN_OR_RETURN(
      PoseWindows train,
      PoseWindows::Create(std::move(train_set), window_options));
  window_options.cache_megabytes = 0;  // evaluation streams each file once
  MAPN_ASSIGN_OR_RETURN(
      PoseWindows test,
      PoseWindows::Create(std::move(test_set), window_options));
  s.train.emplace(std::move(train));
  s.test.emplace(std::move(test));
  s.split = split;
  Log(absl::StrCat(s.description, " (", s.train->size(), " / ", s.test->size(),
                   " windows)"));
  return absl::OkStatus();
}

model::ModelConfig Experiment::BaseConfig() const {
  model::ModelConfig config = state_->scale.model;
  if (state_->joints > 0) config.joints = state_->joints;
  return config;
}

TrainSpec Experiment::Spec(const std::string& composition,
                           std::vector<train::Stage> stages,
                           std::optional<TrainedModel> init) const {
  TrainSpec spec;
  spec.composition = composition;
  spec.config = BaseConfig();
  spec.stages = std::move(stages);
  spec.init = std::move(init);
  static const std::vector<std::string> kLearnedGates = {
      "mapn", "frame_gate", "gate_no_temporal_no_pe", "gate_no_pe",
      "causal_mapn"};
  if (std::find(kLearnedGates.begin(), kLearnedGates.end(), composition) !=
      kLearnedGates.end()) {
    spec.gate_lambda = state_->scale.gate_lambda;
  }
  return spec;
}

train::TrainOptions Experiment::StageOptions(
    train::Stage stage, std::optional<double> gate_lambda) const {
  const Scale& scale = state_->scale;
  train::TrainOptions o = train::StageDefaults(stage);
  o.epochs = scale.epochs[static_cast<int>(stage) - 1];
  o.batch_size = scale.windows_per_step;
  o.max_steps_per_epoch = scale.max_steps_per_epoch;
  if (stage == Stage::kSingleFrame) {
    o.lr_decay_epochs = scale.stage1_lr_decay_epochs;
  }
  o.keep_probability = scale.keep_probability;
  if (gate_lambda.has_value()) o.gate_lambda = *gate_lambda;
  o.seed = state_->options.seed;
  o.quiet = state_->options.quiet;
  return o;
}

absl::StatusOr<TrainedModel> Experiment::Train(const TrainSpec& spec) {
  State& s = *state_;
  if (!s.train.has_value()) {
    return absl::FailedPreconditionError("Train before UseSplit");
  }
  if (spec.stages.empty()) {
    return absl::InvalidArgumentError("a TrainSpec needs at least one stage");
  }
  std::vector<train::TrainOptions> stages;
  nlohmann::json stage_json = nlohmann::json::array();
  for (Stage stage : spec.stages) {
    train::TrainOptions o = StageOptions(stage, spec.gate_lambda);
    MAPN_RETURN_IF_ERROR(train::ValidateTrainOptions(o));
    stage_json.push_back(
        {{"epochs", o.epochs},
         {"options", nlohmann::json::parse(train::TrainOptionsToJson(o))}});
    stages.push_back(std::move(o));
  }
  MAPN_RETURN_IF_ERROR(model::ValidateModelConfig(spec.config));
  const nlohmann::json recipe = {
      {"version", kRecipeVersion},
      {"dataset", s.dataset_key},
      {"split", s.split},
      {"composition", spec.composition},
      {"config", nlohmann::json::parse(model::ModelConfigToJson(spec.config))},
      {"stages", stage_json},
      {"init", spec.init ? spec.init->key : std::string()},
      {"seed", s.options.seed},
  };
  TrainedModel trained;
  trained.composition = spec.composition;
  trained.key = HashKey(recipe.dump());
  trained.config = spec.config;
  const std::string dir = absl::StrCat(s.options.work_dir, "/models");
  trained.path =
      absl::StrCat(dir, "/", spec.composition, "-", trained.key, ".ckpt");
  const std::string what = absl::StrCat(
      spec.composition, " (stage ", StageList(spec.stages),
      spec.init
          ? absl::StrCat(" from ", spec.init->composition, "-", spec.init->key)
          : std::string(),
      ")");
  if (Exists(trained.path)) {
    trained.cached = true;
    Log(absl::StrCat("cached: ", what, " ", trained.path));
    return trained;
  }
  MAPN_RETURN_IF_ERROR(MakeDirs(dir));
  MAPN_ASSIGN_OR_RETURN(FileLock lock,
                        FileLock::Acquire(trained.path + ".lock"));
  if (Exists(trained.path)) {  // another process trained it meanwhile
    trained.cached = true;
    return trained;
  }
  Log(absl::StrCat("training ", what, " -> ", trained.path));
  const std::string state_path = trained.path + ".state";
  for (train::TrainOptions& o : stages) {
    o.checkpoint_path = state_path;
    o.resume = true;
  }
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json reports = nlohmann::json::array();
  const absl::Status status = model::VisitComposition(
      spec.composition,
      [&]<typename Model>(model::CompositionTag<Model>) -> absl::Status {
        at::manual_seed(s.options.seed);
        MAPN_ASSIGN_OR_RETURN(Model net, model::MakeModel<Model>(spec.config));
        if (spec.init) {
          MAPN_RETURN_IF_ERROR(LoadInitWeights(spec.init->path, *net));
        }
        MAPN_ASSIGN_OR_RETURN(std::vector<train::TrainReport> done,
                              train::TrainAllStages(net, *s.train, stages));
        for (const train::TrainReport& r : done) {
          reports.push_back({{"stage", static_cast<int>(r.stage)},
                             {"epochs", r.epochs},
                             {"steps", r.steps},
                             {"epoch_losses", r.epoch_losses},
                             {"seconds", r.seconds}});
        }
        return model::SaveModel(trained.path, net);
      });
  if (!status.ok()) {
    return absl::Status(
        status.code(), absl::StrCat("training ", what, ": ", status.message()));
  }
  trained.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  nlohmann::json manifest = recipe;
  manifest["reports"] = reports;
  manifest["train_seconds"] = trained.train_seconds;
  manifest["threads"] = at::get_num_threads();
  MAPN_RETURN_IF_ERROR(WriteFileAtomically(
      absl::StrCat(dir, "/", spec.composition, "-", trained.key, ".json"),
      manifest.dump(1) + "\n"));
  std::error_code ec;
  fs::remove(state_path, ec);  // the model holds everything needed now
  Log(absl::StrFormat("trained %s in %.0f s", what, trained.train_seconds));
  return trained;
}

absl::StatusOr<EvalResult> Experiment::Evaluate(const TrainedModel& trained,
                                                const std::string& label) {
  State& s = *state_;
  if (!s.test.has_value()) {
    return absl::FailedPreconditionError("Evaluate before UseSplit");
  }
  Log(absl::StrCat("evaluating ", label, " (", trained.composition, "-",
                   trained.key, ")"));
  return model::VisitComposition(
      trained.composition,
      [&]<typename Model>(
          model::CompositionTag<Model>) -> absl::StatusOr<EvalResult> {
        MAPN_ASSIGN_OR_RETURN(
            Model net, train::LoadModelFromAnyCheckpoint<Model>(trained.path));
        train::EvalOptions options;
        options.label = label;
        options.quiet = s.options.quiet;
        return train::Evaluate(net, *s.test, options);
      });
}

absl::StatusOr<double> Experiment::CalibrateEnergyThreshold(double percent) {
  State& s = *state_;
  if (!s.train.has_value()) {
    return absl::FailedPreconditionError(
        "CalibrateEnergyThreshold before UseSplit");
  }
  std::vector<std::vector<float>> energies;
  constexpr int64_t kBatch = 4;
  for (int64_t first = 0; first < s.train->size(); first += kBatch) {
    std::vector<int64_t> ids;
    for (int64_t id = first; id < std::min(first + kBatch, s.train->size());
         ++id) {
      ids.push_back(id);
    }
    MAPN_ASSIGN_OR_RETURN(train::PoseBatch batch, s.train->Batch(ids));
    // What ResidualEnergyGate compares with its threshold.
    const at::Tensor energy =
        batch.inputs.residual.abs().mean({2, 3, 4}).contiguous();
    const at::Tensor valid = batch.inputs.valid.to(at::kBool).contiguous();
    const float* e = energy.data_ptr<float>();
    const bool* v = valid.data_ptr<bool>();
    const int64_t length = energy.size(1);
    for (int64_t b = 0; b < energy.size(0); ++b) {
      std::vector<float> window;
      for (int64_t t = 0; t < length; ++t) {
        if (v[b * length + t]) window.push_back(e[b * length + t]);
      }
      energies.push_back(std::move(window));
    }
  }
  return ThresholdForKeyframePercent(energies, percent);
}

std::string Experiment::DataDescription() const { return state_->description; }

std::string Experiment::ResultsDir() const {
  return absl::StrCat(state_->options.work_dir, "/results/", state_->name, "/",
                      state_->options.dataset, "-", state_->scale.name);
}

absl::StatusOr<std::string> Experiment::WriteResult(
    const std::string& file, const std::string& contents) const {
  MAPN_RETURN_IF_ERROR(MakeDirs(ResultsDir()));
  const std::string path = absl::StrCat(ResultsDir(), "/", file);
  MAPN_RETURN_IF_ERROR(WriteFileAtomically(path, contents));
  return path;
}

absl::StatusOr<std::vector<std::string>> Experiment::WriteRows(
    const std::string& stem, std::span<const EvalResult> rows) const {
  MAPN_ASSIGN_OR_RETURN(std::string csv,
                        WriteResult(stem + ".csv", train::EvalCsv(rows)));
  MAPN_ASSIGN_OR_RETURN(std::string json,
                        WriteResult(stem + ".json", train::EvalJson(rows)));
  return std::vector<std::string>{csv, json};
}

absl::StatusOr<EvalResult> AverageEvalResults(
    std::span<const EvalResult> splits) {
  if (splits.empty()) {
    return absl::InvalidArgumentError("no rows to average");
  }
  if (splits.size() == 1) return splits[0];
  EvalResult out = splits[0];
  std::vector<PckResult> pck;
  const double n = static_cast<double>(splits.size());
  out.frames = out.keyframes = 0;
  out.keyframe_percent = out.true_macs_ratio = out.hrnet_macs_ratio = 0;
  out.model_seconds = out.total_seconds = out.model_fps = out.end_to_end_fps =
      0;
  out.macs_per_frame = {};
  out.baseline_macs_per_frame = {};
  out.sequences.clear();
  for (const EvalResult& r : splits) {
    pck.push_back(r.pck);
    out.frames += r.frames;
    out.keyframes += r.keyframes;
    out.keyframe_percent += r.keyframe_percent / n;
    out.macs_per_frame = out.macs_per_frame + r.macs_per_frame * (1.0 / n);
    out.baseline_macs_per_frame =
        out.baseline_macs_per_frame + r.baseline_macs_per_frame * (1.0 / n);
    out.true_macs_ratio += r.true_macs_ratio / n;
    out.hrnet_macs_ratio += r.hrnet_macs_ratio / n;
    out.model_seconds += r.model_seconds;
    out.total_seconds += r.total_seconds;
    out.model_fps += r.model_fps / n;
    out.end_to_end_fps += r.end_to_end_fps / n;
  }
  MAPN_ASSIGN_OR_RETURN(out.pck, AveragePck(pck, out.label));
  return out;
}

absl::StatusOr<std::vector<EvalResult>> RunOverSplits(
    Experiment& experiment,
    const std::function<absl::StatusOr<std::vector<EvalResult>>()>& body) {
  std::vector<std::vector<EvalResult>> per_split;
  const int helper_split = experiment.options().helper_split;
  for (int split = 1; split <= experiment.num_splits(); ++split) {
    if (helper_split > 0 && split != helper_split) continue;
    MAPN_RETURN_IF_ERROR(experiment.UseSplit(split));
    MAPN_ASSIGN_OR_RETURN(std::vector<EvalResult> rows, body());
    if (!per_split.empty() && rows.size() != per_split[0].size()) {
      return absl::InternalError("splits gave different numbers of rows");
    }
    per_split.push_back(std::move(rows));
  }
  if (per_split.size() == 1) return per_split[0];
  if (per_split.empty() || per_split[0].empty()) return Rows();
  std::vector<EvalResult> averaged;
  for (size_t row = 0; row < per_split[0].size(); ++row) {
    std::vector<EvalResult> same;
    for (const std::vector<EvalResult>& rows : per_split) {
      same.push_back(rows[row]);
    }
    MAPN_ASSIGN_OR_RETURN(EvalResult mean, AverageEvalResults(same));
    averaged.push_back(std::move(mean));
  }
  return averaged;
}

}  // namespace mapn::experiments
