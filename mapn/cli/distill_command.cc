// `mapn distill`: trains the Motion Adaptive Pose Net on a pretrained
// MoveNet from unlabelled videos, with per-frame MoveNet as the teacher
// (mapn/distill): the ConvLSTM (stage 2), the gate (stage 3), then both
// (stage 4), writing a resumable training state after every epoch (OUT.state)
// and the distilled parts to OUT (without the pretrained encoder and head,
// which come from the model cache when OUT is loaded).
#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mapn/cli/list_flags.h"
#include "mapn/cli/model_flags.h"
#include "mapn/cli/subcommand.h"
#include "mapn/core/status_macros.h"
#include "mapn/detect/person_detector.h"
#include "mapn/distill/distill_data.h"
#include "mapn/distill/distiller.h"
#include "mapn/estimate/batch.h"
#include "mapn/estimate/box_source.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/composition.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/train/augmentation.h"
#include "mapn/train/train_options.h"

ABSL_FLAG(std::string, distill_out, "",
          "Where the distilled model goes (the ConvLSTM, the gate and, with "
          "--train_encoder, the encoder: the pretrained parts come from the "
          "model cache when it is loaded); OUT.state holds the training state "
          "written after every epoch.");
ABSL_FLAG(std::string, distill_model, "movenet_mapn",
          "The student: a composition with MoveNet's encoder and head "
          "(movenet_mapn, movenet_fixed, movenet_energy, movenet_nowarp).");
ABSL_FLAG(std::string, distill_variant, "lightning",
          "MoveNet variant of teacher and student: lightning (192 x 192) or "
          "thunder (256 x 256).");
ABSL_FLAG(std::vector<std::string>, distill_set, {},
          "Student options by path, comma-separated: ROLE.NAME=VALUE (e.g. "
          "propagator.kernel=1,policy.interval=3).");
ABSL_FLAG(std::string, distill_init, "",
          "A distilled checkpoint whose tensors of the same names start the "
          "student (e.g. movenet_mapn's ConvLSTM for movenet_fixed).");
ABSL_FLAG(std::string, distill_stage, "all",
          "2 (ConvLSTM), 3 (gate), 4 (both, and the encoder with "
          "--train_encoder), or all: the stages the student has parameters "
          "for, in order.");
ABSL_FLAG(std::string, distill_epochs, "",
          "Epochs per stage: one number, or one per stage run "
          "(comma-separated); empty: 8 for stage 2, 4 for stage 3, 2 for "
          "stage 4 (the recipe of the bundled model).");
ABSL_FLAG(std::string, distill_lr, "",
          "Adam learning rate per stage (one value or one per stage); empty: "
          "1e-3, and 1e-4 for stage 4.");
ABSL_FLAG(double, distill_gate_lambda, 0.3,
          "lambda of loss (15): the loss one unit of P-frame keyframe rate "
          "costs (stages 3 and 4), against the teacher-matching term.");
ABSL_FLAG(double, distill_keep_probability, 0.3,
          "Stage 2: chance that a P-frame is a keyframe (learned gates "
          "only).");
ABSL_FLAG(double, distill_geometry_weight, 0.1,
          "Weight of the regression and offset maps against the heatmaps.");
ABSL_FLAG(bool, distill_train_encoder, false,
          "Stage 4 fine-tunes the encoder too (keeps the cropped frames in "
          "the cache: about 20 % more).");
ABSL_FLAG(int, distill_windows_per_step, 4, "Windows of 12 frames per step.");
ABSL_FLAG(int, distill_max_steps, 0,
          "Steps per epoch at most (0: every window once).");
ABSL_FLAG(int64_t, distill_seed, 1,
          "Seed of the new weights, the order and the keyframe draws.");
ABSL_FLAG(bool, distill_resume, false,
          "Continue from OUT.state if it exists (same flags and videos).");
ABSL_FLAG(std::string, distill_cache_dir, "",
          "Where the teacher's outputs are cached, per video; empty: "
          "$XDG_CACHE_HOME/mapn/teacher or ~/.cache/mapn/teacher.");
ABSL_FLAG(std::string, distill_detector, "multipose",
          "Person detector for the crops, as mapn estimate's (multipose, "
          "centernet, nanodet), or none: the whole frame.");
