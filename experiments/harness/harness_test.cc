// The harness alone: the key, the calibration, the scales, the averaging,
// the two-process orders, the helper's thread give-back, the options of an
// Experiment, and at the smoke scale the checkpoint cache, its recipe rules
// and an ablation that exists only in this file trained and evaluated
// through the same path as the paper's rows.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "experiments/harness/calibration.h"
#include "experiments/harness/experiment.h"
#include "experiments/harness/plan.h"
#include "experiments/harness/report.h"
#include "experiments/harness/rows.h"
#include "experiments/harness/scales.h"
#include "experiments/harness/test_helpers.h"
#include "experiments/harness/work_dir.h"
#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "nlohmann/json.hpp"

namespace mapn::experiments {
namespace {

using train::EvalResult;

TEST(WorkDirTest, HashKeyIsStableAndSensitive) {
  EXPECT_EQ(HashKey(""), "cbf29ce484222325");  // FNV-1a's offset basis
  EXPECT_EQ(HashKey("mapn"), HashKey("mapn"));
  EXPECT_NE(HashKey("mapn"), HashKey("mapm"));
  EXPECT_EQ(HashKey("x").size(), 16u);
}

TEST(CalibrationTest, IntervalIsRoundedInverseRate) {
  EXPECT_EQ(IntervalForKeyframePercent(29.0), 3);  // 100 / 29 = 3.4
  EXPECT_EQ(IntervalForKeyframePercent(25.0), 4);
  EXPECT_EQ(IntervalForKeyframePercent(22.0), 5);
  EXPECT_EQ(IntervalForKeyframePercent(100.0), 1);
  EXPECT_EQ(IntervalForKeyframePercent(0.0), 1);
  EXPECT_EQ(IntervalForKeyframePercent(5.0), 20);
}

// The fraction of frames a ResidualEnergyGate with `threshold` extracts.
double Extracted(const std::vector<std::vector<float>>& energies,
                 double threshold) {
  int64_t frames = 0, keyframes = 0;
  for (const std::vector<float>& w : energies) {
    for (size_t t = 0; t < w.size(); ++t) {
      ++frames;
      if (t == 0 || w[t] > threshold) ++keyframes;
    }
  }
  return 100.0 * keyframes / frames;
}

TEST(CalibrationTest, ThresholdHitsTheRequestedKeyframePercent) {
  // Two windows of 12 frames with distinct energies, and a short one.
  std::vector<std::vector<float>> energies(3);
  for (int t = 0; t < 12; ++t) energies[0].push_back(0.001f * (t + 1));
  for (int t = 0; t < 12; ++t) energies[1].push_back(0.0015f * (t + 1));
  for (int t = 0; t < 6; ++t) energies[2].push_back(0.02f - 0.001f * t);
  // 30 frames, 3 forced keyframes (10 %).
  for (double percent : {10.0, 20.0, 30.0, 50.0, 100.0}) {
    absl::StatusOr<double> threshold =
        ThresholdForKeyframePercent(energies, percent);
    ASSERT_TRUE(threshold.ok()) << threshold.status();
    EXPECT_NEAR(Extracted(energies, *threshold), percent, 100.0 / 30 / 2)
        << percent;
  }
  // Below the forced keyframes: nothing but frame 0s.
  absl::StatusOr<double> low = ThresholdForKeyframePercent(energies, 1.0);
  ASSERT_TRUE(low.ok());
  EXPECT_DOUBLE_EQ(Extracted(energies, *low), 10.0);
  EXPECT_FALSE(ThresholdForKeyframePercent(energies, 101).ok());
  EXPECT_FALSE(ThresholdForKeyframePercent(energies, -1).ok());
  EXPECT_FALSE(ThresholdForKeyframePercent({}, 30).ok());
}

TEST(ScalesTest, ScalesAreKnownByNameAndFitThePapersModel) {
  for (const std::string& name : ScaleNames()) {
    absl::StatusOr<Scale> scale = ScaleByName(name);
    ASSERT_TRUE(scale.ok()) << name;
    EXPECT_EQ(scale->name, name);
    EXPECT_FALSE(scale->lambda_sweep.empty()) << name;
    EXPECT_TRUE(ReferenceModel(*scale).ok()) << name;
  }
  absl::StatusOr<Scale> bad = ScaleByName("huge");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Has(std::string(bad.status().message()), "default"))
      << bad.status();
  // The default scale is the light model the 0.35 x goal needs.
  const Scale scale = *ScaleByName("default");
  const model::Mapn::Options reference = *ReferenceModel(scale);
  EXPECT_EQ(reference.propagator.kernel, 1);
  EXPECT_EQ(reference.input_size, 128);
  EXPECT_EQ(reference.input_size % 32, 0);
  EXPECT_EQ(ModelText(reference),
            "ResNet-18 (base width 24), 128 x 128 crops, head 32 channels, "
            "1 x 1 ConvLSTM");
  EXPECT_EQ(ScheduleText(scale),
            "epochs per stage 16/4/2/2, 4 windows of 12 frames per step");
  // A misspelt field fits no composition: an error, not a silent no-op.
  Scale typo = scale;
  typo.model.push_back("extractor.widht=32");
  absl::StatusOr<model::Mapn::Options> wrong = ReferenceModel(typo);
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(Has(std::string(wrong.status().message()), "widht"))
      << wrong.status();
}

TEST(ScalesTest, StageOptionsFollowTheScale) {
  const Scale scale = *ScaleByName("default");
  const train::TrainOptions s1 = StageOptions(scale, kStage1, 7);
  EXPECT_EQ(s1.epochs, 16);
  EXPECT_EQ(s1.lr_decay_epochs, std::vector<int64_t>{12});
  EXPECT_EQ(s1.batch_size, 4);
  EXPECT_EQ(s1.seed, 7u);
  const train::TrainOptions s4 = StageOptions(scale, kStage4, 7);
  EXPECT_EQ(s4.epochs, 2);
  EXPECT_TRUE(s4.lr_decay_epochs.empty());
  EXPECT_DOUBLE_EQ(s4.gate_lambda, train::StageDefaults(kStage4).gate_lambda);
  EXPECT_DOUBLE_EQ(StageOptions(scale, kStage3, 7, false, 3e-4).gate_lambda,
                   3e-4);
}

TEST(PlanTest, TheHelperTakesTheFirstHalfAndThisProcessStartsFromTheLast) {
  const TwoProcessOrder five = HelperTakesFirstHalf(5);  // Table 1
  EXPECT_EQ(five.helper, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(five.own, (std::vector<size_t>{4, 3, 2, 1, 0}));
  const TwoProcessOrder three = HelperTakesFirstHalf(3);  // Table 2
  EXPECT_EQ(three.helper, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(three.own, (std::vector<size_t>{2, 1, 0}));
}

TEST(ReportTest, SplitsAverageColumnwise) {
  const std::vector<EvalResult> rows = {FakeRow("x", 90, 20),
                                        FakeRow("x", 80, 40)};
  absl::StatusOr<EvalResult> mean = AverageEvalResults(rows);
  ASSERT_TRUE(mean.ok()) << mean.status();
  EXPECT_DOUBLE_EQ(mean->keyframe_percent, 30);
  EXPECT_EQ(mean->frames, 200);
  EXPECT_DOUBLE_EQ(mean->true_macs_ratio, 0.25);
  EXPECT_FALSE(AverageEvalResults({}).ok());
  EXPECT_EQ(LambdaText(3e-4), "3e-04");
  EXPECT_EQ(Signed(0.25), "+0.25");
  EXPECT_EQ(Signed(-1.5), "-1.50");
}

TEST(HelperProcessTest, WaitGivesTheCoresBack) {
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  pid_t pid = 0;
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  ASSERT_EQ(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv, environ), 0);
  HelperProcess helper(pid, 3);
  EXPECT_TRUE(helper.running());
  EXPECT_TRUE(helper.Wait().ok());
  EXPECT_FALSE(helper.running());
  EXPECT_EQ(at::get_num_threads(), 3);

  // A helper that fails still gives them back, and says how it ended.
  at::set_num_threads(1);
  char* fail[] = {const_cast<char*>("/bin/false"), nullptr};
  ASSERT_EQ(::posix_spawn(&pid, fail[0], nullptr, nullptr, fail, environ), 0);
  HelperProcess failing(pid, 2);
  const absl::Status status = failing.Wait();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(Has(std::string(status.message()), "exited with 1")) << status;
  EXPECT_EQ(at::get_num_threads(), 2);
  at::set_num_threads(before);
}

TEST(ExperimentTest, BadOptionsAreErrorsNamingThem) {
  ExperimentOptions options;
  options.work_dir = TestDir("bad");
  options.scale = "smoke";
  options.dataset = "coco";
  absl::StatusOr<Experiment> e = Experiment::Create("t", options);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(e.status()));
  EXPECT_TRUE(Has(std::string(e.status().message()), "coco"));
  options.dataset = "penn_action";
  e = Experiment::Create("t", options);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Has(std::string(e.status().message()), "--data_root"));
  options.data_root = TestDir("no_such_dir");
  e = Experiment::Create("t", options);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Has(std::string(e.status().message()), "no_such_dir"));
  options.dataset = "synthpose";
  e = Experiment::Create("t", options);
  ASSERT_FALSE(e.ok());  // SynthPose is generated, not given
  options.data_root.clear();
  options.scale = "huge";
  EXPECT_FALSE(Experiment::Create("t", options).ok());
}

