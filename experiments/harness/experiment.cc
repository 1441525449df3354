#include "experiments/harness/experiment.h"

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "experiments/harness/calibration.h"
#include "experiments/harness/data.h"
#include "experiments/harness/work_dir.h"
#include "mapn/core/atomic_file.h"
#include "mapn/model/options_json.h"

namespace mapn::experiments {

struct Experiment::State {
  std::string name;
  ExperimentOptions options;
  Scale scale;
  model::Mapn::Options reference;
  DataSource data;
  std::optional<SplitData> split;
  model::CompositionTable compositions = model::DefaultCompositions();
  std::unique_ptr<CheckpointCache> cache;

  void Log(const std::string& line) const {
    std::cerr << (options.helper_split > 0 ? "[helper] " : "[exp] ") << line
              << std::endl;
  }
  LogFunction Logger() const {
    return [this](const std::string& line) { Log(line); };
  }
};

Experiment::Experiment(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
Experiment::Experiment(Experiment&&) noexcept = default;
Experiment& Experiment::operator=(Experiment&&) noexcept = default;
Experiment::~Experiment() = default;

absl::StatusOr<Experiment> Experiment::Create(
    const std::string& name, const ExperimentOptions& options) {
  // On the heap from the start: the log functions below point at it.
  auto state = std::make_unique<State>();
  state->name = name;
  state->options = options;
  if (state->options.work_dir.empty()) {
    state->options.work_dir = DefaultWorkDir();
  }
  const std::string& work_dir = state->options.work_dir;
  MAPN_ASSIGN_OR_RETURN(state->scale, ScaleByName(options.scale));
  MAPN_ASSIGN_OR_RETURN(state->reference, ReferenceModel(state->scale));
  MAPN_ASSIGN_OR_RETURN(
      state->data, PrepareData(options.dataset, options.data_root, state->scale,
                               work_dir, state->Logger()));
  MAPN_RETURN_IF_ERROR(MakeDirs(work_dir));
  state->cache = std::make_unique<CheckpointCache>(work_dir, state->Logger());
  return Experiment(std::move(state));
}

const std::string& Experiment::name() const { return state_->name; }
const Scale& Experiment::scale() const { return state_->scale; }
const model::Mapn::Options& Experiment::reference_model() const {
  return state_->reference;
}
const ExperimentOptions& Experiment::options() const { return state_->options; }
int Experiment::num_splits() const { return state_->data.num_splits; }
int Experiment::split() const {
  return state_->split ? state_->split->split : 0;
}
bool Experiment::is_helper() const { return state_->options.helper_split > 0; }
void Experiment::Log(const std::string& line) const { state_->Log(line); }

const model::CompositionTable& Experiment::compositions() const {
  return state_->compositions;
}
model::CompositionTable& Experiment::mutable_compositions() {
  return state_->compositions;
}

absl::StatusOr<HelperProcess> Experiment::StartHelper() {
  const ExperimentOptions& o = state_->options;
  if (o.helper_command.empty() || is_helper() || o.threads < 2) {
    return HelperProcess();
  }
  return StartHelperProcess(o.helper_command, split(), o.threads,
                            state_->Logger());
}

absl::Status Experiment::UseSplit(int split) {
  State& s = *state_;
  s.split.reset();
  MAPN_ASSIGN_OR_RETURN(
      SplitData data, LoadSplit(s.data, split, s.scale, s.reference.input_size,
                                s.options.work_dir));
  s.split.emplace(std::move(data));
  Log(absl::StrCat(s.split->description, " (", s.split->train.size(), " / ",
                   s.split->test.size(), " windows)"));
  return absl::OkStatus();
}

absl::StatusOr<model::PipelineOptionValues> Experiment::ModelValues(
    const std::string& composition,
    const std::vector<std::string>& settings) const {
  const State& s = *state_;
  if (!s.split) {
    return absl::FailedPreconditionError(
        absl::StrCat("training ", composition, " before UseSplit"));
  }
  MAPN_ASSIGN_OR_RETURN(const model::CompositionEntry* entry,
                        s.compositions.Get(composition));
  std::vector<std::string> family = s.scale.model;
  family.push_back(absl::StrCat("head.out_channels=", s.split->joints));
  MAPN_ASSIGN_OR_RETURN(model::PipelineOptionValues values,
                        model::SettingsFor(entry->defaults, family));
  for (const std::string& setting : settings) {
    MAPN_RETURN_IF_ERROR(model::ApplyOptionOverride(setting, values));
  }
  return values;
}

absl::StatusOr<TrainedModel> Experiment::TrainComposition(
    const std::string& composition, model::PipelineOptionValues options,
    const TrainSpec& spec) {
  State& s = *state_;
  MAPN_ASSIGN_OR_RETURN(const model::CompositionEntry* entry,
                        s.compositions.Get(composition));
  if (spec.gate_lambda && !entry->learned_policy) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a lambda of eq. (15) for ", composition, ", whose policy (",
        entry->components[2], ") learns nothing"));
  }
  // Lambda only where the policy learns: a training-free policy keeps the
  // trainer's default, which its loss never uses.
  std::optional<double> lambda;
  if (entry->learned_policy) {
    lambda = spec.gate_lambda.value_or(s.scale.gate_lambda);
  }
  ModelRecipe recipe;
  recipe.composition = composition;
  recipe.options = std::move(options);
  for (train::Stage stage : spec.stages) {
    recipe.stages.push_back(
        StageOptions(s.scale, stage, s.options.seed, s.options.quiet, lambda));
  }
  recipe.init = spec.init;
  recipe.data_key = s.data.key;
  recipe.split = s.split->split;
  recipe.seed = s.options.seed;
  recipe.settings = spec.settings;
  return s.cache->FindOrTrain(recipe, s.compositions, s.split->train);
}

absl::StatusOr<train::EvalResult> Experiment::Evaluate(
    const TrainedModel& trained, const std::string& label) {
  State& s = *state_;
  if (!s.split) {
    return absl::FailedPreconditionError("Evaluate before UseSplit");
  }
  Log(absl::StrCat("evaluating ", label, " (", trained.composition, "-",
                   trained.key, ")"));
  MAPN_ASSIGN_OR_RETURN(model::AnyPipeline model,
                        model::LoadPipeline(trained.path, s.compositions));
  train::EvalOptions options;
  options.label = label;
  options.quiet = s.options.quiet;
  return train::Evaluate(model, s.split->test, options);
}

absl::StatusOr<double> Experiment::CalibrateEnergyThreshold(double percent) {
  if (!state_->split) {
    return absl::FailedPreconditionError(
        "CalibrateEnergyThreshold before UseSplit");
  }
  return experiments::CalibrateEnergyThreshold(state_->split->train, percent);
}

std::string Experiment::DataDescription() const {
  return state_->split ? state_->split->description : std::string();
}

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
    const std::string& stem, std::span<const train::EvalResult> rows) const {
  MAPN_ASSIGN_OR_RETURN(std::string csv,
                        WriteResult(stem + ".csv", train::EvalCsv(rows)));
  MAPN_ASSIGN_OR_RETURN(std::string json,
                        WriteResult(stem + ".json", train::EvalJson(rows)));
  return std::vector<std::string>{csv, json};
}

}  // namespace mapn::experiments
