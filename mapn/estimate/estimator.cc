#include "mapn/estimate/estimator.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mapn/pose/keypoints.h"
#include "mapn/video/resample.h"

namespace mapn {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

}  // namespace

JointSet JointSetForModel(int64_t joints) {
  if (joints == PennActionJoints().num_joints()) return PennActionJoints();
  if (joints == JhmdbJoints().num_joints()) return JhmdbJoints();
  if (joints == CocoJoints().num_joints()) return CocoJoints();
  JointSet generic;
  generic.name = absl::StrCat("generic_", joints);
  for (int64_t j = 0; j < joints; ++j) {
    generic.joint_names.push_back(absl::StrCat("joint_", j));
  }
  return generic;
}

PoseEstimator::PoseEstimator(const model::AnyPipeline& model,
                             const model::AnyPipeline* baseline,
                             const EstimateOptions& options,
                             const StreamInfo& stream,
                             std::optional<PckAccumulator> pck)
    : model_(&model),
      baseline_(baseline),
      options_(&options),
      start_(Clock::now()),
      pck_(std::move(pck)) {
  track_.video_path = stream.path;
  track_.stream = stream;
  track_.model_type = model.type_name();
  track_.composition = model.composition();
  track_.model_options_json = model.options_json();
  track_.boxes = options.boxes.Describe();
  track_.joint_set = options.joint_set;
}

absl::StatusOr<PoseEstimator> PoseEstimator::Start(
    const model::AnyPipeline& model, const StreamInfo& stream,
    const EstimateOptions& options, const model::AnyPipeline* baseline) {
  const int64_t joints = model.joints();
  if (options.joint_set.num_joints() != joints) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model outputs ", joints, " joints but the joint set '",
        options.joint_set.name, "' has ", options.joint_set.num_joints()));
  }
  MAPN_RETURN_IF_ERROR(options.boxes.Validate(stream.width, stream.height));
  std::optional<PckAccumulator> pck;
  if (const GroundTruth* truth = options.ground_truth; truth != nullptr) {
    if (truth->labels.num_joints != truth->joints.num_joints() ||
        truth->labelled.size() !=
            static_cast<size_t>(truth->labels.num_frames)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ground truth '", truth->path, "' has ", truth->labels.num_joints,
          " joints and ", truth->labelled.size(), " labelled flags for ",
          truth->labels.num_frames, " frames of the ",
          truth->joints.num_joints(), " joints of ", truth->joints.name));
    }
    absl::StatusOr<PckAccumulator> across = PckAccumulator::Across(
        options.joint_set, truth->joints, PckOptionsFor(truth->labels.dataset));
    if (!across.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ground truth '", truth->path, "' (", truth->format,
                       "): ", across.status().message()));
    }
    pck = *std::move(across);
  }
  if (baseline != nullptr && (baseline->input_size() != model.input_size() ||
                              baseline->joints() != joints)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the baseline takes ", baseline->input_size(), " x ",
        baseline->input_size(), " crops and outputs ", baseline->joints(),
        " joints; the model ", model.input_size(), " and ", joints));
  }
  model.module().eval();
  if (baseline != nullptr) baseline->module().eval();
  return PoseEstimator(model, baseline, options, stream, std::move(pck));
}