ABSL_FLAG(double, distill_min_person_score, 0.5,
          "A keyframe's box counts as a person from this score up.");
ABSL_FLAG(double, distill_keep_person_score, 0.3,
          "A person already in view continues from this score up.");
ABSL_FLAG(int64_t, distill_max_windows_per_video, 0,
          "Windows used per video at most, evenly spread (0: all).");

namespace mapn::cli {

extern const Subcommand kDistillCommand;  // defined at the end of the file

namespace {

int Failure(const std::string& message) {
  return ::mapn::cli::Failure("distill", message);
}

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return absl::StrCat(xdg, "/mapn/teacher");
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return absl::StrCat(home, "/.cache/mapn/teacher");
  }
  return "/tmp/mapn-teacher";
}

// Every video of the arguments: folders (recursively), manifests, videos.
absl::StatusOr<std::vector<BatchVideo>> ListInputs(
    const std::vector<std::string>& args) {
  std::vector<BatchVideo> videos;
  for (const std::string& arg : args) {
    std::error_code error;
    if (std::filesystem::is_directory(arg, error)) {
      MAPN_ASSIGN_OR_RETURN(std::vector<BatchVideo> listed,
                            ListVideoDirectory(arg));
      if (listed.empty()) {
        return absl::NotFoundError(
            absl::StrCat("no video file in the folder '", arg, "'"));
      }
      for (BatchVideo& v : listed) videos.push_back(std::move(v));
    } else if (!std::filesystem::exists(arg, error)) {
      return absl::NotFoundError(absl::StrCat("'", arg, "' does not exist"));
    } else if (IsVideoFileName(arg)) {
      videos.push_back(BatchVideo{.path = arg, .name = arg});
    } else {
      MAPN_ASSIGN_OR_RETURN(std::vector<BatchVideo> listed, ListManifest(arg));
      for (BatchVideo& v : listed) videos.push_back(std::move(v));
    }
  }
  return videos;
}

