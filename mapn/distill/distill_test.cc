// The teacher cache, the loss and the distillation stages on two tiny
// SynthPose clips made at test time, with a random-weight MoveNet Lightning
// as the teacher (so no model cache is needed), and the pretrained
// save/load round trip where the model cache is present.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mapn/distill/distill_data.h"
#include "mapn/distill/distiller.h"
#include "mapn/estimate/batch.h"
#include "mapn/estimate/box_source.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/compositions.h"
#include "mapn/movenet/movenet.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/testing/test_data.h"
#include "mapn/tfjs/model_files.h"
#include "mapn/train/training_state.h"

namespace mapn::distill {
namespace {

namespace fs = std::filesystem;
using model::AnyPipeline;
using train::Stage;

std::string TestDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const fs::path dir = fs::path(tmp != nullptr ? tmp : "/tmp") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// A random-weight Lightning teacher drawn from `seed`.
Teacher RandomTeacher(uint64_t seed) {
  at::manual_seed(seed);
  movenet::MoveNetOptions options{.variant = movenet::kLightning};
  movenet::MoveNetEncoder encoder(options);
  movenet::MoveNetHead head(options);
  return Teacher::FromModules(encoder, head).value();
}

// The student `composition` with the teacher's encoder and head.
AnyPipeline StudentOf(const Teacher& teacher,
                      const std::string& composition = "movenet_mapn",
                      const std::vector<std::string>& settings = {}) {
  model::PipelineOptionValues values;
  for (const char* s : {"extractor.variant=lightning", "head.variant=lightning",
                        "input_size=192"}) {
    EXPECT_TRUE(model::ApplyOptionOverride(s, values).ok());
  }
  for (const std::string& s : settings) {
    EXPECT_TRUE(model::ApplyOptionOverride(s, values).ok()) << s;
  }
  at::manual_seed(7);
  AnyPipeline student =
      model::DefaultCompositions().Create(composition, values).value();
  std::vector<model::NamedTensor> tensors;
  for (auto& [name, t] : model::ModuleTensors(*teacher.encoder)) {
    tensors.emplace_back("extractor." + name, t);
  }
  for (auto& [name, t] : model::ModuleTensors(*teacher.head)) {
    tensors.emplace_back("head." + name, t);
  }
  model::TensorMatching matching;
  matching.may_be_absent = [](const std::string& n) {
    return n.rfind("extractor.", 0) != 0 && n.rfind("head.", 0) != 0;
  };
  EXPECT_TRUE(
      model::AssignTensors(student.module(), tensors, "teacher", matching)
          .ok());
  student.module().eval();
  return student;
}

class DistillTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clips_ = new std::string(TestDir("distill_clips"));
    ASSERT_TRUE(testing::MakeTinySynthPose(*clips_, 2).ok());
  }
  static void TearDownTestSuite() { delete clips_; }

  std::vector<BatchVideo> Videos() const {
    absl::StatusOr<std::vector<BatchVideo>> videos =
        ListVideoDirectory(*clips_);
    EXPECT_TRUE(videos.ok()) << videos.status();
    // The tiny set also writes other conversions of its clips; one each.
    std::vector<BatchVideo> mp4;
    for (const BatchVideo& v : *videos) {
      if (v.path.find("mpeg4_gop12") != std::string::npos) mp4.push_back(v);
    }
    EXPECT_EQ(mp4.size(), 2u);
    return mp4;
  }

  absl::StatusOr<DistillData> Build(const Teacher& teacher,
                                    const std::string& cache,
                                    bool keep_frames = false) const {
    DistillDataOptions options;
    options.cache_dir = cache;
    options.quiet = true;
    options.keep_frames = keep_frames;
    return DistillData::Build(Videos(), teacher, BoxSource::WholeFrame(),
                              "whole frame", options);
  }

  static std::string* clips_;
};
std::string* DistillTest::clips_ = nullptr;

