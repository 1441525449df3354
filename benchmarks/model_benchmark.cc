// CPU latency of the model's components at 256 x 256, batch 1 (inference:
// eval mode, no autograd), each also as a fraction of one frame of the
// per-frame Simple Baseline with ResNet-18 (encoder + head) measured in the
// same run. The last line is
//
//   gate_fraction=<x> warp_fraction=<y>
//
// where the gate's time is per frame: it runs once per window of T = 12
// frames, so its window time / 12; the warp is what the motion warp adds to
// a ConvLSTM step (resampling the motion field to 8 x 8 and warping h and
// c). Goals: gate <= 0.02, warp <= 0.01 of a frame.
//
// Usage: bazel run //benchmarks:model_benchmark  (.bazelrc builds -O2)
//        (MAPN_NUM_THREADS fixes the thread count; the default is all CPUs)
#include <ATen/ATen.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/collecting_reporter.h"
#include "mapn/model/compositions.h"
#include "mapn/ops/warp.h"

namespace {

using mapn::GopBatch;
using mapn::model::DeconvHead;
using mapn::model::GateMode;
using mapn::model::LstmState;
using mapn::model::MotionToFeatureScale;
using mapn::model::MotionWarpConvLstm;
using mapn::model::PerFrameSimpleBaseline;
using mapn::model::ResidualGate;
using mapn::model::SimpleBaselineEncoder;

constexpr int64_t kSize = 256;
constexpr int64_t kWindow = 12;

// ResNet-18 at 256 x 256 with 13 joints: the defaults of every component.
constexpr int64_t kChannels = 512;

GopBatch Window() {
  at::manual_seed(0);
  GopBatch batch;
  batch.rgb = at::rand({1, kWindow, 3, kSize, kSize});
  batch.motion = at::randn({1, kWindow, 2, kSize, kSize}) * 4;
  batch.residual = at::randn({1, kWindow, 3, kSize, kSize}) * 0.05;
  batch.valid = at::ones({1, kWindow}, at::kBool);
  return batch;
}

void BM_SimpleBaselineFrame(benchmark::State& state) {
  PerFrameSimpleBaseline model(PerFrameSimpleBaseline::Options{});
  model->eval();
  const at::NoGradGuard no_grad;
  const at::Tensor rgb = at::rand({1, 3, kSize, kSize});
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        model->head()->Decode(model->extractor()->Extract(rgb)));
  }
}

void BM_Backbone(benchmark::State& state) {
  SimpleBaselineEncoder encoder(mapn::model::SimpleBaselineEncoderOptions{});
  encoder->eval();
  const at::NoGradGuard no_grad;
  const at::Tensor rgb = at::rand({1, 3, kSize, kSize});
  for (auto _ : state) benchmark::DoNotOptimize(encoder->Extract(rgb));
}

void BM_Head(benchmark::State& state) {
  DeconvHead head(mapn::model::DeconvHeadOptions{.in_channels = kChannels});
  head->eval();
  const at::NoGradGuard no_grad;
  const at::Tensor h = at::rand({1, kChannels, kSize / 32, kSize / 32});
  for (auto _ : state) benchmark::DoNotOptimize(head->Decode(h));
}

void BM_ConvLstmStep(benchmark::State& state) {
  MotionWarpConvLstm lstm(
      mapn::model::ConvLstmOptions{.in_channels = kChannels});
  const at::NoGradGuard no_grad;
  const LstmState s = lstm->Init(at::rand({1, kChannels, 8, 8}));
  const at::Tensor x = at::rand({1, kChannels, 8, 8});
  const at::Tensor motion = at::randn({1, 2, kSize, kSize}) * 4;
  for (auto _ : state) benchmark::DoNotOptimize(lstm->Step(s, motion, x).h);
}

void BM_Warp(benchmark::State& state) {
  const at::NoGradGuard no_grad;
  const at::Tensor h = at::rand({1, kChannels, 8, 8});
  const at::Tensor c = at::rand({1, kChannels, 8, 8});
  const at::Tensor motion = at::randn({1, 2, kSize, kSize}) * 4;
  for (auto _ : state) {
    const at::Tensor flow = MotionToFeatureScale(motion, 32);
    benchmark::DoNotOptimize(mapn::WarpByMotion(h, flow));
    benchmark::DoNotOptimize(mapn::WarpByMotion(c, flow));
  }
}

void BM_GateWindow(benchmark::State& state) {
  ResidualGate gate(mapn::model::LearnedGateOptions{});
  gate->eval();
  const at::NoGradGuard no_grad;
  const GopBatch batch = Window();
  for (auto _ : state) {
    benchmark::DoNotOptimize(gate->Decide(batch, GateMode::kInference).g_mix);
  }
}

BENCHMARK(BM_SimpleBaselineFrame)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Backbone)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Head)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ConvLstmStep)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Warp)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GateWindow)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  mapn::benchmarks::CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const double frame = reporter.Time("BM_SimpleBaselineFrame");
  if (frame <= 0) {
    std::printf("BM_SimpleBaselineFrame did not run: no fractions\n");
    return 1;
  }
  const double gate_per_frame =
      reporter.Time("BM_GateWindow") / static_cast<double>(kWindow);
  const struct {
    const char* name;
    double us;
  } rows[] = {{"backbone", reporter.Time("BM_Backbone")},
              {"head", reporter.Time("BM_Head")},
              {"convlstm_step", reporter.Time("BM_ConvLstmStep")},
              {"warp", reporter.Time("BM_Warp")},
              {"gate_per_frame", gate_per_frame}};
  std::printf("simple_baseline_r18_frame_us=%.1f threads=%d\n", frame,
              at::get_num_threads());
  for (const auto& row : rows) {
    std::printf("%s_us=%.1f %s_fraction=%.4f\n", row.name, row.us, row.name,
                row.us / frame);
  }
  std::printf("gate_fraction=%.4f warp_fraction=%.4f\n", gate_per_frame / frame,
              reporter.Time("BM_Warp") / frame);
  return 0;
}
