// What each additional person costs: the bundled model (MAPN on MoveNet
// Lightning, `mapn estimate`'s default) on 1, 2 and 4 people at once, each
// a batch row of their own crop, beside per-frame MoveNet run on the same
// person crops in the same process. The frames are real: four GOP windows
// (48 frames) of OpenCV's pedestrian clip vtest.avi (the demo's, from
// tools/setup.sh), its people found by the default person detector
// (MultiPose; its best boxes, whatever they score) on each window's
// keyframe and followed by the tracker, as `mapn estimate` does: the first
// four windows where it follows four people. The benchmark runs the models
// only (transcoding, decoding, cropping and detection are done once,
// before).
//
// Each benchmark is one pass over the 48 frames; its counters are
// milliseconds per frame (ms_per_frame) and multiply-adds per frame
// (gmacs_per_frame, as RunResult charges them: the encoder where it ran,
// the ConvLSTM step and the head). The summary prints, per number of
// people, both models' minimum over 15 repetitions and their ratios:
//
//   people=<n> mapn_ms_per_frame=<t> per_frame_ms_per_frame=<t>
//   speedup=<per-frame / mapn> mapn_gmacs=<m> per_frame_gmacs=<m>
//   keyframes=<share of person-frames whose features were extracted>
//
// Usage: bazel run //benchmarks:people_benchmark
//        (MAPN_DATA_DIR holds vtest.avi when it is not ~/.cache/mapn/data;
//        MAPN_NUM_THREADS fixes the thread count)
#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "benchmarks/collecting_reporter.h"
#include "mapn/detect/person_detector.h"
#include "mapn/estimate/default_model.h"
#include "mapn/geometry/affine.h"
#include "mapn/geometry/box.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/compositions.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/track/tracker.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/resample.h"
#include "mapn/video/transcode.h"

namespace {

constexpr int kWindows = 4;
constexpr int kMaxPeople = 4;

// The models and, per window, a batch of the crops of its first people.
struct Setup {
  std::optional<mapn::model::AnyPipeline> model;
  std::optional<mapn::model::AnyPipeline> per_frame;
  // batches[w][p - 1]: window w's crops of its first p people.
  std::vector<std::vector<mapn::GopBatch>> batches;
  std::vector<int64_t> valid_frames;
  std::string error;
};

absl::StatusOr<std::string> Clip() {
  const char* dir = std::getenv("MAPN_DATA_DIR");
  const char* home = std::getenv("HOME");
  const std::string path = dir != nullptr
                               ? absl::StrCat(dir, "/vtest.avi")
                               : absl::StrCat(home != nullptr ? home : "",
                                              "/.cache/mapn/data/vtest.avi");
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    return path;
  }
  return absl::NotFoundError(
      absl::StrCat(path, " is missing: run tools/setup.sh"));
}

absl::Status Prepare(Setup& setup) {
  absl::StatusOr<std::string> checkpoint =
      mapn::BundledCheckpointPath(mapn::kRealPeopleCheckpoint);
  if (!checkpoint.ok()) return checkpoint.status();
  absl::StatusOr<mapn::model::AnyPipeline> model =
      mapn::movenet::LoadOnPretrained(*checkpoint,
                                      mapn::model::DefaultCompositions());
  if (!model.ok()) return model.status();
  setup.model = *model;
  setup.per_frame = model->PerFrameBaseline();
  setup.model->module().eval();
  setup.per_frame->module().eval();
  const int size = static_cast<int>(model->input_size());

  absl::StatusOr<std::string> clip = Clip();
  if (!clip.ok()) return clip.status();
  // vtest.avi is MS-MPEG-4 v3: read through a transcoded copy, as `mapn
  // estimate` does.
  const std::string copy =
      (std::filesystem::temp_directory_path() / "people_benchmark_vtest.mp4")
          .string();
  if (absl::Status done = mapn::Transcode(*clip, copy); !done.ok()) {
    return done;
  }
  absl::StatusOr<mapn::FfmpegStreamSource> source =
      mapn::FfmpegStreamSource::Open(copy);
  if (!source.ok()) return source.status();
  absl::StatusOr<std::unique_ptr<mapn::detect::GraphPersonDetector>> detector =
      mapn::detect::GraphPersonDetector::Load({});
  if (!detector.ok()) return detector.status();
  mapn::track::TrackerOptions tracking;
  // vtest's pedestrians are small in its 768 x 576 frames and score low;
  // cost depends on how many crops there are, not on their scores.
  tracking.min_score = 0.05f;
  tracking.max_tracks = kMaxPeople;
  absl::StatusOr<mapn::track::Tracker> tracker =
      mapn::track::Tracker::Create(tracking);
  if (!tracker.ok()) return tracker.status();
  // The first kWindows windows where the tracker follows kMaxPeople.
  while (static_cast<int>(setup.batches.size()) < kWindows) {
    absl::StatusOr<std::optional<mapn::GopWindow>> window = source->Next();
    if (!window.ok()) return window.status();
    if (!window->has_value()) {
      return absl::OutOfRangeError(absl::StrCat(*clip, " has fewer than ",
                                                kWindows, " windows with ",
                                                kMaxPeople, " people found"));
    }
    absl::StatusOr<std::vector<mapn::detect::PersonBox>> found =
        (*detector)->Detect((*window)->rgb[0]);
    if (!found.ok()) return found.status();
    std::vector<mapn::track::Detection> detections;
    for (const auto& box : *found) detections.push_back({box.box, box.score});
    absl::StatusOr<std::vector<mapn::track::WindowTrack>> people =
        mapn::track::TrackWindow(*tracker, **window, detections);
    if (!people.ok()) return people.status();
    if (people->size() < kMaxPeople) continue;
    std::vector<mapn::ResampledWindow> crops;
    for (int p = 0; p < kMaxPeople; ++p) {
      absl::StatusOr<mapn::ResampledWindow> crop = mapn::ResampleWindow(
          **window,
          mapn::BoxToSquare(mapn::ExpandBox((*people)[p].extent), size), size);
      if (!crop.ok()) return crop.status();
      crops.push_back(*std::move(crop));
    }
    setup.batches.emplace_back();
    for (int p = 1; p <= kMaxPeople; ++p) {
      absl::StatusOr<mapn::GopBatch> batch = mapn::ToGopBatch(
          std::vector<mapn::ResampledWindow>(crops.begin(), crops.begin() + p));
      if (!batch.ok()) return batch.status();
      setup.batches.back().push_back(*std::move(batch));
    }
    setup.valid_frames.push_back((*window)->num_valid);
  }
  return absl::OkStatus();
}

