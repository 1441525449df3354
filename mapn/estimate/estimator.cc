#include "mapn/estimate/estimator.h"

#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/eval/pck.h"
#include "mapn/pose/heatmaps.h"
#include "mapn/train/pose_windows.h"
#include "mapn/video/resample.h"

namespace mapn {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

JointSet JointSetForModel(int64_t joints) {
  if (joints == PennActionJoints().num_joints()) return PennActionJoints();
  if (joints == JhmdbJoints().num_joints()) return JhmdbJoints();
  JointSet generic;
  generic.name = absl::StrCat("generic_", joints);
  for (int64_t j = 0; j < joints; ++j) {
    generic.joint_names.push_back(absl::StrCat("joint_", j));
  }
  return generic;
}

absl::StatusOr<PoseTrack> EstimatePoses(const train::ModelHandle& model,
                                        FfmpegStreamSource& source,
                                        const EstimateOptions& options,
                                        const train::ModelHandle* baseline) {
  const Clock::time_point start = Clock::now();
  const StreamInfo& info = source.info();
  const int64_t joints = model.config.joints;
  if (options.joint_set.num_joints() != joints) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model outputs ", joints, " joints but the joint set '",
        options.joint_set.name, "' has ", options.joint_set.num_joints()));
  }
  MAPN_RETURN_IF_ERROR(options.boxes.Validate(info.width, info.height));
  if (options.ground_truth != nullptr &&
      options.ground_truth->num_joints != joints) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--ground_truth has ", options.ground_truth->num_joints,
        " joints per frame but the model outputs ", joints));
  }

  model.module->eval();
  if (baseline != nullptr) baseline->module->eval();
  torch::NoGradGuard no_grad;

  PoseTrack track;
  track.video_path = info.path;
  track.stream = info;
  track.model_type = model.type_name;
  track.model_config_json = model::ModelConfigToJson(model.config);
  track.boxes = options.boxes.Describe();
  track.joint_set = options.joint_set;

  const int64_t size = model.config.input_size;
  const int64_t heatmap = model.heatmap_size;
  PckAccumulator pck(options.joint_set, PckOptionsFor("penn_action"));
  double model_seconds = 0, baseline_seconds = 0;
  model::MacCount total_macs;

  while (true) {
    MAPN_ASSIGN_OR_RETURN(std::optional<GopWindow> window, source.Next());
    if (!window) break;
    const int64_t first = window->frames.front().index;
    const Box crop = options.boxes.WindowCropBox(
        first, window->length(), info.width, info.height);
    const Affine2D to_source = BoxToSquare(crop, static_cast<int>(size));
    MAPN_ASSIGN_OR_RETURN(
        ResampledWindow cropped,
        ResampleWindow(*window, to_source, static_cast<int>(size)));
    MAPN_ASSIGN_OR_RETURN(GopBatch batch, ToGopBatch({cropped}));

    Clock::time_point t0 = Clock::now();
    MAPN_ASSIGN_OR_RETURN(model::RunResult result, model.run(batch));
    model_seconds += Seconds(t0);
    if (baseline != nullptr) {
      t0 = Clock::now();
      MAPN_ASSIGN_OR_RETURN(model::RunResult base, baseline->run(batch));
      baseline_seconds += Seconds(t0);
    }

    // [T, J, H, W] heatmaps -> peaks in heatmap pixels -> crop pixels ->
    // source pixels through the window's affine.
    const at::Tensor maps = result.heatmaps[0];
    DecodedJoints decoded = DecodeHeatmaps(maps);
    const at::Tensor input_xy =
        train::HeatmapToInput(decoded.coords, size, heatmap).contiguous();
    const at::Tensor confidence = decoded.confidence.contiguous();
    const float* xy = input_xy.data_ptr<float>();
    const float* conf = confidence.data_ptr<float>();
    const at::Tensor decisions = result.decisions[0].contiguous();

    for (int64_t t = 0; t < window->num_valid; ++t) {
      const FrameMeta& meta = window->frames[t];
      FramePose pose;
      pose.frame_index = meta.index;
      pose.timestamp_s = meta.timestamp_s;
      pose.type = meta.type;
      pose.window = window->window_index;
      pose.features_extracted = decisions[t].item<float>() > 0.5f;
      pose.macs = result.macs(0, t);
      pose.crop_box = crop;
      pose.person_box = options.boxes.ForFrame(meta.index, info.width,
                                               info.height);
      pose.joints.resize(joints);
      std::vector<float> predicted(2 * joints);
      for (int64_t j = 0; j < joints; ++j) {
        double sx = 0, sy = 0;
        to_source.Apply(xy[(t * joints + j) * 2], xy[(t * joints + j) * 2 + 1],
                        &sx, &sy);
        pose.joints[j] = {static_cast<float>(sx), static_cast<float>(sy),
                          conf[t * joints + j]};
        predicted[2 * j] = static_cast<float>(sx);
        predicted[2 * j + 1] = static_cast<float>(sy);
      }
      total_macs += pose.macs;
      if (options.ground_truth != nullptr) {
        const PoseSequence& gt = *options.ground_truth;
        if (meta.index < gt.num_frames) {
          const size_t offset = static_cast<size_t>(meta.index) * joints;
          MAPN_RETURN_IF_ERROR(pck.AddFrame(
              predicted,
              std::span<const float>(gt.joints.data() + 2 * offset, 2 * joints),
              std::span<const uint8_t>(gt.visible.data() + offset, joints),
              gt.boxes[meta.index]));
        }
      }
      if (options.overlay != nullptr) {
        MAPN_RETURN_IF_ERROR(
            options.overlay->Add(*window, t, pose, options.joint_set));
      }
      track.frames.push_back(std::move(pose));
      if (options.progress != nullptr) {
        options.progress->Update(static_cast<int64_t>(track.frames.size()));
      }
    }
  }
  if (track.frames.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", info.path, "' holds no decodable frames"));
  }

  PoseTrackSummary& s = track.summary;
  s.frames = static_cast<int64_t>(track.frames.size());
  for (const FramePose& f : track.frames) s.keyframes += f.features_extracted;
  s.macs_per_frame = total_macs * (1.0 / s.frames);
  s.baseline_macs_per_frame = model.baseline_macs_per_frame;
  s.timing.model_seconds = model_seconds;
  s.timing.total_seconds = Seconds(start) - baseline_seconds;
  if (baseline != nullptr) {
    s.baseline_timing = RunTiming{baseline_seconds, baseline_seconds};
  }
  if (options.ground_truth != nullptr) {
    const PckResult row = pck.Result("this video");
    s.pck = row.mean;
    const std::vector<PckResult> rows = {row};
    s.pck_table = FormatPckTable(rows);
  }
  return track;
}

}  // namespace mapn
