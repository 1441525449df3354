// The trainer on tiny compositions and a tiny SynthPose set: each stage
// lowers its loss and changes exactly the parameters it should, a resumed
// run ends bit for bit where an uninterrupted one does (within a stage and
// across stages), progress reaches stderr, and bad options or mismatched
// models are errors naming the problem.
#include "mapn/train/trainer.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/compositions.h"
#include "mapn/testing/test_data.h"
#include "mapn/train/pose_windows.h"
#include "mapn/train/training_state.h"
#include "mapn/video/test_clips.h"

namespace mapn::train {
namespace {

using mapn::testing::TestPath;
using mapn::testing::TinyOptions;

// The trainer takes any composition through model::AnyPipeline; these
// tests hold typed models and hand them over.
template <typename Model>
model::AnyPipeline Any(Model& model) {
  return model::AnyPipeline(model, "test");
}

template <typename Model>
absl::StatusOr<TrainReport> Train(Model& model, PoseWindows& data,
                                  const TrainOptions& options) {
  return TrainStage(Any(model), data, options);
}

std::map<std::string, at::Tensor> Snapshot(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, t] : model::ModuleTensors(m)) out[name] = t.clone();
  return out;
}

// Names of the tensors that differ between two snapshots.
std::vector<std::string> Changed(const std::map<std::string, at::Tensor>& a,
                                 const std::map<std::string, at::Tensor>& b) {
  std::vector<std::string> out;
  for (const auto& [name, t] : a) {
    if (!at::equal(t, b.at(name))) out.push_back(name);
  }
  return out;
}

bool AllStartWith(const std::vector<std::string>& names, const std::string& p) {
  for (const std::string& n : names) {
    if (n.rfind(p, 0) != 0) return false;
  }
  return true;
}

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<PoseDataset> synth =
        mapn::testing::MakeTinySynthPose(TestPath("trainer_synth"), 3);
    ASSERT_TRUE(synth.ok()) << synth.status();
    absl::StatusOr<PoseWindows> windows =
        PoseWindows::Create(*std::move(synth), {.input_size = 64});
    ASSERT_TRUE(windows.ok()) << windows.status();
    windows_ = new PoseWindows(*std::move(windows));
  }
  static void TearDownTestSuite() {
    delete windows_;
    windows_ = nullptr;
  }

  static TrainOptions Quick(Stage stage, int64_t epochs, int64_t steps) {
    TrainOptions o = StageDefaults(stage);
    o.epochs = epochs;
    o.batch_size = 2;
    o.max_steps_per_epoch = steps;
    o.quiet = true;
    return o;
  }

  static PoseWindows* windows_;
};

PoseWindows* TrainerTest::windows_ = nullptr;

// Runs `options` on `model`, returning the loss of every step.
template <typename Model>
std::vector<double> RunAndRecord(
    Model& model, PoseWindows& data, TrainOptions options,
    std::vector<double>* keyframe_rates = nullptr) {
  std::vector<double> losses;
  options.on_step = [&](const StepReport& r) {
    losses.push_back(r.loss);
    if (keyframe_rates) keyframe_rates->push_back(r.keyframe_rate);
  };
  const absl::StatusOr<TrainReport> report = Train(model, data, options);
  EXPECT_TRUE(report.ok()) << report.status();
  return losses;
}

double Mean(const std::vector<double>& v, size_t begin, size_t end) {
  double s = 0;
  for (size_t i = begin; i < end; ++i) s += v[i];
  return s / static_cast<double>(end - begin);
}

TEST_F(TrainerTest, Stage1TrainsExtractorAndHeadAndLowersTheLoss) {
  at::manual_seed(1);
  model::Mapn model(TinyOptions<model::Mapn>());
  const auto before = Snapshot(*model);
  TrainOptions options = Quick(Stage::kSingleFrame, 3, 4);
  options.augment = NoAugmentation();
  const std::vector<double> losses = RunAndRecord(model, *windows_, options);
  ASSERT_EQ(losses.size(), 12u);
  EXPECT_LT(Mean(losses, 8, 12), 0.7 * Mean(losses, 0, 4));
  const std::vector<std::string> changed = Changed(before, Snapshot(*model));
  for (const auto& [name, t] : before) {
    const bool trained =
        name.rfind("extractor.", 0) == 0 || name.rfind("head.", 0) == 0;
    const bool did =
        std::find(changed.begin(), changed.end(), name) != changed.end();
    if (!trained) {
      EXPECT_FALSE(did) << name;
    }
  }
  EXPECT_GT(changed.size(), 10u);
  EXPECT_FALSE(model->is_training());
  for (const at::Tensor& p : model->parameters())
    EXPECT_TRUE(p.requires_grad());
}