Setup& Shared() {
  static Setup* setup = [] {
    auto* s = new Setup;
    const absl::Status status = Prepare(*s);
    if (!status.ok()) s->error = std::string(status.message());
    return s;
  }();
  return *setup;
}

// Per "Mapn/2", "PerFrame/4", ...: multiply-adds per frame and the share
// of person-frames whose features were extracted.
std::map<std::string, double>& Gmacs() {
  static auto* m = new std::map<std::string, double>;
  return *m;
}
std::map<std::string, double>& Keyframes() {
  static auto* m = new std::map<std::string, double>;
  return *m;
}

void BM_People(benchmark::State& state, bool per_frame) {
  Setup& setup = Shared();
  if (!setup.error.empty()) {
    state.SkipWithError(setup.error.c_str());
    return;
  }
  const int people = static_cast<int>(state.range(0));
  const mapn::model::AnyPipeline& model =
      per_frame ? *setup.per_frame : *setup.model;
  const at::NoGradGuard no_grad;
  double macs = 0, keyframes = 0, frames = 0;
  for (auto _ : state) {
    macs = keyframes = frames = 0;
    for (size_t w = 0; w < setup.batches.size(); ++w) {
      absl::StatusOr<mapn::model::RunResult> result =
          model.Run(setup.batches[w][people - 1]);
      if (!result.ok()) {
        state.SkipWithError(std::string(result.status().message()).c_str());
        return;
      }
      benchmark::DoNotOptimize(result->heatmaps);
      const int64_t valid = setup.valid_frames[w];
      for (int p = 0; p < people; ++p) {
        for (int64_t t = 0; t < valid; ++t) {
          macs += result->macs(p, t).true_macs;
          keyframes += result->decisions[p][t].item<float>();
        }
      }
      frames += static_cast<double>(valid);
    }
  }
  const double per_frame_macs = macs / frames;
  state.counters["frames"] = frames;
  state.counters["gmacs_per_frame"] = per_frame_macs / 1e9;
  const std::string key =
      absl::StrCat(per_frame ? "PerFrame/" : "Mapn/", people);
  Gmacs()[key] = per_frame_macs / 1e9;
  Keyframes()[key] = keyframes / (frames * people);
}

double Min(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}
void Apply(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond)
      ->Arg(1)
      ->Arg(2)
      ->Arg(4)
      ->MinTime(0.05)
      ->Repetitions(15)
      ->ComputeStatistics("min", Min)
      ->ReportAggregatesOnly(true);
}

BENCHMARK_CAPTURE(BM_People, Mapn, false)->Apply(Apply);
BENCHMARK_CAPTURE(BM_People, PerFrame, true)->Apply(Apply);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  mapn::benchmarks::CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (!Shared().error.empty()) {
    std::printf("people_benchmark: %s\n", Shared().error.c_str());
    return 1;
  }
  const double frames = [] {
    double n = 0;
    for (int64_t v : Shared().valid_frames) n += static_cast<double>(v);
    return n;
  }();
  std::printf("threads=%d frames=%.0f\n", at::get_num_threads(), frames);
  for (int people : {1, 2, 4}) {
    const std::string mapn = absl::StrCat("Mapn/", people);
    const std::string base = absl::StrCat("PerFrame/", people);
    const double mapn_ms = reporter.Time("BM_People/" + mapn) / frames;
    const double base_ms = reporter.Time("BM_People/" + base) / frames;
    std::printf(
        "people=%d mapn_ms_per_frame=%.2f per_frame_ms_per_frame=%.2f "
        "speedup=%.2f mapn_gmacs=%.3f per_frame_gmacs=%.3f keyframes=%.3f\n",
        people, mapn_ms, base_ms, mapn_ms > 0 ? base_ms / mapn_ms : 0.0,
        Gmacs()[mapn], Gmacs()[base], Keyframes()[mapn]);
  }
  return 0;
}
