// CPU cost of one person detection (mapn/detect/person_detector.h) per
// keyframe, for each of the three detectors mapn can use: letterboxing a
// 640 x 480 frame, the graph through the TF.js reader, and decoding with
// suppression (GraphPersonDetector::Detect). The per-frame pose models the
// detection is amortised against, MoveNet Lightning and Thunder through the
// same reader, are timed in the same run. Each figure is the minimum over
// the repetitions (the development machine is shared; docs/models.md).
//
// The last lines are
//
//   <name>_ms=<minimum ms per call>
//
// The frame is the JHMDB goalkeeper (frame 0, one person) scaled to 640 x
// 480 when ../shared is there, else a smooth synthetic picture; the models
// come from the cache tools/setup.sh fills (the benchmark says so and stops
// without it).
//
// Usage: MAPN_NUM_THREADS=1 bazel run //benchmarks:detector_benchmark --
//            --benchmark_repetitions=15
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "mapn/detect/person_detector.h"
#include "mapn/testing/shared_data.h"
#include "mapn/tfjs/golden_frames.h"
#include "mapn/tfjs/graph_model.h"
#include "mapn/tfjs/model_files.h"

namespace {

using mapn::detect::DetectorModel;
using mapn::detect::GraphPersonDetector;

// uint8 [3, 480, 640].
const at::Tensor& Frame() {
  static const at::Tensor frame = [] {
    at::Tensor rgb;
    const absl::StatusOr<std::string> dir = mapn::testing::SharedDataDir();
    if (dir.ok()) {
      absl::StatusOr<at::Tensor> hwc = mapn::tfjs::DecodeRgbFrame(
          *dir +
              "/jhmdb-readannotation/ReadJHMDBAnnotations/data/"
              "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi",
          0);
      if (hwc.ok()) rgb = hwc->permute({2, 0, 1}).to(at::kFloat);
    }
    if (!rgb.defined()) {
      const at::Tensor y = at::linspace(0, 1, 240).view({1, 240, 1});
      const at::Tensor x = at::linspace(0, 1, 320).view({1, 1, 320});
      rgb = at::cat({255 * y * x, 255 * (1 - y) * x, 128 + 0 * y * x}, 0);
    }
    return at::upsample_bilinear2d(rgb.unsqueeze(0), {480, 640}, false)[0]
        .round()
        .clamp(0, 255)
        .to(at::kByte)
        .contiguous();
  }();
  return frame;
}

void BM_Detect(benchmark::State& state, DetectorModel model) {
  absl::StatusOr<std::unique_ptr<GraphPersonDetector>> detector =
      GraphPersonDetector::Load({.model = model});
  if (!detector.ok()) {
    state.SkipWithError(std::string(detector.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<std::vector<mapn::detect::PersonBox>> boxes =
        (*detector)->Detect(Frame());
    if (!boxes.ok()) {
      state.SkipWithError(std::string(boxes.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(boxes->size());
  }
}
BENCHMARK_CAPTURE(BM_Detect, centernet, mapn::detect::kCenterNet)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Detect, nanodet, mapn::detect::kNanoDet)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Detect, multipose, mapn::detect::kMultiPose)
    ->Unit(benchmark::kMillisecond);

// The per-frame pose model through the same reader.
void BM_MoveNetGraph(benchmark::State& state, const std::string& name,
                     int64_t size) {
  absl::StatusOr<std::string> json = mapn::tfjs::FindModel(name);
  if (!json.ok()) {
    state.SkipWithError(std::string(json.status().message()).c_str());
    return;
  }
  absl::StatusOr<mapn::tfjs::GraphModel> graph =
      mapn::tfjs::GraphModel::Load(*json);
  if (!graph.ok()) {
    state.SkipWithError(std::string(graph.status().message()).c_str());
    return;
  }
  const at::Tensor input =
      mapn::detect::LetterboxImage(Frame(), size).round().to(at::kInt);
  for (auto _ : state) {
    auto out = graph->Run({{"input", input}});
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(out->size());
  }
}
BENCHMARK_CAPTURE(BM_MoveNetGraph, lightning, "movenet-lightning", 192)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MoveNetGraph, thunder, "movenet-thunder", 256)
    ->Unit(benchmark::kMillisecond);

// Keeps each benchmark's minimum over repetitions for the summary.
class MinimumReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const double ms = run.GetAdjustedRealTime();  // in the run's unit (ms)
      const std::string name =
          run.benchmark_name().substr(0, run.benchmark_name().find("/repeats"));
      auto [it, fresh] = minimum_.emplace(name, ms);
      if (!fresh) it->second = std::min(it->second, ms);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Summary() const {
    for (const auto& [name, ms] : minimum_) {
      std::string key = name;
      std::replace(key.begin(), key.end(), '/', '_');
      std::printf("%s_ms=%.2f\n", key.c_str(), ms);
    }
  }

 private:
  std::map<std::string, double> minimum_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  MinimumReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.Summary();
  benchmark::Shutdown();
  return 0;
}
