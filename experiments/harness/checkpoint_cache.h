// File: checkpoint_cache.h
//
// Every model an experiment trains, trained once. A model is described by
// a ModelRecipe: a composition with all its options, the stages to run
// (each stage's TrainOptions), the checkpoint whose extractor, propagator
// and head initialise it, the data (dataset and split) and the seed. The
// recipe is hashed into a key; the checkpoint is
// models/<composition>-<key>.ckpt in the work directory, written once with
// a manifest (<composition>-<key>.json: the recipe, each stage's report,
// the time and thread count) and then reused by every experiment that asks
// for the same thing. An init's key is part of the key, so a chain
// (stage-1 Simple Baseline -> stage-2 ConvLSTM -> stages 3 and 4 of a gate)
// is cached link by link. Training writes its resumable state beside the
// checkpoint after every epoch, so an interrupted experiment continues
// where it stopped, and holds a lock file, so that two processes sharing a
// work directory never train the same model at once: the second waits and
// finds the first one's checkpoint.
//
// Training a recipe is: seed LibTorch's generator with the recipe's seed
// immediately before building the model (the same initial weights for the
// same seed), build it from the composition table, copy the init's
// extractor, propagator and head tensors into it, run the stages, save.
//
// Example:
//
//   CheckpointCache cache(work_dir, log);
//   ModelRecipe recipe;
//   recipe.composition = "mapn";
//   recipe.options = model::ToOptionValues<model::Mapn>(options);
//   recipe.stages = {stage3, stage4};
//   recipe.init = shared_stage2;
//   recipe.data_key = source.key;
//   recipe.split = 1;
//   MAPN_ASSIGN_OR_RETURN(TrainedModel mapn,
//                         cache.FindOrTrain(recipe, table, train_windows));
#ifndef MAPN_EXPERIMENTS_HARNESS_CHECKPOINT_CACHE_H_
#define MAPN_EXPERIMENTS_HARNESS_CHECKPOINT_CACHE_H_

#include <torch/nn/module.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/harness/work_dir.h"
#include "mapn/model/composition.h"
#include "mapn/model/options_json.h"
#include "mapn/train/pose_windows.h"
#include "mapn/train/train_options.h"

namespace mapn::experiments {

// A checkpoint in the cache.
struct TrainedModel {
  std::string composition;  // its name in the experiment's table
  std::string key;          // 16 hex digits
  std::string path;         // the checkpoint
  // The settings it was trained with on top of the scale's
  // ("extractor.depth=34"), which a model trained from it repeats.
  std::vector<std::string> settings;
  bool cached = false;       // found, not trained by this call
  double train_seconds = 0;  // of this call
};

// What a cached model is; everything but `settings` is hashed into its key.
struct ModelRecipe {
  std::string composition;
  // Every option of the composition, typed (model::ToOptionValues), so
  // that two spellings of one model share a key.
  model::PipelineOptionValues options;
  std::vector<train::TrainOptions> stages;  // in order, at least one
  // Its extractor, propagator and head tensors (those of the parts it has)
  // initialise the model; the policy keeps its initial values.
  std::optional<TrainedModel> init;
  std::string data_key;  // DataSource::key
  int split = 1;
  uint64_t seed = 1;  // initial weights (and the stages' own seeds)
  std::vector<std::string> settings;  // handed on to TrainedModel
};

// Bumped when the meaning of a cached checkpoint changes without its recipe
// changing (e.g. a fix in the initialisation). 2: options per component.
inline constexpr int kRecipeVersion = 2;

// The JSON that is hashed into the key (and opens the manifest).
std::string RecipeJson(const ModelRecipe& recipe);

class CheckpointCache {
 public:
  // Checkpoints go to `work_dir`/models; progress to `log`.
  CheckpointCache(std::string work_dir, LogFunction log);

  const std::string& models_dir() const { return models_dir_; }

  // The checkpoint `recipe` describes: found in the cache, or trained on
  // `windows` with the composition `table` builds under its name. Errors
  // name the model ("training mapn (stage 3, 4 from mapn-<key>): ...").
  absl::StatusOr<TrainedModel> FindOrTrain(const ModelRecipe& recipe,
                                           const model::CompositionTable& table,
                                           train::PoseWindows& windows);

 private:
  // Seeds, builds, initialises, trains and saves to `path`; the stages'
  // reports as JSON for the manifest.
  absl::StatusOr<std::string> TrainAndSave(const ModelRecipe& recipe,
                                           const model::CompositionTable& table,
                                           train::PoseWindows& windows,
                                           const std::string& path);

  std::string models_dir_;
  LogFunction log_;
};

// Copies the extractor, propagator and head tensors of the checkpoint at
// `path` into `module`. A part the file has must match the model's part
// exactly (names and shapes); a part the file lacks (a Simple Baseline has
// no ConvLSTM) and the policy keep their initial values. Errors name the
// file ("init checkpoint '<path>' ...").
absl::Status LoadInitWeights(const std::string& path,
                             torch::nn::Module& module);

}  // namespace mapn::experiments

#endif  // MAPN_EXPERIMENTS_HARNESS_CHECKPOINT_CACHE_H_