TEST_F(DistillTest, TeacherCacheIsWrittenReusedAndInvalidated) {
  const Teacher teacher = RandomTeacher(1);
  const std::string cache = TestDir("cache_reuse");
  absl::StatusOr<DistillData> first = Build(teacher, cache);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->videos().size(), 2u);
  EXPECT_FALSE(first->videos()[0].from_cache);
  EXPECT_GT(first->size(), 2);
  EXPECT_EQ(first->valid_frames(),
            first->videos()[0].frames + first->videos()[1].frames);
  const DistillWindow& w = first->window(0);
  EXPECT_EQ(w.features.scalar_type(), at::kHalf);
  EXPECT_EQ(w.features.sizes(), (std::vector<int64_t>{12, 24, 48, 48}));
  EXPECT_EQ(w.motion.sizes(), (std::vector<int64_t>{12, 2, 192, 192}));

  // The features are the teacher encoder's on the window's crop.
  absl::StatusOr<DistillBatch> batch = first->Batch(std::vector<int64_t>{0});
  ASSERT_TRUE(batch.ok()) << batch.status();

  // Read back: the same windows, from the cache.
  absl::StatusOr<DistillData> again = Build(teacher, cache);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->videos()[0].from_cache);
  EXPECT_TRUE(again->videos()[1].from_cache);
  ASSERT_EQ(again->size(), first->size());
  EXPECT_TRUE(at::equal(again->window(3).features, first->window(3).features));
  EXPECT_TRUE(at::equal(again->window(3).residual, first->window(3).residual));
  EXPECT_EQ(again->key(), first->key());

  // Another teacher: rebuilt, with other features.
  const Teacher other = RandomTeacher(2);
  EXPECT_NE(other.key, teacher.key);
  absl::StatusOr<DistillData> retaught = Build(other, cache);
  ASSERT_TRUE(retaught.ok()) << retaught.status();
  EXPECT_FALSE(retaught->videos()[0].from_cache);
  EXPECT_FALSE(
      at::equal(retaught->window(0).features, first->window(0).features));
  EXPECT_NE(retaught->key(), first->key());

  // A video that changed (its mtime): only that one is rebuilt.
  const std::string touched = Videos()[1].path;
  struct utimbuf times = {1000000000, 1000000000};
  ASSERT_EQ(::utime(touched.c_str(), &times), 0);
  absl::StatusOr<DistillData> after = Build(other, cache);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->videos()[0].from_cache);
  EXPECT_FALSE(after->videos()[1].from_cache);
}

TEST_F(DistillTest, RefusesFoldersWithoutReadableVideo) {
  const std::string dir = TestDir("junk_videos");
  std::ofstream(dir + "/broken.mp4") << "not a video";
  std::ofstream(dir + "/empty.avi");
  absl::StatusOr<std::vector<BatchVideo>> videos = ListVideoDirectory(dir);
  ASSERT_TRUE(videos.ok()) << videos.status();
  DistillDataOptions options;
  options.cache_dir = TestDir("junk_cache");
  options.quiet = true;
  const absl::StatusOr<DistillData> data =
      DistillData::Build(*videos, RandomTeacher(1), BoxSource::WholeFrame(),
                         "whole frame", options);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(data.status().message().find("no video could be read"),
            std::string::npos)
      << data.status();
  EXPECT_NE(data.status().message().find("broken.mp4"), std::string::npos);
  EXPECT_NE(data.status().message().find("empty.avi"), std::string::npos);

  // No cache directory, no videos.
  options.cache_dir.clear();
  EXPECT_FALSE(DistillData::Build(Videos(), RandomTeacher(1),
                                  BoxSource::WholeFrame(), "whole frame",
                                  options)
                   .ok());
}

