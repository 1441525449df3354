// CPU speed of MoveNet's native encoder and head (mapn/movenet), Lightning
// at 192 x 192 and Thunder at 256 x 256, batch 1, inference, beside a dense
// 3 x 3 convolution (64 -> 64 channels at 64 x 64, channels_last) measured in
// the same run: each reports multiply-adds per second (true MACs of every
// convolution, flops.h), and the summary prints each one's rate as a
// fraction of the dense convolution's (each time the minimum over 15
// repetitions). Goal: the encoders reach at least
// 0.25 of it (MobileNetV2's depthwise layers do little work per byte). The
// TF.js graph interpreter on the same model is timed too when the model
// cache exists (tools/setup.sh), for the native modules' speed-up. So are
// the encoder on a batch of 4 frames and per-frame MoveNet as mapn runs it
// (the "movenet" pipeline on a 12-frame window, extracted in one batch):
// one frame's small layers do not keep two threads busy, a batch does.
//
// The last lines are
//
//   <name>_ms=<t> <name>_gmacs_per_s=<r> <name>_ratio=<rate / dense rate>
//
// The encoder and head carry the pretrained weights when the model cache
// exists (tools/setup.sh). Without it they get random weights and
// denormal floats are flushed to zero: random weights drive MobileNetV2's
// activations into the denormal range, which made the random-weight
// encoder ~5x slower than the real one (Lightning 37 ms against 7.9 ms);
// with flushing it runs at the real one's speed (7.5 ms).
//
// Usage: bazel run //benchmarks:movenet_benchmark  (.bazelrc builds -O2)
//        (MAPN_NUM_THREADS fixes the thread count; the default is all CPUs)
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/collecting_reporter.h"
#include "mapn/model/compositions.h"
#include "mapn/model/flops.h"
#include "mapn/movenet/movenet.h"
#include "mapn/tfjs/graph_model.h"
#include "mapn/tfjs/model_files.h"

