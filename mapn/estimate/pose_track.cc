#include "mapn/estimate/pose_track.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
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

double PersonPose::score() const {
  if (joints.empty()) return 0;
  double sum = 0;
  for (const JointEstimate& j : joints) sum += j.confidence;
  return sum / static_cast<double>(joints.size());
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
      {"format_version", 2},
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
    // Nobody found: no annotation at all (COCO's way of saying so).
    nlohmann::json annotations = nlohmann::json::array();
    for (const PersonPose& p : f.people) {
      nlohmann::json keypoints = nlohmann::json::array();
      for (const JointEstimate& j : p.joints) {
        keypoints.push_back(j.x);
        keypoints.push_back(j.y);
        keypoints.push_back(j.confidence);
      }
      nlohmann::json person = {
          {"category_id", 1},
          {"track_id", p.track_id},
          {"bbox", Xywh(p.box)},
          {"bbox_origin", PersonBoxOriginName(p.box_origin)},
          {"keypoints", keypoints},
          {"num_keypoints", p.joints.size()},
          {"score", p.score()},
          {"features_extracted", p.features_extracted},
          {"macs", p.macs.true_macs},
          {"crop_box", Xywh(p.crop_box)}};
      if (p.box_score) person["bbox_score"] = *p.box_score;
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
      {"person_frames", s.person_frames},
      {"person_keyframes", s.person_keyframes},
      {"tracks", s.tracks},
      {"max_people_in_frame", s.max_people_in_frame},
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
      "frame_index,timestamp,frame_type,window,damage,track_id,"
      "features_extracted,macs,macs_hrnet_convention,bbox_x,bbox_y,bbox_w,"
      "bbox_h,bbox_origin,score";
  for (const std::string& name : track.joint_set.joint_names) {
    absl::StrAppend(&out, ",", name, "_x,", name, "_y,", name, "_conf");
  }
  out += "\n";
  for (const FramePose& f : track.frames) {
    const std::string frame = absl::StrCat(
        f.frame_index, ",",
        std::isfinite(f.timestamp_s) ? absl::StrFormat("%.6f", f.timestamp_s)
                                     : std::string(),
        ",", std::string(1, FrameTypeChar(f.type)), ",", f.window, ",",
        FrameDamageName(f.damage));
    if (f.people.empty()) {
      // Nobody found: the frame's row with every person field empty.
      absl::StrAppend(&out, frame);
      out.append(10 + 3 * track.joint_set.joint_names.size(), ',');
      out += "\n";
      continue;
    }
    for (const PersonPose& p : f.people) {
      absl::StrAppend(
          &out, frame, ",", p.track_id, ",", p.features_extracted ? 1 : 0,
          absl::StrFormat(",%.0f,%.0f,%.2f,%.2f,%.2f,%.2f,", p.macs.true_macs,
                          p.macs.hrnet_macs, p.box.x1, p.box.y1, p.box.width(),
                          p.box.height()),
          PersonBoxOriginName(p.box_origin),
          absl::StrFormat(",%.4f", p.score()));
      for (const JointEstimate& j : p.joints) {
        absl::StrAppend(
            &out, absl::StrFormat(",%.2f,%.2f,%.4f", j.x, j.y, j.confidence));
      }
      out += "\n";
    }
  }
  return out;
}

absl::StatusOr<std::string> PoseTrackChallengeJson(const PoseTrack& track) {
  // PoseTrack's joints by name in the model's set; those it lacks
  // (head_bottom and head_top for COCO's) stay unset.
  const JointSet& target = PoseTrackJoints();
  const JointSet& source = track.joint_set;
  std::vector<int> from(target.num_joints(), -1);
  int shared = 0;
  for (int t = 0; t < target.num_joints(); ++t) {
    for (int s = 0; s < source.num_joints(); ++s) {
      if (source.joint_names[s] == target.joint_names[t]) {
        from[t] = s;
        ++shared;
      }
    }
  }
  if (shared < target.num_joints() / 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the PoseTrack export needs a model whose joints are named like at "
        "least half of PoseTrack's (COCO's, Penn Action's, ...); the "
        "model's joint set '",
        source.name, "' shares ", shared, " of ", target.num_joints(),
        " joint names with PoseTrack's"));
  }
  std::string video = track.video_path;
  if (const size_t slash = video.find_last_of('/');
      slash != std::string::npos) {
    video = video.substr(slash + 1);
  }
  if (const size_t dot = video.find_last_of('.'); dot != std::string::npos) {
    video = video.substr(0, dot);
  }
  nlohmann::json images = nlohmann::json::array();
  nlohmann::json annotations = nlohmann::json::array();
  int64_t annotation_id = 0;
  for (const FramePose& f : track.frames) {
    // poseval joins annotations to images by id; frame indices are unique.
    const int64_t image_id = f.frame_index;
    images.push_back(
        {{"id", image_id},
         {"frame_id", f.frame_index},
         {"vid_id", video},
         {"file_name", absl::StrFormat("%s/%06d.jpg", video, f.frame_index)},
         {"is_labeled", true}});
    for (const PersonPose& p : f.people) {
      nlohmann::json keypoints = nlohmann::json::array();
      nlohmann::json scores = nlohmann::json::array();
      for (int t = 0; t < target.num_joints(); ++t) {
        const bool have =
            from[t] >= 0 && from[t] < static_cast<int>(p.joints.size());
        const JointEstimate j = have ? p.joints[from[t]] : JointEstimate{};
        keypoints.push_back(j.x);
        keypoints.push_back(j.y);
        keypoints.push_back(have ? 1 : 0);
        scores.push_back(j.confidence);
      }
      annotations.push_back({{"id", annotation_id++},
                             {"image_id", image_id},
                             {"track_id", p.track_id},
                             {"category_id", 1},
                             {"bbox", Xywh(p.box)},
                             {"keypoints", keypoints},
                             {"scores", scores},
                             {"score", p.score()}});
    }
  }
  nlohmann::json skeleton = nlohmann::json::array();
  for (const auto& [a, b] : target.skeleton) skeleton.push_back({a + 1, b + 1});
  nlohmann::json doc = {
      {"images", images},
      {"annotations", annotations},
      {"categories", nlohmann::json::array({{{"id", 1},
                                             {"name", "person"},
                                             {"supercategory", "person"},
                                             {"keypoints", target.joint_names},
                                             {"skeleton", skeleton}}})},
  };
  return doc.dump(1) + "\n";
}

absl::Status WritePoseTrackJson(const PoseTrack& track,
                                const std::string& path) {
  return WriteFileAtomically(path, PoseTrackJson(track));
}

absl::Status WritePoseTrackCsv(const PoseTrack& track,
                               const std::string& path) {
  return WriteFileAtomically(path, PoseTrackCsv(track));
}

absl::Status WritePoseTrackChallengeJson(const PoseTrack& track,
                                         const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(const std::string text, PoseTrackChallengeJson(track));
  return WriteFileAtomically(path, text);
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
  if (s.tracks > 1) {
    absl::StrAppend(
        &out,
        absl::StrFormat("people: %d tracks, up to %d in a frame, %.2f per "
                        "frame; per-person keyframes: %d of %d (%.1f %%)\n",
                        s.tracks, s.max_people_in_frame,
                        s.frames > 0 ? static_cast<double>(s.person_frames) /
                                           static_cast<double>(s.frames)
                                     : 0.0,
                        s.person_keyframes, s.person_frames,
                        s.person_frames > 0
                            ? 100.0 * static_cast<double>(s.person_keyframes) /
                                  static_cast<double>(s.person_frames)
                            : 0.0));
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