TEST_F(DistillTest, RefusesAStudentOfAnotherJointSetOrVariant) {
  const Teacher teacher = RandomTeacher(1);
  absl::StatusOr<AnyPipeline> synthpose = testing::MakeTinyModel("mapn");
  ASSERT_TRUE(synthpose.ok()) << synthpose.status();
  const absl::Status status = CheckStudent(*synthpose, teacher);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("13 joints"), std::string::npos) << status;
  EXPECT_NE(status.message().find("17"), std::string::npos) << status;

  model::PipelineOptionValues values;
  ASSERT_TRUE(model::ApplyOptionOverride("input_size=256", values).ok());
  const AnyPipeline thunder =
      model::DefaultCompositions().Create("movenet_mapn", values).value();
  const absl::Status variant = CheckStudent(thunder, teacher);
  EXPECT_EQ(variant.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(variant.message().find("thunder"), std::string::npos) << variant;

  EXPECT_TRUE(CheckStudent(StudentOf(teacher), teacher).ok());
}

TEST_F(DistillTest, ForwardOnCachedFeaturesEqualsForwardOnFrames) {
  const Teacher teacher = RandomTeacher(1);
  absl::StatusOr<DistillData> data =
      Build(teacher, TestDir("cache_forward"), /*keep_frames=*/true);
  ASSERT_TRUE(data.ok()) << data.status();
  const AnyPipeline student = StudentOf(teacher, "movenet_fixed");
  absl::StatusOr<DistillBatch> batch = data->Batch(std::vector<int64_t>{1, 0});
  ASSERT_TRUE(batch.ok()) << batch.status();
  const at::NoGradGuard no_grad;
  model::ForwardOptions cached;
  cached.features = batch->features;
  absl::StatusOr<model::ForwardResult> a =
      student.Forward(batch->inputs, cached);
  absl::StatusOr<model::ForwardResult> b = student.Forward(batch->inputs, {});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  // The cache holds float16 features: equal to their rounding.
  const double scale = b->heatmaps.abs().max().item<double>();
  EXPECT_LT((a->heatmaps - b->heatmaps).abs().max().item<double>(),
            1e-2 * scale)
      << scale;
  // Keyframes are the teacher's maps.
  const at::Tensor teacher_maps = TeacherMaps(teacher, *batch);
  EXPECT_TRUE(at::allclose(a->heatmaps.select(1, 0), teacher_maps.select(1, 0),
                           1e-4, 1e-4));

  model::ForwardOptions wrong;
  wrong.features = batch->features.narrow(2, 0, 8);
  const absl::StatusOr<model::ForwardResult> refused =
      student.Forward(batch->inputs, wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("ForwardOptions.features"),
            std::string::npos);
}

// Keyframes on every frame: the ConvLSTM resets on each, the student is
// the teacher, nothing can be learned; the stage says so and changes
// nothing rather than failing on a loss without a gradient.
TEST_F(DistillTest, EveryFrameAKeyframeHasNothingToLearn) {
  const Teacher teacher = RandomTeacher(1);
  absl::StatusOr<DistillData> data = Build(teacher, TestDir("cache_all_keys"));
  ASSERT_TRUE(data.ok()) << data.status();
  const AnyPipeline student =
      StudentOf(teacher, "movenet_fixed", {"policy.interval=1"});
  const std::vector<model::NamedTensor> before =
      model::ModuleTensors(student.module());
  std::vector<at::Tensor> copies;
  for (const auto& [name, t] : before) copies.push_back(t.clone());
  DistillOptions options;
  options.train = train::StageDefaults(Stage::kPropagation);
  options.train.epochs = 1;
  // One window a step: a full window (no padding frame to propagate into)
  // is a loss without a gradient.
  options.train.batch_size = 1;
  options.train.quiet = true;
  options.train.checkpoint_path = TestDir("all_keys") + "/m.state";
  bool full_window = false;
  for (int64_t i = 0; i < data->size(); ++i) {
    full_window = full_window || data->window(i).valid.all().item<bool>();
  }
  ASSERT_TRUE(full_window);
  ::testing::internal::CaptureStderr();
  absl::StatusOr<train::TrainReport> report =
      DistillStage(student, teacher, *data, options);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_NE(err.find("nothing to learn"), std::string::npos) << err;
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_TRUE(at::equal(before[i].second, copies[i])) << before[i].first;
  }
}

