// detector_accuracy: measures the person detectors (person_detector.h) on
// the labelled real data in ../shared/data/real, for the choice of mapn's
// default detector and of --min_person_score (docs/models.md, "Person
// detection"):
//   * PoseTrack18's three labelled val frames (1920 x 1080, 14 people with
//     a `bbox`; detections inside the frames' ignore regions, where people
//     are not labelled, count neither way): recall and precision at IoU
//     0.5 after greedy matching by score;
//   * the JHMDB goalkeeper clip (40 frames, one person, official joint
//     labels): whether the top box holds the person (at least 14 of the 15
//     joints inside it) and its IoU with the joints' extent;
//   * frames with nobody: Big Buck Bunny (vid_mpeg4_part2.mp4) and
//     mmaction2's pool-cleaning clip (test.avi), every 8th frame: the share
//     of frames with any person box at or above the threshold;
//   * single-person clips without labels (sections 6-19 of SOURCES.md: a
//     person in view throughout): the share of frames whose top box
//     reaches the threshold, i.e. frame-level recall on clips with people
//     of many sizes, codecs and framings (a few frames may be empty);
//   * the mean wall time of Detect per frame over all of these (the
//     benchmark, benchmarks/detector_benchmark.cc, is the careful figure).
//
//   bazel run //mapn/detect:detector_accuracy --
//       --shared_dir=$PWD/../shared/data/real [--models=centernet,nanodet]
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/image_file.h"
#include "mapn/data/jhmdb.h"
#include "mapn/detect/person_detector.h"
#include "mapn/video/ffmpeg_decoder.h"
#include "mapn/video/yuv.h"
#include "nlohmann/json.hpp"

extern "C" {
#include <libavutil/frame.h>
}

ABSL_FLAG(std::string, shared_dir, "../shared/data/real",
          "The shared real data (SOURCES.md).");
ABSL_FLAG(std::vector<std::string>, models,
          std::vector<std::string>({"centernet", "nanodet", "multipose"}),
          "Detectors to measure.");
ABSL_FLAG(std::vector<std::string>, thresholds,
          std::vector<std::string>({"0.2", "0.3", "0.4", "0.5", "0.6"}),
          "Score thresholds to report.");
ABSL_FLAG(int, nobody_stride, 8, "Every n-th frame of the nobody clips.");
ABSL_FLAG(int, people_frames, 10,
          "Frames taken from each single-person clip (evenly spaced).");
ABSL_FLAG(bool, verbose, false, "Print every frame's top boxes.");