TEST_F(TrainerTest, Stage2TrainsPropagatorAndHeadWithTheExtractorFrozen) {
  at::manual_seed(2);
  model::Mapn model(TinyOptions<model::Mapn>());
  const auto before = Snapshot(*model);
  TrainOptions options = Quick(Stage::kPropagation, 3, 4);
  options.augment = NoAugmentation();
  std::vector<double> rates;
  const std::vector<double> losses =
      RunAndRecord(model, *windows_, options, &rates);
  ASSERT_EQ(losses.size(), 12u);
  EXPECT_LT(Mean(losses, 8, 12), 0.7 * Mean(losses, 0, 4));
  const std::vector<std::string> changed = Changed(before, Snapshot(*model));
  bool propagator = false;
  for (const std::string& name : changed) {
    EXPECT_TRUE(name.rfind("propagator.", 0) == 0 ||
                name.rfind("head.", 0) == 0)
        << name;
    propagator |= name.rfind("propagator.", 0) == 0;
  }
  EXPECT_TRUE(propagator);
  // Random decisions with keep probability 0.3.
  EXPECT_NEAR(Mean(rates, 0, rates.size()), 0.3, 0.12);
}

TEST_F(TrainerTest, Stage3ChangesOnlyTheGate) {
  at::manual_seed(3);
  model::Mapn model(TinyOptions<model::Mapn>());
  const auto before = Snapshot(*model);
  TrainOptions options = Quick(Stage::kGate, 3, 4);
  options.gate_lambda = 1.0;  // the sparsity term dominates: the gate closes
  options.learning_rate = 1e-2;
  std::vector<double> rates;
  const std::vector<double> losses =
      RunAndRecord(model, *windows_, options, &rates);
  ASSERT_EQ(losses.size(), 12u);
  EXPECT_LT(Mean(losses, 8, 12), 0.7 * Mean(losses, 0, 4));
  EXPECT_LT(Mean(rates, 8, 12), Mean(rates, 0, 4));
  const std::vector<std::string> changed = Changed(before, Snapshot(*model));
  EXPECT_FALSE(changed.empty());
  EXPECT_TRUE(AllStartWith(changed, "policy.")) << changed.front();
}

TEST_F(TrainerTest, Stage4TrainsEverything) {
  at::manual_seed(4);
  model::Mapn model(TinyOptions<model::Mapn>());
  const auto before = Snapshot(*model);
  TrainOptions options = Quick(Stage::kJoint, 3, 4);
  options.augment = NoAugmentation();
  options.learning_rate = 1e-3;
  const std::vector<double> losses = RunAndRecord(model, *windows_, options);
  ASSERT_EQ(losses.size(), 12u);
  EXPECT_LT(Mean(losses, 8, 12), 0.7 * Mean(losses, 0, 4));
  const std::vector<std::string> changed = Changed(before, Snapshot(*model));
  for (const char* part : {"extractor.", "propagator.", "policy.", "head."}) {
    EXPECT_TRUE(std::any_of(
        changed.begin(), changed.end(),
        [&](const std::string& n) { return n.rfind(part, 0) == 0; }))
        << part;
  }
}

