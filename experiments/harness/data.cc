#include "experiments/harness/data.h"

#include <chrono>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/status_macros.h"
#include "mapn/train/datasets.h"

namespace mapn::experiments {
namespace {

std::string Json(double v) { return absl::StrFormat("%.9g", v); }

// The knobs the scales set; the rest are SynthPoseOptions' defaults.
std::string SynthPoseKnobs(const SynthPoseOptions& synth) {
  return absl::StrCat("synthpose seed=", synth.seed, " clips=", synth.num_clips,
                      " size=", synth.width, "x", synth.height,
                      " frames=", synth.min_frames, "-", synth.max_frames,
                      " train=", Json(synth.train_fraction),
                      " fast=", Json(synth.fast_fraction));
}

absl::StatusOr<DataSource> PrepareSynthPose(const Scale& scale,
                                            const std::string& work_dir,
                                            const LogFunction& log) {
  const SynthPoseOptions& synth = scale.synth;
  MAPN_RETURN_IF_ERROR(ValidateSynthPoseOptions(synth));
  DataSource source;
  source.dataset = "synthpose";
  source.key = SynthPoseKnobs(synth);
  source.root = absl::StrCat(work_dir, "/data/synthpose-", HashKey(source.key));
  // The manifest is written last, so its presence means a complete set.
  const std::string manifest = source.root + "/synthpose.json";
  if (FileExists(manifest)) {
    log(absl::StrCat("SynthPose found in ", source.root));
    return source;
  }
  MAPN_RETURN_IF_ERROR(MakeDirs(source.root));
  MAPN_ASSIGN_OR_RETURN(FileLock lock,
                        FileLock::Acquire(source.root + "/.lock"));
  if (!FileExists(manifest)) {  // else generated while we waited
    const auto start = std::chrono::steady_clock::now();
    log(absl::StrCat("generating SynthPose (", source.key, ") into ",
                     source.root));
    MAPN_RETURN_IF_ERROR(GenerateSynthPose(synth, source.root));
    log(absl::StrFormat(
        "generated in %.0f s",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count()));
  }
  return source;
}

absl::StatusOr<DataSource> FindRealDataset(const std::string& dataset,
                                           const std::string& data_root) {
  if (data_root.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data_root is required for --dataset=", dataset));
  }
  std::error_code ec;
  const std::filesystem::path root = std::filesystem::absolute(data_root, ec);
  if (ec || !std::filesystem::is_directory(root, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data_root '", data_root, "' is not a directory"));
  }
  DataSource source;
  source.dataset = dataset;
  source.root = root.string();
  source.key = absl::StrCat(dataset, " at ", source.root);
  source.num_splits = dataset == "jhmdb" ? 3 : 1;
  return source;
}

std::string DatasetTitle(const std::string& dataset) {
  if (dataset == "synthpose") return "SynthPose";
  return dataset == "jhmdb" ? "Sub-JHMDB" : "Penn Action";
}

}  // namespace

absl::StatusOr<DataSource> PrepareData(const std::string& dataset,
                                       const std::string& data_root,
                                       const Scale& scale,
                                       const std::string& work_dir,
                                       const LogFunction& log) {
  if (dataset != "synthpose" && dataset != "penn_action" &&
      dataset != "jhmdb") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown dataset '", dataset,
                     "'; expected synthpose, penn_action or jhmdb"));
  }
  if (dataset != "synthpose") return FindRealDataset(dataset, data_root);
  if (!data_root.empty()) {
    return absl::InvalidArgumentError(
        "--data_root is for penn_action and jhmdb; SynthPose is generated "
        "into the work directory from the scale's options");
  }
  return PrepareSynthPose(scale, work_dir, log);
}

absl::StatusOr<SplitData> LoadSplit(const DataSource& source, int split,
                                    const Scale& scale, int64_t input_size,
                                    const std::string& work_dir) {
  if (split < 1 || split > source.num_splits) {
    return absl::InvalidArgumentError(
        absl::StrCat("split ", split, " out of range 1..", source.num_splits));
  }
  MAPN_ASSIGN_OR_RETURN(PoseDataset train_set,
                        train::LoadDatasetByName(source.dataset, source.root,
                                                 split, Split::kTrain));
  MAPN_ASSIGN_OR_RETURN(PoseDataset test_set,
                        train::LoadDatasetByName(source.dataset, source.root,
                                                 split, Split::kTest));
  if (train_set.sequences.empty() || test_set.sequences.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", source.dataset, " data at '", source.root, "' has ",
        train_set.sequences.size(), " training and ", test_set.sequences.size(),
        " test sequences; both splits need at least one"));
  }
  const int64_t joints = train_set.joints.num_joints();
  std::string description = absl::StrCat(
      DatasetTitle(source.dataset),
      source.num_splits > 1 ? absl::StrCat(" split ", split) : "", ", scale ",
      scale.name, ": train ", train_set.sequences.size(), " clips / ",
      train_set.TotalFrames(), " frames, test ", test_set.sequences.size(),
      " clips / ", test_set.TotalFrames(), " frames");
  train::PoseWindowsOptions window_options;
  window_options.input_size = static_cast<int>(input_size);
  window_options.video_cache_dir =
      absl::StrCat(work_dir, "/video_cache/", source.dataset);
  MAPN_ASSIGN_OR_RETURN(
      train::PoseWindows train,
      train::PoseWindows::Create(std::move(train_set), window_options));
  window_options.cache_megabytes = 0;  // evaluation streams each file once
  MAPN_ASSIGN_OR_RETURN(
      train::PoseWindows test,
      train::PoseWindows::Create(std::move(test_set), window_options));
  return SplitData{split, std::move(train), std::move(test), joints,
                   std::move(description)};
}

}  // namespace mapn::experiments
