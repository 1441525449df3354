// Samples and evaluation: augmentation draws and maps, windows and their
// labels (checked against the pixels of a clip whose joints are coloured
// dots, flips included), decoding and caching, the evaluation's coordinate
// round trip (ground-truth heatmaps score PCK 100), result tables, training
// state files and partial weight loading.
#include "mapn/train/pose_windows.h"

#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/data/gop_boxes.h"
#include "mapn/data/joint_set.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "mapn/pose/heatmaps.h"
#include "mapn/pose/keypoints.h"
#include "mapn/testing/test_data.h"
#include "mapn/train/augmentation.h"
#include "mapn/train/evaluate.h"
#include "mapn/train/training_state.h"
#include "mapn/video/test_clips.h"
#include "nlohmann/json.hpp"

namespace mapn::train {
namespace {

using mapn::testing::DotPosition;
using mapn::testing::DotsSpec;
using mapn::testing::MakeDotsDataset;
using mapn::testing::MakeTinySynthPose;
using mapn::testing::TestPath;
using mapn::testing::TinyOptions;
using model::AnyPipeline;

constexpr int kSize = 64;

PoseWindows DotsWindows(const std::string& name, int64_t cache_megabytes = 64) {
  absl::StatusOr<PoseDataset> dots = MakeDotsDataset(TestPath(name));
  EXPECT_TRUE(dots.ok()) << dots.status();
  absl::StatusOr<PoseWindows> windows = PoseWindows::Create(
      *std::move(dots),
      {.input_size = kSize, .cache_megabytes = cache_megabytes});
  EXPECT_TRUE(windows.ok()) << windows.status();
  return *std::move(windows);
}

TEST(AugmentationTest, DrawsAreDeterministicAndWithinRange) {
  const AugmentOptions options;
  int flips = 0, rotations = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    const AugmentDraw a = DrawAugmentation(options, seed);
    const AugmentDraw b = DrawAugmentation(options, seed);
    EXPECT_EQ(a.scale, b.scale);
    EXPECT_EQ(a.rotation_radians, b.rotation_radians);
    EXPECT_EQ(a.flip, b.flip);
    EXPECT_GE(a.scale, 0.75);
    EXPECT_LE(a.scale, 1.25);
    EXPECT_LE(std::abs(a.rotation_radians), std::numbers::pi / 6 + 1e-12);
    flips += a.flip;
    rotations += a.rotation_radians != 0;
  }
  EXPECT_NEAR(flips / 2000.0, 0.5, 0.05);
  EXPECT_NEAR(rotations / 2000.0, 0.6, 0.05);
  const AugmentDraw none = DrawAugmentation(NoAugmentation(), 7);
  EXPECT_EQ(none.scale, 1.0);
  EXPECT_EQ(none.rotation_radians, 0.0);
  EXPECT_FALSE(none.flip);
}

TEST(AugmentationTest, BadOptionsNameTheField) {
  AugmentOptions o;
  o.scale_factor = 1.5;
  EXPECT_NE(ValidateAugmentOptions(o).message().find("scale_factor"),
            absl::string_view::npos);
  o = {};
  o.flip_probability = -0.1;
  EXPECT_NE(ValidateAugmentOptions(o).message().find("flip_probability"),
            absl::string_view::npos);
  EXPECT_TRUE(ValidateAugmentOptions({}).ok());
}

TEST(AugmentationTest, AffineMatchesHandComputedMaps) {
  const double c = 0.5 * (kSize - 1);
  double x, y;
  // Scale about the centre: output (c + 10, c) shows crop (c + 12, c).
  AugmentationAffine({1.2, 0, false}, kSize).Apply(c + 10, c, &x, &y);
  EXPECT_NEAR(x, c + 12, 1e-9);
  EXPECT_NEAR(y, c, 1e-9);
  // Flip: output x shows crop S - 1 - x.
  AugmentationAffine({1.0, 0, true}, kSize).Apply(5, 7, &x, &y);
  EXPECT_NEAR(x, kSize - 1 - 5, 1e-9);
  EXPECT_NEAR(y, 7, 1e-9);
  // 90 degrees: output c + (dx, dy) shows crop c + (dy, -dx).
  AugmentationAffine({1.0, std::numbers::pi / 2, false}, kSize)
      .Apply(c + 3, c + 5, &x, &y);
  EXPECT_NEAR(x, c + 5, 1e-9);
  EXPECT_NEAR(y, c - 3, 1e-9);
}

TEST(PoseWindowsTest, HeatmapCoordinatesFollowThePixelCentres) {
  // Heatmap pixel 0 covers input pixels [-0.5, 3.5): centre 1.5.
  const at::Tensor q = at::tensor({1.5f, 5.5f, -0.5f});
  const at::Tensor h = InputToHeatmap(q, 64, 16);
  EXPECT_NEAR(h[0].item<float>(), 0.0f, 1e-6);
  EXPECT_NEAR(h[1].item<float>(), 1.0f, 1e-6);
  EXPECT_NEAR(h[2].item<float>(), -0.5f, 1e-6);
  EXPECT_TRUE(at::allclose(HeatmapToInput(h, 64, 16), q));
}

TEST(PoseWindowsTest, IndexesWindowsWithTheirGopBoxes) {
  absl::StatusOr<PoseDataset> synth =
      MakeTinySynthPose(TestPath("synth_index"), 2);
  ASSERT_TRUE(synth.ok()) << synth.status();
  const PoseDataset copy = *synth;
  absl::StatusOr<PoseWindows> windows =
      PoseWindows::Create(*std::move(synth), {.input_size = kSize});
  ASSERT_TRUE(windows.ok()) << windows.status();
  int64_t expected_windows = 0, frames = 0;
  for (const PoseSequence& seq : copy.sequences) {
    expected_windows += (seq.num_frames + 11) / 12;
    frames += seq.num_frames;
  }
  ASSERT_EQ(windows->size(), expected_windows);
  EXPECT_EQ(windows->valid_frames(), frames);
  for (int64_t id = 0; id < windows->size(); ++id) {
    const WindowInfo& w = windows->window(id);
    const PoseSequence& seq = copy.sequences[static_cast<size_t>(w.sequence)];
    ASSERT_EQ(w.frames.size(), 12u);
    EXPECT_EQ(w.frames[0], 12 * w.window_index);  // GOP 12, no scene cuts
    std::vector<int64_t> starts;
    for (int64_t f = 0; f < seq.num_frames; f += 12) starts.push_back(f);
    const std::vector<Box> boxes = GopBoxes(seq.boxes, starts).value();
    const Box& expected = boxes[static_cast<size_t>(w.window_index)];
    EXPECT_EQ(w.crop_box.x1, expected.x1);
    EXPECT_EQ(w.crop_box.y2, expected.y2);
    for (int t = 0; t < 12; ++t) {
      const int64_t f = w.frames[static_cast<size_t>(t)];
      EXPECT_EQ(f < 0, t >= w.num_valid);
    }
  }
}

TEST(PoseWindowsTest, JointsLandOnTheirDotsAndFlipsSwapLeftAndRight) {
  PoseWindows windows = DotsWindows("dots_geometry");
  ASSERT_EQ(windows.size(), 2);
  const std::vector<int> flip = PennActionJoints().FlipPermutation();
  int checked = 0, flipped = 0;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    const std::vector<int64_t> ids = {static_cast<int64_t>(seed % 2)};
    const std::vector<AugmentDraw> draws = {DrawAugmentation({}, seed)};
    absl::StatusOr<PoseBatch> batch = windows.Batch(ids, draws);
    ASSERT_TRUE(batch.ok()) << batch.status();
    const at::Tensor rgb = batch->inputs.rgb[0];  // [T, 3, S, S], [0, 1]
    flipped += draws[0].flip;
    for (int t = 0; t < 12; t += 5) {
      for (int j = 0; j < 13; ++j) {
        const float x = batch->joints[0][t][j][0].item<float>();
        const float y = batch->joints[0][t][j][1].item<float>();
        EXPECT_EQ(batch->visible[0][t][j].item<float>(), 1.0f);
        const int ix = static_cast<int>(std::lround(x));
        const int iy = static_cast<int>(std::lround(y));
        if (ix < 1 || iy < 1 || ix >= kSize - 1 || iy >= kSize - 1) continue;
        // The disc under label j is the colour of the joint it came from:
        // its own, or its mirror partner's after a flip.
        const int source = draws[0].flip ? flip[static_cast<size_t>(j)] : j;
        const int channel = source == 0 ? 1 : (source % 2 == 1 ? 0 : 2);
        const at::Tensor pixel = rgb[t].index({at::indexing::Slice(), iy, ix});
        for (int c = 0; c < 3; ++c) {
          if (c == channel) continue;
          EXPECT_GT(pixel[channel].item<float>(), pixel[c].item<float>() + 0.3f)
              << "seed " << seed << " frame " << t << " joint " << j;
        }
        ++checked;
      }
    }
    // The labels are the inverse of the window's output -> source map.
    const int t = 3;
    const int64_t f = windows.window(ids[0]).frames[t];
    for (int j = 0; j < 13; ++j) {
      const int source = draws[0].flip ? flip[static_cast<size_t>(j)] : j;
      float sx, sy;
      DotPosition({}, static_cast<int>(f), source, &sx, &sy);
      double px, py;
      batch->output_to_source[0].Apply(batch->joints[0][t][j][0].item<float>(),
                                       batch->joints[0][t][j][1].item<float>(),
                                       &px, &py);
      EXPECT_NEAR(px, sx, 1e-3);
      EXPECT_NEAR(py, sy, 1e-3);
    }
  }
  EXPECT_GT(checked, 200);
  EXPECT_GT(flipped, 2);
  EXPECT_LT(flipped, 14);
}

