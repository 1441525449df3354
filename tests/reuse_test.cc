// The model's components carry no pose assumption: the compressed-domain
// reader (here InMemoryStreamSource, cropping and batching of mapn/video),
// the MV-warped ConvLSTM and a residual-driven policy compose with a head
// for another task, a per-pixel foreground mask, and an extractor of another
// stride, into a Pipeline that runs and trains.
#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>
#include <torch/optim/adam.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "mapn/model/options.h"
#include "mapn/model/pipeline.h"
#include "mapn/model/policies.h"
#include "mapn/model/propagators.h"
#include "mapn/video/in_memory_stream_source.h"
#include "mapn/video/resample.h"
#include "mapn/testing/tiny_extractor.h"

namespace mapn {
namespace {

using model::MacCount;

using mapn::testing::TinyExtractor;

// Foreground logits per input pixel: a 1 x 1 convolution of the state,
// upsampled bilinearly by the extractor's stride.
struct ForegroundMaskHeadOptions {
  int64_t in_channels = 0;  // 0: wired to the extractor's by the Pipeline
  int64_t upsampling = 8;
  static constexpr auto Fields() {
    return std::tuple{
        model::OptionField{"in_channels",
                           &ForegroundMaskHeadOptions::in_channels},
        model::OptionField{"upsampling",
                           &ForegroundMaskHeadOptions::upsampling}};
  }
  absl::Status Validate() const { return absl::OkStatus(); }
};

class ForegroundMaskHeadImpl : public torch::nn::Module {
 public:
  using Options = ForegroundMaskHeadOptions;
  explicit ForegroundMaskHeadImpl(const Options& options) : options_(options) {
    conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                        options.in_channels, 1, 1)));
  }
  at::Tensor Decode(const at::Tensor& h) {
    const int64_t k = options_.upsampling;
    return at::upsample_bilinear2d(conv_->forward(h),
                                   {h.size(2) * k, h.size(3) * k},
                                   /*align_corners=*/false);
  }
  int64_t in_channels() const { return options_.in_channels; }
  int64_t out_channels() const { return 1; }
  int64_t upsampling() const { return options_.upsampling; }
  MacCount Macs(int64_t h, int64_t w) const {
    return model::ConvMacs(options_.in_channels, 1, 1, 1, h, w);
  }
  const Options& options() const { return options_; }

 private:
  Options options_;
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(ForegroundMaskHead);

static_assert(model::FeatureExtractor<TinyExtractor>);
static_assert(model::HeatmapHead<ForegroundMaskHead>);

using MaskPipeline =
    model::Composition<"foreground_mask", TinyExtractor,
                       model::MotionWarpConvLstm, model::ResidualEnergyGate,
                       ForegroundMaskHead>;

constexpr int64_t kFrames = 16;
constexpr int64_t kSide = 96;
constexpr int64_t kSquare = 30;

// A bright square on a dark background: it moves 3 px right per frame in
// frames 1-3 and 9-11 and rests otherwise. The motion vectors, one per 8x8
// block (gop.h: a pixel of frame t came from pixel + motion in t - 1), are
// the true motion on the blocks inside the square; the blocks across its
// edges have none, so a moving square leaves a residual there, as block
// motion leaves the codec's residual at moving edges.
InMemoryFrames MovingSquare() {
  constexpr int64_t kBlocks = MotionBlocks(kSide);
  InMemoryFrames frames;
  frames.rgb = at::full({kFrames, 3, kSide, kSide}, 20, at::kByte);
  frames.motion = at::zeros({kFrames, 2, kBlocks, kBlocks});
  frames.types.assign(kFrames, FrameType::kP);
  frames.types[0] = frames.types[8] = FrameType::kI;
  int64_t x = 10;
  for (int64_t t = 0; t < kFrames; ++t) {
    const bool moves = (t % 8) >= 1 && (t % 8) <= 3;
    if (moves) x += 3;
    frames.rgb[t]
        .slice(1, 30, 30 + kSquare)
        .slice(2, x, x + kSquare)
        .fill_(230);
    if (moves && frames.types[t] == FrameType::kP) {
      // Blocks [ceil(a / 8), floor(b / 8)) lie inside [a, b).
      auto inside = [](int64_t a, int64_t b) {
        return std::pair<int64_t, int64_t>{MotionBlocks(a), b / kMotionBlock};
      };
      const auto [by0, by1] = inside(30, 30 + kSquare);
      const auto [bx0, bx1] = inside(x, x + kSquare);
      frames.motion[t][0].slice(0, by0, by1).slice(1, bx0, bx1).fill_(-3.0);
    }
  }
  return frames;
}

