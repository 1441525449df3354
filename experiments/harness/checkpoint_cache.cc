#include "experiments/harness/checkpoint_cache.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/model/checkpoint.h"
#include "mapn/train/trainer.h"
#include "nlohmann/json.hpp"

namespace mapn::experiments {
namespace {

using train::Stage;
using train::TrainOptions;

absl::Status CheckRecipe(const ModelRecipe& recipe) {
  if (recipe.stages.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a recipe for ", recipe.composition, " needs at least one stage"));
  }
  for (const TrainOptions& stage : recipe.stages) {
    MAPN_RETURN_IF_ERROR(train::ValidateTrainOptions(stage));
  }
  return absl::OkStatus();
}

nlohmann::json RecipeJsonValue(const ModelRecipe& recipe) {
  nlohmann::json stages = nlohmann::json::array();
  for (const TrainOptions& o : recipe.stages) {
    stages.push_back(
        {{"epochs", o.epochs},
         {"options", nlohmann::json::parse(train::TrainOptionsToJson(o))}});
  }
  return {
      {"version", kRecipeVersion},
      {"dataset", recipe.data_key},
      {"split", recipe.split},
      {"composition", recipe.composition},
      {"options",
       nlohmann::json::parse(model::PipelineOptionsToJson(recipe.options))},
      {"stages", stages},
      {"init", recipe.init ? recipe.init->key : std::string()},
      {"seed", recipe.seed},
  };
}

// "mapn (stage 3, 4 from mapn-<key>)": the model in progress lines and
// errors.
std::string Describe(const ModelRecipe& recipe) {
  std::vector<int> numbers;
  for (const TrainOptions& o : recipe.stages) {
    numbers.push_back(static_cast<int>(o.stage));
  }
  return absl::StrCat(
      recipe.composition, " (stage ", absl::StrJoin(numbers, ", "),
      recipe.init ? absl::StrCat(" from ", recipe.init->composition, "-",
                                 recipe.init->key)
                  : std::string(),
      ")");
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// Beside the checkpoint, for whoever wonders where it came from: the
// recipe, each stage's report, the time and the thread count.
absl::Status WriteManifest(const std::string& path, nlohmann::json manifest,
                           const std::string& reports, double seconds) {
  manifest["reports"] = nlohmann::json::parse(reports);
  manifest["train_seconds"] = seconds;
  manifest["threads"] = at::get_num_threads();
  return WriteFileAtomically(path, manifest.dump(1) + "\n");
}

}  // namespace

std::string RecipeJson(const ModelRecipe& recipe) {
  return RecipeJsonValue(recipe).dump();
}

CheckpointCache::CheckpointCache(std::string work_dir, LogFunction log)
    : models_dir_(absl::StrCat(work_dir, "/models")), log_(std::move(log)) {}

absl::StatusOr<TrainedModel> CheckpointCache::FindOrTrain(
    const ModelRecipe& recipe, const model::CompositionTable& table,
    train::PoseWindows& windows) {
  MAPN_RETURN_IF_ERROR(CheckRecipe(recipe));
  const nlohmann::json recipe_json = RecipeJsonValue(recipe);
  TrainedModel trained;
  trained.composition = recipe.composition;
  trained.key = HashKey(recipe_json.dump());
  trained.settings = recipe.settings;
  const std::string stem =
      absl::StrCat(models_dir_, "/", recipe.composition, "-", trained.key);
  trained.path = stem + ".ckpt";
  const std::string what = Describe(recipe);
  if (FileExists(trained.path)) {
    trained.cached = true;
    log_(absl::StrCat("cached: ", what, " ", trained.path));
    return trained;
  }
  MAPN_RETURN_IF_ERROR(MakeDirs(models_dir_));
  MAPN_ASSIGN_OR_RETURN(FileLock lock,
                        FileLock::Acquire(trained.path + ".lock"));
  if (FileExists(trained.path)) {  // another process trained it meanwhile
    trained.cached = true;
    return trained;
  }
  log_(absl::StrCat("training ", what, " -> ", trained.path));
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> reports =
      TrainAndSave(recipe, table, windows, trained.path);
  if (!reports.ok()) {
    return absl::Status(
        reports.status().code(),
        absl::StrCat("training ", what, ": ", reports.status().message()));
  }
  trained.train_seconds = SecondsSince(start);
  MAPN_RETURN_IF_ERROR(WriteManifest(stem + ".json", recipe_json, *reports,
                                     trained.train_seconds));
  std::error_code ec;
  // The checkpoint holds everything needed now.
  std::filesystem::remove(trained.path + ".state", ec);
  log_(absl::StrFormat("trained %s in %.0f s", what, trained.train_seconds));
  return trained;
}

absl::StatusOr<std::string> CheckpointCache::TrainAndSave(
    const ModelRecipe& recipe, const model::CompositionTable& table,
    train::PoseWindows& windows, const std::string& path) {
  // Immediately before building: the seed alone decides the initial
  // weights.
  at::manual_seed(recipe.seed);
  MAPN_ASSIGN_OR_RETURN(model::AnyPipeline model,
                        table.Create(recipe.composition, recipe.options));
  if (recipe.init) {
    MAPN_RETURN_IF_ERROR(LoadInitWeights(recipe.init->path, model.module()));
  }
  std::vector<TrainOptions> stages = recipe.stages;
  for (TrainOptions& o : stages) {
    o.checkpoint_path = path + ".state";
    o.resume = true;
  }
  MAPN_ASSIGN_OR_RETURN(std::vector<train::TrainReport> done,
                        train::TrainStages(model, windows, stages));
  MAPN_RETURN_IF_ERROR(model.Save(path));
  nlohmann::json reports = nlohmann::json::array();
  for (const train::TrainReport& r : done) {
    reports.push_back({{"stage", static_cast<int>(r.stage)},
                       {"epochs", r.epochs},
                       {"steps", r.steps},
                       {"epoch_losses", r.epoch_losses},
                       {"seconds", r.seconds}});
  }
  return reports.dump();
}

absl::Status LoadInitWeights(const std::string& path,
                             torch::nn::Module& module) {
  MAPN_ASSIGN_OR_RETURN(model::ModelFile file, model::ReadModelFile(path));
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
    return std::none_of(
        parts_in_file.begin(), parts_in_file.end(),
        [&](const std::string& part) { return name.rfind(part, 0) == 0; });
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

}  // namespace mapn::experiments
