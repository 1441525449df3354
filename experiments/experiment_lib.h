// File: experiment_lib.h
//
// What every experiment of experiments/ shares: the scales (data, model size
// and schedule of a run), the data (SynthPose generated once into the work
// directory, or a real dataset), training with a cache of every trained
// checkpoint, evaluation, the energy-threshold calibration of Table 3, and
// the atomic outputs.
//
// Caching. A model is trained by a TrainSpec: a composition, its
// ModelConfig, the stages to run and the checkpoint whose extractor,
// propagator and head initialise it. The spec, the stage recipes of the
// scale, the dataset (and split), the crop size and the seed are hashed into
// a key; the checkpoint is models/<composition>-<key>.ckpt in the work
// directory, written once, then reused by every experiment that asks for the
// same thing. An init's key is part of the key, so a chain (stage-1 Simple
// Baseline -> stage-2 ConvLSTM -> stages 3 and 4 of a gate) is cached link by
// link: all rows of all experiments train the stage-1 Simple Baseline and the
// shared stage-2 model once. Training writes its resumable state beside the
// checkpoint after every epoch, so an interrupted experiment continues where
// it stopped; a lock file lets two experiments share a work directory.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Experiment exp,
//                         Experiment::Create("table1_ablation", options));
//   MAPN_RETURN_IF_ERROR(exp.UseSplit(1));
//   MAPN_ASSIGN_OR_RETURN(TrainedModel sb,
//                         exp.Train(exp.Spec("simple_baseline",
//                         {Stage::kSingleFrame})));
//   MAPN_ASSIGN_OR_RETURN(TrainedModel shared,
//                         exp.Train(exp.Spec("mapn", {Stage::kPropagation},
//                         sb)));
//   MAPN_ASSIGN_OR_RETURN(EvalResult row, exp.Evaluate(sb, "SB"));
#ifndef MAPN_EXPERIMENTS_EXPERIMENT_LIB_H_
#define MAPN_EXPERIMENTS_EXPERIMENT_LIB_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/data/synthpose.h"
#include "mapn/model/model_config.h"
#include "mapn/train/evaluate.h"
#include "mapn/train/trainer.h"

namespace mapn::experiments {

// The recipe of one scale: what data, how large a model, how long.
struct Scale {
  std::string name;
  std::string description;
  // The SynthPose set (--dataset=synthpose); its knobs are part of the key.
  SynthPoseOptions synth;
  // The model of every row (joints come from the dataset; Table 3 also
  // trains backbone_depth 34).
  model::ModelConfig model;
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

// "smoke" (seconds; for tests), "default" (each experiment within 45
// minutes on the 2-core development machine), "large", "paper" (the
// paper's model size; hours per stage on a CPU).
std::vector<std::string> ScaleNames();
absl::StatusOr<Scale> ScaleByName(const std::string& name);

struct ExperimentOptions {
  std::string scale = "default";
  std::string dataset = "synthpose";  // synthpose, penn_action or jhmdb
  std::string data_root;              // required for penn_action and jhmdb
  std::string work_dir;               // empty: DefaultWorkDir()
  uint64_t seed = 1;   // initial weights, order, augmentation, noise
  bool quiet = false;  // no training and evaluation progress
  // The cores this experiment may use. Alone, this process runs that many
  // LibTorch threads; while its helper runs, the two share them (half each,
  // at least one), because two processes of one thread each train faster
  // than one of two threads, and one process of two threads faster than
  // one of one. Below 2 no helper starts; 0 also leaves LibTorch's count
  // alone (tests).
  int threads = 0;

  // Helpers. An experiment may hand part of its training to a second
  // process (Experiment::StartHelper): `helper_command` is the command line
  // that runs this experiment again with the same flags (empty: no helper,
  // all work in this process). A helper runs with helper_split > 0: that
  // split only, training its part and nothing else.
  std::vector<std::string> helper_command;
  int helper_split = 0;
};

// $HOME/.cache/mapn/experiments (or ./mapn-experiments without HOME).
std::string DefaultWorkDir();

// A checkpoint in the cache.
struct TrainedModel {
  std::string composition;  // registry name (mapn/model/registry.h)
  std::string key;          // 16 hex digits
  std::string path;         // the checkpoint
  model::ModelConfig config;
  bool cached = false;       // found, not trained by this call
  double train_seconds = 0;  // of this call
};

struct TrainSpec {
  std::string composition;
  model::ModelConfig config;
  std::vector<train::Stage> stages;
  // Its extractor, propagator and head tensors (those of the parts it has)
  // initialise the model; the policy keeps its initial values.
  std::optional<TrainedModel> init;
  // Lambda of eq. (15) (stages 3 and 4 of learned gates); default: the
  // trainer's.
  std::optional<double> gate_lambda;
};

// 64-bit FNV-1a of `text` as 16 hex digits (the cache keys).
std::string HashKey(const std::string& text);

// The keyframe interval whose fixed-interval policy comes nearest the rate
// round(1 / rate) asks for: round(100 / percent), at least 1.
int64_t IntervalForKeyframePercent(double percent);

// The threshold above which the ResidualEnergyGate extracts `percent` of the
// valid frames, given every window's per-frame energies: frame 0 of each
// window is always extracted, so the remaining keyframes are the P-frames of
// highest energy. `energies[w]` holds window w's valid frames in order.
// InvalidArgument without frames or for a percent outside [0, 100].
absl::StatusOr<double> ThresholdForKeyframePercent(
    const std::vector<std::vector<float>>& energies, double percent);

// A helper process (Experiment::StartHelper). Destroying a running one
// stops it.
class HelperProcess {
 public:
  HelperProcess() = default;  // none
  // `threads_after` > 0: this process's LibTorch thread count once the
  // helper has ended (it ran with fewer while the helper shared the cores).
  explicit HelperProcess(int pid, int threads_after = 0)
      : pid_(pid), threads_after_(threads_after) {}
  HelperProcess(HelperProcess&& other) noexcept;
  HelperProcess& operator=(HelperProcess&& other) noexcept;
  ~HelperProcess();

