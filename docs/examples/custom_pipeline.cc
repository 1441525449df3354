// A custom pipeline: the bundled model's encoder, motion-vector-warped
// ConvLSTM and head, composed with a skip policy of our own that runs the
// encoder when the codec's motion vectors are large. Usage:
//   custom_pipeline VIDEO
#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cstdio>
#include <optional>
#include <string>
#include <tuple>

#include "mapn/core/status_macros.h"
#include "mapn/estimate/default_model.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/resample.h"

namespace example {

using mapn::model::GateMode;
using mapn::model::GateOutput;
using mapn::model::MacCount;

// Extracts features for a frame when the mean length of its motion vectors
// exceeds a threshold; the keyframe always. Training-free, causal.
struct MotionMagnitudeGateOptions {
  double threshold = 1.0;  // pixels of mean vector length
  static constexpr auto Fields() {
    return std::tuple{mapn::model::OptionField{
        "threshold", &MotionMagnitudeGateOptions::threshold}};
  }
  absl::Status Validate() const {
    return threshold >= 0 ? absl::OkStatus()
                          : absl::InvalidArgumentError("threshold < 0");
  }
};

class MotionMagnitudeGateImpl : public torch::nn::Module {
 public:
  using Options = MotionMagnitudeGateOptions;
  static constexpr bool kCausal = true;
  static constexpr bool kLearned = false;
  explicit MotionMagnitudeGateImpl(const Options& options = {})
      : torch::nn::Module(TypeName()), options_(options) {}
  static std::string TypeName() { return "MotionMagnitudeGate"; }

  GateOutput Decide(const mapn::GopBatch& batch, GateMode /*mode*/) {
    // batch.motion: [B, T, 2, S, S] pixels -> mean vector length [B, T].
    const at::Tensor length = batch.motion.norm(2, /*dim=*/2).mean({2, 3});
    const at::Tensor extract = (length > options_.threshold).to(at::kFloat);
    return {mapn::model::ApplyKeyframeAndPadding(extract, batch.valid),
            at::Tensor()};
  }
  MacCount Macs(int64_t /*size*/, int64_t /*length*/) const { return {}; }
  const Options& options() const { return options_; }

 private:
  Options options_;
};
TORCH_MODULE(MotionMagnitudeGate);

// The compiler checks the new policy against the concept...
static_assert(mapn::model::SkipPolicy<MotionMagnitudeGate>);

// ...and the composition is a named type like the paper's own.
using MotionGatedMapn =
    mapn::model::Composition<"motion_gated_mapn",
                             mapn::model::SimpleBaselineEncoder,
                             mapn::model::MotionWarpConvLstm,
                             MotionMagnitudeGate, mapn::model::DeconvHead>;

absl::Status Run(const std::string& video) {
  // The bundled model, whose encoder, ConvLSTM and head we keep.
  MAPN_ASSIGN_OR_RETURN(const std::string checkpoint,
                        mapn::DefaultCheckpointPath(/*causal=*/false));
  MAPN_ASSIGN_OR_RETURN(mapn::model::Mapn bundled,
                        mapn::model::LoadModel<mapn::model::Mapn>(checkpoint));
  MotionGatedMapn model(
      bundled->input_size(), bundled->extractor(), bundled->propagator(),
      MotionMagnitudeGate(MotionMagnitudeGateOptions{}), bundled->head());
  model->eval();

  MAPN_ASSIGN_OR_RETURN(mapn::FfmpegStreamSource source,
                        mapn::FfmpegStreamSource::Open(video));
  const mapn::Box whole{0, 0, static_cast<float>(source.info().width),
                        static_cast<float>(source.info().height)};
  const int size = static_cast<int>(model->input_size());
  int64_t frames = 0, keyframes = 0;
  while (true) {
    MAPN_ASSIGN_OR_RETURN(std::optional<mapn::GopWindow> window, source.Next());
    if (!window) break;
    MAPN_ASSIGN_OR_RETURN(mapn::ResampledWindow crop,
                          mapn::CropWindow(*window, whole, size));
    MAPN_ASSIGN_OR_RETURN(mapn::GopBatch batch, mapn::ToGopBatch({crop}));
    MAPN_ASSIGN_OR_RETURN(mapn::model::RunResult result, model->Run(batch));
    // result.heatmaps: [1, T, J, S/4, S/4]; decisions: 1 where the encoder ran.
    std::printf("window %lld:", static_cast<long long>(window->window_index));
    for (int64_t t = 0; t < window->num_valid; ++t) {
      const bool extracted = result.decisions[0][t].item<float>() > 0.5f;
      std::printf(" %c", extracted ? 'E' : '.');
      keyframes += extracted;
      ++frames;
    }
    std::printf("\n");
  }
  std::printf("%lld frames, %lld with features extracted\n",
              static_cast<long long>(frames),
              static_cast<long long>(keyframes));
  return absl::OkStatus();
}

}  // namespace example

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: custom_pipeline VIDEO\n");
    return 2;
  }
  const absl::Status status = example::Run(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "custom_pipeline: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
