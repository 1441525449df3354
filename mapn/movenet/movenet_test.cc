// Native MoveNet (encoder + head + keypoint decoding) against the TF.js
// graph run by mapn's reader and against TF.js's own outputs on the golden
// frames, plus the concepts, the cost model and the importer's refusals,
// and MAPN on MoveNet: the encoder and head with the motion-warped ConvLSTM
// and the residual gate.
#include "mapn/movenet/movenet.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "mapn/model/compositions.h"
#include "mapn/model/concepts.h"
#include "mapn/model/flops.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/testing/shared_data.h"
#include "mapn/tfjs/golden_frames.h"
#include "mapn/tfjs/graph_model.h"
#include "mapn/tfjs/model_files.h"
#include "nlohmann/json.hpp"

namespace mapn::movenet {
namespace {

static_assert(model::FeatureExtractor<MoveNetEncoder>);
static_assert(model::HeatmapHead<MoveNetHead>);

TEST(MoveNetTest, ShapesLayoutAndCost) {
  const at::NoGradGuard no_grad;
  MoveNetEncoder encoder(MoveNetOptions{.variant = kLightning});
  MoveNetHead head(MoveNetOptions{.variant = kLightning});
  const at::Tensor features = encoder->Extract(at::rand({2, 3, 192, 192}));
  EXPECT_EQ(features.sizes(), (std::vector<int64_t>{2, 24, 48, 48}));
  EXPECT_TRUE(features.is_contiguous(at::MemoryFormat::ChannelsLast));
  const at::Tensor maps = head->Decode(features);
  EXPECT_EQ(maps.sizes(), (std::vector<int64_t>{2, 86, 48, 48}));
  const at::Tensor kp = head->DecodeKeypoints(maps);
  EXPECT_EQ(kp.sizes(), (std::vector<int64_t>{2, 17, 3}));
  EXPECT_THROW(head->DecodeKeypoints(maps.narrow(2, 0, 40)), c10::Error);
  EXPECT_THROW(encoder->Extract(at::rand({1, 3, 100, 100})), c10::Error);

  // Per cell: 4 depthwise 3x3 on 24 channels, 4 1x1 24->96, then 1x1
  // 96->17, ->1, ->34, ->34.
  const double per_cell = 4 * (24 * 9 + 24 * 96) + 96 * (17 + 1 + 34 + 34);
  EXPECT_DOUBLE_EQ(head->Macs(48, 48).true_macs, per_cell * 48 * 48);
  // Every side is halved exactly at multiples of 32: the cost is quadratic.
  for (const char* v : {kLightning, kThunder}) {
    MoveNetEncoder e(MoveNetOptions{.variant = v});
    EXPECT_DOUBLE_EQ(e->Macs(384).true_macs, 4 * e->Macs(192).true_macs);
  }
  // MobileNetV2 1.0's trunk at 224 is the well-known ~300 M multiply-adds
  // (without the classifier); with the FPN at 192 it is a little less.
  const double lightning = encoder->Macs(192).true_macs;
  EXPECT_GT(lightning, 0.6 * 300e6 * (192.0 * 192) / (224 * 224));
  EXPECT_LT(lightning, 1.6 * 300e6 * (192.0 * 192) / (224 * 224));
  std::printf(
      "MACs: lightning encoder %.3g, thunder encoder %.3g, head at "
      "48x48 %.3g, at 64x64 %.3g\n",
      lightning,
      MoveNetEncoder(MoveNetOptions{.variant = kThunder})->Macs(256).true_macs,
      head->Macs(48, 48).true_macs, head->Macs(64, 64).true_macs);
}

TEST(MoveNetTest, RefusesTheOtherVariantsWeights) {
  absl::StatusOr<std::string> path = tfjs::FindModel("movenet-lightning");
  if (!path.ok()) GTEST_SKIP() << path.status().message();
  auto graph = tfjs::GraphModel::Load(*path);
  ASSERT_TRUE(graph.ok()) << graph.status();
  MoveNetEncoder thunder(MoveNetOptions{.variant = kThunder});
  const absl::Status s = ImportMoveNetEncoder(*graph, *thunder);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("Conv1_relu/Relu6"),
            std::string::npos)
      << s.message();
  EXPECT_NE(std::string(s.message()).find("does not fit MoveNet layer"),
            std::string::npos)
      << s.message();
}

// Native encoder + head + decoding equals the graph (run by GraphModel) and
// TF.js (the goldens) on real frames.
TEST(MoveNetParityTest, NativeEqualsGraphAndTfjs) {
  MAPN_REQUIRE_SHARED_DATA(shared);
  std::ifstream golden_file("mapn/tfjs/testdata/tfjs_golden.json");
  ASSERT_TRUE(golden_file);
  const nlohmann::json golden = nlohmann::json::parse(golden_file);
  std::map<std::string, at::Tensor> rgb;
  for (const tfjs::GoldenFrame& f : tfjs::GoldenFrames()) {
    auto frame = tfjs::DecodeRgbFrame(shared + "/" + f.clip, f.frame);
    ASSERT_TRUE(frame.ok()) << frame.status();
    rgb[f.name] = *frame;
  }
  const at::NoGradGuard no_grad;
  for (const char* v : {kLightning, kThunder}) {
    const MoveNetOptions options{.variant = v};
    SCOPED_TRACE(options.model_name());
    absl::StatusOr<std::string> path = tfjs::FindModel(options.model_name());
    if (!path.ok()) GTEST_SKIP() << path.status().message();
    auto graph = tfjs::GraphModel::Load(*path);
    ASSERT_TRUE(graph.ok()) << graph.status();
    auto net = LoadMoveNet(options);
    ASSERT_TRUE(net.ok()) << net.status();
    const double side = options.input_size();
    double graph_px = 0, graph_score = 0, tfjs_px = 0, tfjs_score = 0,
           feature_diff = 0;
    int frames = 0;
    for (const auto& e : golden["entries"]) {
      if (e["model"] != options.model_name()) continue;
      ++frames;
      auto input = tfjs::ModelInput(options.model_name(), rgb[e["frame"]]);
      ASSERT_TRUE(input.ok());
      ASSERT_EQ(tfjs::TensorFnv1a(*input), e["input_fnv1a64"]);
      auto reference = graph->Run(
          {{"input", *input}}, {"Identity",
                                "StatefulPartitionedCall/"
                                "center_net_mobile_net_v2fpn_feature_extractor/"
                                "model_1/re_lu_2/Relu"});
      ASSERT_TRUE(reference.ok()) << reference.status();
      // The FeatureExtractor's input: RGB in [0, 1], NCHW.
      const at::Tensor x = input->to(at::kFloat).div(255).permute({0, 3, 1, 2});
      const at::Tensor features = net->encoder->Extract(x);
      feature_diff = std::max(feature_diff,
                              (features.permute({0, 2, 3, 1}) - (*reference)[1])
                                  .abs()
                                  .max()
                                  .item<double>());
      const at::Tensor kp =
          net->head->DecodeKeypoints(net->head->Decode(features));
      const at::Tensor ref = (*reference)[0].view({1, 17, 3});
      const std::vector<double> tfjs = e["outputs"][0]["values"];
      for (int64_t k = 0; k < 17; ++k) {
        for (int64_t c = 0; c < 3; ++c) {
          const double ours = kp[0][k][c].item<double>();
          const double d_graph = std::abs(ours - ref[0][k][c].item<double>());
          const double d_tfjs = std::abs(ours - tfjs[k * 3 + c]);
          if (c < 2) {
            graph_px = std::max(graph_px, d_graph * side);
            tfjs_px = std::max(tfjs_px, d_tfjs * side);
            EXPECT_LE(d_graph * side, 0.5) << e["frame"] << " keypoint " << k;
            EXPECT_LE(d_tfjs * side, 0.5) << e["frame"] << " keypoint " << k;
          } else {
            graph_score = std::max(graph_score, d_graph);
            tfjs_score = std::max(tfjs_score, d_tfjs);
            EXPECT_LE(d_graph, 1e-3) << e["frame"] << " score " << k;
            EXPECT_LE(d_tfjs, 1e-3) << e["frame"] << " score " << k;
          }
        }
      }
    }
    EXPECT_EQ(frames, 5);
    std::printf(
        "native %s over %d frames: vs graph %.2e px, score %.2e; vs "
        "TF.js %.2e px, score %.2e; max feature diff %.2e\n",
        options.model_name().c_str(), frames, graph_px, graph_score, tfjs_px,
        tfjs_score, feature_diff);
  }
}

// Per-frame MoveNet as a mapn Pipeline: the encoder and head compose with
// any propagator and policy, here PassThrough and AlwaysExtract, and give
// the graph's keypoints on every frame of a window.
TEST(MoveNetParityTest, PipelineGivesTheGraphsKeypoints) {
  MAPN_REQUIRE_SHARED_DATA(shared);
  const MoveNetOptions options{.variant = kLightning};
  absl::StatusOr<std::string> path = tfjs::FindModel(options.model_name());
  if (!path.ok()) GTEST_SKIP() << path.status().message();
  auto graph = tfjs::GraphModel::Load(*path);
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto net = LoadMoveNet(options);
  ASSERT_TRUE(net.ok()) << net.status();
  model::PerFrameMoveNet pipeline(options.input_size(), net->encoder,
                                  model::PassThrough(), model::AlwaysExtract(),
                                  net->head);
  EXPECT_EQ(pipeline->joints(), 17);
  pipeline->eval();
  // A window of three real frames (T = 3, B = 1).
  std::vector<at::Tensor> inputs, frames;
  for (const tfjs::GoldenFrame& f : tfjs::GoldenFrames()) {
    if (inputs.size() == 3) break;
    auto rgb = tfjs::DecodeRgbFrame(shared + "/" + f.clip, f.frame);
    ASSERT_TRUE(rgb.ok()) << rgb.status();
    auto input = tfjs::ModelInput(options.model_name(), *rgb);
    ASSERT_TRUE(input.ok());
    inputs.push_back(*input);
    frames.push_back(input->to(at::kFloat).div(255).permute({0, 3, 1, 2})[0]);
  }
  const int64_t s = options.input_size();
  GopBatch batch;
  batch.rgb = at::stack(frames).unsqueeze(0);  // [1, 3, 3, S, S]
  batch.motion = at::zeros({1, 3, 2, s, s});
  batch.residual = at::zeros({1, 3, 3, s, s});
  batch.valid = at::ones({1, 3}, at::kBool);
  auto result = pipeline->Run(batch);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->heatmaps.sizes(),
            (std::vector<int64_t>{1, 3, kHeadChannels, s / 4, s / 4}));
  // The pipeline's keypoints are the graph's, in input pixels (a
  // normalised u is u * S - 1/2).
  const absl::StatusOr<at::Tensor> keypoints =
      pipeline->Keypoints(result->heatmaps[0]);
  ASSERT_TRUE(keypoints.ok()) << keypoints.status();
  for (int64_t t = 0; t < 3; ++t) {
    auto reference = graph->Run({{"input", inputs[t]}});
    ASSERT_TRUE(reference.ok()) << reference.status();
    const at::Tensor ref = (*reference)[0].view({17, 3});
    const at::Tensor kp = (*keypoints)[t];
    const double sd = static_cast<double>(s);
    const at::Tensor dx = (kp.select(1, 0) - (ref.select(1, 1) * sd - 0.5));
    const at::Tensor dy = (kp.select(1, 1) - (ref.select(1, 0) * sd - 0.5));
    EXPECT_LE(dx.abs().max().item<double>(), 0.5) << "frame " << t;
    EXPECT_LE(dy.abs().max().item<double>(), 0.5) << "frame " << t;
    EXPECT_LE((kp.select(1, 2) - ref.select(1, 2)).abs().max().item<double>(),
              1e-3)
        << "frame " << t;
  }
  // A pipeline of another input size is refused: the decoding is the
  // variant's.
  model::PerFrameMoveNet::Options wrong;
  wrong.input_size = 256;
  wrong.extractor.variant = kLightning;
  wrong.head.variant = kLightning;
  const absl::Status refused =
      model::MakeModel<model::PerFrameMoveNet>(wrong).status();
  EXPECT_NE(refused.message().find("192"), absl::string_view::npos) << refused;
  EXPECT_EQ(result->macs(0, 1).true_macs,
            net->encoder->Macs(s).true_macs +
                net->head->Macs(s / 4, s / 4).true_macs);
}

