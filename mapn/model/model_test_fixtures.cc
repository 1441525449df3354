#include "mapn/model/model_test_fixtures.h"

#include <ATen/ATen.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapn/model/pipeline_support.h"

namespace mapn::model {

SimpleBaselineEncoderOptions TinyEncoderOptions() {
  return {.depth = 18, .width = 4};
}

ConvLstmOptions TinyLstmOptions() {
  return {.in_channels = kTinyChannels, .kernel = 3};
}

LearnedGateOptions TinyGateOptions() {
  return {.downsample = 8,
          .conv1_channels = 4,
          .conv2_channels = 8,
          .pe_dims = 4,
          .temporal_channels = 8,
          .temporal_kernel = 3};
}

DeconvHeadOptions TinyHeadOptions() {
  return {
      .in_channels = kTinyChannels, .width = 8, .out_channels = kTinyJoints};
}

GopBatch RandomBatch(int64_t b, int64_t t, int64_t s, uint64_t seed) {
  at::manual_seed(seed);
  GopBatch batch;
  batch.rgb = at::rand({b, t, 3, s, s});
  batch.motion = at::randn({b, t, 2, s, s}) * 6.0;
  batch.motion.select(1, 0).zero_();
  batch.residual = at::randn({b, t, 3, s, s}) * 0.05;
  batch.residual.select(1, 0).zero_();
  batch.valid = at::ones({b, t}, at::kBool);
  return batch;
}

at::Tensor Floats(const std::vector<float>& values) {
  return at::tensor(values);
}

double MaxDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

std::map<std::string, at::Tensor> TensorMap(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value();
  for (const auto& p : m.named_buffers()) out[p.key()] = p.value();
  return out;
}

void CopyWeights(const torch::nn::Module& from, torch::nn::Module& to) {
  const auto source = TensorMap(from);
  const at::NoGradGuard no_grad;
  for (auto& [name, tensor] : TensorMap(to)) {
    if (source.count(name) == 0) {
      ADD_FAILURE() << "CopyWeights: the source has no " << name;
      continue;
    }
    tensor.copy_(source.at(name));
  }
}

void Randomise(torch::nn::Module& module, uint64_t seed) {
  at::manual_seed(seed);
  const at::NoGradGuard no_grad;
  for (auto& [name, t] : TensorMap(module)) {
    if (t.is_floating_point()) {
      t.copy_(at::rand_like(t) * 0.5 + 0.5);
    } else {
      t.fill_(static_cast<int64_t>(seed));
    }
  }
}

bool SameTensors(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto ta = TensorMap(a);
  const auto tb = TensorMap(b);
  if (ta.size() != tb.size()) return false;
  for (const auto& [name, t] : ta) {
    if (tb.count(name) == 0 || !at::equal(t, tb.at(name))) return false;
  }
  return true;
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

absl::Status CountingExtractorOptions::Validate() const {
  if (channels < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("channels must be at least 1, got ", channels));
  }
  return absl::OkStatus();
}

CountingExtractorImpl::CountingExtractorImpl(const Options& options)
    : options_(options) {
  proj_ = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                      3, options.channels, 1)));
}

at::Tensor CountingExtractorImpl::Extract(const at::Tensor& rgb) {
  rows_seen += rgb.size(0);
  return proj_->forward(at::avg_pool2d(rgb, {32, 32}, {32, 32}));
}

MacCount CountingExtractorImpl::Macs(int64_t size) const {
  return ConvMacs(3, options_.channels, 1, 1, size / 32, size / 32);
}

GateOutput ScriptedPolicyImpl::Decide(const GopBatch& batch,
                                      GateMode /*mode*/) {
  return {ApplyKeyframeAndPadding(decisions, batch.valid), at::Tensor()};
}

CountingPipeline::Options CountingOptions() {
  CountingPipeline::Options options;
  options.input_size = kTinyInputSize;
  options.extractor.channels = 16;
  options.head = TinyHeadOptions();
  options.head.in_channels = 0;
  return options;
}

}  // namespace mapn::model