absl::Status PoseEstimator::AddWindow(const GopWindow& window) {
  const at::NoGradGuard no_grad;
  const StreamInfo& info = track_.stream;
  const EstimateOptions& options = *options_;
  const int64_t size = model_->input_size();
  const int64_t joints = model_->joints();

  Clock::time_point t0 = Clock::now();
  MAPN_ASSIGN_OR_RETURN(const WindowBoxes boxes,
                        options.boxes.ForWindow(window, info.width, info.height,
                                                previous_person_));
  previous_person_ = boxes.person[window.num_valid - 1];
  if (boxes.detector_ran) {
    detector_seconds_ += Seconds(t0);
    ++detections_;
  }

  // Nobody in the window: the model does not run, its frames get no pose.
  at::Tensor in_source, decisions;
  model::RunResult result;
  if (boxes.crop) {
    const Affine2D to_source = BoxToSquare(*boxes.crop, static_cast<int>(size));
    MAPN_ASSIGN_OR_RETURN(
        ResampledWindow cropped,
        ResampleWindow(window, to_source, static_cast<int>(size)));
    MAPN_ASSIGN_OR_RETURN(GopBatch batch, ToGopBatch({cropped}));

    t0 = Clock::now();
    MAPN_ASSIGN_OR_RETURN(result, model_->Run(batch));
    model_seconds_ += Seconds(t0);
    if (baseline_ != nullptr) {
      t0 = Clock::now();
      MAPN_ASSIGN_OR_RETURN(model::RunResult base, baseline_->Run(batch));
      baseline_seconds_ += Seconds(t0);
    }
    // [T, J, H, W] maps -> keypoints in crop pixels -> source pixels.
    MAPN_ASSIGN_OR_RETURN(const at::Tensor keypoints,
                          model_->Keypoints(result.heatmaps[0]));
    in_source = ToSourcePixels(keypoints, to_source).contiguous();
    decisions = result.decisions[0].cpu().contiguous();
  }

  for (int64_t t = 0; t < window.num_valid; ++t) {
    const FrameMeta& meta = window.frames[t];
    FramePose pose;
    pose.frame_index = meta.index;
    pose.timestamp_s = meta.timestamp_s;
    pose.type = meta.type;
    pose.window = window.window_index;
    pose.damage = meta.damage;
    pose.person_box = boxes.person[t];
    pose.box_origin = boxes.origin[t];
    if (boxes.detector_ran) pose.box_score = boxes.score;
    if (boxes.crop) {
      pose.crop_box = boxes.crop;
      pose.features_extracted = decisions[t].item<float>() > 0.5f;
      pose.macs = result.macs(0, t);
    }
    // A frame without a person has no estimate: a labelled one counts as a
    // miss for PCK (non-finite predictions, pck.h).
    std::vector<float> predicted(2 * joints,
                                 std::numeric_limits<float>::quiet_NaN());
    if (pose.has_person()) {
      auto k = in_source.accessor<float, 3>();
      pose.joints.resize(joints);
      for (int64_t j = 0; j < joints; ++j) {
        pose.joints[j] = {k[t][j][0], k[t][j][1], k[t][j][2]};
        predicted[2 * j] = k[t][j][0];
        predicted[2 * j + 1] = k[t][j][1];
      }
    } else {
      ++frames_without_person_;
    }
    total_macs_ += pose.macs;
    if (pck_.has_value()) {
      const GroundTruth& truth = *options.ground_truth;
      const PoseSequence& gt = truth.labels;
      if (meta.index >= gt.num_frames) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the video has more frames than ground truth '", truth.path,
            "' labels (", gt.num_frames, "): frame ", meta.index,
            " has no label (labels belong to decoded frames, in order)"));
      }
      if (truth.labelled[meta.index]) {
        const size_t gt_joints = static_cast<size_t>(gt.num_joints);
        const size_t offset = static_cast<size_t>(meta.index) * gt_joints;
        MAPN_RETURN_IF_ERROR(pck_->AddFrame(
            predicted,
            std::span<const float>(gt.joints.data() + 2 * offset,
                                   2 * gt_joints),
            std::span<const uint8_t>(gt.visible.data() + offset, gt_joints),
            gt.boxes[meta.index]));
      }
    }
    if (options.overlay != nullptr) {
      MAPN_RETURN_IF_ERROR(
          options.overlay->Add(window, t, pose, options.joint_set));
    }
    track_.frames.push_back(std::move(pose));
    if (options.progress != nullptr) {
      options.progress->Update(static_cast<int64_t>(track_.frames.size()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PoseTrack> PoseEstimator::Finish() && {
  if (track_.frames.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", track_.stream.path, "' holds no decodable frames"));
  }
  if (pck_.has_value() && static_cast<int64_t>(track_.frames.size()) !=
                              options_->ground_truth->labels.num_frames) {
    return absl::InvalidArgumentError(
        absl::StrCat("the video has ", track_.frames.size(),
                     " decoded frames but ground "
                     "truth '",
                     options_->ground_truth->path, "' labels ",
                     options_->ground_truth->labels.num_frames,
                     " (labels belong to decoded frames, in order)"));
  }
  PoseTrackSummary& s = track_.summary;
  s.frames = static_cast<int64_t>(track_.frames.size());
  for (const FramePose& f : track_.frames) s.keyframes += f.features_extracted;
  s.macs_per_frame = total_macs_ * (1.0 / s.frames);
  s.baseline_macs_per_frame = model_->baseline_macs_per_frame();
  s.frames_without_person = frames_without_person_;
  for (const FramePose& f : track_.frames) {
    s.frames_concealed += f.damage == FrameDamage::kConcealed;
    s.frames_lost += f.damage == FrameDamage::kLost;
  }
  s.detections = detections_;
  s.detector_seconds = detector_seconds_;
  s.timing.model_seconds = model_seconds_;
  s.timing.total_seconds = Seconds(start_) - baseline_seconds_;
  if (baseline_ != nullptr) {
    s.baseline_timing = RunTiming{baseline_seconds_, baseline_seconds_};
  }
  if (pck_.has_value()) {
    const PckResult row = pck_->Result("this video");
    const GroundTruth& truth = *options_->ground_truth;
    s.pck = row.mean;
    s.pck_joint_set = row.joint_set;
    s.pck_mapping = row.mapping;
    s.ground_truth = absl::StrCat(
        truth.path, " (", truth.format,
        truth.person.empty() ? "" : absl::StrCat(", ", truth.person), "; ",
        row.frames, " of ", truth.labels.num_frames, " frames labelled)");
    const std::vector<PckResult> rows = {row};
    s.pck_table = FormatPckTable(rows);
  }
  return std::move(track_);
}

}  // namespace mapn