  bool running() const { return pid_ > 0; }
  // Waits for it and gives its cores back to this process; an error when
  // it failed (its models are then trained by whoever asks for them next).
  absl::Status Wait();

 private:
  void RestoreThreads();

  int pid_ = 0;
  int threads_after_ = 0;
};

class Experiment {
 public:
  // Checks the options and creates the work directory; SynthPose is
  // generated (or found) here, other datasets are read by UseSplit.
  static absl::StatusOr<Experiment> Create(const std::string& name,
                                           const ExperimentOptions& options);
  Experiment(Experiment&&) noexcept;
  Experiment& operator=(Experiment&&) noexcept;
  ~Experiment();

  const std::string& name() const;
  const Scale& scale() const;
  const ExperimentOptions& options() const;
  // 3 for jhmdb (the paper averages its splits), else 1.
  int num_splits() const;
  // True in a helper process: train the helper's part of the current split
  // and return.
  bool is_helper() const;
  // Runs this experiment's helper part for the current split in a second
  // process, when options().helper_command allows and options().threads is
  // at least 2; otherwise returns a HelperProcess that is not running (the
  // caller then trains everything itself). The two split options().threads
  // until HelperProcess::Wait. Both processes share the checkpoint cache:
  // whoever asks for a model the other is training waits for it (a file
  // lock) and reuses it. Start it once the models both need are trained, so
  // that those use every core.
  absl::StatusOr<HelperProcess> StartHelper();
  // Progress on stderr, marked as this process's ("[exp]" or "[helper]").
  void Log(const std::string& line) const;
  // Loads the training and test windows of `split` (1-based).
  absl::Status UseSplit(int split);
  int split() const;

  // The scale's model with the dataset's joints.
  model::ModelConfig BaseConfig() const;
  // A spec at BaseConfig() with the scale's lambda for learned gates.
  TrainSpec Spec(const std::string& composition,
                 std::vector<train::Stage> stages,
                 std::optional<TrainedModel> init = std::nullopt) const;
  // The options of one stage at this scale.
  train::TrainOptions StageOptions(train::Stage stage,
                                   std::optional<double> gate_lambda) const;

  // Trains (or finds in the cache) the model `spec` describes.
  absl::StatusOr<TrainedModel> Train(const TrainSpec& spec);
  // Evaluates a trained model on the test sequences of the current split.
  absl::StatusOr<train::EvalResult> Evaluate(const TrainedModel& trained,
                                             const std::string& label);
  // The ResidualEnergyGate threshold that extracts `percent` of the frames
  // of the training split (no augmentation), ThresholdForKeyframePercent.
  absl::StatusOr<double> CalibrateEnergyThreshold(double percent);

  // "SynthPose (scale default): train 48 clips / 2911 frames, test ...".
  std::string DataDescription() const;
  // <work_dir>/results/<name>/<dataset>-<scale>; created by WriteRows.
  std::string ResultsDir() const;
  // Writes <stem>.csv and <stem>.json (EvalCsv / EvalJson) atomically into
  // ResultsDir(); returns their paths.
  absl::StatusOr<std::vector<std::string>> WriteRows(
      const std::string& stem, std::span<const train::EvalResult> rows) const;
  // Writes `contents` to ResultsDir()/file atomically; returns the path.
  absl::StatusOr<std::string> WriteResult(const std::string& file,
                                          const std::string& contents) const;

 private:
  struct State;
  explicit Experiment(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Runs `body` once per split of `experiment` (after UseSplit) and averages
// its rows over the splits (AverageEvalResults); one split: its rows.
absl::StatusOr<std::vector<train::EvalResult>> RunOverSplits(
    Experiment& experiment,
    const std::function<absl::StatusOr<std::vector<train::EvalResult>>()>&
        body);

// The column-wise mean of the same row over several splits: PCK by
// AveragePck, keyframe %, MACs, ratios and fps by their means, frames and
// keyframes summed. InvalidArgument for no rows.
absl::StatusOr<train::EvalResult> AverageEvalResults(
    std::span<const train::EvalResult> splits);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_EXPERIMENT_LIB_H_