// Trains `stage` for 2 epochs uninterrupted and as 1 + 1 with a resume into
// a differently initialised model; both must end with identical tensors.
void ExpectResumeIsExact(PoseWindows& data, Stage stage,
                         const std::string& name) {
  TrainOptions options = StageDefaults(stage);
  options.epochs = 2;
  options.batch_size = 2;
  options.max_steps_per_epoch = 2;
  options.quiet = true;
  options.seed = 11;

  at::manual_seed(5);
  model::Mapn straight(TinyOptions<model::Mapn>());
  options.checkpoint_path = TestPath(name + "_straight.state");
  const absl::StatusOr<TrainReport> a = Train(straight, data, options);
  ASSERT_TRUE(a.ok()) << a.status();

  at::manual_seed(5);
  model::Mapn first(TinyOptions<model::Mapn>());
  options.checkpoint_path = TestPath(name + "_split.state");
  options.epochs = 1;
  ASSERT_TRUE(Train(first, data, options).ok());

  at::manual_seed(99);  // other initial weights: all must come from the file
  model::Mapn resumed(TinyOptions<model::Mapn>());
  options.epochs = 2;
  options.resume = true;
  const absl::StatusOr<TrainReport> b = Train(resumed, data, options);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->first_epoch, 1);
  EXPECT_EQ(b->steps, 2);
  EXPECT_EQ(a->epoch_losses, b->epoch_losses);
  const std::vector<std::string> diff =
      Changed(Snapshot(*straight), Snapshot(*resumed));
  EXPECT_TRUE(diff.empty())
      << diff.size() << " tensors differ, e.g. " << diff.front();
  // The per-epoch files agree as well.
  const TrainingState sa =
      ReadTrainingState(TestPath(name + "_straight.state")).value();
  const TrainingState sb =
      ReadTrainingState(TestPath(name + "_split.state")).value();
  ASSERT_EQ(sa.optimizer.size(), sb.optimizer.size());
  for (size_t i = 0; i < sa.optimizer.size(); ++i) {
    EXPECT_EQ(sa.optimizer[i].step, sb.optimizer[i].step);
    EXPECT_TRUE(
        at::equal(sa.optimizer[i].exp_avg_sq, sb.optimizer[i].exp_avg_sq));
  }
}

TEST_F(TrainerTest, ResumeReachesTheSameWeights) {
  // Stage 2: random decisions and augmentation; stage 4: the gate's noise
  // and batch norm in training mode everywhere.
  ExpectResumeIsExact(*windows_, Stage::kPropagation, "resume2");
  ExpectResumeIsExact(*windows_, Stage::kJoint, "resume4");
}

TEST_F(TrainerTest, AllStagesResumeAcrossStages) {
  model::Mapn probe(TinyOptions<model::Mapn>());
  const std::vector<Stage> stages = StagesFor(Any(probe));
  ASSERT_EQ(stages.size(), 4u);
  std::vector<TrainOptions> all;
  for (Stage s : stages) all.push_back(Quick(s, 1, 1));

  at::manual_seed(6);
  model::Mapn straight(TinyOptions<model::Mapn>());
  for (TrainOptions& o : all)
    o.checkpoint_path = TestPath("all_straight.state");
  absl::StatusOr<std::vector<TrainReport>> a =
      TrainStages(Any(straight), *windows_, all);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 4u);

  // Interrupted after stage 2, resumed with the full list.
  at::manual_seed(6);
  model::Mapn split(TinyOptions<model::Mapn>());
  for (TrainOptions& o : all) o.checkpoint_path = TestPath("all_split.state");
  const std::vector<TrainOptions> first_two(all.begin(), all.begin() + 2);
  ASSERT_TRUE(TrainStages(Any(split), *windows_, first_two).ok());
  model::Mapn resumed(TinyOptions<model::Mapn>());
  for (TrainOptions& o : all) o.resume = true;
  absl::StatusOr<std::vector<TrainReport>> b =
      TrainStages(Any(resumed), *windows_, all);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->size(), 3u);  // stage 2 (already finished), 3, 4
  EXPECT_EQ((*b)[0].steps, 0);
  EXPECT_TRUE(Changed(Snapshot(*straight), Snapshot(*resumed)).empty());
}

TEST_F(TrainerTest, StagesFollowTheComposition) {
  model::PerFrameSimpleBaseline baseline(
      TinyOptions<model::PerFrameSimpleBaseline>());
  model::IFrameOnlyWarp iframe(TinyOptions<model::IFrameOnlyWarp>());
  model::ResidualEnergyWarp energy(TinyOptions<model::ResidualEnergyWarp>());
  EXPECT_EQ(StagesFor(Any(baseline)), std::vector<Stage>{Stage::kSingleFrame});
  const std::vector<Stage> no_gate = {Stage::kSingleFrame, Stage::kPropagation,
                                      Stage::kJoint};
  EXPECT_EQ(StagesFor(Any(iframe)), no_gate);
  EXPECT_EQ(StagesFor(Any(energy)), no_gate);

  // A training-free policy makes its own decisions in stage 2: the keyframe
  // only, for IFrameOnlyWarp.
  std::vector<double> rates;
  RunAndRecord(iframe, *windows_, Quick(Stage::kPropagation, 1, 1), &rates);
  ASSERT_EQ(rates.size(), 1u);
  EXPECT_EQ(rates[0], 0.0);
}