TEST(DistillLossTest, ZeroForTheTeacherAndPositiveOtherwise) {
  at::manual_seed(3);
  const at::Tensor teacher = at::randn({2, 4, 86, 6, 6});
  at::Tensor valid = at::ones({2, 4}, at::kBool);
  valid[1][3] = false;
  const at::Tensor g =
      at::tensor({1.f, 0.f, 1.f, 0.f, 1.f, 0.f, 0.f, 0.f}).view({2, 4});
  DistillOptions options;
  options.train.gate_lambda = 0.5;
  const DistillLoss same =
      ComputeDistillLoss(teacher, teacher, valid, g, options, false);
  EXPECT_EQ(same.total.item<double>(), 0.0);
  // Keyframe rate over the 5 valid P-frames: 1 of them.
  EXPECT_NEAR(same.keyframe_rate, 0.2, 1e-7);
  const DistillLoss gated =
      ComputeDistillLoss(teacher, teacher, valid, g, options, true);
  EXPECT_NEAR(gated.total.item<double>(), 0.1, 1e-7);
  // A padding frame's maps do not count.
  at::Tensor student = teacher.clone();
  student[1][3] += 5;
  EXPECT_EQ(ComputeDistillLoss(student, teacher, valid, g, options, false)
                .total.item<double>(),
            0.0);
  student[0][1] += 1;
  const DistillLoss off =
      ComputeDistillLoss(student, teacher, valid, g, options, false);
  EXPECT_GT(off.maps, 0);
  EXPECT_GT(off.geometry, 0);
}

