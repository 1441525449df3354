// What sets the scale of the training experiments on this machine: seconds
// per training step of each stage of MAPN at a SynthPose-sized config
// (ResNet-18 of base width 32, head 64 channels, 128 x 128 input, windows
// of 12 frames, 4 windows per step), and what feeding it costs: decoding a
// 320 x 240 SynthPose clip with motion vectors and residuals, and cropping
// and augmenting its windows to 128 x 128 (PoseWindows::Batch). Each step
// is measured through Train() itself, so it includes its batch's decoding
// and cropping unless PoseWindows' cache holds the windows (it does after
// the first pass here, as in training on a small set). The last line is
//
//   seconds_per_step stage1=<a> stage2=<b> stage3=<c> stage4=<d>
//   data_fraction=<decode + crop of one batch / stage-1 step>
//
// Usage: bazel run //benchmarks:train_benchmark
//        (MAPN_NUM_THREADS fixes the thread count; the default is all CPUs)
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "mapn/data/penn_action.h"
#include "mapn/data/synthpose.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/compositions.h"
#include "mapn/train/pose_windows.h"
#include "mapn/train/trainer.h"
#include "mapn/video/ffmpeg_stream_source.h"

namespace {

using mapn::train::PoseWindows;
using mapn::train::Stage;

constexpr int kSize = 128;
constexpr int64_t kBatch = 4;

std::map<int, double> step_seconds;
double decode_ms_per_frame = 0;
double crop_ms_per_frame = 0;

// ResNet-18 of base width 32, a 64-wide head, 128 x 128 crops.
mapn::model::Mapn::Options ModelOptions() {
  mapn::model::Mapn::Options o;
  o.extractor.width = 32;
  o.head.width = 64;
  o.input_size = kSize;
  return o;
}

const mapn::PoseDataset& Data() {
  static const mapn::PoseDataset* data = [] {
    const char* tmp = std::getenv("TMPDIR");
    const std::string root =
        std::string(tmp ? tmp : "/tmp") + "/mapn_train_benchmark";
    mapn::SynthPoseOptions options;  // 320 x 240
    options.num_clips = 4;
    options.min_frames = 48;
    options.max_frames = 48;
    absl::Status s = mapn::GenerateSynthPose(options, root);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      std::exit(1);
    }
    return new mapn::PoseDataset(mapn::LoadPennAction(root).value());
  }();
  return *data;
}

void BM_DecodeWithResiduals_320x240(benchmark::State& state) {
  const std::string path = Data().sequences[0].cached_video;
  int64_t frames = 0;
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto source = mapn::FfmpegStreamSource::Open(path).value();
    while (auto w = source.Next().value()) frames += w->num_valid;
    seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  decode_ms_per_frame = 1e3 * seconds / static_cast<double>(frames);
  state.SetItemsProcessed(frames);
  state.counters["ms_per_frame"] = decode_ms_per_frame;
}
BENCHMARK(BM_DecodeWithResiduals_320x240)->Unit(benchmark::kMillisecond);

void BM_CropAugment_128(benchmark::State& state) {
  PoseWindows windows = PoseWindows::Create(Data(), {.input_size = kSize,
                                                     .cache_megabytes = 1024})
                            .value();
  // Batches of kBatch windows, as a training step asks for them, each with
  // its augmentation; the cache is filled first so that only cropping counts.
  for (int64_t i = 0; i < windows.size(); ++i)
    (void)windows.SourceWindow(i).value();
  const double before = windows.stats().crop_seconds;
  int64_t frames = 0, next = 0;
  for (auto _ : state) {
    std::vector<int64_t> ids;
    std::vector<mapn::train::AugmentDraw> draws;
    for (int64_t i = 0; i < kBatch; ++i, ++next) {
      ids.push_back(next % windows.size());
      draws.push_back(
          mapn::train::DrawAugmentation({}, static_cast<uint64_t>(next)));
    }
    mapn::train::PoseBatch batch = windows.Batch(ids, draws).value();
    frames += batch.inputs.valid.sum().item<int64_t>();
    benchmark::DoNotOptimize(batch.inputs.rgb.data_ptr());
  }
  crop_ms_per_frame = 1e3 * (windows.stats().crop_seconds - before) /
                      static_cast<double>(frames);
  state.SetItemsProcessed(frames);
  state.counters["ms_per_frame"] = crop_ms_per_frame;
}
BENCHMARK(BM_CropAugment_128)->Unit(benchmark::kMillisecond);

void BM_TrainStep(benchmark::State& state) {
  const Stage stage = static_cast<Stage>(state.range(0));
  static PoseWindows* windows = new PoseWindows(
      PoseWindows::Create(Data(), {.input_size = kSize}).value());
  at::manual_seed(1);
  const mapn::model::AnyPipeline model(mapn::model::Mapn(ModelOptions()),
                                       "mapn");
  mapn::train::TrainOptions options = mapn::train::StageDefaults(stage);
  options.batch_size = kBatch;
  options.epochs = 1;
  options.max_steps_per_epoch = 2;
  options.quiet = true;
  // One warm-up run (allocations, the decode cache).
  if (!mapn::train::TrainStage(model, *windows, options).ok()) {
    state.SkipWithError("training failed");
    return;
  }
  double seconds = 0;
  int64_t steps = 0;
  for (auto _ : state) {
    absl::StatusOr<mapn::train::TrainReport> report =
        mapn::train::TrainStage(model, *windows, options);
    if (!report.ok()) {
      state.SkipWithError(std::string(report.status().message()).c_str());
      return;
    }
    seconds += report->seconds;
    steps += report->steps;
  }
  step_seconds[static_cast<int>(stage)] = seconds / static_cast<double>(steps);
  state.counters["s_per_step"] = seconds / static_cast<double>(steps);
  state.counters["windows_per_s"] =
      static_cast<double>(steps * kBatch) / seconds;
}
BENCHMARK(BM_TrainStep)
    ->DenseRange(1, 4)
    ->Iterations(2)
    ->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const double data_ms =
      kBatch * 12 * (decode_ms_per_frame + crop_ms_per_frame);
  std::printf(
      "seconds_per_step stage1=%.3f stage2=%.3f stage3=%.3f stage4=%.3f\n",
      step_seconds[1], step_seconds[2], step_seconds[3], step_seconds[4]);
  if (step_seconds[1] > 0) {
    std::printf("data_fraction=%.3f\n", data_ms / 1e3 / step_seconds[1]);
  }
  return 0;
}