absl::StatusOr<GopBatch> ReadBatch() {
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(MovingSquare(), /*window_length=*/8);
  if (!source.ok()) return source.status();
  std::vector<ResampledWindow> windows;
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> window = source->Next();
    if (!window.ok()) return window.status();
    if (!*window) break;
    absl::StatusOr<ResampledWindow> cropped = CropWindow(
        **window,
        Box{0, 0, static_cast<float>(kSide), static_cast<float>(kSide)}, 64);
    if (!cropped.ok()) return cropped.status();
    windows.push_back(*std::move(cropped));
  }
  return ToGopBatch(windows);
}

TEST(ReuseTest, ReaderPropagatorAndPolicyDriveAForegroundMaskHead) {
  const absl::StatusOr<GopBatch> batch = ReadBatch();
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->rgb.sizes(), (std::vector<int64_t>{2, 8, 3, 64, 64}));

  MaskPipeline::Options options;
  options.input_size = 64;
  options.policy.threshold = 0.005;
  at::manual_seed(0);
  absl::StatusOr<MaskPipeline> made = model::MakeModel<MaskPipeline>(options);
  ASSERT_TRUE(made.ok()) << made.status();
  MaskPipeline pipeline = *made;
  // The ConvLSTM and the head were wired to the extractor's 8 channels.
  EXPECT_EQ(pipeline->propagator()->in_channels(), 8);
  EXPECT_EQ(pipeline->head()->in_channels(), 8);

  // The reader's residuals drive the policy: features are extracted for the
  // keyframe and the frames where the square moved, not where it rests.
  pipeline->eval();
  const absl::StatusOr<model::RunResult> run = pipeline->Run(*batch);
  ASSERT_TRUE(run.ok()) << run.status();
  const at::Tensor expected =
      at::tensor(std::vector<float>{1, 1, 1, 1, 0, 0, 0, 0})
          .unsqueeze(0)
          .expand({2, 8});
  EXPECT_TRUE(at::equal(run->decisions, expected)) << run->decisions;
  EXPECT_EQ(run->heatmaps.sizes(), (std::vector<int64_t>{2, 8, 1, 64, 64}));
  EXPECT_EQ(run->macs(0, 5), pipeline->PropagatorMacs() + pipeline->HeadMacs());

  // And the composition trains for the new task on those windows: the mask
  // loss falls, through skipped frames too (warped state, empty input).
  const at::Tensor target =
      (batch->rgb.mean(2, /*keepdim=*/true) > 0.5).to(at::kFloat);
  pipeline->train();
  torch::optim::Adam optimizer(pipeline->parameters(),
                               torch::optim::AdamOptions(0.02));
  auto loss_now = [&] {
    const absl::StatusOr<model::ForwardResult> out = pipeline->Forward(*batch);
    EXPECT_TRUE(out.ok()) << out.status();
    return at::binary_cross_entropy_with_logits(out->heatmaps, target);
  };
  const double initial = loss_now().item<double>();
  for (int step = 0; step < 60; ++step) {
    optimizer.zero_grad();
    at::Tensor loss = loss_now();
    loss.backward();
    optimizer.step();
  }
  const double final_loss = loss_now().item<double>();
  EXPECT_LT(final_loss, 0.3 * initial) << initial << " -> " << final_loss;

  // A program that adds the composition to a table saves and loads it like
  // any built-in one; the mapn binary's own table refuses it by name.
  model::CompositionTable table = model::DefaultCompositions();
  ASSERT_TRUE(table.Add<MaskPipeline>().ok());
  const std::string path = ::testing::TempDir() + "/mask.ckpt";
  ASSERT_TRUE(model::SaveModel(path, pipeline).ok());
  absl::StatusOr<model::AnyPipeline> loaded = model::LoadPipeline(path, table);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->composition(), "foreground_mask");
  pipeline->eval();
  loaded->module().eval();
  const absl::StatusOr<model::RunResult> again = loaded->Run(*batch);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(at::equal(again->heatmaps, pipeline->Run(*batch)->heatmaps));
  const absl::Status unknown =
      model::LoadPipeline(path, model::DefaultCompositions()).status();
  EXPECT_NE(unknown.message().find("foreground_mask"), absl::string_view::npos)
      << unknown;
}

}  // namespace
}  // namespace mapn