namespace {

using mapn::movenet::kLightning;
using mapn::movenet::kThunder;
using mapn::movenet::LoadMoveNet;
using mapn::movenet::MoveNet;
using mapn::movenet::MoveNetEncoder;
using mapn::movenet::MoveNetHead;
using mapn::movenet::MoveNetOptions;

// Multiply-adds per iteration of each benchmark, for the summary.
std::map<std::string, double>& Macs() {
  static auto* macs = new std::map<std::string, double>;
  return *macs;
}

// The name BENCHMARK_CAPTURE gives a benchmark of `variant`.
std::string Name(const char* function, const std::string& variant) {
  return std::string(function) +
         (variant == kThunder ? "/Thunder" : "/Lightning");
}

void SetMacs(benchmark::State& state, const std::string& name, double macs) {
  Macs()[name] = macs;
  state.counters["GMAC/s"] = benchmark::Counter(
      macs / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DenseConv3x3(benchmark::State& state) {
  const at::NoGradGuard no_grad;
  const at::Tensor x =
      at::rand({1, 64, 64, 64}).contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor w =
      at::rand({64, 64, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor b = at::rand({64});
  for (auto _ : state) {
    benchmark::DoNotOptimize(at::conv2d(x, w, b, {1, 1}, {1, 1}));
  }
  SetMacs(state, "BM_DenseConv3x3",
          mapn::model::ConvMacs(64, 64, 3, 3, 64, 64).true_macs);
}

// The pretrained modules, or random ones with denormals flushed (above).
MoveNet Modules(const MoveNetOptions& options) {
  absl::StatusOr<MoveNet> net = LoadMoveNet(options);
  if (net.ok()) return *net;
  at::globalContext().setFlushDenormal(true);
  MoveNet random{MoveNetEncoder(options), MoveNetHead(options)};
  random.encoder->eval();
  random.head->eval();
  return random;
}

void BM_MoveNetEncoder(benchmark::State& state, const std::string& variant) {
  const MoveNetOptions options{.variant = variant};
  MoveNetEncoder encoder = Modules(options).encoder;
  const at::NoGradGuard no_grad;
  const int64_t s = options.input_size();
  const at::Tensor rgb = at::rand({1, 3, s, s});
  for (auto _ : state) benchmark::DoNotOptimize(encoder->Extract(rgb));
  SetMacs(state, Name("BM_MoveNetEncoder", variant),
          encoder->Macs(s).true_macs);
}

// The encoder on the four keyframes of a window at once (a batch of 4):
// how much of the machine batching keyframes (across windows or people)
// would use; its ms are per call, its rate per multiply-add.
void BM_MoveNetEncoderBatch4(benchmark::State& state,
                             const std::string& variant) {
  const MoveNetOptions options{.variant = variant};
  MoveNetEncoder encoder = Modules(options).encoder;
  const at::NoGradGuard no_grad;
  const int64_t s = options.input_size();
  const at::Tensor rgb = at::rand({4, 3, s, s});
  for (auto _ : state) benchmark::DoNotOptimize(encoder->Extract(rgb));
  SetMacs(state, Name("BM_MoveNetEncoderBatch4", variant),
          4 * encoder->Macs(s).true_macs);
}

// Per-frame MoveNet as mapn runs it (`mapn estimate --model
// movenet_lightning`): the "movenet" pipeline's Run() on a window of 12
// frames, which extracts them in one batch; its ms are per window, its rate
// over the 12 frames' encoder and head multiply-adds.
void BM_PerFrameMoveNetWindow(benchmark::State& state,
                              const std::string& variant) {
  const MoveNetOptions options{.variant = variant};
  MoveNet net = Modules(options);
  mapn::model::PerFrameMoveNet pipeline(options.input_size(), net.encoder,
                                        mapn::model::PassThrough(),
                                        mapn::model::AlwaysExtract(), net.head);
  pipeline->eval();
  const int64_t s = options.input_size(), t = 12;
  mapn::GopBatch batch;
  batch.rgb = at::rand({1, t, 3, s, s});
  batch.motion = at::zeros({1, t, 2, s, s});
  batch.residual = at::zeros({1, t, 3, s, s});
  batch.valid = at::ones({1, t}, at::kBool);
  for (auto _ : state) {
    absl::StatusOr<mapn::model::RunResult> result = pipeline->Run(batch);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(result->heatmaps);
  }
  SetMacs(state, Name("BM_PerFrameMoveNetWindow", variant),
          t * (net.encoder->Macs(s).true_macs +
               net.head->Macs(s / 4, s / 4).true_macs));
}

void BM_MoveNetHead(benchmark::State& state, const std::string& variant) {
  const MoveNetOptions options{.variant = variant};
  MoveNetHead head = Modules(options).head;
  const at::NoGradGuard no_grad;
  const int64_t side = options.input_size() / 4;
  const at::Tensor features =
      at::rand({1, 24, side, side}).contiguous(at::MemoryFormat::ChannelsLast);
  for (auto _ : state) {
    benchmark::DoNotOptimize(head->DecodeKeypoints(head->Decode(features)));
  }
  SetMacs(state, Name("BM_MoveNetHead", variant),
          head->Macs(side, side).true_macs);
}

// The interpreter on the same model (the whole graph: preprocessing,
// encoder, head and decoding), when the model cache exists.
void BM_GraphModel(benchmark::State& state, const std::string& variant) {
  const MoveNetOptions options{.variant = variant};
  absl::StatusOr<std::string> path =
      mapn::tfjs::FindModel(options.model_name());
  if (!path.ok()) {
    state.SkipWithError(std::string(path.status().message()).c_str());
    return;
  }
  absl::StatusOr<mapn::tfjs::GraphModel> graph =
      mapn::tfjs::GraphModel::Load(*path);
  if (!graph.ok()) {
    state.SkipWithError(std::string(graph.status().message()).c_str());
    return;
  }
  const int64_t s = options.input_size();
  const at::Tensor image = at::randint(0, 256, {1, s, s, 3}, at::kInt);
  for (auto _ : state) {
    benchmark::DoNotOptimize(graph->Run({{"input", image}}));
  }
  MoveNetEncoder encoder(options);
  MoveNetHead head(options);
  SetMacs(state, Name("BM_GraphModel", variant),
          encoder->Macs(s).true_macs + head->Macs(s / 4, s / 4).true_macs);
}

// Many short repetitions, summarised by their minimum: the development
// machine is shared, and the fastest repetition is the one least disturbed
// by other processes (means moved by 10x between runs under load).
double Min(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}
void Setup(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond)
      ->MinTime(0.05)
      ->Repetitions(15)
      ->ComputeStatistics("min", Min)
      ->ReportAggregatesOnly(true);
}

BENCHMARK(BM_DenseConv3x3)->Apply(Setup);
BENCHMARK_CAPTURE(BM_MoveNetEncoder, Lightning, kLightning)->Apply(Setup);
BENCHMARK_CAPTURE(BM_MoveNetEncoder, Thunder, kThunder)->Apply(Setup);
BENCHMARK_CAPTURE(BM_MoveNetEncoderBatch4, Lightning, kLightning)->Apply(Setup);
BENCHMARK_CAPTURE(BM_MoveNetEncoderBatch4, Thunder, kThunder)->Apply(Setup);
BENCHMARK_CAPTURE(BM_PerFrameMoveNetWindow, Lightning, kLightning)
    ->Apply(Setup);
BENCHMARK_CAPTURE(BM_PerFrameMoveNetWindow, Thunder, kThunder)->Apply(Setup);
BENCHMARK_CAPTURE(BM_MoveNetHead, Lightning, kLightning)->Apply(Setup);
BENCHMARK_CAPTURE(BM_MoveNetHead, Thunder, kThunder)->Apply(Setup);
BENCHMARK_CAPTURE(BM_GraphModel, Lightning, kLightning)->Apply(Setup);
BENCHMARK_CAPTURE(BM_GraphModel, Thunder, kThunder)->Apply(Setup);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  mapn::benchmarks::CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const double dense_ms = reporter.Time("BM_DenseConv3x3");
  const double dense_rate =
      dense_ms > 0 ? Macs()["BM_DenseConv3x3"] / (dense_ms * 1e-3) : 0;
  if (dense_rate <= 0) {
    std::printf("BM_DenseConv3x3 did not run: no ratios\n");
    return 1;
  }
  std::printf("threads=%d weights=%s\n", at::get_num_threads(),
              mapn::tfjs::FindModel("movenet-thunder").ok()
                  ? "pretrained"
                  : "random (no model cache)");
  for (const std::string& name : reporter.names()) {
    const double ms = reporter.Time(name);
    const double rate = Macs()[name] / (ms * 1e-3);
    std::printf("%s_ms=%.3f %s_gmacs_per_s=%.2f %s_ratio=%.3f\n", name.c_str(),
                ms, name.c_str(), rate / 1e9, name.c_str(), rate / dense_rate);
  }
  return 0;
}