TEST_F(DistillTest, StagesTrainOnlyTheirPartsAndResumeExactly) {
  const Teacher teacher = RandomTeacher(1);
  absl::StatusOr<DistillData> data = Build(teacher, TestDir("cache_stages"));
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(
      DistillStagesFor(StudentOf(teacher)),
      (std::vector<Stage>{Stage::kPropagation, Stage::kGate, Stage::kJoint}));
  EXPECT_EQ(DistillStagesFor(StudentOf(teacher, "movenet_fixed")),
            (std::vector<Stage>{Stage::kPropagation, Stage::kJoint}));

  const auto options_of = [](Stage stage, int epochs, const std::string& path) {
    DistillOptions o;
    o.train = train::StageDefaults(stage);
    o.train.epochs = epochs;
    o.train.batch_size = 2;
    o.train.max_steps_per_epoch = 2;
    o.train.quiet = true;
    o.train.checkpoint_path = path;
    return o;
  };
  const auto tensors_of = [](const AnyPipeline& m) {
    return model::ModuleTensors(m.module());
  };

  // Stage 2 changes the ConvLSTM only.
  const AnyPipeline student = StudentOf(teacher);
  const std::vector<model::NamedTensor> before = tensors_of(student);
  std::vector<at::Tensor> copies;
  for (const auto& [name, t] : before) copies.push_back(t.clone());
  const std::string dir = TestDir("stages");
  absl::StatusOr<train::TrainReport> report =
      DistillStage(student, teacher, *data,
                   options_of(Stage::kPropagation, 2, dir + "/straight.state"));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->epochs, 2);
  EXPECT_EQ(report->steps, 4);
  for (size_t i = 0; i < before.size(); ++i) {
    const bool changed = !at::equal(before[i].second, copies[i]);
    const bool lstm = before[i].first.rfind("propagator.", 0) == 0;
    if (before[i].second.is_floating_point() &&
        before[i].first.find("weight") != std::string::npos) {
      EXPECT_EQ(changed, lstm) << before[i].first;
    } else if (!lstm) {
      EXPECT_FALSE(changed) << before[i].first;
    }
  }

  // One epoch, then a resumed second one: the same weights, bit for bit.
  const AnyPipeline resumed = StudentOf(teacher);
  DistillOptions first = options_of(Stage::kPropagation, 1, dir + "/r.state");
  ASSERT_TRUE(DistillStage(resumed, teacher, *data, first).ok());
  DistillOptions second = options_of(Stage::kPropagation, 2, dir + "/r.state");
  second.train.resume = true;
  absl::StatusOr<train::TrainReport> rest =
      DistillStage(resumed, teacher, *data, second);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->first_epoch, 1);
  const std::vector<model::NamedTensor> a = tensors_of(student);
  const std::vector<model::NamedTensor> b = tensors_of(resumed);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
  }

  // A resume with another recipe is refused, naming what differs.
  DistillOptions other = options_of(Stage::kPropagation, 3, dir + "/r.state");
  other.train.resume = true;
  other.geometry_weight = 0.5;
  const absl::StatusOr<train::TrainReport> refused =
      DistillStage(resumed, teacher, *data, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("distill"), std::string::npos)
      << refused.status();

  // Stage 3 trains the gate, its loss carrying the keyframe rate.
  const std::vector<model::NamedTensor> lstm_before = tensors_of(resumed);
  std::vector<at::Tensor> lstm_copies;
  for (const auto& [name, t] : lstm_before) lstm_copies.push_back(t.clone());
  DistillOptions gate = options_of(Stage::kGate, 1, "");
  double rate = -1;
  gate.train.on_step = [&](const train::StepReport& r) {
    rate = r.keyframe_rate;
  };
  ASSERT_TRUE(DistillStage(resumed, teacher, *data, gate).ok());
  EXPECT_GE(rate, 0.0);
  EXPECT_LE(rate, 1.0);
  for (size_t i = 0; i < lstm_before.size(); ++i) {
    if (lstm_before[i].first.rfind("policy.", 0) == 0) continue;
    EXPECT_TRUE(at::equal(lstm_before[i].second, lstm_copies[i]))
        << lstm_before[i].first;
  }

  // Stage 1 does not exist here; the encoder is fine-tuned only with frames.
  EXPECT_FALSE(DistillStage(resumed, teacher, *data,
                            options_of(Stage::kSingleFrame, 1, ""))
                   .ok());
  DistillOptions encoder = options_of(Stage::kJoint, 1, "");
  encoder.train_encoder = true;
  const absl::StatusOr<train::TrainReport> no_frames =
      DistillStage(resumed, teacher, *data, encoder);
  ASSERT_FALSE(no_frames.ok());
  EXPECT_NE(no_frames.status().message().find("frames"), std::string::npos);
}

// The distilled parts saved without the pretrained encoder and head, and
// loaded on top of them (needs the model cache of tools/setup.sh).
TEST(PretrainedCheckpointTest, SavesOnlyWhatWasTrained) {
  if (!tfjs::FindModel("movenet-lightning").ok()) {
    GTEST_SKIP() << "no MoveNet in the model cache (tools/setup.sh fetches it)";
  }
  at::manual_seed(5);
  absl::StatusOr<AnyPipeline> student =
      movenet::MoveNetCompositionFromPretrained(model::DefaultCompositions(),
                                                "movenet_mapn", "lightning");
  ASSERT_TRUE(student.ok()) << student.status();
  const std::string path = TestDir("pretrained") + "/distilled.ckpt";
  ASSERT_TRUE(movenet::SaveOnPretrained(*student, path,
                                        {movenet::kPretrainedEncoderPrefix,
                                         movenet::kPretrainedHeadPrefix})
                  .ok());
  EXPECT_LT(fs::file_size(path), 1u << 20);
  absl::StatusOr<AnyPipeline> back =
      movenet::LoadOnPretrained(path, model::DefaultCompositions());
  ASSERT_TRUE(back.ok()) << back.status();
  const auto a = model::ModuleTensors(student->module());
  const auto b = model::ModuleTensors(back->module());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
  }
  // A SynthPose composition is refused.
  EXPECT_FALSE(movenet::MoveNetCompositionFromPretrained(
                   model::DefaultCompositions(), "mapn", "lightning")
                   .ok());
}

}  // namespace
}  // namespace mapn::distill