TEST(PoseWindowsTest, PaddingAndUnlabelledFramesHaveNoWeight) {
  absl::StatusOr<PoseDataset> dots =
      MakeDotsDataset(TestPath("dots_padding"), {.frames = 18});
  ASSERT_TRUE(dots.ok()) << dots.status();
  // Joint 4 invisible in frame 13.
  dots->sequences[0].visible[13 * 13 + 4] = 0;
  absl::StatusOr<PoseWindows> windows =
      PoseWindows::Create(*std::move(dots), {.input_size = kSize});
  ASSERT_TRUE(windows.ok()) << windows.status();
  const std::vector<int64_t> ids = {1};
  absl::StatusOr<PoseBatch> batch = windows->Batch(ids);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(windows->window(1).num_valid, 6);
  EXPECT_EQ(batch->visible[0].slice(0, 6).sum().item<float>(), 0.0f);
  EXPECT_EQ(batch->visible[0][1][4].item<float>(), 0.0f);
  EXPECT_EQ(batch->visible[0][1].sum().item<float>(), 12.0f);
  EXPECT_EQ(batch->inputs.valid[0].sum().item<int64_t>(), 6);
}

TEST(PoseWindowsTest, StreamsInOrderAndCachesDecodedWindows) {
  absl::StatusOr<PoseDataset> synth =
      MakeTinySynthPose(TestPath("synth_cache"), 2);
  ASSERT_TRUE(synth.ok()) << synth.status();
  absl::StatusOr<PoseWindows> streaming =
      PoseWindows::Create(*synth, {.input_size = kSize, .cache_megabytes = 0});
  ASSERT_TRUE(streaming.ok());
  for (int64_t id = 0; id < streaming->size(); ++id) {
    ASSERT_TRUE(streaming->SourceWindow(id).ok());
  }
  // One pass per file in order; nothing cached.
  EXPECT_EQ(streaming->stats().reader_opens, 2);
  EXPECT_EQ(streaming->stats().windows_decoded, streaming->size());
  EXPECT_EQ(streaming->stats().cache_hits, 0);

  absl::StatusOr<PoseWindows> cached = PoseWindows::Create(
      *synth, {.input_size = kSize, .cache_megabytes = 512});
  ASSERT_TRUE(cached.ok());
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t id = cached->size() - 1; id >= 0; --id) {
      absl::StatusOr<GopWindow> w = cached->SourceWindow(id);
      ASSERT_TRUE(w.ok());
      absl::StatusOr<GopWindow> again = streaming->SourceWindow(id);
      ASSERT_TRUE(again.ok());
      EXPECT_TRUE(at::equal(w->residual_y, again->residual_y));
      EXPECT_TRUE(at::equal(w->residual_uv, again->residual_uv));
      EXPECT_TRUE(at::equal(w->motion, again->motion));
    }
  }
  // Backwards, each request past the first decodes its file's prefix once;
  // everything after comes from the cache.
  EXPECT_EQ(cached->stats().windows_decoded, cached->size());
  EXPECT_EQ(cached->stats().cache_hits, 2 * cached->size() - 2);
}

