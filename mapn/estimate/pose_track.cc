#include "mapn/estimate/pose_track.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/atomic_file.h"
#include "nlohmann/json.hpp"

namespace mapn {
namespace {

nlohmann::json Xywh(const Box& b) {
  return {b.x1, b.y1, b.width(), b.height()};
}

// JSON has no NaN: unknown timestamps are null.
nlohmann::json Number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json Timing(const RunTiming& t, int64_t frames) {
  return {{"model_seconds", t.model_seconds},
          {"total_seconds", t.total_seconds},
          {"model_fps", t.model_seconds > 0 ? frames / t.model_seconds : 0.0},
          {"total_fps", t.total_seconds > 0 ? frames / t.total_seconds : 0.0}};
}

}  // namespace

const char* PersonBoxOriginName(PersonBoxOrigin origin) {
  switch (origin) {
    case PersonBoxOrigin::kGiven:
      return "given";
    case PersonBoxOrigin::kDetected:
      return "detected";
    case PersonBoxOrigin::kCarried:
      return "carried";
  }
  return "unknown";
}

std::optional<double> PoseTrackSummary::speedup() const {
  if (!baseline_timing || timing.model_seconds <= 0) return std::nullopt;
  return baseline_timing->model_seconds / timing.model_seconds;
}

std::string PoseTrackJson(const PoseTrack& track) {
  const JointSet& js = track.joint_set;
  nlohmann::json skeleton = nlohmann::json::array();
  for (const auto& [a, b] : js.skeleton) skeleton.push_back({a + 1, b + 1});

  nlohmann::json info = {
      {"tool", "mapn estimate"},
      {"format_version", 1},
      {"video", track.video_path},
      {"codec", track.stream.codec},
      {"width", track.stream.width},
      {"height", track.stream.height},
      {"frame_rate", track.stream.frame_rate},
      {"stream_index", track.stream.stream_index},
      {"video_streams", track.stream.video_streams},
      {"transcoded", track.transcoded},
      {"on_corrupt", track.on_corrupt},
      {"checkpoint", track.checkpoint},
      {"model", track.model_type},
      {"composition", track.composition},
      {"boxes", track.boxes},
      {"causal", track.causal},
  };
  const nlohmann::json options =
      nlohmann::json::parse(track.model_options_json, nullptr, false);
  info["model_options"] =
      options.is_discarded() ? nlohmann::json(nullptr) : options;

  nlohmann::json frames = nlohmann::json::array();
  for (const FramePose& f : track.frames) {
    nlohmann::json keypoints = nlohmann::json::array();
    double score = 0;
    for (const JointEstimate& j : f.joints) {
      keypoints.push_back(j.x);
      keypoints.push_back(j.y);
      keypoints.push_back(j.confidence);
      score += j.confidence;
    }
    if (!f.joints.empty()) score /= static_cast<double>(f.joints.size());
    // Nobody found: no annotation at all (COCO's way of saying so).
    nlohmann::json annotations = nlohmann::json::array();
    if (f.has_person()) {
      nlohmann::json person = {
          {"category_id", 1},
          {"bbox", Xywh(*f.person_box)},
          {"bbox_origin", PersonBoxOriginName(f.box_origin)},
          {"keypoints", keypoints},
          {"num_keypoints", f.joints.size()},
          {"score", score}};
      if (f.box_score) person["bbox_score"] = *f.box_score;
      annotations.push_back(std::move(person));
    }
    frames.push_back({
        {"frame_index", f.frame_index},
        {"timestamp", Number(f.timestamp_s)},
        {"frame_type", std::string(1, FrameTypeChar(f.type))},
        {"window", f.window},
        {"features_extracted", f.features_extracted},
        {"damage", f.damage == FrameDamage::kNone
                       ? nlohmann::json(nullptr)
                       : nlohmann::json(FrameDamageName(f.damage))},
        {"macs", f.macs.true_macs},
        {"macs_hrnet_convention", f.macs.hrnet_macs},
        {"crop_box", f.crop_box ? Xywh(*f.crop_box) : nlohmann::json(nullptr)},
        {"annotations", annotations},
    });
  }

  const PoseTrackSummary& s = track.summary;
  nlohmann::json summary = {
      {"frames", s.frames},
      {"keyframes", s.keyframes},
      {"keyframe_fraction", s.keyframe_fraction()},
      {"macs_per_frame", s.macs_per_frame.true_macs},
      {"macs_per_frame_hrnet_convention", s.macs_per_frame.hrnet_macs},
      {"baseline_macs_per_frame", s.baseline_macs_per_frame.true_macs},
      {"baseline_macs_per_frame_hrnet_convention",
       s.baseline_macs_per_frame.hrnet_macs},
      {"macs_ratio", s.macs_ratio()},
      {"timing", Timing(s.timing, s.frames)},
      {"frames_without_person", s.frames_without_person},
      {"frames_concealed", s.frames_concealed},
      {"frames_lost", s.frames_lost},
      {"frames_dropped", s.frames_dropped},
      {"stream_errors", s.stream_errors},
  };
  if (s.detections > 0) {
    summary["detections"] = s.detections;
    summary["detector_seconds"] = s.detector_seconds;
  }
  if (s.baseline_timing) {
    summary["baseline_timing"] = Timing(*s.baseline_timing, s.frames);
    summary["speedup"] = s.speedup().value_or(0);
  }
  if (s.pck) {
    summary["pck"] = Number(*s.pck);
    summary["pck_joint_set"] = s.pck_joint_set;
    if (!s.pck_mapping.empty()) summary["pck_mapping"] = s.pck_mapping;
    summary["ground_truth"] = s.ground_truth;
  }

  nlohmann::json doc = {
      {"info", info},
      {"categories", nlohmann::json::array({{{"id", 1},
                                             {"name", "person"},
                                             {"joint_set", js.name},
                                             {"keypoints", js.joint_names},
                                             {"skeleton", skeleton}}})},
      {"frames", frames},
      {"summary", summary},
  };
  return doc.dump(1) + "\n";
}

std::string PoseTrackCsv(const PoseTrack& track) {
  std::string out =
      "frame_index,timestamp,frame_type,window,features_extracted,macs,"
      "macs_hrnet_convention,damage,bbox_x,bbox_y,bbox_w,bbox_h";
  for (const std::string& name : track.joint_set.joint_names) {
    absl::StrAppend(&out, ",", name, "_x,", name, "_y,", name, "_conf");
  }
  out += "\n";
  for (const FramePose& f : track.frames) {
    absl::StrAppend(
        &out, f.frame_index, ",",
        std::isfinite(f.timestamp_s) ? absl::StrFormat("%.6f", f.timestamp_s)
                                     : std::string(),
        ",", std::string(1, FrameTypeChar(f.type)), ",", f.window, ",",
        f.features_extracted ? 1 : 0, ",",
        absl::StrFormat("%.0f,%.0f", f.macs.true_macs, f.macs.hrnet_macs), ",",
        FrameDamageName(f.damage));
    if (f.has_person()) {
      const Box& b = *f.person_box;
      absl::StrAppend(&out, absl::StrFormat(",%.2f,%.2f,%.2f,%.2f", b.x1, b.y1,
                                            b.width(), b.height()));
      for (const JointEstimate& j : f.joints) {
        absl::StrAppend(
            &out, absl::StrFormat(",%.2f,%.2f,%.4f", j.x, j.y, j.confidence));
      }
    } else {
      // Nobody found: the frame's row with every box and joint field empty.
      out.append(4 + 3 * track.joint_set.joint_names.size(), ',');
    }
    out += "\n";
  }
  return out;
}

absl::Status WritePoseTrackJson(const PoseTrack& track,
                                const std::string& path) {
  return WriteFileAtomically(path, PoseTrackJson(track));
}

absl::Status WritePoseTrackCsv(const PoseTrack& track,
                               const std::string& path) {
  return WriteFileAtomically(path, PoseTrackCsv(track));
}

void MarkDamagedFrames(PoseTrack& track, const std::vector<int64_t>& concealed,
                       const std::vector<int64_t>& lost) {
  auto mark = [&](const std::vector<int64_t>& indices, FrameDamage damage) {
    for (const int64_t index : indices) {
      for (FramePose& f : track.frames) {
        if (f.frame_index == index) f.damage = damage;
      }
    }
  };
  mark(concealed, FrameDamage::kConcealed);
  mark(lost, FrameDamage::kLost);
  PoseTrackSummary& s = track.summary;
  s.frames_concealed = s.frames_lost = 0;
  for (const FramePose& f : track.frames) {
    s.frames_concealed += f.damage == FrameDamage::kConcealed;
    s.frames_lost += f.damage == FrameDamage::kLost;
  }
}

std::string FormatSummary(const PoseTrack& track) {
  const PoseTrackSummary& s = track.summary;
  std::string out;
  // Which stream, where the file has a choice.
  if (track.stream.video_streams > 1) {
    absl::StrAppend(
        &out,
        absl::StrFormat("video stream %d of the file's %d video streams "
                        "(%dx%d; --stream chooses another)\n",
                        track.stream.stream_index, track.stream.video_streams,
                        track.stream.width, track.stream.height));
  }
  if (s.frames_concealed > 0 || s.frames_lost > 0 || s.frames_dropped > 0 ||
      s.stream_errors > 0) {
    absl::StrAppend(
        &out,
        absl::StrFormat("damaged video, read through (--on_corrupt=%s): %d "
                        "frames concealed, %d lost (the previous picture "
                        "stands in), %d dropped",
                        track.on_corrupt, s.frames_concealed, s.frames_lost,
                        s.frames_dropped));
    if (s.stream_errors > 0) {
      absl::StrAppend(
          &out, "; it ends early (", s.stream_errors,
          s.stream_errors == 1 ? " container error" : " container errors", ")");
    }
    absl::StrAppend(&out, "; marked in the outputs' damage field\n");
  }
  absl::StrAppend(
      &out, absl::StrFormat("frames: %d, keyframes: %d (%.1f %%)\n", s.frames,
                            s.keyframes, 100.0 * s.keyframe_fraction()));
  absl::StrAppend(
      &out, absl::StrFormat(
                "MACs per frame: %.4f G vs %.4f G for the per-frame "
                "baseline (%.2fx; HRNet convention %.4f vs "
                "%.4f GFLOPs)\n",
                s.macs_per_frame.true_macs / model::kGiga2,
                s.baseline_macs_per_frame.true_macs / model::kGiga2,
                s.macs_ratio(), s.macs_per_frame.hrnet_macs / model::kGiga2,
                s.baseline_macs_per_frame.hrnet_macs / model::kGiga2));
  absl::StrAppend(
      &out, absl::StrFormat("time: %.2f s model, %.2f s in all (%.1f frames/s "
                            "end to end)\n",
                            s.timing.model_seconds, s.timing.total_seconds,
                            s.timing.total_seconds > 0
                                ? s.frames / s.timing.total_seconds
                                : 0.0));
  if (s.detections > 0 || s.frames_without_person > 0) {
    absl::StrAppend(
        &out, absl::StrFormat("person detector: %d keyframes, %.2f s; nobody "
                              "found in %d of %d frames (no pose there)\n",
                              s.detections, s.detector_seconds,
                              s.frames_without_person, s.frames));
  }
  if (s.baseline_timing) {
    absl::StrAppend(
        &out, absl::StrFormat(
                  "per-frame baseline, same run: %.2f s model time; "
                  "measured speed-up %.2fx\n",
                  s.baseline_timing->model_seconds, s.speedup().value_or(0)));
  }
  if (s.pck) {
    absl::StrAppend(&out, "ground truth: ", s.ground_truth, "\n");
    absl::StrAppend(&out, s.pck_table);
    absl::StrAppend(
        &out, absl::StrFormat("PCK@0.2 against ground truth: %.1f\n", *s.pck));
  }
  return out;
}

}  // namespace mapn
