// Several people on real footage (docs/results.md, "Several people"): for
// each multi-person clip of ../shared/data/real, `mapn estimate`'s default
// (MAPN on MoveNet Lightning, the person detector on each 12-frame window's
// keyframe, people followed by the tracker between keyframes) against a
// reference that detects on every frame (windows of one frame) and runs
// per-frame MoveNet on every person box. Per clip:
//   * tracking against the reference: each frame's people are matched to
//     the reference's by optimal IoU (>= 0.5); an identity switch is a
//     reference person matched to another of our ids than the last time;
//     fragments are the extra ids a reference person was matched to; missed
//     and extra people are the unmatched ones on each side;
//   * PCK@0.2 of our poses against the reference's on matched people
//     (joints the reference scores >= 0.3; 0.2 of the reference box's
//     longer side);
//   * keyframes per person and the cost: multiply-adds per frame and model
//     time against per-frame MoveNet on the same person crops in the same
//     run (--compare_baseline).
// Then the labelled PoseTrack18 frames (mmpose's three 1920 x 1080 val
// images, 14 people): each image estimated like a one-frame video, at the
// default detector threshold and at 0.2; people found (a prediction whose
// box overlaps a label's bbox by IoU >= 0.5, optimally matched), missed and
// extra, and PCKh@0.5 of the found (0.5 x the head size, 0.6 x the
// diagonal of the label's bbox_head, MPII's and poseval's convention) over
// the labelled joints the model has (PoseTrack's 17 less head_bottom and
// head_top, which COCO's joints lack).
//
// Usage (one line):
//   bazel run //experiments/multi_person --
//       --shared_dir=$PWD/../shared/data/real --work_dir=/tmp/multi-person
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/joint_set.h"
#include "mapn/detect/person_detector.h"
#include "mapn/estimate/box_source.h"
#include "mapn/estimate/default_model.h"
#include "mapn/estimate/estimator.h"
#include "mapn/model/compositions.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/track/tracker.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/transcode.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, shared_dir, "", "../shared/data/real (absolute).");
ABSL_FLAG(std::string, work_dir, "/tmp/multi-person",
          "Transcoded copies of the clips with B-frames (reused).");

