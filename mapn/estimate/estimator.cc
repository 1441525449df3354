#include "mapn/estimate/estimator.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <limits>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mapn/geometry/box.h"
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
                             std::optional<PckAccumulator> pck,
                             std::optional<track::Tracker> tracker)
    : model_(&model),
      baseline_(baseline),
      options_(&options),
      start_(Clock::now()),
      pck_(std::move(pck)),
      tracker_(std::move(tracker)) {
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
  std::optional<track::Tracker> tracker;
  if (options.boxes.detected()) {
    absl::StatusOr<track::Tracker> made =
        track::Tracker::Create(options.boxes.TrackerOptionsForPeople());
    if (!made.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("detected boxes: the person tracker's options: ",
                       made.status().message()));
    }
    tracker = *std::move(made);
  }
  model.module().eval();
  if (baseline != nullptr) baseline->module().eval();
  return PoseEstimator(model, baseline, options, stream, std::move(pck),
                       std::move(tracker));
}

absl::StatusOr<std::vector<PoseEstimator::WindowPerson>>
PoseEstimator::PeopleOfWindow(const GopWindow& window) {
  const StreamInfo& info = track_.stream;
  const BoxSource& source = options_->boxes;
  std::vector<WindowPerson> people;
  if (!tracker_.has_value()) {
    // Given boxes or the whole frame: one person, always there.
    MAPN_ASSIGN_OR_RETURN(const WindowBoxes boxes,
                          source.ForWindow(window, info.width, info.height));
    WindowPerson person;
    person.track_id = 1;
    person.crop = *boxes.crop;
    person.boxes = boxes.person;
    person.origin = boxes.origin;
    people.push_back(std::move(person));
    return people;
  }
  const Clock::time_point t0 = Clock::now();
  MAPN_ASSIGN_OR_RETURN(const std::vector<detect::PersonBox> found,
                        source.detector()->Detect(window.rgb[0]));
  detector_seconds_ += Seconds(t0);
  ++detections_;
  std::vector<track::Detection> detections;
  detections.reserve(found.size());
  for (const detect::PersonBox& box : found) {
    detections.push_back({box.box, box.score});
  }
  MAPN_ASSIGN_OR_RETURN(const std::vector<track::WindowTrack> tracks,
                        track::TrackWindow(*tracker_, window, detections));
  for (const track::WindowTrack& t : tracks) {
    WindowPerson person;
    person.track_id = t.id;
    person.crop = ExpandBox(t.extent, source.detected_options().crop);
    person.boxes = t.boxes;
    person.score = t.score;
    for (size_t i = 0; i < t.boxes.size(); ++i) {
      person.origin.push_back(t.detected[i] ? PersonBoxOrigin::kDetected
                                            : PersonBoxOrigin::kCarried);
    }
    people.push_back(std::move(person));
  }
  return people;
}

