// `bazel run //experiments/real_video -- --shared_dir=$PWD/../shared/data/real
// --work_dir=/tmp/real-video`: the Motion Adaptive Pose Net on MoveNet
// Lightning, distilled from unlabelled real video and evaluated on real
// clips it never saw (docs/results.md, "MAPN on MoveNet"). From an empty
// work directory it
//
//   1. distils movenet_mapn (stages 2, 3 and 4) on the training clips
//      (kTrainClips), per-frame MoveNet as the teacher;
//   2. measures its keyframe rate on the held-out clips, then builds the
//      ablations at that rate: the same ConvLSTM with keyframes every k
//      frames (movenet_fixed) or where the residual's energy is high
//      (movenet_energy, threshold set so that the training clips' P-frames
//      reach the rate), and a ConvLSTM distilled without warping at the
//      same interval (movenet_nowarp), the same ConvLSTM under the
//      residual-energy gate at --default_energy_p_rate (the model mapn
//      estimate bundles, written to WORK_DIR/movenet_energy_k3.ckpt), and
//      the training-free policies at the rates of --extra_intervals;
//   3. runs every row through mapn estimate's path (detected person, one
//      crop per window) on the JHMDB clip with its official labels and on
//      the held-out clips, per-frame MoveNet measured in the same run.
//
// Columns: keyframe %, multiply-adds per frame against per-frame MoveNet,
// PCK@0.2 on the JHMDB labels, PCK@0.2 against the teacher on the held-out
// clips (teacher joints with score >= 0.3; threshold 0.2 x the longer side
// of the person box), and the wall-clock speed-up against per-frame MoveNet
// (model time, and end to end: decoding, detection and cropping included).
// Distilled models are kept in the work directory and reused.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/ground_truth.h"
#include "mapn/detect/person_detector.h"
#include "mapn/distill/distill_data.h"
#include "mapn/distill/distiller.h"
#include "mapn/estimate/batch.h"
#include "mapn/estimate/box_source.h"
#include "mapn/estimate/estimator.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/compositions.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/transcode.h"

ABSL_FLAG(std::string, shared_dir, "",
          "../shared/data/real (SOURCES.md): the clips and labels.");
ABSL_FLAG(std::string, work_dir, "/tmp/real-video",
          "Teacher cache, transcoded clips and distilled models (reused).");
ABSL_FLAG(int, stage2_epochs, 8, "Stage 2 epochs (the ConvLSTM).");
ABSL_FLAG(int, stage3_epochs, 4, "Stage 3 epochs (the gate).");
ABSL_FLAG(int, stage4_epochs, 2, "Stage 4 epochs (both).");
ABSL_FLAG(double, gate_lambda, 0,
          "lambda of loss (15); 0: calibrated after stage 2 for "
          "--target_p_rate (CalibrateLambda).");
ABSL_FLAG(double, target_p_rate, 0.25,
          "The P-frame keyframe rate lambda is calibrated for (a ceiling).");
ABSL_FLAG(double, default_energy_p_rate, 1.0 / 11,
          "The P-frame keyframe rate, on the training clips, that sets the "
          "residual-energy threshold of the model mapn estimate bundles "
          "(1/11: that of keyframes every 6 frames in windows of 12); the "
          "model is written to WORK_DIR/movenet_energy_k<kernel>.ckpt.");
ABSL_FLAG(std::vector<std::string>, extra_intervals,
          std::vector<std::string>({"3", "6"}),
          "More rows at other keyframe rates: for each interval k, the same "
          "ConvLSTM with keyframes every k frames and with the residual-energy "
          "gate at that rate.");
ABSL_FLAG(int, lstm_kernel, 3,
          "The ConvLSTM's gate kernel (propagator.kernel) of every row: 3 is "
          "the paper's; 1 costs a ninth (docs/results.md compares them).");
ABSL_FLAG(int64_t, max_windows_per_video, 40,
          "Training windows per clip at most.");