int RunDistill(const std::vector<std::string>& args,
               const CommandContext& context) {
  const Subcommand& self = kDistillCommand;
  const std::string out = absl::GetFlag(FLAGS_distill_out);
  if (out.empty()) return UsageError(self, "--out is required");
  const std::string stage_flag = absl::GetFlag(FLAGS_distill_stage);
  if (stage_flag != "all" && stage_flag != "2" && stage_flag != "3" &&
      stage_flag != "4") {
    return UsageError(
        self,
        absl::StrCat("--stage must be 2, 3, 4 or all, got '", stage_flag, "'"));
  }
  absl::StatusOr<std::vector<int64_t>> epochs =
      ParseList<int64_t>("epochs", absl::GetFlag(FLAGS_distill_epochs));
  if (!epochs.ok())
    return UsageError(self, std::string(epochs.status().message()));
  absl::StatusOr<std::vector<double>> lr =
      ParseList<double>("lr", absl::GetFlag(FLAGS_distill_lr));
  if (!lr.ok()) return UsageError(self, std::string(lr.status().message()));
  if (absl::GetFlag(FLAGS_distill_windows_per_step) < 1) {
    return UsageError(self, "--windows_per_step must be >= 1");
  }
  const std::string model_name = absl::GetFlag(FLAGS_distill_model);
  if (!context.compositions->Get(model_name).ok()) {
    return UsageError(
        self,
        std::string(context.compositions->Get(model_name).status().message()));
  }
  absl::StatusOr<std::vector<BatchVideo>> videos = ListInputs(args);
  if (!videos.ok()) return Failure(std::string(videos.status().message()));

  // Teacher and student.
  const std::string variant = absl::GetFlag(FLAGS_distill_variant);
  absl::StatusOr<distill::Teacher> teacher =
      distill::Teacher::Pretrained(variant);
  if (!teacher.ok()) {
    if (absl::IsInvalidArgument(teacher.status())) {
      return UsageError(
          self, absl::StrCat("--variant: ", teacher.status().message()));
    }
    return Failure(std::string(teacher.status().message()));
  }
  at::manual_seed(static_cast<uint64_t>(absl::GetFlag(FLAGS_distill_seed)));
  absl::StatusOr<model::AnyPipeline> student =
      movenet::MoveNetCompositionFromPretrained(
          *context.compositions, model_name, variant,
          absl::GetFlag(FLAGS_distill_set));
  if (!student.ok()) {
    return UsageError(self, std::string(student.status().message()));
  }
  if (const absl::Status fits = distill::CheckStudent(*student, *teacher);
      !fits.ok()) {
    return UsageError(self, std::string(fits.message()));
  }
  if (const std::string init = absl::GetFlag(FLAGS_distill_init);
      !init.empty()) {
    absl::StatusOr<model::ModelFile> file = model::ReadModelFile(init);
    if (!file.ok()) return Failure(std::string(file.status().message()));
    model::TensorMatching matching;
    matching.may_be_absent = [](const std::string&) { return true; };
    matching.may_be_extra = [](const std::string&) { return true; };
    absl::StatusOr<model::AssignReport> assigned =
        model::AssignTensors(student->module(), file->tensors,
                             absl::StrCat("--init '", init, "'"), matching);
    if (!assigned.ok())
      return Failure(std::string(assigned.status().message()));
    std::cerr << "initialised " << assigned->loaded << " tensors from " << init
              << "\n";
  }

  // The boxes, as mapn estimate finds them.
  BoxSource boxes = BoxSource::WholeFrame();
  std::string boxes_key = "whole frame";
  const std::string detector_flag = absl::GetFlag(FLAGS_distill_detector);
  if (detector_flag != "none") {
    absl::StatusOr<detect::DetectorModel> detector_model =
        detect::ParseDetectorModel(detector_flag);
    if (!detector_model.ok()) {
      return UsageError(self, absl::StrCat("--detector: ",
                                           detector_model.status().message()));
    }
    absl::StatusOr<std::unique_ptr<detect::GraphPersonDetector>> detector =
        detect::GraphPersonDetector::Load({.model = *detector_model});
    if (!detector.ok()) {
      return Failure(absl::StrCat("--detector ", detector_flag, ": ",
                                  detector.status().message()));
    }
    DetectedBoxOptions detected;
    detected.min_person_score =
        static_cast<float>(absl::GetFlag(FLAGS_distill_min_person_score));
    detected.keep_person_score =
        static_cast<float>(absl::GetFlag(FLAGS_distill_keep_person_score));
    boxes = BoxSource::Detected(
        std::shared_ptr<const detect::PersonDetector>(std::move(*detector)),
        detected);
    boxes_key = absl::StrCat(detector_flag, " ", detected.min_person_score, " ",
                             detected.keep_person_score);
  }

  distill::DistillDataOptions data_options;
  data_options.cache_dir = absl::GetFlag(FLAGS_distill_cache_dir);
  if (data_options.cache_dir.empty())
    data_options.cache_dir = DefaultCacheDir();
  data_options.max_windows_per_video =
      absl::GetFlag(FLAGS_distill_max_windows_per_video);
  data_options.keep_frames = absl::GetFlag(FLAGS_distill_train_encoder);
  std::cerr << "teacher: per-frame MoveNet " << variant << " (" << teacher->key
            << "), cache " << data_options.cache_dir << "\n";
  absl::StatusOr<distill::DistillData> data = distill::DistillData::Build(
      *videos, *teacher, boxes, boxes_key, data_options);
  if (!data.ok()) return Failure(std::string(data.status().message()));
  std::cerr << "distilling " << student->composition() << " on " << data->size()
            << " windows (" << data->valid_frames() << " frames) of "
            << data->videos().size() << " videos";
  if (!data->skipped().empty()) {
    std::cerr << "; " << data->skipped().size() << " skipped";
  }
  std::cerr << "\n";

  // The stages.
  std::vector<train::Stage> stages;
  if (stage_flag == "all") {
    stages = distill::DistillStagesFor(*student);
  } else {
    stages.push_back(static_cast<train::Stage>(std::stoi(stage_flag)));
  }
  if (stages.empty()) {
    return UsageError(self, absl::StrCat(model_name, " has nothing to distil"));
  }
  if (epochs->empty()) {
    for (train::Stage stage : stages) {
      epochs->push_back(stage == train::Stage::kPropagation ? 8
                        : stage == train::Stage::kGate      ? 4
                                                            : 2);
    }
  }
  absl::StatusOr<std::vector<int64_t>> stage_epochs =
      PerStage("epochs", *epochs, stages.size());
  if (!stage_epochs.ok()) {
    return UsageError(self, std::string(stage_epochs.status().message()));
  }
  // No --lr: each stage's default rate (below).
  absl::StatusOr<std::vector<double>> stage_lr =
      lr->empty() ? std::vector<double>(stages.size(), 0.0)
                  : PerStage("lr", *lr, stages.size());
  if (!stage_lr.ok()) {
    return UsageError(self, std::string(stage_lr.status().message()));
  }
  std::vector<distill::DistillOptions> options;
  for (size_t i = 0; i < stages.size(); ++i) {
    distill::DistillOptions o;
    o.train = train::StageDefaults(stages[i]);
    o.train.epochs = (*stage_epochs)[i];
    if (!lr->empty()) o.train.learning_rate = (*stage_lr)[i];
    o.train.batch_size = absl::GetFlag(FLAGS_distill_windows_per_step);
    o.train.max_steps_per_epoch = absl::GetFlag(FLAGS_distill_max_steps);
    o.train.gate_lambda = absl::GetFlag(FLAGS_distill_gate_lambda);
    o.train.keep_probability = absl::GetFlag(FLAGS_distill_keep_probability);
    o.train.augment = train::NoAugmentation();
    o.train.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_distill_seed));
    o.train.checkpoint_path = out + ".state";
    o.train.resume = absl::GetFlag(FLAGS_distill_resume);
    o.train_encoder = absl::GetFlag(FLAGS_distill_train_encoder) &&
                      stages[i] == train::Stage::kJoint;
    o.geometry_weight = absl::GetFlag(FLAGS_distill_geometry_weight);
    if (const absl::Status valid = distill::ValidateDistillOptions(o);
        !valid.ok()) {
      return UsageError(self, std::string(valid.message()));
    }
    options.push_back(std::move(o));
  }
  absl::StatusOr<std::vector<train::TrainReport>> reports =
      distill::DistillStages(*student, *teacher, *data, options);
  if (!reports.ok()) return Failure(std::string(reports.status().message()));
  for (const train::TrainReport& r : *reports) {
    std::cerr << "stage " << train::StageName(r.stage) << ": " << r.epochs
              << " epochs, last loss "
              << (r.epoch_losses.empty() ? 0.0 : r.epoch_losses.back()) << ", "
              << r.seconds << " s\n";
  }
  std::vector<std::string> pretrained = {movenet::kPretrainedHeadPrefix};
  if (!absl::GetFlag(FLAGS_distill_train_encoder)) {
    pretrained.push_back(movenet::kPretrainedEncoderPrefix);
  }
  if (const absl::Status saved =
          movenet::SaveOnPretrained(*student, out, pretrained);
      !saved.ok()) {
    return Failure(std::string(saved.message()));
  }
  std::cerr << "wrote " << out << " (" << std::filesystem::file_size(out) / 1024
            << " KiB)\n";
  return kExitOk;
}

}  // namespace