namespace mapn::experiments {
namespace {

namespace fs = std::filesystem;

struct Clip {
  const char* path;  // under --shared_dir
  const char* what;
  float min_person_score;
};

// The clips with several people the default detector finds (SOURCES.md);
// mmaction2's basketball players are a third of a 426 x 240 frame, found
// only from 0.3 (docs/models.md, "Person detection").
constexpr Clip kClips[] = {
    {"GAST-Net-3DPoseEstimation/data/video/apart.avi",
     "two men walk apart, 1920x1080", 0.5f},
    {"Ask-Anything/example/hitting_baseball.mp4",
     "batting cage, several boys, 426x320", 0.5f},
    {"mmhuman3d/demo/resources/multi_person_demo.mp4",
     "two people hand over an object, 1080x1920", 0.5f},
    {"mmaction2/demo/test_video_structuralize.mp4",
     "basketball, two players, 426x240", 0.3f},
};

// The clip itself when the reader takes it, else its transcoded copy
// (B-frames) in `work`.
absl::StatusOr<std::string> Readable(const std::string& path,
                                     const std::string& work) {
  {
    absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(path);
    bool ok = source.ok();
    while (ok) {
      absl::StatusOr<std::optional<GopWindow>> w = source->Next();
      if (!w.ok()) ok = false;
      if (!ok || !*w) break;
    }
    if (ok) return path;
  }
  const std::string out =
      (fs::path(work) / absl::StrCat(fs::path(path).stem().string(), ".mp4"))
          .string();
  if (!fs::exists(out)) {
    fs::create_directories(work);
    const std::string temp = out + ".partial.mp4";
    MAPN_RETURN_IF_ERROR(Transcode(path, temp));
    fs::rename(temp, out);
  }
  return out;
}

absl::StatusOr<PoseTrack> Estimate(const model::AnyPipeline& model,
                                   const model::AnyPipeline* baseline,
                                   const std::string& clip,
                                   const BoxSource& boxes,
                                   int64_t window_length) {
  FfmpegStreamSourceOptions options;
  options.window_length = window_length;
  options.on_damage = DamagePolicy::kConceal;
  MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
                        FfmpegStreamSource::Open(clip, options));
  EstimateOptions estimate;
  estimate.boxes = boxes;
  estimate.joint_set = JointSetForModel(model.joints());
  return EstimatePoses(model, source, estimate, baseline);
}

struct Tracking {
  int64_t reference_people = 0;  // person-frames of the reference
  int64_t matched = 0, missed = 0, extra = 0;
  int64_t switches = 0, fragments = 0;
  int64_t reference_tracks = 0;
  double pck_hits = 0, pck_counted = 0;
};

Tracking Compare(const PoseTrack& ours, const PoseTrack& reference) {
  Tracking out;
  std::map<int64_t, int64_t> last;  // reference id -> our id last matched
  std::map<int64_t, std::vector<int64_t>> ids;  // reference id -> our ids
  const size_t n = std::min(ours.frames.size(), reference.frames.size());
  for (size_t f = 0; f < n; ++f) {
    const std::vector<PersonPose>& a = ours.frames[f].people;
    const std::vector<PersonPose>& b = reference.frames[f].people;
    std::vector<std::vector<float>> iou(b.size(),
                                        std::vector<float>(a.size(), 0));
    for (size_t i = 0; i < b.size(); ++i) {
      for (size_t j = 0; j < a.size(); ++j) {
        iou[i][j] = IntersectionOverUnion(b[i].box, a[j].box);
      }
    }
    const std::vector<int> match = track::OptimalMatching(iou, 0.5f);
    out.reference_people += static_cast<int64_t>(b.size());
    std::vector<bool> taken(a.size(), false);
    for (size_t i = 0; i < b.size(); ++i) {
      if (match[i] < 0) {
        ++out.missed;
        continue;
      }
      const PersonPose& mine = a[static_cast<size_t>(match[i])];
      const PersonPose& theirs = b[i];
      taken[static_cast<size_t>(match[i])] = true;
      ++out.matched;
      auto it = last.find(theirs.track_id);
      if (it != last.end() && it->second != mine.track_id) ++out.switches;
      last[theirs.track_id] = mine.track_id;
      std::vector<int64_t>& seen = ids[theirs.track_id];
      if (std::find(seen.begin(), seen.end(), mine.track_id) == seen.end()) {
        seen.push_back(mine.track_id);
      }
      const double side = std::max(theirs.box.width(), theirs.box.height());
      for (size_t j = 0; j < theirs.joints.size() && j < mine.joints.size();
           ++j) {
        if (theirs.joints[j].confidence < 0.3f) continue;
        out.pck_counted += 1;
        out.pck_hits +=
            std::hypot(mine.joints[j].x - theirs.joints[j].x,
                       mine.joints[j].y - theirs.joints[j].y) <= 0.2 * side;
      }
    }
    for (bool t : taken) out.extra += !t;
  }
  out.reference_tracks = static_cast<int64_t>(ids.size());
  for (const auto& [id, seen] : ids) {
    out.fragments += static_cast<int64_t>(seen.size()) - 1;
  }
  return out;
}

// People found, missed, extra and PCKh@0.5 on PoseTrack18's labelled
// frames, as one table row.
absl::StatusOr<std::string> PoseTrackRow(
    const std::string& shared, const std::string& work,
    const model::AnyPipeline& mapn,
    const std::shared_ptr<const detect::PersonDetector>& detector,
    float min_person_score) {
  const std::string root =
      absl::StrCat(shared, "/mmpose/tests/data/posetrack18");
  std::ifstream in(root + "/annotations/test_posetrack18_val.json");
  if (!in) return absl::NotFoundError(root + ": no PoseTrack18 labels");
  const nlohmann::json labels = nlohmann::json::parse(in, nullptr, false);
  if (labels.is_discarded()) {
    return absl::InvalidArgumentError(root + ": unreadable labels");
  }
  DetectedBoxOptions options;
  options.min_person_score = min_person_score;
  options.keep_person_score = min_person_score;
  const BoxSource boxes = BoxSource::Detected(detector, options);
  const JointSet& coco = CocoJoints();
  const JointSet& posetrack = PoseTrackJoints();
  int64_t people = 0, found = 0, extra = 0;
  double hits = 0, counted = 0;
  for (const nlohmann::json& image : labels["images"]) {
    const std::string file =
        absl::StrCat(root, "/", image["file_name"].get<std::string>());
    const std::string name = absl::StrCat(
        fs::path(file).parent_path().filename().string(), "_frame");
    MAPN_ASSIGN_OR_RETURN(const std::string video,
                          Readable(file, (fs::path(work) / name).string()));
    MAPN_ASSIGN_OR_RETURN(const PoseTrack ours,
                          Estimate(mapn, nullptr, video, boxes, 12));
    if (ours.frames.empty()) continue;
    const std::vector<PersonPose>& predicted = ours.frames[0].people;
    std::vector<const nlohmann::json*> truth;
    for (const nlohmann::json& a : labels["annotations"]) {
      if (a["image_id"] == image["id"]) truth.push_back(&a);
    }
    people += static_cast<int64_t>(truth.size());
    std::vector<std::vector<float>> iou(truth.size(),
                                        std::vector<float>(predicted.size()));
    for (size_t i = 0; i < truth.size(); ++i) {
      const nlohmann::json& b = (*truth[i])["bbox"];
      const Box box{b[0].get<float>(), b[1].get<float>(),
                    b[0].get<float>() + b[2].get<float>(),
                    b[1].get<float>() + b[3].get<float>()};
      for (size_t j = 0; j < predicted.size(); ++j) {
        iou[i][j] = IntersectionOverUnion(box, predicted[j].box);
      }
    }
    const std::vector<int> match = track::OptimalMatching(iou, 0.5f);
    std::vector<bool> taken(predicted.size(), false);
    for (size_t i = 0; i < truth.size(); ++i) {
      if (match[i] < 0) continue;
      ++found;
      const PersonPose& p = predicted[static_cast<size_t>(match[i])];
      taken[static_cast<size_t>(match[i])] = true;
      const nlohmann::json& head = (*truth[i])["bbox_head"];
      const double size =
          0.6 * std::hypot(head[2].get<double>(), head[3].get<double>());
      const nlohmann::json& k = (*truth[i])["keypoints"];
      for (int t = 0; t < posetrack.num_joints(); ++t) {
        if (k[3 * t + 2].get<double>() <= 0) continue;
        const auto at =
            std::find(coco.joint_names.begin(), coco.joint_names.end(),
                      posetrack.joint_names[t]);
        if (at == coco.joint_names.end()) continue;
        const size_t j = static_cast<size_t>(at - coco.joint_names.begin());
        counted += 1;
        hits += std::hypot(p.joints[j].x - k[3 * t].get<double>(),
                           p.joints[j].y - k[3 * t + 1].get<double>()) <=
                0.5 * size;
      }
    }
    for (bool t : taken) extra += !t;
  }
  return absl::StrFormat(
      "| %.1f | %d of %d | %d | %d | %s |\n", min_person_score, found, people,
      people - found, extra,
      counted > 0
          ? absl::StrFormat("%.1f (%.0f joints)", 100 * hits / counted, counted)
          : std::string("none found"));
}

absl::Status Run() {
  const std::string shared = absl::GetFlag(FLAGS_shared_dir);
  const std::string work = absl::GetFlag(FLAGS_work_dir);
  if (shared.empty() || !fs::is_directory(shared)) {
    return absl::InvalidArgumentError(
        "--shared_dir must be ../shared/data/real (absolute path)");
  }
  MAPN_ASSIGN_OR_RETURN(const std::string checkpoint,
                        BundledCheckpointPath(kRealPeopleCheckpoint));
  MAPN_ASSIGN_OR_RETURN(
      const model::AnyPipeline mapn,
      movenet::LoadOnPretrained(checkpoint, model::DefaultCompositions()));
  const model::AnyPipeline per_frame = mapn.PerFrameBaseline();
  MAPN_ASSIGN_OR_RETURN(std::unique_ptr<detect::GraphPersonDetector> loaded,
                        detect::GraphPersonDetector::Load({}));
  const std::shared_ptr<const detect::PersonDetector> detector(
      std::move(loaded));

  std::string table =
      "| clip | frames | people per frame (ref.) | tracks ours / ref. | id "
      "switches | fragments | missed | extra | PCK vs ref. | keyframes per "
      "person | MACs vs per-frame | model speed-up |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | "
      "--- |\n";
  for (const Clip& clip : kClips) {
    const std::string path = absl::StrCat(shared, "/", clip.path);
    MAPN_ASSIGN_OR_RETURN(const std::string readable, Readable(path, work));
    DetectedBoxOptions options;
    options.min_person_score = clip.min_person_score;
    options.keep_person_score = std::min(0.3f, clip.min_person_score);
    const BoxSource boxes = BoxSource::Detected(detector, options);
    std::cerr << "[multi_person] " << clip.path << ": reference\n";
    MAPN_ASSIGN_OR_RETURN(const PoseTrack reference,
                          Estimate(per_frame, nullptr, readable, boxes, 1));
    std::cerr << "[multi_person] " << clip.path << ": mapn\n";
    MAPN_ASSIGN_OR_RETURN(const PoseTrack ours,
                          Estimate(mapn, &per_frame, readable, boxes, 12));
    const Tracking t = Compare(ours, reference);
    const PoseTrackSummary& s = ours.summary;
    const PoseTrackSummary& r = reference.summary;
    std::cout << clip.path << "\n" << FormatSummary(ours);
    absl::StrAppend(
        &table,
        absl::StrFormat(
            "| %s (%s) | %d | %.2f | %d / %d | %d | %d | %d of %d | %d | %.1f "
            "| %.1f %% | %.2fx | %.2fx |\n",
            fs::path(clip.path).filename().string(), clip.what, s.frames,
            static_cast<double>(r.person_frames) /
                static_cast<double>(std::max<int64_t>(r.frames, 1)),
            s.tracks, r.tracks, t.switches, t.fragments, t.missed,
            t.reference_people, t.extra,
            t.pck_counted > 0 ? 100 * t.pck_hits / t.pck_counted : 0.0,
            s.person_frames > 0
                ? 100.0 * static_cast<double>(s.person_keyframes) /
                      static_cast<double>(s.person_frames)
                : 0.0,
            s.macs_ratio(), s.speedup().value_or(0)));
  }
  std::cout << "\n" << table;

  std::string posetrack =
      "\nPoseTrack18 labelled frames (3 images, 1920x1080):\n\n"
      "| min_person_score | people found | missed | extra | PCKh@0.5 of the "
      "found |\n| --- | --- | --- | --- | --- |\n";
  for (const float score : {0.5f, 0.2f}) {
    std::cerr << "[multi_person] PoseTrack18 at " << score << "\n";
    MAPN_ASSIGN_OR_RETURN(const std::string row,
                          PoseTrackRow(shared, work, mapn, detector, score));
    posetrack += row;
  }
  std::cout << posetrack;
  return absl::OkStatus();
}

}  // namespace
}  // namespace mapn::experiments

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = mapn::experiments::Run();
  if (!status.ok()) {
    std::cerr << "multi_person: " << status << "\n";
    return 1;
  }
  return 0;
}