// A window of `t` frames at `s` pixels: random pictures, a uniform motion
// of (2, -1) input pixels and a residual that is large on frame 2 only.
GopBatch RandomWindow(int64_t t, int64_t s) {
  GopBatch batch;
  batch.rgb = at::rand({1, t, 3, s, s});
  batch.motion = at::zeros({1, t, 2, s, s});
  batch.motion.select(2, 0).fill_(2.0f);
  batch.motion.select(2, 1).fill_(-1.0f);
  batch.residual = at::zeros({1, t, 3, s, s});
  batch.residual.select(1, 2).fill_(0.5f);
  batch.valid = at::ones({1, t}, at::kBool);
  return batch;
}

// MoveNet's encoder and head compose with the motion-warped ConvLSTM and
// the residual gate like any extractor and head: the pipeline wires the
// ConvLSTM to the encoder's 24 channels at stride 4, runs the encoder only
// where the gate says, and charges each frame what ran.
TEST(MoveNetMapnTest, ComposesWithTheWarpedConvLstmAndTheGate) {
  at::manual_seed(3);
  model::MoveNetMapn::Options options;
  options.input_size = 192;
  options.extractor.variant = kLightning;
  options.head.variant = kLightning;
  absl::StatusOr<model::MoveNetMapn> made =
      model::MakeModel<model::MoveNetMapn>(options);
  ASSERT_TRUE(made.ok()) << made.status();
  model::MoveNetMapn& pipeline = *made;
  EXPECT_EQ(pipeline->propagator()->in_channels(), 24);
  EXPECT_EQ(pipeline->joints(), 17);
  pipeline->eval();
  const at::NoGradGuard no_grad;
  const int64_t t = 4, s = 192;
  auto result = pipeline->Run(RandomWindow(t, s));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->heatmaps.sizes(),
            (std::vector<int64_t>{1, t, kHeadChannels, s / 4, s / 4}));
  EXPECT_TRUE(at::isfinite(result->heatmaps).all().item<bool>());
  EXPECT_EQ(result->decisions[0][0].item<float>(), 1.0f);
  const double encoder = pipeline->extractor()->Macs(s).true_macs;
  for (int64_t f = 1; f < t; ++f) {
    const bool extracted = result->decisions[0][f].item<float>() > 0.5f;
    // A skipped frame costs the ConvLSTM and the head, far less than the
    // encoder; an extracted one at least the encoder.
    if (extracted) {
      EXPECT_GE(result->macs(0, f).true_macs, encoder) << "frame " << f;
    } else {
      EXPECT_LT(result->macs(0, f).true_macs, 0.5 * encoder) << "frame " << f;
    }
  }
  auto keypoints = pipeline->Keypoints(result->heatmaps[0]);
  ASSERT_TRUE(keypoints.ok()) << keypoints.status();
  EXPECT_EQ(keypoints->sizes(), (std::vector<int64_t>{t, 17, 3}));
}

