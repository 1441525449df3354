// Speed of SynthPose at its default settings (320 x 240, 40-80 frames per
// clip): rendering alone, and a whole clip written in Penn Action's layout
// (JPEG frames, MAT labels, MPEG-4 GOP-12 video). The baseline is real time
// at the clips' 30 frames per second; the last line prints how many times
// faster than real time each runs.
//
//   bazel run -c opt //benchmarks:synthpose_benchmark
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "benchmark/benchmark.h"
#include "mapn/data/synthpose.h"

namespace {

double render_fps = 0;
double generate_fps = 0;

void BM_SynthPose_Render(benchmark::State& state) {
  mapn::SynthPoseOptions options;
  int64_t frames = 0;
  int clip = 1;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    absl::StatusOr<mapn::SynthClip> c = mapn::RenderSynthClip(options, clip++);
    if (!c.ok()) {
      state.SkipWithError(std::string(c.status().message()).c_str());
      return;
    }
    frames += static_cast<int64_t>(c->frames.size());
    benchmark::DoNotOptimize(c->frames.data());
  }
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  render_fps = frames / s;
  state.SetItemsProcessed(frames);
}
BENCHMARK(BM_SynthPose_Render)->Unit(benchmark::kMillisecond);

void BM_SynthPose_GeneratePennLayout(benchmark::State& state) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string root =
      std::string(tmp ? tmp : "/tmp") + "/mapn_synthpose_benchmark";
  mapn::SynthPoseOptions options;
  options.num_clips = 1;
  absl::StatusOr<mapn::SynthClip> clip = mapn::RenderSynthClip(options, 1);
  if (!clip.ok()) {
    state.SkipWithError(std::string(clip.status().message()).c_str());
    return;
  }
  const int64_t per_clip = static_cast<int64_t>(clip->frames.size());
  int64_t frames = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    absl::Status s = mapn::GenerateSynthPose(options, root);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
    frames += per_clip;
  }
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  generate_fps = frames / s;
  state.SetItemsProcessed(frames);
  std::filesystem::remove_all(root);
}
BENCHMARK(BM_SynthPose_GeneratePennLayout)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::printf("times real time (30 fps): render %.1fx, render + write %.1fx\n",
              render_fps / 30.0, generate_fps / 30.0);
  return 0;
}
