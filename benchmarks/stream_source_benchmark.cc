// Frames per second of the compressed-domain reader on one clip, in one
// run: (a) plain decoding to RGB windows (FfmpegStreamSource with
// export_motion off), (b) decoding plus the block motion and intra mask,
// (c) decoding plus motion plus the YUV residual (the reader's default),
// each with the reader's default threading (/0) and on one thread (/1). The
// last line printed is
//   extract_vs_decode_time_ratio=<time of (c) / time of (a)>
// whose goal is at most 1.3 (docs/video.md records the measured figures).
//
// The clip is, by default, generated: MPEG-4 Part 2 at quantiser 1, GOP 12,
// no B-frames (the paper's preparation) of a textured pattern in motion,
// 480x360 like Penn Action, 96 frames. --clip=PATH reads any file the reader
// accepts instead. Google Benchmark's own flags work as usual; with
// --benchmark_repetitions the ratios use the medians.
//
//   bazel run -c opt //benchmarks:stream_source_benchmark
//   bazel run -c opt //benchmarks:stream_source_benchmark -- --clip=$PWD/x.mp4
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/test_clips.h"

namespace mapn {
namespace {

std::string& ClipPath() {
  static std::string path;
  return path;
}

enum class Work { kDecode, kMotion, kMotionResidual };

// state.range(0): 0 runs with the reader's defaults (FFmpeg's decoder
// threads and the band pool), 1 on one thread only.
void ReadClip(benchmark::State& state, Work work) {
  FfmpegStreamSourceOptions options;
  options.export_motion = work != Work::kDecode;
  options.compute_residual = work == Work::kMotionResidual;
  if (state.range(0) == 1) {
    options.decoder_threads = 1;
    options.parallel = false;
  }
  int64_t frames = 0;
  for (auto _ : state) {
    absl::StatusOr<FfmpegStreamSource> source =
        FfmpegStreamSource::Open(ClipPath(), options);
    if (!source.ok()) {
      state.SkipWithError(std::string(source.status().message()).c_str());
      return;
    }
    while (true) {
      absl::StatusOr<std::optional<GopWindow>> window = source->Next();
      if (!window.ok()) {
        state.SkipWithError(std::string(window.status().message()).c_str());
        return;
      }
      if (!*window) break;
      frames += (*window)->num_valid;
      benchmark::DoNotOptimize((*window)->rgb.data_ptr());
    }
  }
  state.counters["fps"] = benchmark::Counter(static_cast<double>(frames),
                                             benchmark::Counter::kIsRate);
}

void BM_DecodeToRgb(benchmark::State& state) { ReadClip(state, Work::kDecode); }
void BM_DecodeMotion(benchmark::State& state) {
  ReadClip(state, Work::kMotion);
}
void BM_DecodeMotionResidual(benchmark::State& state) {
  ReadClip(state, Work::kMotionResidual);
}
BENCHMARK(BM_DecodeToRgb)
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeMotion)
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeMotionResidual)
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The console output, plus each benchmark's real time per iteration.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const std::string name =
          run.run_name.function_name + "/" + run.run_name.args;
      // With --benchmark_repetitions the median stands for the benchmark.
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median") {
        seconds_[name] = run.GetAdjustedRealTime();
        medians_[name] = true;
      } else if (run.run_type == Run::RT_Iteration && !medians_[name]) {
        seconds_[name] = run.GetAdjustedRealTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double Time(const std::string& name) const {
    auto it = seconds_.find(name);
    return it == seconds_.end() ? 0.0 : it->second;
  }

 private:
  std::map<std::string, double> seconds_;
  std::map<std::string, bool> medians_;
};

}  // namespace
}  // namespace mapn

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--clip=", 7) == 0) {
      mapn::ClipPath() = argv[i] + 7;
    } else {
      std::fprintf(stderr,
                   "unknown argument %s (only --clip=PATH and "
                   "Google Benchmark's flags)\n",
                   argv[i]);
      return 2;
    }
  }
  if (mapn::ClipPath().empty()) {
    mapn::testing::ClipSpec spec;
    spec.width = 480;
    spec.height = 360;
    spec.frames = 96;
    spec.dx = 1.5f;
    spec.dy = -0.75f;
    mapn::ClipPath() = mapn::testing::TestPath("stream_source_benchmark.mp4");
    const absl::Status s = mapn::testing::WriteClip(
        mapn::ClipPath(), mapn::testing::MakeFrames(spec),
        mapn::testing::Mpeg4Options());
    if (!s.ok()) {
      std::fprintf(stderr, "cannot write the benchmark clip: %s\n",
                   std::string(s.message()).c_str());
      return 1;
    }
  }
  std::printf("clip: %s\n", mapn::ClipPath().c_str());
  mapn::RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  // Single-threaded first, the defaults last: the last line is the ratio
  // with the reader's default threading.
  const double decode1 = reporter.Time("BM_DecodeToRgb/1");
  const double full1 = reporter.Time("BM_DecodeMotionResidual/1");
  if (decode1 > 0 && full1 > 0) {
    std::printf("one_thread_extract_vs_decode_time_ratio=%.3f\n",
                full1 / decode1);
  }
  const double decode = reporter.Time("BM_DecodeToRgb/0");
  const double full = reporter.Time("BM_DecodeMotionResidual/0");
  if (decode > 0 && full > 0) {
    std::printf("extract_vs_decode_time_ratio=%.3f\n", full / decode);
  }
  return 0;
}