TEST(PoseWindowsTest, BadInputIsAnErrorNamingIt) {
  absl::StatusOr<PoseDataset> dots = MakeDotsDataset(TestPath("dots_bad"));
  ASSERT_TRUE(dots.ok());
  PoseDataset no_video = *dots;
  no_video.sequences[0].cached_video.clear();
  absl::StatusOr<PoseWindows> w =
      PoseWindows::Create(no_video, {.input_size = kSize});
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(w.status().message().find("'dots'"), absl::string_view::npos);

  PoseDataset short_labels = *dots;
  PoseSequence& seq = short_labels.sequences[0];
  seq.num_frames = 20;
  seq.joints.resize(20 * 13 * 2);
  seq.visible.resize(20 * 13);
  seq.boxes.resize(20);
  w = PoseWindows::Create(short_labels, {.input_size = kSize});
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(w.status().message().find("24 frames"), absl::string_view::npos);

  w = PoseWindows::Create(*dots, {.input_size = 4});
  EXPECT_NE(w.status().message().find("input_size"), absl::string_view::npos);
  EXPECT_FALSE(PoseWindows::Create(PoseDataset{}, {}).ok());

  PoseWindows windows = DotsWindows("dots_bad2");
  const std::vector<int64_t> ids = {0, 1};
  const std::vector<AugmentDraw> one = {AugmentDraw{}};
  EXPECT_EQ(windows.Batch(ids, one).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<int64_t> outside = {7};
  EXPECT_EQ(windows.Batch(outside).status().code(),
            absl::StatusCode::kOutOfRange);
}

// A stand-in for Run(): the ground-truth heatmaps of the batch, the
// extractor "running" on every third frame.
RunFunction TruthRunner(const AnyPipeline& model) {
  return [&model](const PoseBatch& batch) -> absl::StatusOr<model::RunResult> {
    const int64_t b = batch.inputs.batch_size(), t = batch.inputs.length();
    const int64_t h = model.heatmap_size(), s = model.input_size();
    const at::Tensor joints = InputToHeatmap(batch.joints.flatten(0, 1), s, h);
    const HeatmapTargets targets =
        MakeGaussianTargets(joints, batch.visible.flatten(0, 1), h, h);
    model::RunResult r;
    r.length = t;
    r.heatmaps = targets.heatmaps.view({b, t, -1, h, h});
    r.decisions = at::zeros({b, t});
    for (int64_t i = 0; i < t; i += 3) r.decisions.select(1, i).fill_(1);
    r.decisions = r.decisions * batch.inputs.valid.to(at::kFloat);
    r.frame_macs.assign(static_cast<size_t>(b * t),
                        model.baseline_macs_per_frame());
    return r;
  };
}

TEST(EvaluateTest, GroundTruthHeatmapsScorePck100) {
  absl::StatusOr<PoseDataset> dots =
      MakeDotsDataset(TestPath("dots_eval"), {.frames = 30});
  ASSERT_TRUE(dots.ok());
  const PoseSequence truth = dots->sequences[0];
  absl::StatusOr<PoseWindows> windows = PoseWindows::Create(
      *std::move(dots), {.input_size = kSize, .cache_megabytes = 0});
  ASSERT_TRUE(windows.ok());
  const AnyPipeline model(model::PerFrameSimpleBaseline(
                              TinyOptions<model::PerFrameSimpleBaseline>()),
                          "simple_baseline");
  absl::StatusOr<EvalResult> result = EvaluateWithRunner(
      model, TruthRunner(model), *windows,
      {.label = "truth", .batch_size = 2, .keep_predictions = true});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->frames, 30);
  EXPECT_DOUBLE_EQ(result->pck.mean, 100.0);
  for (double g : result->pck.groups) EXPECT_DOUBLE_EQ(g, 100.0);
  // Frames 0, 3, 6, 9 of each window: 4 + 4 + 2 of 30.
  EXPECT_EQ(result->keyframes, 10);
  EXPECT_NEAR(result->keyframe_percent, 100.0 / 3, 1e-9);
  EXPECT_NEAR(result->true_macs_ratio, 1.0, 1e-12);
  EXPECT_GT(result->model_fps, 0);
  EXPECT_GT(result->end_to_end_fps, 0);
  // The round trip is unbiased: arg-max decoding errs by at most half a
  // heatmap pixel each way (about 4.2 source pixels here) and the errors
  // average out; a half-pixel slip of the convention would not.
  ASSERT_EQ(result->sequences.size(), 1u);
  const std::vector<float>& p = result->sequences[0].joints;
  double sum_dx = 0, sum_dy = 0, max_err = 0;
  for (size_t i = 0; i < p.size(); i += 2) {
    const double dx = p[i] - truth.joints[i],
                 dy = p[i + 1] - truth.joints[i + 1];
    sum_dx += dx;
    sum_dy += dy;
    max_err = std::max(max_err, std::hypot(dx, dy));
  }
  const double n = static_cast<double>(p.size() / 2);
  EXPECT_LT(std::abs(sum_dx / n), 0.8);
  EXPECT_LT(std::abs(sum_dy / n), 0.8);
  EXPECT_LT(max_err, 6.0);
  EXPECT_EQ(result->sequences[0].extracted[3], 1);
  EXPECT_EQ(result->sequences[0].extracted[4], 0);
}