absl::Status PoseEstimator::AddWindow(const GopWindow& window) {
  const at::NoGradGuard no_grad;
  const EstimateOptions& options = *options_;
  const int64_t size = model_->input_size();
  const int64_t joints = model_->joints();

  MAPN_ASSIGN_OR_RETURN(const std::vector<WindowPerson> people,
                        PeopleOfWindow(window));

  // Every person's crops as one batch, a row per person: their own state
  // and their own gate decisions, one pass of each module for all. Nobody
  // in the window: the model does not run, its frames get no pose.
  const int64_t rows = static_cast<int64_t>(people.size());
  at::Tensor in_source, decisions;  // [P, T, J, 3], [P, T]
  model::RunResult result;
  if (rows > 0) {
    std::vector<ResampledWindow> crops;
    std::vector<Affine2D> to_source;
    for (const WindowPerson& person : people) {
      to_source.push_back(BoxToSquare(person.crop, static_cast<int>(size)));
      MAPN_ASSIGN_OR_RETURN(
          ResampledWindow cropped,
          ResampleWindow(window, to_source.back(), static_cast<int>(size)));
      crops.push_back(std::move(cropped));
    }
    MAPN_ASSIGN_OR_RETURN(GopBatch batch, ToGopBatch(crops));

    Clock::time_point t0 = Clock::now();
    MAPN_ASSIGN_OR_RETURN(result, model_->Run(batch));
    model_seconds_ += Seconds(t0);
    if (baseline_ != nullptr) {
      t0 = Clock::now();
      MAPN_ASSIGN_OR_RETURN(model::RunResult base, baseline_->Run(batch));
      baseline_seconds_ += Seconds(t0);
    }
    // [P * T, J, H, W] maps -> keypoints in crop pixels -> source pixels.
    MAPN_ASSIGN_OR_RETURN(const at::Tensor keypoints,
                          model_->Keypoints(result.heatmaps.flatten(0, 1)));
    const int64_t length = window.length();
    std::vector<at::Tensor> per_person;
    for (int64_t p = 0; p < rows; ++p) {
      per_person.push_back(ToSourcePixels(
          keypoints.slice(0, p * length, (p + 1) * length), to_source[p]));
    }
    in_source = at::stack(per_person).contiguous();
    decisions = result.decisions.cpu().contiguous();
    person_rows_ += rows * window.num_valid;
  }

  for (int64_t t = 0; t < window.num_valid; ++t) {
    const FrameMeta& meta = window.frames[t];
    FramePose pose;
    pose.frame_index = meta.index;
    pose.timestamp_s = meta.timestamp_s;
    pose.type = meta.type;
    pose.window = window.window_index;
    pose.damage = meta.damage;
    for (int64_t p = 0; p < rows; ++p) {
      const WindowPerson& person = people[p];
      const model::MacCount macs = result.macs(p, t);
      // A person whose box left the frame earlier in the window: their row
      // still ran, its cost is the frame's, but they have no pose here.
      pose.macs += macs;
      if (!person.boxes[t]) continue;
      PersonPose out;
      out.track_id = person.track_id;
      out.box = *person.boxes[t];
      out.box_origin = person.origin[t];
      out.box_score = person.score;
      out.crop_box = person.crop;
      out.features_extracted = decisions[p][t].item<float>() > 0.5f;
      out.macs = macs;
      auto k = in_source.accessor<float, 4>();
      out.joints.resize(joints);
      for (int64_t j = 0; j < joints; ++j) {
        out.joints[j] = {k[p][t][j][0], k[p][t][j][1], k[p][t][j][2]};
      }
      pose.features_extracted |= out.features_extracted;
      pose.people.push_back(std::move(out));
    }
    if (!pose.has_person()) ++frames_without_person_;
    total_macs_ += pose.macs;
    if (pck_.has_value()) {
      MAPN_RETURN_IF_ERROR(AddToPck(meta, pose));
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

absl::Status PoseEstimator::AddToPck(const FrameMeta& meta,
                                     const FramePose& pose) {
  const GroundTruth& truth = *options_->ground_truth;
  const PoseSequence& gt = truth.labels;
  if (meta.index >= gt.num_frames) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the video has more frames than ground truth '", truth.path,
        "' labels (", gt.num_frames, "): frame ", meta.index,
        " has no label (labels belong to decoded frames, in order)"));
  }
  if (!truth.labelled[meta.index]) return absl::OkStatus();
  const Box& label_box = gt.boxes[meta.index];
  // The labels are one person's: the estimate whose box overlaps theirs
  // most (the first, by track id, when none does). Nobody found: non-finite
  // predictions, a miss for every counted joint (pck.h).
  const PersonPose* scored = nullptr;
  float best = -1;
  for (const PersonPose& person : pose.people) {
    const float iou = IntersectionOverUnion(person.box, label_box);
    if (iou > best) {
      best = iou;
      scored = &person;
    }
  }
  const int64_t joints = model_->joints();
  std::vector<float> predicted(2 * joints,
                               std::numeric_limits<float>::quiet_NaN());
  if (scored != nullptr) {
    for (int64_t j = 0; j < joints; ++j) {
      predicted[2 * j] = scored->joints[j].x;
      predicted[2 * j + 1] = scored->joints[j].y;
    }
  }
  const size_t gt_joints = static_cast<size_t>(gt.num_joints);
  const size_t offset = static_cast<size_t>(meta.index) * gt_joints;
  return pck_->AddFrame(
      predicted,
      std::span<const float>(gt.joints.data() + 2 * offset, 2 * gt_joints),
      std::span<const uint8_t>(gt.visible.data() + offset, gt_joints),
      label_box);
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
  std::set<int64_t> ids;
  for (const FramePose& f : track_.frames) {
    s.keyframes += f.features_extracted;
    s.person_frames += static_cast<int64_t>(f.people.size());
    s.max_people_in_frame = std::max<int64_t>(
        s.max_people_in_frame, static_cast<int64_t>(f.people.size()));
    for (const PersonPose& p : f.people) {
      s.person_keyframes += p.features_extracted;
      ids.insert(p.track_id);
    }
  }
  s.tracks = static_cast<int64_t>(ids.size());
  s.macs_per_frame = total_macs_ * (1.0 / s.frames);
  // The per-frame baseline on the same crops: one pass per person row.
  s.baseline_macs_per_frame =
      model_->baseline_macs_per_frame() *
      (static_cast<double>(person_rows_) / static_cast<double>(s.frames));
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