namespace mapn::experiments {
namespace {

namespace fs = std::filesystem;
using model::AnyPipeline;

// Training clips: every clip of SOURCES.md's people videos except the
// held-out ones and the labelled ones below (their B-frame and other-codec
// streams are transcoded).
const char* const kTrainClips[] = {
    "st-gcn/resource/media/ta_chi.mp4",
    "mmhuman3d/demo/resources/single_person_demo.mp4",
    "mmhuman3d/demo/resources/multi_person_demo.mp4",
    "UniFormer/video_classification/vis/example_video/Tw2yXa6CzWE.mp4",
    "sample-videos/asl_gestures/book.mkv",
    "mmaction2/tests/data/test.avi",
    "PaddleVideo/data/example.avi",
    "InternVideo/Data/InternVid/example1.mp4",
    "video_features/sample/v_GGSY1Qvo990.mp4",
    "mv-extractor/vid_mpeg4_part2.mp4",
    "human-motion/assets/BaseballPitch.mp4",
    "sam2/demo/data/gallery/05_default_juggle.mp4",
    "HybrIK/examples/taiji.mp4",
    "MusePose/assets/videos/dance.mp4",
    "supervision/docs/tracker/walking.mp4",
    "sample-videos/one-by-one-person-detection.mp4",
    "PoseFormerV2/demo/video/sample_video.mp4",
    "GAST-Net-3DPoseEstimation/data/video/apart.avi",
};
// Held out: scored against the teacher.
const char* const kHeldOutClips[] = {
    "mmpose/demo/resources/demo.mp4",
    "tfjs-models/pose-detection/test_data/pose_squats.mp4",
    "st-gcn/resource/media/clean_and_jerk.mp4",
    "Ask-Anything/example/hitting_baseball.mp4",
    "holistic/assets/samples/streching.webm",
};
const char kJhmdbDir[] = "jhmdb-readannotation/ReadJHMDBAnnotations/data/";
const char kJhmdbClip[] = "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi";

constexpr char kVariant[] = "lightning";

struct ClipResult {
  int64_t frames = 0;
  int64_t keyframes = 0;
  int64_t windows = 0;  // with a person
  double macs = 0, baseline_macs = 0;
  double model_s = 0, baseline_model_s = 0, total_s = 0;
  std::optional<double> pck;
  PoseTrack track;
};

struct Row {
  std::string name;
  AnyPipeline model;
};

// A clip the reader takes: the clip itself or its transcoded copy.
absl::StatusOr<std::string> Readable(const std::string& path,
                                     const std::string& work) {
  FfmpegStreamSourceOptions options;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(path, options);
  bool ok = source.ok();
  if (ok) {
    while (true) {
      absl::StatusOr<std::optional<GopWindow>> w = source->Next();
      if (!w.ok()) {
        ok = false;
        break;
      }
      if (!*w) break;
    }
  }
  if (ok) return path;
  const std::string out = (fs::path(work) / "eval_transcoded" /
                           absl::StrCat(fs::path(path).stem().string(), ".mp4"))
                              .string();
  if (!fs::exists(out)) {
    fs::create_directories(fs::path(out).parent_path());
    const std::string temp = out + ".partial.mp4";
    MAPN_RETURN_IF_ERROR(Transcode(path, temp));
    fs::rename(temp, out);
  }
  return out;
}

absl::StatusOr<ClipResult> RunClip(const AnyPipeline& model,
                                   const AnyPipeline& baseline,
                                   const std::string& clip,
                                   const BoxSource& boxes,
                                   const GroundTruth* truth) {
  FfmpegStreamSourceOptions source_options;
  source_options.on_damage = DamagePolicy::kConceal;
  MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
                        FfmpegStreamSource::Open(clip, source_options));
  EstimateOptions options;
  options.boxes = boxes;
  options.joint_set = JointSetForModel(model.joints());
  options.ground_truth = truth;
  MAPN_ASSIGN_OR_RETURN(PoseTrack track,
                        EstimatePoses(model, source, options, &baseline));
  ClipResult r;
  const PoseTrackSummary& s = track.summary;
  r.frames = s.frames - s.frames_without_person;
  r.keyframes = s.keyframes;
  // Totals over the video: what ran, and the per-frame baseline on the
  // same crops.
  r.macs = s.macs_per_frame.true_macs * static_cast<double>(s.frames);
  r.baseline_macs =
      s.baseline_macs_per_frame.true_macs * static_cast<double>(s.frames);
  std::set<int64_t> windows;
  for (const FramePose& f : track.frames) {
    if (f.has_person()) windows.insert(f.window);
  }
  r.windows = static_cast<int64_t>(windows.size());
  r.model_s = s.timing.model_seconds;
  r.total_s = s.timing.total_seconds;
  r.baseline_model_s = s.baseline_timing ? s.baseline_timing->model_seconds : 0;
  r.pck = s.pck;
  r.track = std::move(track);
  return r;
}

// PCK@0.2 of `track` against the teacher's `reference`, both on the same
// boxes: joints the teacher scores >= 0.3 count; the threshold is 0.2 x the
// longer side of the frame's person box.
void PckAgainst(const PoseTrack& track, const PoseTrack& reference,
                double* hits, double* counted) {
  for (size_t f = 0; f < track.frames.size() && f < reference.frames.size();
       ++f) {
    const FramePose& a = track.frames[f];
    const FramePose& b = reference.frames[f];
    // One person each (max_people = 1).
    if (!b.has_person() || !a.has_person()) continue;
    const PersonPose& pa = a.people[0];
    const PersonPose& pb = b.people[0];
    const Box& box = pb.box;
    const double side = std::max(box.x2 - box.x1, box.y2 - box.y1);
    for (size_t j = 0; j < pb.joints.size() && j < pa.joints.size(); ++j) {
      if (pb.joints[j].confidence < 0.3f) continue;
      const double d = std::hypot(pa.joints[j].x - pb.joints[j].x,
                                  pa.joints[j].y - pb.joints[j].y);
      *counted += 1;
      if (d <= 0.2 * side) *hits += 1;
    }
  }
}

// Mean |residual| of the training windows' valid P-frames, sorted: the
// residual-energy gate's statistic (model/policies.h).
std::vector<double> PFrameEnergies(const distill::DistillData& data) {
  std::vector<double> energies;
  for (int64_t i = 0; i < data.size(); ++i) {
    const distill::DistillWindow& w = data.window(i);
    for (int64_t t = 1; t < w.num_valid; ++t) {
      energies.push_back(
          w.residual[t].to(at::kFloat).abs().mean().item<double>());
    }
  }
  std::sort(energies.begin(), energies.end());
  return energies;
}

// lambda of loss (15) for a P-frame keyframe rate near `target`: with the
// loss a mean over a window's frames and the rate a mean over its P-frames,
// a keyframe pays when the error it removes exceeds lambda x P/(P+1) per
// frame; measured with keyframes on I-frames only, the error a keyframe
// would remove is the frame's own, so lambda is the (1 - target) quantile
// of those errors times (P+1)/P. The gate then finds fewer frames worth a
// keyframe than `target` (errors shrink after each), so this is a ceiling.
absl::StatusOr<double> CalibrateLambda(const AnyPipeline& student,
                                       const distill::Teacher& teacher,
                                       const distill::DistillData& data,
                                       double target) {
  const at::NoGradGuard no_grad;
  std::vector<double> errors;
  distill::DistillOptions options;
  for (int64_t i = 0; i < data.size(); i += 4) {
    std::vector<int64_t> ids;
    for (int64_t j = i; j < std::min(data.size(), i + 4); ++j) ids.push_back(j);
    MAPN_ASSIGN_OR_RETURN(distill::DistillBatch batch, data.Batch(ids));
    model::ForwardOptions forward;
    forward.features = batch.features;
    forward.decisions = at::zeros(batch.inputs.valid.sizes(), at::kFloat);
    MAPN_ASSIGN_OR_RETURN(model::ForwardResult out,
                          student.Forward(batch.inputs, forward));
    const at::Tensor targets = distill::TeacherMaps(teacher, batch);
    for (int64_t b = 0; b < batch.inputs.batch_size(); ++b) {
      for (int64_t t = 1; t < batch.inputs.length(); ++t) {
        if (!batch.inputs.valid[b][t].item<bool>()) continue;
        at::Tensor only = at::zeros_like(batch.inputs.valid);
        only[b][t] = true;
        errors.push_back(distill::ComputeDistillLoss(out.heatmaps, targets,
                                                     only, out.g_mix, options,
                                                     false)
                             .total.item<double>());
      }
    }
  }
  if (errors.empty()) return absl::FailedPreconditionError("no P-frames");
  std::sort(errors.begin(), errors.end());
  const size_t at = std::min(
      errors.size() - 1,
      static_cast<size_t>((1.0 - target) * static_cast<double>(errors.size())));
  const double p = static_cast<double>(data.window(0).valid.size(0) - 1);
  return errors[at] * (p + 1) / p;
}

absl::StatusOr<AnyPipeline> Distil(
    const std::string& composition, const std::vector<std::string>& settings,
    const std::string& init, const std::vector<train::Stage>& stages,
    const std::vector<int>& epochs, const distill::Teacher& teacher,
    const distill::DistillData& data, const std::string& out,
    double gate_lambda = 0) {
  if (fs::exists(out)) {
    std::cerr << "reusing " << out << "\n";
    return movenet::LoadOnPretrained(out, model::DefaultCompositions(),
                                     settings);
  }
  at::manual_seed(1);
  MAPN_ASSIGN_OR_RETURN(
      AnyPipeline student,
      movenet::MoveNetCompositionFromPretrained(
          model::DefaultCompositions(), composition, kVariant, settings));
  if (!init.empty()) {
    MAPN_ASSIGN_OR_RETURN(model::ModelFile file, model::ReadModelFile(init));
    model::TensorMatching matching;
    matching.may_be_absent = [](const std::string&) { return true; };
    matching.may_be_extra = [](const std::string&) { return true; };
    MAPN_RETURN_IF_ERROR(
        model::AssignTensors(student.module(), file.tensors, init, matching)
            .status());
  }
  std::vector<distill::DistillOptions> options;
  for (size_t i = 0; i < stages.size(); ++i) {
    distill::DistillOptions o;
    o.train = train::StageDefaults(stages[i]);
    o.train.epochs = epochs[i];
    o.train.gate_lambda = gate_lambda;
    o.train.checkpoint_path = out + ".state";
    o.train.resume = true;
    o.train.progress_seconds = 30;
    options.push_back(o);
  }
  MAPN_RETURN_IF_ERROR(
      distill::DistillStages(student, teacher, data, options).status());
  MAPN_RETURN_IF_ERROR(movenet::SaveOnPretrained(
      student, out,
      {movenet::kPretrainedEncoderPrefix, movenet::kPretrainedHeadPrefix}));
  return student;
}

absl::Status Run() {
  const std::string shared = absl::GetFlag(FLAGS_shared_dir);
  const std::string work = absl::GetFlag(FLAGS_work_dir);
  if (shared.empty() || !fs::is_directory(shared)) {
    return absl::InvalidArgumentError(
        "--shared_dir must be ../shared/data/real (absolute path)");
  }
  fs::create_directories(work);

  // The detector, as mapn estimate's default.
  MAPN_ASSIGN_OR_RETURN(std::unique_ptr<detect::GraphPersonDetector> detector,
                        detect::GraphPersonDetector::Load({}));
  // One person per clip: the labelled clips and the held-out clips are
  // about one person, and speed is compared per person. A keyframe that
  // finds nobody leaves its window without a pose, as before the tracker
  // (stop 19's figures).
  DetectedBoxOptions one_person;
  one_person.max_people = 1;
  one_person.max_missed = 0;
  const BoxSource boxes = BoxSource::Detected(
      std::shared_ptr<const detect::PersonDetector>(std::move(detector)),
      one_person);
  const std::string boxes_key = "multipose 0.5 0.3";

  // 1. Distil MAPN.
  MAPN_ASSIGN_OR_RETURN(distill::Teacher teacher,
                        distill::Teacher::Pretrained(kVariant));
  std::vector<BatchVideo> train_videos;
  for (const char* clip : kTrainClips) {
    train_videos.push_back({absl::StrCat(shared, "/", clip), clip});
  }
  distill::DistillDataOptions data_options;
  data_options.cache_dir = work + "/teacher";
  data_options.max_windows_per_video =
      absl::GetFlag(FLAGS_max_windows_per_video);
  MAPN_ASSIGN_OR_RETURN(
      distill::DistillData data,
      distill::DistillData::Build(train_videos, teacher, boxes, boxes_key,
                                  data_options));
  std::cout << "training data: " << data.size() << " windows, "
            << data.valid_frames() << " frames of " << data.videos().size()
            << " clips\n\n| training clip | frames | windows with a person "
               "(kept) | their frames |\n| --- | --- | --- | --- |\n";
  for (const distill::DistillVideo& v : data.videos()) {
    std::cout << absl::StrFormat("| %s | %d | %d | %d |\n", v.name, v.frames,
                                 v.windows, v.frames_in_windows);
  }
  using train::Stage;
  const int kernel = absl::GetFlag(FLAGS_lstm_kernel);
  const std::string lstm_setting = absl::StrCat("propagator.kernel=", kernel);
  // A lambda given by hand is part of the name (a sweep keeps each model).
  const std::string mapn_ckpt =
      absl::GetFlag(FLAGS_gate_lambda) > 0
          ? absl::StrFormat("%s/movenet_mapn_k%d_lambda%g.ckpt", work, kernel,
                            absl::GetFlag(FLAGS_gate_lambda))
          : absl::StrCat(work, "/movenet_mapn_k", kernel, ".ckpt");
  const std::string stage2_ckpt =
      absl::StrCat(work, "/movenet_mapn_k", kernel, "_stage2.ckpt");
  MAPN_ASSIGN_OR_RETURN(
      AnyPipeline lstm,
      Distil("movenet_mapn", {lstm_setting}, "", {Stage::kPropagation},
             {absl::GetFlag(FLAGS_stage2_epochs)}, teacher, data, stage2_ckpt));
  double lambda = absl::GetFlag(FLAGS_gate_lambda);
  if (lambda <= 0) {
    MAPN_ASSIGN_OR_RETURN(lambda,
                          CalibrateLambda(lstm, teacher, data,
                                          absl::GetFlag(FLAGS_target_p_rate)));
  }
  std::cout << absl::StrFormat("gate lambda: %.4g\n", lambda);
  MAPN_ASSIGN_OR_RETURN(AnyPipeline mapn,
                        Distil("movenet_mapn", {lstm_setting}, stage2_ckpt,
                               {Stage::kGate, Stage::kJoint},
                               {absl::GetFlag(FLAGS_stage3_epochs),
                                absl::GetFlag(FLAGS_stage4_epochs)},
                               teacher, data, mapn_ckpt, lambda));
  MAPN_ASSIGN_OR_RETURN(AnyPipeline per_frame,
                        movenet::PretrainedMoveNet(kVariant));

  // The evaluation clips.
  std::vector<std::pair<std::string, std::string>> held_out;  // name, path
  for (const char* clip : kHeldOutClips) {
    MAPN_ASSIGN_OR_RETURN(std::string path,
                          Readable(absl::StrCat(shared, "/", clip), work));
    held_out.emplace_back(clip, path);
  }
  MAPN_ASSIGN_OR_RETURN(
      const std::string jhmdb,
      Readable(absl::StrCat(shared, "/", kJhmdbDir, kJhmdbClip), work));
  MAPN_ASSIGN_OR_RETURN(GroundTruth truth,
                        ReadGroundTruth(absl::StrCat(shared, "/", kJhmdbDir,
                                                     "joint_positions.mat")));

  // The teacher's poses on the held-out clips.
  std::vector<PoseTrack> reference;
  std::cout << "\n| held-out clip | frames | with a person |\n"
               "| --- | --- | --- |\n";
  for (const auto& [name, path] : held_out) {
    MAPN_ASSIGN_OR_RETURN(ClipResult r,
                          RunClip(per_frame, per_frame, path, boxes, nullptr));
    std::cout << absl::StrFormat("| %s | %d | %d |\n", name,
                                 r.track.summary.frames, r.frames);
    reference.push_back(std::move(r.track));
  }

  // MAPN's keyframe rate on the held-out clips sets the ablations' rate.
  int64_t frames = 0, keyframes = 0, windows = 0;
  for (const auto& [name, path] : held_out) {
    MAPN_ASSIGN_OR_RETURN(ClipResult r,
                          RunClip(mapn, per_frame, path, boxes, nullptr));
    frames += r.frames;
    keyframes += r.keyframes;
    windows += r.windows;
  }
  const double rate =
      frames > 0 ? static_cast<double>(keyframes) / static_cast<double>(frames)
                 : 1.0;
  // The interval whose keyframe share in windows of 12 frames (frame 0
  // and every k-th after it) is nearest MAPN's rate: 1/rate rounded could
  // be 11, which keys frames 0 and 11, twice the rate of 12.
  int interval = 1;
  for (int k = 1; k <= 12; ++k) {
    const auto share = [](int i) { return (1 + 11 / i) / 12.0; };
    if (std::abs(share(k) - rate) < std::abs(share(interval) - rate)) {
      interval = k;
    }
  }
  // The P-frame rate the energy gate must reach: keyframes beyond the
  // windows' first frames.
  const double p_rate = std::clamp(
      static_cast<double>(keyframes - windows) /
          std::max<double>(1.0, static_cast<double>(frames - windows)),
      0.0, 1.0);
  const std::vector<double> energies = PFrameEnergies(data);
  const double threshold =
      energies.empty()
          ? 0.02
          : energies[std::min(
                energies.size() - 1,
                static_cast<size_t>((1.0 - p_rate) *
                                    static_cast<double>(energies.size())))];
  std::cout << absl::StrFormat(
      "MAPN's keyframe rate on the held-out clips: %.1f %% (P-frames %.1f %%)"
      " -> fixed interval %d, residual-energy threshold %.4f\n",
      100 * rate, 100 * p_rate, interval, threshold);

  // The same ConvLSTM under the training-free policies.
  const auto with_policy =
      [&](const std::string& composition,
          const std::string& setting) -> absl::StatusOr<AnyPipeline> {
    MAPN_ASSIGN_OR_RETURN(
        AnyPipeline m, movenet::MoveNetCompositionFromPretrained(
                           model::DefaultCompositions(), composition, kVariant,
                           {setting, lstm_setting}));
    MAPN_ASSIGN_OR_RETURN(model::ModelFile file,
                          model::ReadModelFile(mapn_ckpt));
    model::TensorMatching matching;
    matching.may_be_absent = [](const std::string&) { return true; };
    matching.may_be_extra = [](const std::string& n) {
      return n.rfind("policy.", 0) == 0;
    };
    MAPN_RETURN_IF_ERROR(
        model::AssignTensors(m.module(), file.tensors, mapn_ckpt, matching)
            .status());
    m.module().eval();
    return m;
  };
  MAPN_ASSIGN_OR_RETURN(
      AnyPipeline fixed_row,
      with_policy("movenet_fixed", absl::StrCat("policy.interval=", interval)));
  MAPN_ASSIGN_OR_RETURN(
      AnyPipeline energy_row,
      with_policy("movenet_energy",
                  absl::StrFormat("policy.threshold=%.6f", threshold)));
  MAPN_ASSIGN_OR_RETURN(
      AnyPipeline nowarp,
      Distil("movenet_nowarp",
             {absl::StrCat("policy.interval=", interval), lstm_setting}, "",
             {Stage::kPropagation}, {absl::GetFlag(FLAGS_stage2_epochs)},
             teacher, data,
             absl::StrCat(work, "/movenet_nowarp_k", kernel, "_interval",
                          interval, ".ckpt")));

  // The P-frame rate of keyframes every k frames in windows of 12, and the
  // energy threshold that gives it on the training clips.
  const auto threshold_for = [&](double p) {
    if (energies.empty()) return 0.02;
    const size_t at = std::min(
        energies.size() - 1,
        static_cast<size_t>((1.0 - p) * static_cast<double>(energies.size())));
    return p <= 0 ? energies.back() + 1 : energies[at];
  };
  std::vector<Row> extra;
  for (const std::string& text : absl::GetFlag(FLAGS_extra_intervals)) {
    int k = 0;
    if (!absl::SimpleAtoi(text, &k) || k < 1) {
      return absl::InvalidArgumentError("--extra_intervals: " + text);
    }
    int p_keys = 0;
    for (int t = 1; t < 12; ++t) p_keys += t % k == 0 ? 1 : 0;
    const double p = p_keys / 11.0;
    MAPN_ASSIGN_OR_RETURN(
        AnyPipeline f,
        with_policy("movenet_fixed", absl::StrCat("policy.interval=", k)));
    MAPN_ASSIGN_OR_RETURN(
        AnyPipeline e,
        with_policy("movenet_energy", absl::StrFormat("policy.threshold=%.6f",
                                                      threshold_for(p))));
    extra.push_back({absl::StrCat("fixed interval k=", k), f});
    extra.push_back({absl::StrFormat("residual energy, threshold %.4f (the "
                                     "rate of k=%d on the training clips)",
                                     threshold_for(p), k),
                     e});
  }
  // The bundled model: the same ConvLSTM under the residual-energy gate
  // at --default_energy_p_rate, saved for tools/distill_default_model.sh.
  const double default_threshold =
      threshold_for(absl::GetFlag(FLAGS_default_energy_p_rate));
  MAPN_ASSIGN_OR_RETURN(
      AnyPipeline bundled,
      with_policy("movenet_energy",
                  absl::StrFormat("policy.threshold=%.6f", default_threshold)));
  // Named after mapn_ckpt, whose ConvLSTM it has (a lambda given by hand
  // is in both names, so a sweep does not overwrite the default's).
  std::string bundled_ckpt = mapn_ckpt;
  bundled_ckpt.replace(bundled_ckpt.rfind("movenet_mapn"),
                       std::string("movenet_mapn").size(), "movenet_energy");
  MAPN_RETURN_IF_ERROR(movenet::SaveOnPretrained(
      bundled, bundled_ckpt,
      {movenet::kPretrainedEncoderPrefix, movenet::kPretrainedHeadPrefix}));
  std::cerr << "wrote " << bundled_ckpt << "\n";
  std::vector<Row> rows = {
      {"per-frame MoveNet Lightning", per_frame},
      {absl::StrFormat("MAPN on MoveNet, residual energy %.4f (bundled)",
                       default_threshold),
       bundled},
      {"MAPN on MoveNet (learned gate)", mapn},
      {absl::StrCat("fixed interval k=", interval), fixed_row},
      {"residual energy", energy_row},
      {absl::StrCat("ConvLSTM without warping, k=", interval), nowarp}};
  for (Row& r : extra) rows.push_back(std::move(r));
  std::cout << "\n| row | keyframes | MACs / per-frame | PCK JHMDB | PCK vs "
               "teacher (held out) | speed-up model | speed-up end to end |\n"
               "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const Row& row : rows) {
    int64_t f = 0, k = 0;
    double macs = 0, base_macs = 0, model_s = 0, base_s = 0, total_s = 0;
    double hits = 0, counted = 0;
    for (size_t c = 0; c < held_out.size(); ++c) {
      MAPN_ASSIGN_OR_RETURN(
          ClipResult r,
          RunClip(row.model, per_frame, held_out[c].second, boxes, nullptr));
      f += r.frames;
      k += r.keyframes;
      macs += r.macs;
      base_macs += r.baseline_macs;
      model_s += r.model_s;
      base_s += r.baseline_model_s;
      total_s += r.total_s;
      PckAgainst(r.track, reference[c], &hits, &counted);
    }
    MAPN_ASSIGN_OR_RETURN(ClipResult j,
                          RunClip(row.model, per_frame, jhmdb, boxes, &truth));
    f += j.frames;
    k += j.keyframes;
    macs += j.macs;
    base_macs += j.baseline_macs;
    model_s += j.model_s;
    base_s += j.baseline_model_s;
    total_s += j.total_s;
    // End to end: this row's run without the baseline's model time in it,
    // against the same run with the baseline's model in place of this one's.
    const double own = total_s - base_s;
    const double baseline_total = own - model_s + base_s;
    std::cout << absl::StrFormat(
        "| %s | %.1f %% | %.2fx | %.1f | %.1f | %.2fx | %.2fx |\n", row.name,
        100.0 * static_cast<double>(k) /
            static_cast<double>(std::max<int64_t>(f, 1)),
        base_macs > 0 ? macs / base_macs : 0, j.pck.value_or(NAN),
        counted > 0 ? 100 * hits / counted : NAN,
        model_s > 0 ? base_s / model_s : 0, own > 0 ? baseline_total / own : 0);
  }
  std::cout << "\nHeld-out clips: " << held_out.size() << " ("
            << "teacher joints counted per row above); JHMDB clip: 40 "
               "labelled frames.\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace mapn::experiments

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = mapn::experiments::Run();
  if (!status.ok()) {
    std::cerr << "real_video: " << status << "\n";
    return 1;
  }
  return 0;
}