TEST(EvaluateTest, RunsARealModelAndFormatsTheTable) {
  PoseWindows windows = DotsWindows("dots_model", 0);
  at::manual_seed(1);
  model::Mapn model(TinyOptions<model::Mapn>());
  const AnyPipeline any(model, "mapn");
  absl::StatusOr<EvalResult> result =
      Evaluate(any, windows, {.label = "MAPN tiny"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->frames, 24);
  EXPECT_GE(result->keyframes, 2);  // every window's frame 0
  EXPECT_GT(result->macs_per_frame.true_macs, 0);
  EXPECT_GT(result->macs_per_frame.hrnet_macs, 0);
  const model::MacCount baseline = model->ExtractorMacs() + model->HeadMacs();
  EXPECT_EQ(result->baseline_macs_per_frame, baseline);

  const std::vector<EvalResult> rows = {*result, *result};
  const std::string table = FormatEvalTable(rows);
  EXPECT_NE(table.find("PCK"), std::string::npos) << table;
  EXPECT_NE(table.find("Keyframe"), std::string::npos) << table;
  EXPECT_NE(table.find("MAPN tiny"), std::string::npos) << table;
  EXPECT_NE(table.find("Wri."), std::string::npos) << table;
  const std::string csv = EvalCsv(rows);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  EXPECT_NE(csv.find("keyframe_percent,true_gmacs"), std::string::npos) << csv;
  const nlohmann::json json = nlohmann::json::parse(EvalJson(rows));
  ASSERT_EQ(json["rows"].size(), 2u);
  EXPECT_EQ(json["rows"][0]["label"], "MAPN tiny");
  EXPECT_EQ(json["rows"][0]["frames"], 24);
  EXPECT_TRUE(json["rows"][0]["pck"]["groups"].contains("Wri."));
  EXPECT_TRUE(json["rows"][0]["macs_ratio"].contains("hrnet"));

  const std::string path = TestPath("eval.json");
  ASSERT_TRUE(WriteEvalJson(path, rows).ok());
  EXPECT_EQ(ReadFile(path).value(), EvalJson(rows));
  ASSERT_TRUE(WriteEvalCsv(TestPath("eval.csv"), rows).ok());
  EXPECT_EQ(ReadFile(TestPath("eval.csv")).value(), csv);

  model::Mapn::Options other = TinyOptions<model::Mapn>();
  other.input_size = 96;
  const AnyPipeline wrong(model::Mapn(other), "mapn");
  EXPECT_NE(Evaluate(wrong, windows).status().message().find("input_size"),
            absl::string_view::npos);
  EXPECT_FALSE(Evaluate(any, windows, {.batch_size = 0}).ok());
}

TEST(TrainingStateTest, RoundTripsAndLoadsMatchingWeights) {
  at::manual_seed(2);
  model::PerFrameSimpleBaseline baseline(
      TinyOptions<model::PerFrameSimpleBaseline>());
  model::Mapn mapn(TinyOptions<model::Mapn>());
  const AnyPipeline any_baseline(baseline, "simple_baseline");
  TrainingState state;
  state.model = model::ModelFile{.type_name = any_baseline.type_name(),
                                 .composition = "simple_baseline",
                                 .options_json = any_baseline.options_json(),
                                 .tensors = model::ModuleTensors(*baseline)};
  state.stage = 1;
  state.epochs_done = 3;
  state.epoch_losses = {0.5, 0.25, 0.125};
  state.options_json = "{\"seed\":1}";
  state.optimizer.push_back(
      {"head.final.weight", 7, at::ones({2}), at::zeros({2})});
  const std::string path = TestPath("state.ckpt");
  ASSERT_TRUE(WriteTrainingState(path, state).ok());
  absl::StatusOr<TrainingState> read = ReadTrainingState(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->model.type_name, state.model.type_name);
  EXPECT_EQ(read->model.composition, "simple_baseline");
  EXPECT_EQ(read->model.options_json, state.model.options_json);
  EXPECT_EQ(read->epochs_done, 3);
  EXPECT_EQ(read->epoch_losses, state.epoch_losses);
  EXPECT_EQ(read->options_json, state.options_json);
  ASSERT_EQ(read->optimizer.size(), 1u);
  EXPECT_EQ(read->optimizer[0].step, 7);
  EXPECT_TRUE(at::equal(read->optimizer[0].exp_avg, at::ones({2})));
  EXPECT_EQ(ReadTrainingState(TestPath("missing.ckpt")).status().code(),
            absl::StatusCode::kNotFound);

  // A Simple Baseline's extractor and head go into a MAPN; its propagator
  // and gate keep their values.
  const at::Tensor lstm_before =
      mapn->propagator()->named_parameters()[0].value().clone();
  absl::StatusOr<model::WeightsReport> report =
      model::LoadMatchingWeights(path, *mapn, {"extractor.", "head."});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded, static_cast<int64_t>(state.model.tensors.size()));
  EXPECT_TRUE(report->unused.empty());
  EXPECT_FALSE(report->kept.empty());
  for (const std::string& name : report->kept) {
    EXPECT_TRUE(name.rfind("propagator.", 0) == 0 ||
                name.rfind("policy.", 0) == 0)
        << name;
  }
  EXPECT_TRUE(at::equal(mapn->extractor()->parameters()[0],
                        baseline->extractor()->parameters()[0]));
  EXPECT_TRUE(at::equal(mapn->propagator()->named_parameters()[0].value(),
                        lstm_before));

  // A model checkpoint works the same way, and the whole model loads back,
  // from it or from the training state, typed or not.
  const std::string model_path = TestPath("mapn.ckpt");
  ASSERT_TRUE(model::SaveModel(model_path, mapn).ok());
  absl::StatusOr<model::Mapn> loaded =
      model::LoadModel<model::Mapn>(model_path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(at::equal((*loaded)->policy()->parameters()[0],
                        mapn->policy()->parameters()[0]));
  EXPECT_EQ(model::LoadModel<model::Mapn>(path).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<AnyPipeline> from_state =
      model::LoadPipeline(path, model::DefaultCompositions());
  ASSERT_TRUE(from_state.ok()) << from_state.status();
  EXPECT_EQ(from_state->composition(), "simple_baseline");
  absl::StatusOr<model::ModelFile> summary = model::ReadModelFile(path);
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(summary->training_state);
  EXPECT_EQ(summary->stage, 1);
  EXPECT_EQ(summary->type_name, baseline->name());

  // Required parts that are missing, and shape mismatches, are errors.
  EXPECT_EQ(
      model::LoadMatchingWeights(path, *mapn, {"policy."}).status().code(),
      absl::StatusCode::kNotFound);
  model::Mapn::Options wide = TinyOptions<model::Mapn>();
  wide.head.width = 32;
  model::Mapn other(wide);
  const absl::Status mismatch =
      model::LoadMatchingWeights(path, *other).status();
  EXPECT_NE(mismatch.message().find("shape"), absl::string_view::npos)
      << mismatch;
  ASSERT_TRUE(
      WriteFileAtomically(TestPath("junk.ckpt"), "not a checkpoint").ok());
  EXPECT_FALSE(model::ReadModelFile(TestPath("junk.ckpt")).ok());
}

}  // namespace
}  // namespace mapn::train