const Subcommand kDistillCommand = {
    "distill",
    "Distils MAPN on a pretrained MoveNet from unlabelled videos.",
    "mapn distill VIDEOS... --out MODEL [--model movenet_mapn] [--variant "
    "lightning|thunder] [--stage 2|3|4|all] [flags]",
    "Per-frame MoveNet is the teacher: on every window of the videos (folders\n"
    "are searched recursively; a file that is not a video is a manifest,\n"
    "one video per line), cropped around the person as mapn estimate crops\n"
    "it, its encoder's features are computed once and cached per video\n"
    "(--cache_dir; a file is rebuilt when the teacher, the video or the\n"
    "crop options change). The student has the teacher's encoder and head;\n"
    "stage 2 trains its ConvLSTM on the cached features with random\n"
    "keyframes, stage 3 its gate with loss (15) (the teacher's maps as\n"
    "targets plus --gate_lambda times the keyframe rate), stage 4 both (and\n"
    "the encoder with --train_encoder). After every epoch OUT.state is\n"
    "written atomically; --resume continues from it exactly. OUT holds what\n"
    "was trained (a few hundred KiB): load it with mapn estimate\n"
    "--checkpoint OUT. docs/training.md, \"Distillation\", has the recipe\n"
    "behind mapn's default model.",
    __FILE__,
    1,
    1000,
    &RunDistill,
    /*lists_compositions=*/true};

}  // namespace mapn::cli