TEST_F(TrainerTest, ProgressGoesToStderr) {
  model::PerFrameSimpleBaseline model(
      TinyOptions<model::PerFrameSimpleBaseline>());
  TrainOptions options = Quick(Stage::kSingleFrame, 1, 2);
  options.quiet = false;
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(Train(model, *windows_, options).ok());
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("stage 1 (single frame) epoch 1/1 step 2/2"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("windows/s"), std::string::npos) << err;
  EXPECT_NE(err.find("ETA"), std::string::npos) << err;
}

TEST_F(TrainerTest, BadOptionsAndMismatchesAreErrors) {
  model::Mapn model(TinyOptions<model::Mapn>());
  auto message = [&](const TrainOptions& o) {
    return std::string(Train(model, *windows_, o).status().message());
  };
  TrainOptions o = Quick(Stage::kSingleFrame, 1, 1);
  o.epochs = 0;
  EXPECT_NE(message(o).find("epochs"), std::string::npos);
  o = Quick(Stage::kSingleFrame, 1, 1);
  o.learning_rate = -1;
  EXPECT_NE(message(o).find("learning_rate"), std::string::npos);
  o = Quick(Stage::kSingleFrame, 1, 1);
  o.keep_probability = 2;
  EXPECT_NE(message(o).find("keep_probability"), std::string::npos);
  o = Quick(Stage::kSingleFrame, 1, 1);
  o.augment.rotation_degrees = -3;
  EXPECT_NE(message(o).find("rotation_degrees"), std::string::npos);
  o = Quick(Stage::kSingleFrame, 1, 1);
  o.resume = true;
  EXPECT_NE(message(o).find("checkpoint_path"), std::string::npos);
  EXPECT_FALSE(StageFromNumber(5).ok());

  model::IFrameOnlyWarp iframe(TinyOptions<model::IFrameOnlyWarp>());
  const absl::Status gate =
      Train(iframe, *windows_, Quick(Stage::kGate, 1, 1)).status();
  EXPECT_EQ(gate.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(gate.message().find("training-free"), absl::string_view::npos);
  model::PerFrameSimpleBaseline baseline(
      TinyOptions<model::PerFrameSimpleBaseline>());
  EXPECT_EQ(Train(baseline, *windows_, Quick(Stage::kPropagation, 1, 1))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);

  model::Mapn::Options big = TinyOptions<model::Mapn>();
  big.input_size = 96;
  model::Mapn wrong_size(big);
  EXPECT_NE(
      std::string(Train(wrong_size, *windows_, Quick(Stage::kSingleFrame, 1, 1))
                      .status()
                      .message())
          .find("input_size"),
      std::string::npos);
  model::Mapn::Options jhmdb = TinyOptions<model::Mapn>();
  jhmdb.head.out_channels = 15;
  model::Mapn wrong_joints(jhmdb);
  EXPECT_NE(std::string(
                Train(wrong_joints, *windows_, Quick(Stage::kSingleFrame, 1, 1))
                    .status()
                    .message())
                .find("15"),
            std::string::npos);

  // A resume with another recipe, or into another model, names the problem.
  TrainOptions first = Quick(Stage::kSingleFrame, 1, 1);
  first.checkpoint_path = TestPath("mismatch.state");
  ASSERT_TRUE(Train(model, *windows_, first).ok());
  TrainOptions changed = first;
  changed.resume = true;
  changed.epochs = 2;
  changed.learning_rate = 5e-4;
  const std::string recipe = message(changed);
  EXPECT_NE(recipe.find("learning_rate"), std::string::npos) << recipe;
  TrainOptions other_stage = first;
  other_stage.stage = Stage::kJoint;
  other_stage.resume = true;
  EXPECT_NE(message(other_stage).find("stage 1"), std::string::npos);
  TrainOptions into_baseline = first;
  into_baseline.resume = true;
  const absl::Status type = Train(baseline, *windows_, into_baseline).status();
  EXPECT_NE(type.message().find("not a"), absl::string_view::npos) << type;
}

}  // namespace
}  // namespace mapn::train