// Started from the pretrained weights, its first frame is per-frame
// MoveNet's (eq. 3: h0 = c0 = x0), whatever the new ConvLSTM holds.
TEST(MoveNetMapnTest, PretrainedStartEqualsMoveNetOnTheKeyframe) {
  if (!tfjs::FindModel("movenet-lightning").ok()) {
    GTEST_SKIP() << tfjs::FindModel("movenet-lightning").status().message();
  }
  at::manual_seed(4);
  absl::StatusOr<model::AnyPipeline> mapn =
      MoveNetMapnFromPretrained(kLightning);
  ASSERT_TRUE(mapn.ok()) << mapn.status();
  EXPECT_EQ(mapn->composition(), "movenet_mapn");
  EXPECT_TRUE(mapn->learned_policy());
  absl::StatusOr<model::AnyPipeline> per_frame = PretrainedMoveNet(kLightning);
  ASSERT_TRUE(per_frame.ok()) << per_frame.status();
  const GopBatch batch = RandomWindow(3, 192);
  auto a = mapn->Run(batch);
  auto b = per_frame->Run(batch);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(at::allclose(a->heatmaps[0][0], b->heatmaps[0][0], 1e-5, 1e-5));
  EXPECT_FALSE(MoveNetMapnFromPretrained("medium").ok());
}

}  // namespace
}  // namespace mapn::movenet