absl::StatusOr<nlohmann::json> Manifest(const TrainedModel& trained) {
  const std::string path =
      trained.path.substr(0, trained.path.size() - 5) + ".json";
  MAPN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return nlohmann::json::parse(text);
}

TEST(CheckpointCacheTest, TrainingIsCachedAndChainsInitialisation) {
  absl::StatusOr<Experiment> exp = Experiment::Create("cache", SmokeOptions());
  ASSERT_TRUE(exp.ok()) << exp.status();
  EXPECT_FALSE(TrainBaseline(*exp).ok());  // before UseSplit
  ASSERT_TRUE(exp->UseSplit(1).ok());
  EXPECT_FALSE(exp->UseSplit(2).ok());
  ASSERT_TRUE(exp->UseSplit(1).ok());
  absl::StatusOr<TrainedModel> sb = TrainBaseline(*exp);
  ASSERT_TRUE(sb.ok()) << sb.status();
  EXPECT_TRUE(FileExists(sb->path));
  EXPECT_FALSE(sb->cached);
  absl::StatusOr<TrainedModel> again = TrainBaseline(*exp);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->path, sb->path);
  // The key names the model, not the text that chose it: depth 18 is the
  // scale's already.
  absl::StatusOr<TrainedModel> spelt =
      TrainBaseline(*exp, {"extractor.depth=18"});
  ASSERT_TRUE(spelt.ok()) << spelt.status();
  EXPECT_EQ(spelt->key, sb->key);
  // Another seed is another model.
  ExperimentOptions other = SmokeOptions();
  other.seed = 2;
  absl::StatusOr<Experiment> exp2 = Experiment::Create("cache", other);
  ASSERT_TRUE(exp2.ok());
  ASSERT_TRUE(exp2->UseSplit(1).ok());
  absl::StatusOr<TrainedModel> sb2 = TrainBaseline(*exp2);
  ASSERT_TRUE(sb2.ok());
  EXPECT_NE(sb2->key, sb->key);

  absl::StatusOr<TrainedModel> shared = TrainPropagation(*exp, *sb);
  ASSERT_TRUE(shared.ok()) << shared.status();
  // A stage-3 model initialised from the shared stage 2 starts from its
  // extractor: after one gate step (everything but the gate frozen) the
  // extractors are equal.
  absl::StatusOr<TrainedModel> gate =
      exp->Train<model::MapnGateNoPe>({.stages = {kStage3}, .init = *shared});
  ASSERT_TRUE(gate.ok()) << gate.status();
  absl::StatusOr<model::ModelFile> a = model::ReadModelFile(shared->path);
  absl::StatusOr<model::ModelFile> b = model::ReadModelFile(gate->path);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->composition, "gate_no_pe");
  int compared = 0;
  for (const auto& [name, tensor] : a->tensors) {
    if (name.rfind("extractor.", 0) != 0) continue;
    for (const auto& [other_name, other] : b->tensors) {
      if (other_name == name) {
        EXPECT_TRUE(at::equal(tensor, other)) << name;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 10);
  // The manifest records the recipe: the scale's lambda for the learned
  // gate, the trainer's default for the Simple Baseline.
  absl::StatusOr<nlohmann::json> gate_manifest = Manifest(*gate);
  ASSERT_TRUE(gate_manifest.ok()) << gate_manifest.status();
  EXPECT_EQ((*gate_manifest)["version"], kRecipeVersion);
  EXPECT_EQ((*gate_manifest)["init"], shared->key);
  EXPECT_DOUBLE_EQ(
      (*gate_manifest)["stages"][0]["options"]["gate_lambda"].get<double>(),
      exp->scale().gate_lambda);
  // A mismatched init (a 34-layer baseline into an 18-layer MAPN) fails
  // naming the checkpoint.
  absl::StatusOr<TrainedModel> sb34 =
      TrainBaseline(*exp, {"extractor.depth=34"});
  ASSERT_TRUE(sb34.ok());
  EXPECT_NE(sb34->key, sb->key);
  absl::StatusOr<TrainedModel> wrong =
      exp->Train<model::Mapn>({.stages = {kStage2}, .init = *sb34});
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(Has(std::string(wrong.status().message()), sb34->path))
      << wrong.status();
}

TEST(CheckpointCacheTest, TheSpecMustFitTheComposition) {
  absl::StatusOr<Experiment> exp = Experiment::Create("rules", SmokeOptions());
  ASSERT_TRUE(exp.ok()) << exp.status();
  ASSERT_TRUE(exp->UseSplit(1).ok());
  // A lambda for a policy that learns nothing is a mistake, not a no-op.
  absl::StatusOr<TrainedModel> fixed = exp->Train<model::FixedIntervalWarp>(
      {.stages = {kStage4}, .gate_lambda = 1e-3});
  ASSERT_FALSE(fixed.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(fixed.status()));
  EXPECT_TRUE(Has(std::string(fixed.status().message()), "fixed_interval"))
      << fixed.status();
  // A setting the composition has no field for names the field.
  absl::StatusOr<TrainedModel> mapn = exp->Train<model::Mapn>(
      {.stages = {kStage4}, .settings = {"policy.interval=3"}});
  ASSERT_FALSE(mapn.ok());
  EXPECT_TRUE(Has(std::string(mapn.status().message()), "interval"))
      << mapn.status();
  EXPECT_FALSE(exp->Train<model::Mapn>({}).ok());  // no stage
}

TEST(CalibrationTest, EnergyThresholdFollowsTheRateOnTrainingWindows) {
  absl::StatusOr<Experiment> exp = Experiment::Create("calib", SmokeOptions());
  ASSERT_TRUE(exp.ok());
  EXPECT_FALSE(exp->CalibrateEnergyThreshold(40).ok());  // before UseSplit
  ASSERT_TRUE(exp->UseSplit(1).ok());
  absl::StatusOr<double> low = exp->CalibrateEnergyThreshold(0);
  absl::StatusOr<double> mid = exp->CalibrateEnergyThreshold(40);
  absl::StatusOr<double> high = exp->CalibrateEnergyThreshold(100);
  ASSERT_TRUE(low.ok() && mid.ok() && high.ok()) << mid.status();
  EXPECT_GT(*low, *mid);
  EXPECT_GT(*mid, *high);
  EXPECT_GE(*high, 0);
}

// An ablation that exists only in this file: the ConvLSTM without the
// motion warp, fed features of every frame (Table 1 has it without the
// warp only for keyframe features, row a).
using NoWarpEveryFrame = model::SimpleBaselineComposition<
    "test_nowarp_every_frame", model::NoWarpConvLstm, model::AlwaysExtract>;

TEST(AblationTest, ACompositionDefinedOnlyHereTrainsAndEvaluates) {
  absl::StatusOr<Experiment> exp =
      Experiment::Create("own_ablation", SmokeOptions());
  ASSERT_TRUE(exp.ok()) << exp.status();
  ASSERT_TRUE(exp->UseSplit(1).ok());
  absl::StatusOr<TrainedModel> sb = TrainBaseline(*exp);
  ASSERT_TRUE(sb.ok()) << sb.status();

  const TableRow row = Row<NoWarpEveryFrame>{"f", {"yes", "no", "no"}};
  EXPECT_EQ(row.composition, "test_nowarp_every_frame");
  EXPECT_FALSE(row.learned_policy);
  EXPECT_FALSE(row.paper.has_value());
  absl::StatusOr<TrainedModel> trained =
      row.train(*exp, {.stages = {kStage2, kStage4}, .init = *sb});
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_EQ(trained->composition, "test_nowarp_every_frame");
  const model::CompositionEntry* entry =
      exp->compositions().Find("test_nowarp_every_frame");
  ASSERT_NE(entry, nullptr);
  EXPECT_FALSE(entry->learned_policy);

  // The checkpoint names the composition; only a table that has it loads
  // it, and the scale's settings reached the fields it has.
  absl::StatusOr<model::AnyPipeline> loaded =
      model::LoadPipeline(trained->path, exp->compositions());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->composition(), "test_nowarp_every_frame");
  EXPECT_EQ(loaded->input_size(), 64);
  EXPECT_TRUE(Has(loaded->options_json(), "\"kernel\":1"))
      << loaded->options_json();
  EXPECT_TRUE(Has(loaded->options_json(), "\"width\":16"))
      << loaded->options_json();
  absl::StatusOr<model::AnyPipeline> unknown =
      model::LoadPipeline(trained->path, model::DefaultCompositions());
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(
      Has(std::string(unknown.status().message()), "test_nowarp_every_frame"))
      << unknown.status();

  absl::StatusOr<EvalResult> result = exp->Evaluate(*trained, "f");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->frames, 0);
  EXPECT_DOUBLE_EQ(result->keyframe_percent, 100);  // AlwaysExtract
  EXPECT_GE(result->pck.mean, 0);
  EXPECT_LE(result->pck.mean, 100);

  absl::StatusOr<TrainedModel> again =
      row.train(*exp, {.stages = {kStage2, kStage4}, .init = *sb});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->path, trained->path);
}

TEST(AblationTest, ANameTakenByAnotherCompositionIsRefused) {
  using NotMapn =
      model::SimpleBaselineComposition<"mapn", model::NoWarpConvLstm,
                                       model::AlwaysExtract>;
  absl::StatusOr<Experiment> exp =
      Experiment::Create("name_clash", SmokeOptions());
  ASSERT_TRUE(exp.ok()) << exp.status();
  EXPECT_TRUE(exp->AddComposition<model::Mapn>().ok());  // known already
  const absl::Status clash = exp->AddComposition<NotMapn>();
  EXPECT_TRUE(absl::IsAlreadyExists(clash)) << clash;
}

}  // namespace
}  // namespace mapn::experiments