namespace mapn::detect {
namespace {

using Clock = std::chrono::steady_clock;

struct Polygon {
  std::vector<float> x, y;
};

struct LabelledImage {
  std::string name;
  at::Tensor rgb;  // uint8 [3, H, W]
  std::vector<Box> people;
  std::vector<Polygon> ignore;
  // JHMDB: the joints (x, y), 0-based pixels.
  std::vector<float> joints;
};

bool Inside(const Polygon& p, float x, float y) {
  bool in = false;
  const size_t n = p.x.size();
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    if (((p.y[i] > y) != (p.y[j] > y)) &&
        (x < (p.x[j] - p.x[i]) * (y - p.y[i]) / (p.y[j] - p.y[i]) + p.x[i])) {
      in = !in;
    }
  }
  return in;
}

at::Tensor FromHwc(const std::vector<uint8_t>& rgb, int w, int h) {
  return at::from_blob(const_cast<uint8_t*>(rgb.data()), {h, w, 3}, at::kByte)
      .permute({2, 0, 1})
      .contiguous();
}

// Every `stride`-th decoded frame of a clip (any codec) as uint8 [3, H, W].
absl::StatusOr<std::vector<at::Tensor>> DecodeFrames(const std::string& path,
                                                     int stride) {
  DecoderOptions options;
  options.export_motion_vectors = false;
  options.require_reader_format = false;
  MAPN_ASSIGN_OR_RETURN(std::unique_ptr<FfmpegDecoder> decoder,
                        FfmpegDecoder::Open(path, options));
  std::vector<at::Tensor> frames;
  DecodedFrame frame;
  while (true) {
    MAPN_ASSIGN_OR_RETURN(const bool got, decoder->Next(&frame));
    if (!got) break;
    if (frame.index % stride != 0) continue;
    const AVFrame* f = frame.frame;
    const int w = f->width, h = f->height;
    at::Tensor planes = at::empty({3, h, w}, at::kByte);
    uint8_t* p = planes.data_ptr<uint8_t>();
    const Yuv420View view{
        f->data[0],     f->data[1], f->data[2], f->linesize[0],
        f->linesize[1], w,          h};
    ConvertToRgbPlanar(view, YuvToRgb::Make(false, false), 0, h, p, p + w * h,
                       p + 2 * w * h);
    frames.push_back(planes);
  }
  return frames;
}

// Single-person clips (relative to the shared root) with a person in view.
const std::vector<std::string>& PeopleClips() {
  static const auto* clips = new std::vector<std::string>{
      "st-gcn/resource/media/clean_and_jerk.mp4",
      "st-gcn/resource/media/ta_chi.mp4",
      "mmhuman3d/demo/resources/single_person_demo.mp4",
      "PaddleVideo/data/example.avi",
      "HybrIK/examples/taiji.mp4",
      "video_features/sample/v_GGSY1Qvo990.mp4",
      "MusePose/assets/videos/dance.mp4",
      "sam2/demo/data/gallery/05_default_juggle.mp4",
      "tfjs-models/pose-detection/test_data/pose_squats.mp4",
      "UniFormer/video_classification/vis/example_video/Tw2yXa6CzWE.mp4",
  };
  return *clips;
}

// `count` frames spread evenly over a clip.
absl::StatusOr<std::vector<at::Tensor>> SpreadFrames(const std::string& path,
                                                     int count) {
  MAPN_ASSIGN_OR_RETURN(std::vector<at::Tensor> all, DecodeFrames(path, 1));
  std::vector<at::Tensor> out;
  const size_t n = all.size();
  for (int k = 0; k < count && n > 0; ++k) {
    out.push_back(all[(2 * k + 1) * n / (2 * count)]);
  }
  return out;
}

absl::StatusOr<std::vector<LabelledImage>> PoseTrackImages(
    const std::string& root) {
  const std::string dir = root + "/mmpose/tests/data/posetrack18";
  MAPN_ASSIGN_OR_RETURN(
      const std::string text,
      ReadFile(dir + "/annotations/test_posetrack18_val.json"));
  const nlohmann::json doc = nlohmann::json::parse(text);
  std::vector<LabelledImage> images;
  for (const nlohmann::json& im : doc["images"]) {
    LabelledImage li;
    li.name = im["file_name"].get<std::string>();
    MAPN_ASSIGN_OR_RETURN(RgbImage rgb, ReadImageFile(dir + "/" + li.name));
    li.rgb = FromHwc(rgb.rgb, rgb.width, rgb.height);
    const auto& xs = im["ignore_regions_x"];
    const auto& ys = im["ignore_regions_y"];
    for (size_t r = 0; r < xs.size(); ++r) {
      Polygon p;
      for (const auto& v : xs[r]) p.x.push_back(v.get<float>());
      for (const auto& v : ys[r]) p.y.push_back(v.get<float>());
      if (p.x.size() == p.y.size() && p.x.size() >= 3) li.ignore.push_back(p);
    }
    for (const nlohmann::json& a : doc["annotations"]) {
      if (a["image_id"] != im["id"]) continue;
      const float x = a["bbox"][0], y = a["bbox"][1], w = a["bbox"][2],
                  h = a["bbox"][3];
      li.people.push_back(Box{x, y, x + w, y + h});
    }
    images.push_back(std::move(li));
  }
  return images;
}

absl::StatusOr<std::vector<LabelledImage>> JhmdbFrames(
    const std::string& root) {
  const std::string dir =
      root + "/jhmdb-readannotation/ReadJHMDBAnnotations/data";
  MAPN_ASSIGN_OR_RETURN(
      PoseSequence labels,
      ReadJhmdbLabels(dir + "/joint_positions.mat", "", "goalkeeper"));
  MAPN_ASSIGN_OR_RETURN(
      std::vector<at::Tensor> frames,
      DecodeFrames(dir + "/Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi", 1));
  std::vector<LabelledImage> out;
  for (int64_t t = 0;
       t < labels.num_frames && t < static_cast<int64_t>(frames.size()); ++t) {
    LabelledImage li;
    li.name = absl::StrCat("jhmdb#", t);
    li.rgb = frames[t];
    li.people.push_back(labels.boxes[t]);
    for (int j = 0; j < labels.num_joints; ++j) {
      li.joints.push_back(labels.x(t, j));
      li.joints.push_back(labels.y(t, j));
    }
    out.push_back(std::move(li));
  }
  return out;
}

struct Timed {
  std::vector<PersonBox> boxes;
  double seconds = 0;
};

absl::StatusOr<std::vector<Timed>> RunAll(const PersonDetector& detector,
                                          const std::vector<at::Tensor>& in,
                                          double* total_seconds,
                                          int64_t* frames) {
  std::vector<Timed> out;
  for (const at::Tensor& rgb : in) {
    const Clock::time_point t0 = Clock::now();
    MAPN_ASSIGN_OR_RETURN(std::vector<PersonBox> boxes, detector.Detect(rgb));
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    *total_seconds += s;
    ++*frames;
    out.push_back({std::move(boxes), s});
  }
  return out;
}

std::string BoxText(const PersonBox& b) {
  return absl::StrFormat("(%.0f,%.0f,%.0f,%.0f %.2f)", b.box.x1, b.box.y1,
                         b.box.x2, b.box.y2, b.score);
}

int Main() {
  const std::string root = absl::GetFlag(FLAGS_shared_dir);
  std::vector<float> thresholds;
  for (const std::string& t : absl::GetFlag(FLAGS_thresholds)) {
    thresholds.push_back(std::stof(t));
  }
  absl::StatusOr<std::vector<LabelledImage>> posetrack = PoseTrackImages(root);
  absl::StatusOr<std::vector<LabelledImage>> jhmdb = JhmdbFrames(root);
  const int stride = absl::GetFlag(FLAGS_nobody_stride);
  absl::StatusOr<std::vector<at::Tensor>> bunny =
      DecodeFrames(root + "/mv-extractor/vid_mpeg4_part2.mp4", stride);
  absl::StatusOr<std::vector<at::Tensor>> pool =
      DecodeFrames(root + "/mmaction2/tests/data/test.avi", stride);
  for (const absl::Status& s :
       {posetrack.status(), jhmdb.status(), bunny.status(), pool.status()}) {
    if (!s.ok()) {
      std::cerr << "detector_accuracy: " << s.message() << "\n";
      return 1;
    }
  }
  std::vector<at::Tensor> people;
  for (const std::string& clip : PeopleClips()) {
    absl::StatusOr<std::vector<at::Tensor>> frames =
        SpreadFrames(root + "/" + clip, absl::GetFlag(FLAGS_people_frames));
    if (!frames.ok()) {
      std::cerr << "detector_accuracy: " << frames.status().message() << "\n";
      return 1;
    }
    people.insert(people.end(), frames->begin(), frames->end());
  }
  std::vector<at::Tensor> nobody = *bunny;
  nobody.insert(nobody.end(), pool->begin(), pool->end());
  int64_t labelled_people = 0;
  for (const LabelledImage& li : *posetrack)
    labelled_people += li.people.size();
  std::cout << absl::StrFormat(
      "data: PoseTrack18 %d frames / %d people, JHMDB %d frames, nobody %d "
      "frames (Big Buck Bunny %d, pool %d; every %d-th), single-person clips "
      "%d frames (%d clips)\n",
      posetrack->size(), labelled_people, jhmdb->size(), nobody.size(),
      bunny->size(), pool->size(), stride, people.size(), PeopleClips().size());

  for (const std::string& name : absl::GetFlag(FLAGS_models)) {
    absl::StatusOr<DetectorModel> model = ParseDetectorModel(name);
    if (!model.ok()) {
      std::cerr << model.status().message() << "\n";
      return 1;
    }
    absl::StatusOr<std::unique_ptr<GraphPersonDetector>> detector =
        GraphPersonDetector::Load({.model = *model});
    if (!detector.ok()) {
      std::cerr << detector.status().message() << "\n";
      return 1;
    }
    double seconds = 0;
    int64_t frames = 0;
    std::vector<at::Tensor> pt_in, jh_in;
    for (const LabelledImage& li : *posetrack) pt_in.push_back(li.rgb);
    for (const LabelledImage& li : *jhmdb) jh_in.push_back(li.rgb);
    // One warm-up run, not timed.
    (void)(*detector)->Detect(jh_in[0]);
    auto pt = RunAll(**detector, pt_in, &seconds, &frames);
    auto jh = RunAll(**detector, jh_in, &seconds, &frames);
    auto nb = RunAll(**detector, nobody, &seconds, &frames);
    auto pp = RunAll(**detector, people, &seconds, &frames);
    for (const absl::Status& s :
         {pt.status(), jh.status(), nb.status(), pp.status()}) {
      if (!s.ok()) {
        std::cerr << name << ": " << s.message() << "\n";
        return 1;
      }
    }
    if (absl::GetFlag(FLAGS_verbose)) {
      auto dump = [](const std::string& what, const std::vector<Timed>& r) {
        for (size_t i = 0; i < r.size(); ++i) {
          std::string line = absl::StrCat(what, " ", i, ":");
          for (size_t k = 0; k < r[i].boxes.size() && k < 4; ++k) {
            absl::StrAppend(&line, " ", BoxText(r[i].boxes[k]));
          }
          std::cout << line << "\n";
        }
      };
      dump("posetrack", *pt);
      dump("jhmdb", *jh);
      dump("nobody", *nb);
      dump("people", *pp);
      for (const LabelledImage& li : *posetrack) {
        std::string line = "posetrack labels:";
        for (const Box& b : li.people) {
          absl::StrAppend(&line, absl::StrFormat(" (%.0f,%.0f,%.0f,%.0f)", b.x1,
                                                 b.y1, b.x2, b.y2));
        }
        std::cout << line << "\n";
      }
    }
    std::cout << absl::StrFormat(
        "\n%s: %.1f ms per frame (mean of %d Detect calls, frames of "
        "320x240 to 1920x1080)\n",
        name, 1000.0 * seconds / frames, frames);
    std::cout << "| threshold | PoseTrack recall | PoseTrack precision | "
                 "JHMDB found (IoU >= 0.5 with the joints' extent) | JHMDB "
                 "mean IoU | "
                 "JHMDB joints inside the top box | "
                 "single-person clips: frames with a person found | "
                 "frames with nobody given a person |\n"
                 "| --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (float tau : thresholds) {
      // PoseTrack: greedy matching by score at IoU 0.5.
      int64_t tp = 0, fp = 0;
      for (size_t i = 0; i < posetrack->size(); ++i) {
        const LabelledImage& li = (*posetrack)[i];
        std::vector<bool> used(li.people.size(), false);
        for (const PersonBox& d : (*pt)[i].boxes) {
          if (d.score < tau) continue;
          int best = -1;
          float best_iou = 0.5f;
          for (size_t g = 0; g < li.people.size(); ++g) {
            const float iou = IntersectionOverUnion(d.box, li.people[g]);
            if (!used[g] && iou >= best_iou) {
              best = static_cast<int>(g);
              best_iou = iou;
            }
          }
          if (best >= 0) {
            used[best] = true;
            ++tp;
            continue;
          }
          const float cx = (d.box.x1 + d.box.x2) / 2,
                      cy = (d.box.y1 + d.box.y2) / 2;
          bool ignored = false;
          for (const Polygon& p : li.ignore) ignored |= Inside(p, cx, cy);
          if (!ignored) ++fp;
        }
      }
      // JHMDB: the top box against the joints' extent, and the joints it
      // holds.
      int64_t found = 0, joints_inside = 0, joints_total = 0;
      double iou_sum = 0;
      for (size_t i = 0; i < jhmdb->size(); ++i) {
        const LabelledImage& li = (*jhmdb)[i];
        const std::vector<PersonBox>& boxes = (*jh)[i].boxes;
        joints_total += li.joints.size() / 2;
        if (boxes.empty() || boxes[0].score < tau) continue;
        const Box& b = boxes[0].box;
        for (size_t j = 0; j + 1 < li.joints.size(); j += 2) {
          joints_inside += li.joints[j] >= b.x1 && li.joints[j] < b.x2 &&
                           li.joints[j + 1] >= b.y1 && li.joints[j + 1] < b.y2;
        }
        const float iou = IntersectionOverUnion(b, li.people[0]);
        found += iou >= 0.5f;
        iou_sum += iou;
      }
      int64_t seen = 0;
      for (const Timed& r : *pp) {
        seen += !r.boxes.empty() && r.boxes[0].score >= tau;
      }
      int64_t fooled = 0;
      for (const Timed& r : *nb) {
        fooled += !r.boxes.empty() && r.boxes[0].score >= tau;
      }
      std::cout << absl::StrFormat(
          "| %.2f | %d/%d = %.2f | %d/%d = %.2f | %d/%d | %.2f | %.1f %% | "
          "%d/%d | %d/%d |\n",
          tau, tp, labelled_people, static_cast<double>(tp) / labelled_people,
          tp, tp + fp, tp + fp > 0 ? static_cast<double>(tp) / (tp + fp) : 0.0,
          found, jhmdb->size(), iou_sum / jhmdb->size(),
          100.0 * joints_inside / joints_total, seen, people.size(), fooled,
          nobody.size());
    }
    // The scores on the nobody frames, for the threshold's margin.
    float max_nobody = 0;
    for (const Timed& r : *nb) {
      if (!r.boxes.empty()) max_nobody = std::max(max_nobody, r.boxes[0].score);
    }
    float min_jhmdb = 1;
    for (const Timed& r : *jh) {
      min_jhmdb =
          std::min(min_jhmdb, r.boxes.empty() ? 0.0f : r.boxes[0].score);
    }
    std::cout << absl::StrFormat(
        "top score: highest on a nobody frame %.3f, lowest on a JHMDB frame "
        "%.3f\n",
        max_nobody, min_jhmdb);
  }
  return 0;
}

}  // namespace
}  // namespace mapn::detect

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return mapn::detect::Main();
}
