// File: experiment.h
//
// One run of one experiment: its options (the flags of experiment_main.h),
// its scale (scales.h), its data (data.h), the compositions it knows and
// the checkpoint cache (checkpoint_cache.h) it trains through. This is what
// an experiment's own file talks to: it trains a model by naming the
// composition's type, evaluates the result on the current split's test
// windows, and writes its tables under the results folder.
//
// The compositions an experiment knows start as model::DefaultCompositions();
// Train<C> adds C when it is the experiment's own (an ablation defined in
// its file), so evaluation, which loads the checkpoint by the name it
// records (model::LoadPipeline), builds the same type. A composition's
// options are the scale's settings where it has the field, the dataset's
// joints as the head's out_channels, then the spec's own settings; whether
// its policy is learned (and so trains with the scale's lambda of eq. (15))
// is its type's kLearned, read from its table entry.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(Experiment exp,
//                         Experiment::Create("table1_ablation", options));
//   MAPN_RETURN_IF_ERROR(exp.UseSplit(1));
//   MAPN_ASSIGN_OR_RETURN(
//       TrainedModel sb,
//       exp.Train<model::PerFrameSimpleBaseline>({.stages = {kStage1}}));
//   MAPN_ASSIGN_OR_RETURN(
//       TrainedModel b,
//       exp.Train<model::IFrameOnlyWarp>({.stages = {kStage2, kStage4},
//                                         .init = sb}));
//   MAPN_ASSIGN_OR_RETURN(train::EvalResult row, exp.Evaluate(b, "b"));
#ifndef MAPN_EXPERIMENTS_HARNESS_EXPERIMENT_H_
#define MAPN_EXPERIMENTS_HARNESS_EXPERIMENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/harness/checkpoint_cache.h"
#include "experiments/harness/helper_process.h"
#include "experiments/harness/scales.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "mapn/train/evaluate.h"
#include "mapn/train/train_options.h"

namespace mapn::experiments {

inline constexpr train::Stage kStage1 = train::Stage::kSingleFrame;
inline constexpr train::Stage kStage2 = train::Stage::kPropagation;
inline constexpr train::Stage kStage3 = train::Stage::kGate;
inline constexpr train::Stage kStage4 = train::Stage::kJoint;

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

// A model to train; its composition is the type given to Train<C>.
// Every field has a default member initializer, so that designated
// initializers may leave any out ({.stages = {kStage1}}).
struct TrainSpec {
  std::vector<train::Stage> stages = {};
  // Whose extractor, propagator and head start it (LoadInitWeights).
  std::optional<TrainedModel> init = {};
  // On top of the scale's: "extractor.depth=34", "policy.interval=6". Each
  // must be a field of the composition.
  std::vector<std::string> settings = {};
  // Lambda of eq. (15) for a learned policy (default: the scale's); an
  // error for a policy that learns nothing.
  std::optional<double> gate_lambda = {};
};

class Experiment {
 public:
  // Checks the options and the scale and creates the work directory;
  // SynthPose is generated (or found) here, other datasets are read by
  // UseSplit.
  static absl::StatusOr<Experiment> Create(const std::string& name,
                                           const ExperimentOptions& options);
  Experiment(Experiment&&) noexcept;
  Experiment& operator=(Experiment&&) noexcept;
  ~Experiment();

  const std::string& name() const;
  const Scale& scale() const;
  // The scale's settings on the paper's composition (ReferenceModel): the
  // model the notes describe.
  const model::Mapn::Options& reference_model() const;
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
  // until HelperProcess::Wait. Start it once the models both need are
  // trained, so that those use every core.
  absl::StatusOr<HelperProcess> StartHelper();
  // Progress on stderr, marked as this process's ("[exp]" or "[helper]").
  void Log(const std::string& line) const;
  // Loads the training and test windows of `split` (1-based).
  absl::Status UseSplit(int split);
  int split() const;

  // DefaultCompositions() and the experiment's own compositions.
  const model::CompositionTable& compositions() const;
  // Adds C unless the table has it; AlreadyExists when its name (or its
  // pipeline) is another composition's.
  template <model::NamedComposition C>
  absl::Status AddComposition();

  // Trains (or finds in the cache) C as `spec` says, on the current split.
  template <model::NamedComposition C>
  absl::StatusOr<TrainedModel> Train(const TrainSpec& spec);
  // Evaluates a trained model on the test windows of the current split.
  absl::StatusOr<train::EvalResult> Evaluate(const TrainedModel& trained,
                                             const std::string& label);
  // The ResidualEnergyGate threshold that extracts `percent` of the frames
  // of the training split (calibration.h).
  absl::StatusOr<double> CalibrateEnergyThreshold(double percent);

  // "SynthPose, scale default: train 48 clips / 2911 frames, test ...".
  std::string DataDescription() const;
  // <work_dir>/results/<name>/<dataset>-<scale>; created by WriteResult.
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

  model::CompositionTable& mutable_compositions();
  // The option values of `composition` on this split: the scale's settings
  // and the joints where it has the field, then `settings` (every one).
  absl::StatusOr<model::PipelineOptionValues> ModelValues(
      const std::string& composition,
      const std::vector<std::string>& settings) const;
  // Train<C> past the types: `options` has every field of the composition.
  absl::StatusOr<TrainedModel> TrainComposition(
      const std::string& composition, model::PipelineOptionValues options,
      const TrainSpec& spec);

  std::unique_ptr<State> state_;
};

// ---------------------------------------------------------------------------
// Implementation.

template <model::NamedComposition C>
absl::Status Experiment::AddComposition() {
  const model::CompositionEntry* known = compositions().Find(C::kName);
  if (known != nullptr && known->type_name == C::Impl::TypeName()) {
    return absl::OkStatus();
  }
  return mutable_compositions().template Add<C>();
}

template <model::NamedComposition C>
absl::StatusOr<TrainedModel> Experiment::Train(const TrainSpec& spec) {
  MAPN_RETURN_IF_ERROR(AddComposition<C>());
  const std::string name(C::kName);
  MAPN_ASSIGN_OR_RETURN(model::PipelineOptionValues values,
                        ModelValues(name, spec.settings));
  // Through the typed options and back: every field, typed, whichever way
  // it was spelt, so that the cache key names the model and not the text.
  MAPN_ASSIGN_OR_RETURN(typename C::Options options,
                        model::FromOptionValues<C>(values, name));
  return TrainComposition(name, model::ToOptionValues<C>(options), spec);
}

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_EXPERIMENT_H_
