// File: model_test_fixtures.h
//
// Test-only fixtures shared by the model tests (model_test and
// checkpoint_test): tiny options of every component and composition (CPU
// models that run in milliseconds), random GOP batches, tensor comparisons
// and copies, temporary paths, and two test components written outside the
// library: CountingExtractor, which counts the frames it is given (so a test
// can see that a skipped frame was really skipped), and ScriptedPolicy,
// which replays decisions set by the test. They also show that the concepts
// admit components written elsewhere.
//
// Example:
//
//   Mapn model(TinyOptions<Mapn>());  // 64 x 64 input, 32 channels, 3 joints
//   const GopBatch batch = RandomBatch(2, 5, kTinyInputSize, /*seed=*/9);
//   CopyWeights(*model, *other);
//   EXPECT_LT(MaxDiff(a, b), 1e-6);
#ifndef MAPN_MODEL_MODEL_TEST_FIXTURES_H_
#define MAPN_MODEL_MODEL_TEST_FIXTURES_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <concepts>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "mapn/model/compositions.h"
#include "mapn/model/concepts.h"
#include "mapn/model/deconv_head.h"
#include "mapn/model/flops.h"
#include "mapn/model/options.h"
#include "mapn/model/pipeline.h"
#include "mapn/model/policies.h"
#include "mapn/model/propagators.h"
#include "mapn/model/resnet.h"
#include "mapn/video/gop.h"

namespace mapn::model {

// The tiny models' sizes: 64 x 64 frames, a width-4 ResNet-18 (32 feature
// channels on a 2 x 2 map), 16 x 16 heatmaps of 3 joints.
inline constexpr int64_t kTinyInputSize = 64;
inline constexpr int64_t kTinyChannels = 32;
inline constexpr int64_t kTinyJoints = 3;
inline constexpr int64_t kTinyHeatmapSize = 16;

SimpleBaselineEncoderOptions TinyEncoderOptions();
// For components built alone, in_channels is explicit (kTinyChannels).
ConvLstmOptions TinyLstmOptions();
LearnedGateOptions TinyGateOptions();
DeconvHeadOptions TinyHeadOptions();

// The tiny options of any pipeline: the tiny options of each component
// whose options type is one of the above (in_channels left at 0, wired by
// the pipeline), every 3rd frame for FixedIntervalKeyframes, the defaults
// elsewhere.
template <PipelineModel Model>
typename Model::Options TinyOptions() {
  typename Model::Options options;
  options.input_size = kTinyInputSize;
  if constexpr (std::same_as<decltype(options.extractor),
                             SimpleBaselineEncoderOptions>) {
    options.extractor = TinyEncoderOptions();
  }
  if constexpr (std::same_as<decltype(options.policy), LearnedGateOptions>) {
    options.policy = TinyGateOptions();
  }
  if constexpr (std::same_as<decltype(options.policy),
                             FixedIntervalKeyframesOptions>) {
    options.policy.interval = 3;
  }
  if constexpr (std::same_as<decltype(options.head), DeconvHeadOptions>) {
    options.head = TinyHeadOptions();
    options.head.in_channels = 0;
  }
  return options;
}

// The same as option values (options_json.h), for CompositionTable::Create.
template <PipelineModel Model>
PipelineOptionValues TinyOptionValues() {
  return ToOptionValues<Model>(TinyOptions<Model>());
}

// A batch of b windows of t frames of s x s: random frames, motion of a few
// pixels, small residuals, frame 0 without motion or residual, all valid.
// Seeds LibTorch's global generator with `seed`.
GopBatch RandomBatch(int64_t b, int64_t t, int64_t s, uint64_t seed);

at::Tensor Floats(const std::vector<float>& values);

// max |a - b|.
double MaxDiff(const at::Tensor& a, const at::Tensor& b);

// Parameters and buffers of `m` by dotted name.
std::map<std::string, at::Tensor> TensorMap(const torch::nn::Module& m);

// Copies every tensor of `to` from the tensor of the same name in `from`;
// a name `from` lacks is a test failure.
void CopyWeights(const torch::nn::Module& from, torch::nn::Module& to);

// Random values in every tensor, batch-norm statistics included, so that a
// tensor that was not loaded or not shared shows.
void Randomise(torch::nn::Module& module, uint64_t seed);

// Whether `a` and `b` have the same tensor names with equal values.
bool SameTensors(const torch::nn::Module& a, const torch::nn::Module& b);

// A path under the test's temporary folder.
std::string TempPath(const std::string& name);

// status.message() as a std::string (absl::string_view is not
// std::string_view here).
std::string Message(const absl::Status& status);

// ---------------------------------------------------------------------------
// Test components.

struct CountingExtractorOptions {
  int64_t channels = 16;  // C of its features

  static constexpr auto Fields() {
    return std::tuple{
        OptionField{"channels", &CountingExtractorOptions::channels}};
  }
  absl::Status Validate() const;
};

// A 1 x 1 projection of 32 x 32 average-pooled frames (stride 32) that
// counts the rows it extracts. It has no static OutputChannels(), so a
// pipeline wires its in_channels by building one and dropping it.
class CountingExtractorImpl : public torch::nn::Module {
 public:
  using Options = CountingExtractorOptions;

  explicit CountingExtractorImpl(const Options& options = {});
  at::Tensor Extract(const at::Tensor& rgb);
  int64_t channels() const { return options_.channels; }
  int64_t stride() const { return 32; }
  MacCount Macs(int64_t size) const;
  const Options& options() const { return options_; }

  int64_t rows_seen = 0;

 private:
  Options options_;
  torch::nn::Conv2d proj_{nullptr};
};
TORCH_MODULE(CountingExtractor);

// Replays `decisions` (float [B, T]; frame 0 and padding are imposed as
// every policy's are).
class ScriptedPolicyImpl : public torch::nn::Module {
 public:
  using Options = NoOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;

  explicit ScriptedPolicyImpl(const Options& /*options*/ = {}) {}
  GateOutput Decide(const GopBatch& batch, GateMode mode);
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  const Options& options() const { return options_; }

  at::Tensor decisions;

 private:
  Options options_;
};
TORCH_MODULE(ScriptedPolicy);

static_assert(FeatureExtractor<CountingExtractor>);
static_assert(CausalSkipPolicy<ScriptedPolicy>);

using CountingPipeline =
    Pipeline<CountingExtractor, MotionWarpConvLstm, ScriptedPolicy, DeconvHead>;

// A CountingPipeline of 64 x 64 frames, 16 feature channels, the tiny head
// (in_channels wired).
CountingPipeline::Options CountingOptions();

}  // namespace mapn::model

#endif  // MAPN_MODEL_MODEL_TEST_FIXTURES_H_
