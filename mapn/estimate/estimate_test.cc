// Tests of the estimation library: box sources, the estimator's geometry
// (poses land where the ground truth is), per-frame records, the JSON/CSV
// schema, the overlay video and PNGs, and the progress line.
#include <ATen/ATen.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/data/ground_truth.h"
#include "mapn/data/joint_mapping.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/video_cache.h"
#include "mapn/detect/person_detector.h"
#include "mapn/estimate/box_source.h"
#include "mapn/estimate/estimator.h"
#include "mapn/estimate/overlay.h"
#include "mapn/estimate/pose_track.h"
#include "mapn/estimate/progress.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/pose/heatmaps.h"
#include "mapn/pose/keypoints.h"
#include "mapn/testing/test_data.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/in_memory_stream_source.h"
#include "mapn/video/resample.h"
#include "mapn/video/test_clips.h"
#include "mapn/viz/png.h"
#include "nlohmann/json.hpp"

namespace mapn {
namespace {

using testing::DotPosition;
using testing::DotsSpec;

std::string TestPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The names of the files in `dir`, sorted.
std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Every PNG of `dir` is `width` x `height` RGB.
void ExpectPngSizes(const std::string& dir, int64_t width, int64_t height) {
  for (const std::string& name : ListDir(dir)) {
    absl::StatusOr<at::Tensor> png = ReadPng(dir + "/" + name);
    ASSERT_TRUE(png.ok()) << png.status();
    ASSERT_EQ(png->dim(), 3) << name;
    EXPECT_EQ(png->size(1), height) << name;
    EXPECT_EQ(png->size(2), width) << name;
  }
}

// --- BoxSource --------------------------------------------------------------

TEST(BoxSourceTest, WholeFrameIsTheSquaredFrame) {
  const BoxSource boxes = BoxSource::WholeFrame();
  EXPECT_TRUE(boxes.whole_frame());
  const Box b = boxes.ForFrame(7, 160, 120);
  EXPECT_EQ(b.x2, 160);
  EXPECT_EQ(b.y2, 120);
  const Box crop = boxes.WindowCropBox(0, 12, 160, 120);
  EXPECT_FLOAT_EQ(crop.width(), 160);
  EXPECT_FLOAT_EQ(crop.height(), 160);  // squared, no extra margin
  EXPECT_FLOAT_EQ((crop.y1 + crop.y2) / 2, 60);
}

TEST(BoxSourceTest, FixedBoxParsesAndRejectsBadSpecs) {
  absl::StatusOr<BoxSource> boxes = BoxSource::Fixed("10,20,30,40");
  ASSERT_TRUE(boxes.ok()) << boxes.status();
  const Box b = boxes->ForFrame(99, 640, 480);
  EXPECT_EQ(b.x1, 10);
  EXPECT_EQ(b.y2, 60);
  EXPECT_FALSE(BoxSource::Fixed("10,20,30").ok());
  EXPECT_FALSE(BoxSource::Fixed("a,b,c,d").ok());
  const absl::Status zero = BoxSource::Fixed("1,2,0,5").status();
  EXPECT_NE(zero.message().find("positive"), std::string::npos) << zero;
}

TEST(BoxSourceTest, BoxOutsideTheFrameIsAnErrorNamingIt) {
  absl::StatusOr<BoxSource> boxes = BoxSource::Fixed("700,10,50,50");
  ASSERT_TRUE(boxes.ok());
  const absl::Status status = boxes->Validate(640, 480);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("outside the 640x480 frame"),
            std::string::npos)
      << status;
}

TEST(BoxSourceTest, SparseCsvUsesTheNearestEarlierBox) {
  const std::string path = TestPath("boxes.csv");
  ASSERT_TRUE(WriteFileAtomically(path,
                                  "frame,x,y,w,h\n3,10,10,20,20\n"
                                  "8,50,50,10,10\n")
                  .ok());
  absl::StatusOr<BoxSource> boxes = BoxSource::FromFile(path);
  ASSERT_TRUE(boxes.ok()) << boxes.status();
  EXPECT_EQ(boxes->listed_frames(), 2);
  EXPECT_EQ(boxes->ForFrame(0, 100, 100).x1, 10);  // before the first
  EXPECT_EQ(boxes->ForFrame(7, 100, 100).x1, 10);
  EXPECT_EQ(boxes->ForFrame(8, 100, 100).x1, 50);
  EXPECT_EQ(boxes->ForFrame(1000, 100, 100).x1, 50);
}

TEST(BoxSourceTest, JsonInBothShapesAndErrorsNameTheEntry) {
  const std::string dense = TestPath("dense.json");
  ASSERT_TRUE(WriteFileAtomically(dense, "[[0,0,10,10],[1,1,10,10]]").ok());
  absl::StatusOr<BoxSource> a = BoxSource::FromFile(dense);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->ForFrame(1, 50, 50).x1, 1);

  const std::string coco = TestPath("coco.json");
  ASSERT_TRUE(
      WriteFileAtomically(coco, R"([{"frame": 4, "bbox": [5, 6, 7, 8]}])")
          .ok());
  absl::StatusOr<BoxSource> b = BoxSource::FromFile(coco);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->ForFrame(4, 50, 50).y2, 14);

  const std::string bad = TestPath("bad.json");
  ASSERT_TRUE(WriteFileAtomically(bad, "[[0,0,10,10],[1,1,10]]").ok());
  const absl::Status status = BoxSource::FromFile(bad).status();
  EXPECT_NE(status.message().find("entry 1"), std::string::npos) << status;
  EXPECT_EQ(BoxSource::FromFile(TestPath("absent.json")).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomically(TestPath("empty.json"), "[]").ok());
  EXPECT_FALSE(BoxSource::FromFile(TestPath("empty.json")).ok());
}

// --- EstimatePoses
// ------------------------------------------------------------

// A stand-in model that "sees" the dots clip perfectly: its heatmaps are the
// Gaussian targets of the true joints carried into each window's crop with
// the same box rule the estimator uses. The estimator's only job left is the
// geometry back to image pixels, which this checks.
// What the stand-in models below share: 13 joints from 128 x 128 crops as
// 32 x 32 heatmaps, a causal training-free policy, no training.
class StandInModel : public model::AnyPipeline::Interface {
 public:
  explicit StandInModel(std::string name) : Interface(std::move(name)) {}

  torch::nn::Module& module() override { return module_; }
  torch::nn::Module& extractor() override { return module_; }
  torch::nn::Module& propagator() override { return module_; }
  torch::nn::Module& policy() override { return module_; }
  torch::nn::Module& head() override { return module_; }
  model::PipelineOptionValues OptionValues() const override {
    model::PipelineOptionValues values;
    values.input_size = kInputSize;
    return values;
  }
  int64_t input_size() const override { return kInputSize; }
  int64_t joints() const override { return 13; }
  int64_t heatmap_size() const override { return kHeatmapSize; }
  bool learned_policy() const override { return false; }
  bool causal() const override { return true; }
  model::MacCount baseline_macs_per_frame() const override {
    return {10.0, 20.0};
  }
  absl::StatusOr<model::ForwardResult> Forward(
      const GopBatch& /*batch*/,
      const model::ForwardOptions& /*options*/) override {
    return absl::UnimplementedError("a stand-in does not train");
  }
  absl::StatusOr<at::Tensor> Keypoints(const at::Tensor& maps) override {
    return HeatmapKeypoints(maps, 13, kInputSize, kHeatmapSize);
  }

 protected:
  static constexpr int64_t kInputSize = 128;
  static constexpr int64_t kHeatmapSize = 32;

 private:
  torch::nn::Module module_;
};

class OracleModel final : public StandInModel {
 public:
  OracleModel(DotsSpec spec, BoxSource boxes = BoxSource::WholeFrame())
      : StandInModel("oracle"), spec_(spec), boxes_(std::move(boxes)) {}

  model::AnyPipeline PerFrameBaseline() override {
    return model::AnyPipeline(std::make_shared<OracleModel>(spec_, boxes_));
  }

  absl::StatusOr<model::RunResult> Run(const GopBatch& batch) override {
    const int64_t t_len = batch.length();
    const int64_t first = windows_seen * t_len;
    ++windows_seen;
    const Box crop =
        boxes_.WindowCropBox(first, t_len, spec_.width, spec_.height);
    const Affine2D to_source = BoxToSquare(crop, static_cast<int>(kInputSize));
    const Affine2D to_crop = *to_source.Inverse();
    at::Tensor joints = at::zeros({t_len, 13, 2});
    for (int64_t t = 0; t < t_len; ++t) {
      for (int j = 0; j < 13; ++j) {
        float x, y;
        DotPosition(spec_, static_cast<int>(first + t), j, &x, &y);
        double cx, cy;
        to_crop.Apply(x, y, &cx, &cy);
        joints[t][j][0] = static_cast<float>(cx);
        joints[t][j][1] = static_cast<float>(cy);
      }
    }
    const at::Tensor hm_xy = InputToHeatmap(joints, kInputSize, kHeatmapSize);
    HeatmapTargets targets = MakeGaussianTargets(
        hm_xy, at::ones({t_len, 13}, at::kBool), kHeatmapSize, kHeatmapSize);
    model::RunResult result;
    result.length = t_len;
    result.heatmaps = targets.heatmaps.unsqueeze(0);
    result.decisions = at::zeros({1, t_len});
    result.decisions[0][0] = 1;  // keyframe only
    for (int64_t t = 0; t < t_len; ++t) {
      result.frame_macs.push_back(t == 0 ? model::MacCount{10, 20}
                                         : model::MacCount{1, 2});
    }
    return result;
  }

  int64_t windows_seen = 0;

 private:
  DotsSpec spec_;
  BoxSource boxes_;
};

// The oracle as the estimator takes it; `oracle` gets the windows' count.
model::AnyPipeline Oracle(const DotsSpec& spec,
                          std::shared_ptr<OracleModel>* oracle = nullptr,
                          BoxSource boxes = BoxSource::WholeFrame()) {
  auto model = std::make_shared<OracleModel>(spec, std::move(boxes));
  if (oracle != nullptr) *oracle = model;
  return model::AnyPipeline(std::move(model));
}

class EstimatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_.frames = 30;  // windows of 12, 12 and a padded 6
    absl::StatusOr<PoseDataset> dots =
        testing::MakeDotsDataset(TestPath("dots"), spec_);
    ASSERT_TRUE(dots.ok()) << dots.status();
    video_ = dots->sequences[0].cached_video;
    truth_ = dots->sequences[0];
  }

  DotsSpec spec_;
  std::string video_;
  PoseSequence truth_;
};

TEST_F(EstimatorTest, PosesLandOnTheTruthThroughTheCropGeometry) {
  const model::AnyPipeline handle = Oracle(spec_);
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(video_);
  ASSERT_TRUE(source.ok()) << source.status();
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  const GroundTruth truth = GroundTruthOf(truth_, PennActionJoints());
  options.ground_truth = &truth;
  absl::StatusOr<PoseTrack> track = EstimatePoses(handle, *source, options);
  ASSERT_TRUE(track.ok()) << track.status();
  ASSERT_EQ(track->frames.size(), 30u);  // padding frames are not reported

  // One heatmap pixel is 160 / 32 = 5 image pixels; decoding is exact to a
  // quarter of one (plus the Gaussian's own rounding).
  const double tolerance = 0.3 * 160.0 / 32.0;
  for (const FramePose& f : track->frames) {
    ASSERT_EQ(f.people.size(), 1u) << f.frame_index;
    const PersonPose& p = f.people[0];
    EXPECT_EQ(p.track_id, 1);
    EXPECT_EQ(p.box_origin, PersonBoxOrigin::kGiven);
    for (int j = 0; j < 13; ++j) {
      float x, y;
      DotPosition(spec_, static_cast<int>(f.frame_index), j, &x, &y);
      EXPECT_NEAR(p.joints[j].x, x, tolerance) << f.frame_index << " " << j;
      EXPECT_NEAR(p.joints[j].y, y, tolerance) << f.frame_index << " " << j;
      EXPECT_NEAR(p.joints[j].confidence, 1.0, 0.2);
    }
  }
  EXPECT_EQ(track->frames[12].frame_index, 12);
  EXPECT_EQ(track->frames[12].window, 1);
  EXPECT_TRUE(track->frames[12].features_extracted);
  EXPECT_FALSE(track->frames[13].features_extracted);
  EXPECT_EQ(track->frames[0].type, FrameType::kI);

  const PoseTrackSummary& s = track->summary;
  EXPECT_EQ(s.frames, 30);
  EXPECT_EQ(s.keyframes, 3);
  EXPECT_NEAR(s.macs_per_frame.true_macs, (3 * 10.0 + 27 * 1.0) / 30, 1e-9);
  EXPECT_NEAR(s.macs_ratio(), s.macs_per_frame.true_macs / 10.0, 1e-9);
  ASSERT_TRUE(s.pck.has_value());
  EXPECT_DOUBLE_EQ(*s.pck, 100.0);
  EXPECT_FALSE(s.speedup().has_value());
}

TEST_F(EstimatorTest, BaselineIsTimedOnTheSameWindows) {
  std::shared_ptr<OracleModel> base_oracle;
  const model::AnyPipeline handle = Oracle(spec_);
  const model::AnyPipeline baseline = Oracle(spec_, &base_oracle);
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(video_);
  ASSERT_TRUE(source.ok());
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  absl::StatusOr<PoseTrack> track =
      EstimatePoses(handle, *source, options, &baseline);
  ASSERT_TRUE(track.ok()) << track.status();
  EXPECT_EQ(base_oracle->windows_seen, 3);
  ASSERT_TRUE(track->summary.baseline_timing.has_value());
  EXPECT_TRUE(track->summary.speedup().has_value());
}

// Estimation is written against the StreamSource concept: frames held in
// memory (no FFmpeg) give the same poses as the file they came from.
TEST_F(EstimatorTest, AnyStreamSourceGivesTheSamePoses) {
  absl::StatusOr<FfmpegStreamSource> file = FfmpegStreamSource::Open(video_);
  ASSERT_TRUE(file.ok());
  InMemoryFrames frames;
  std::vector<at::Tensor> rgb;
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> window = file->Next();
    ASSERT_TRUE(window.ok()) << window.status();
    if (!*window) break;
    for (int64_t t = 0; t < (*window)->num_valid; ++t) {
      rgb.push_back((*window)->rgb[t]);
      frames.types.push_back((*window)->frames[t].type);
    }
  }
  frames.rgb = at::stack(rgb);
  absl::StatusOr<InMemoryStreamSource> memory =
      InMemoryStreamSource::FromFrames(frames, 12);
  ASSERT_TRUE(memory.ok()) << memory.status();
  absl::StatusOr<FfmpegStreamSource> again = FfmpegStreamSource::Open(video_);
  ASSERT_TRUE(again.ok());
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  absl::StatusOr<PoseTrack> from_file =
      EstimatePoses(Oracle(spec_), *again, options);
  absl::StatusOr<PoseTrack> from_memory =
      EstimatePoses(Oracle(spec_), *memory, options);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  ASSERT_TRUE(from_memory.ok()) << from_memory.status();
  ASSERT_EQ(from_memory->frames.size(), from_file->frames.size());
  for (size_t i = 0; i < from_file->frames.size(); ++i) {
    for (int j = 0; j < 13; ++j) {
      EXPECT_FLOAT_EQ(from_memory->frames[i].people[0].joints[j].x,
                      from_file->frames[i].people[0].joints[j].x);
      EXPECT_FLOAT_EQ(from_memory->frames[i].people[0].joints[j].y,
                      from_file->frames[i].people[0].joints[j].y);
    }
  }
}

TEST_F(EstimatorTest, MismatchedJointSetAndOutsideBoxAreErrors) {
  const model::AnyPipeline handle = Oracle(spec_);
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(video_);
  ASSERT_TRUE(source.ok());
  EstimateOptions options;
  options.joint_set = JhmdbJoints();
  EXPECT_EQ(EstimatePoses(handle, *source, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.joint_set = PennActionJoints();
  options.boxes = *BoxSource::Fixed("500,500,10,10");
  const absl::Status outside = EstimatePoses(handle, *source, options).status();
  EXPECT_NE(outside.message().find("outside"), std::string::npos) << outside;
}

// `seq` cut or padded (with copies of its last frame) to `frames`.
PoseSequence WithFrames(PoseSequence seq, int64_t frames) {
  const size_t j = static_cast<size_t>(seq.num_joints);
  while (seq.num_frames < frames) {
    seq.joints.insert(seq.joints.end(), seq.joints.end() - 2 * j,
                      seq.joints.end());
    seq.visible.insert(seq.visible.end(), seq.visible.end() - j,
                       seq.visible.end());
    seq.boxes.push_back(seq.boxes.back());
    ++seq.num_frames;
  }
  seq.num_frames = frames;
  seq.joints.resize(static_cast<size_t>(frames) * j * 2);
  seq.visible.resize(static_cast<size_t>(frames) * j);
  seq.boxes.resize(static_cast<size_t>(frames));
  return seq;
}

// A Penn Action model scored against JHMDB labels of the same poses: the
// predictions are mapped onto JHMDB's 15 joints (neck and belly from the
// shoulders and hips) and every one lands; frames marked unlabelled do not
// count, whatever their labels say.
TEST_F(EstimatorTest, GroundTruthOfAnotherJointSetGoesThroughTheMapping) {
  const model::AnyPipeline handle = Oracle(spec_);
  PoseSequence jhmdb_labels =
      MapSequence(FindJointMapping(PennActionJoints(), JhmdbJoints()).value(),
                  truth_)
          .value();
  jhmdb_labels.dataset = "sub_jhmdb";
  GroundTruth truth = GroundTruthOf(jhmdb_labels, JhmdbJoints());
  truth.path = "labels.mat";
  truth.format = "JHMDB joint_positions.mat";
  for (int t = 0; t < 10; ++t) {
    truth.labelled[t] = 0;
    for (int j = 0; j < 15; ++j) {
      truth.labels.joints[(t * 15 + j) * 2] += 1000;  // would all miss
    }
  }
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  options.ground_truth = &truth;
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(video_);
  ASSERT_TRUE(source.ok());
  absl::StatusOr<PoseTrack> track = EstimatePoses(handle, *source, options);
  ASSERT_TRUE(track.ok()) << track.status();
  const PoseTrackSummary& s = track->summary;
  ASSERT_TRUE(s.pck.has_value());
  EXPECT_DOUBLE_EQ(*s.pck, 100.0);
  EXPECT_EQ(s.pck_joint_set, "jhmdb");
  EXPECT_EQ(s.pck_mapping, "penn_action predictions mapped to jhmdb");
  EXPECT_EQ(s.ground_truth,
            "labels.mat (JHMDB joint_positions.mat; 20 of 30 frames "
            "labelled)");
  const std::string summary = FormatSummary(*track);
  EXPECT_NE(summary.find("(jhmdb: penn_action predictions mapped to jhmdb, "
                         "all joints;"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("      20\n"), std::string::npos) << summary;
  const nlohmann::json doc = nlohmann::json::parse(PoseTrackJson(*track));
  EXPECT_EQ(doc["summary"]["pck_joint_set"], "jhmdb");
  EXPECT_EQ(doc["summary"]["pck_mapping"],
            "penn_action predictions mapped to jhmdb");
  // The poses themselves stay in the model's joints.
  EXPECT_EQ(doc["categories"][0]["joint_set"], "penn_action");
}

TEST_F(EstimatorTest, GroundTruthOfOtherLengthOrNoMappingIsRefused) {
  const model::AnyPipeline handle = Oracle(spec_);
  const auto run = [&](const GroundTruth& truth, const JointSet& joints) {
    absl::StatusOr<FfmpegStreamSource> source =
        FfmpegStreamSource::Open(video_);
    EXPECT_TRUE(source.ok());
    EstimateOptions options;
    options.joint_set = joints;
    options.ground_truth = &truth;
    return EstimatePoses(handle, *source, options).status();
  };
  // Labels for 20 of the 30 decoded frames: refused at frame 20.
  GroundTruth shorter =
      GroundTruthOf(WithFrames(truth_, 20), PennActionJoints());
  shorter.path = "short.mat";
  absl::Status s = run(shorter, PennActionJoints());
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("more frames than ground truth 'short.mat' "
                             "labels (20): frame 20"),
            std::string::npos)
      << s;
  // Labels for 40: refused at the end, naming both counts.
  GroundTruth longer =
      GroundTruthOf(WithFrames(truth_, 40), PennActionJoints());
  longer.path = "long.mat";
  s = run(longer, PennActionJoints());
  EXPECT_NE(s.message().find("30 decoded frames but ground truth "
                             "'long.mat' labels 40"),
            std::string::npos)
      << s;
  // A model joint set no mapping reaches.
  JointSet custom = PennActionJoints();
  custom.name = "my_13";
  GroundTruth same = GroundTruthOf(truth_, PennActionJoints());
  same.path = "same.mat";
  same.format = "Penn Action .mat";
  s = run(same, custom);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("'same.mat' (Penn Action .mat)"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("'my_13', 13"), std::string::npos) << s;
  EXPECT_NE(s.message().find("no mapping"), std::string::npos) << s;
}

// 17-keypoint models (MoveNet) are COCO's joints: names and skeleton in the
// JSON and CSV come from CocoJoints().
TEST(PoseTrackTest, SeventeenJointsAreCocoNamesAndSkeleton) {
  EXPECT_EQ(JointSetForModel(13).name, "penn_action");
  EXPECT_EQ(JointSetForModel(15).name, "jhmdb");
  const JointSet coco = JointSetForModel(17);
  ASSERT_EQ(coco.name, "coco");
  EXPECT_EQ(JointSetForModel(5).name, "generic_5");
  EXPECT_TRUE(JointSetForModel(5).skeleton.empty());
  PoseTrack track;
  track.joint_set = coco;
  FramePose pose;
  PersonPose person;
  person.box = Box{0, 0, 40, 40};
  person.joints.resize(17);
  for (int j = 0; j < 17; ++j) {
    person.joints[j] = {float(j), float(2 * j), 0.5f};
  }
  pose.people.push_back(person);
  track.frames.push_back(pose);
  track.summary.frames = 1;
  const nlohmann::json doc = nlohmann::json::parse(PoseTrackJson(track));
  const nlohmann::json& category = doc["categories"][0];
  EXPECT_EQ(category["joint_set"], "coco");
  ASSERT_EQ(category["keypoints"].size(), 17u);
  EXPECT_EQ(category["keypoints"][0], "nose");
  EXPECT_EQ(category["keypoints"][5], "l_shoulder");
  EXPECT_EQ(category["keypoints"][16], "r_ankle");
  // COCO's own skeleton: 19 edges, 1-based, starting [16, 14] (left ankle
  // to left knee).
  ASSERT_EQ(category["skeleton"].size(), 19u);
  EXPECT_EQ(category["skeleton"][0], nlohmann::json({16, 14}));
  for (const auto& edge : category["skeleton"]) {
    for (const auto& end : edge) {
      EXPECT_GE(end.get<int>(), 1);
      EXPECT_LE(end.get<int>(), 17);
    }
  }
  ASSERT_EQ(doc["frames"][0]["annotations"].size(), 1u);
  EXPECT_EQ(doc["frames"][0]["annotations"][0]["keypoints"].size(), 51u);
  const std::string csv = PoseTrackCsv(track);
  EXPECT_NE(csv.find(",nose_x,nose_y,nose_conf,l_eye_x"), std::string::npos);
  EXPECT_NE(csv.find(",r_ankle_x,r_ankle_y,r_ankle_conf\n"), std::string::npos);
}

TEST(PoseTrackTest, SeveralPeopleHaveARowAndAnAnnotationEach) {
  PoseTrack track;
  track.video_path = "/videos/street.mp4";
  track.joint_set = CocoJoints();
  for (int64_t t = 0; t < 2; ++t) {
    FramePose frame;
    frame.frame_index = t;
    for (int64_t id : {3, 5}) {
      PersonPose person;
      person.track_id = id;
      person.box = Box{10.0f * id, 0, 10.0f * id + 20, 40};
      person.box_origin = PersonBoxOrigin::kCarried;
      person.features_extracted = id == 5 && t == 1;
      person.joints.resize(17);
      for (int j = 0; j < 17; ++j) {
        person.joints[j] = {float(id), float(j), 0.25f + 0.5f * (j == 0)};
      }
      frame.people.push_back(person);
    }
    track.frames.push_back(frame);
  }
  FramePose nobody;
  nobody.frame_index = 2;
  track.frames.push_back(nobody);
  track.summary.frames = 3;

  const nlohmann::json doc = nlohmann::json::parse(PoseTrackJson(track));
  ASSERT_EQ(doc["frames"][1]["annotations"].size(), 2u);
  EXPECT_EQ(doc["frames"][1]["annotations"][0]["track_id"], 3);
  EXPECT_EQ(doc["frames"][1]["annotations"][1]["track_id"], 5);
  EXPECT_EQ(doc["frames"][1]["annotations"][1]["features_extracted"], true);
  EXPECT_EQ(doc["frames"][1]["annotations"][0]["features_extracted"], false);
  EXPECT_NEAR(doc["frames"][1]["annotations"][0]["score"].get<double>(),
              (17 * 0.25 + 0.5) / 17, 1e-6);

  // CSV: a row per person per frame, one empty row for the frame without.
  const std::vector<std::string> rows =
      absl::StrSplit(PoseTrackCsv(track), '\n');
  ASSERT_EQ(rows.size(), 1u + 5u + 1u);  // header, 2 + 2 + 1, final newline
  EXPECT_EQ(rows[0].rfind("frame_index,timestamp,frame_type,window,damage,"
                          "track_id,features_extracted",
                          0),
            0u);
  EXPECT_EQ(rows[3].rfind("1,", 0), 0u);
  const std::vector<std::string> header = absl::StrSplit(rows[0], ',');
  for (size_t r = 1; r <= 5; ++r) {
    const std::vector<std::string> cells = absl::StrSplit(rows[r], ',');
    EXPECT_EQ(cells.size(), header.size()) << rows[r];
  }
  EXPECT_NE(rows[4].find(",5,1,"), std::string::npos) << rows[4];
  EXPECT_EQ(rows[5].rfind("2,", 0), 0u);

  // PoseTrack's layout: an image per frame, an annotation per person,
  // COCO's joints moved to PoseTrack's places (head_bottom, head_top unset).
  absl::StatusOr<std::string> posetrack = PoseTrackChallengeJson(track);
  ASSERT_TRUE(posetrack.ok()) << posetrack.status();
  const nlohmann::json pt = nlohmann::json::parse(*posetrack);
  ASSERT_EQ(pt["images"].size(), 3u);
  EXPECT_EQ(pt["images"][2]["file_name"], "street/000002.jpg");
  ASSERT_EQ(pt["annotations"].size(), 4u);
  const nlohmann::json& a = pt["annotations"][3];
  EXPECT_EQ(a["image_id"], 1);
  EXPECT_EQ(a["track_id"], 5);
  ASSERT_EQ(a["keypoints"].size(), 51u);
  EXPECT_EQ(a["keypoints"][0], 5.0);          // nose: COCO joint 0
  EXPECT_EQ(a["keypoints"][3 * 1 + 2], 0);    // head_bottom: none
  EXPECT_EQ(a["keypoints"][3 * 5 + 1], 5.0);  // l_shoulder: COCO joint 5
  EXPECT_EQ(a["keypoints"][3 * 16 + 1], 16.0);
  EXPECT_FLOAT_EQ(a["scores"][0].get<float>(), 0.75f);
  EXPECT_EQ(pt["categories"][0]["keypoints"][2], "head_top");

  // Penn Action's joints share 12 of PoseTrack's names: written, the
  // other five unset; joints of no known set are refused.
  track.joint_set = PennActionJoints();
  for (FramePose& f : track.frames) {
    for (PersonPose& p : f.people) p.joints.resize(13);
  }
  EXPECT_TRUE(PoseTrackChallengeJson(track).ok());
  track.joint_set = JointSetForModel(5);
  const absl::Status refused = PoseTrackChallengeJson(track).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("generic_5"), std::string::npos) << refused;
}

TEST_F(EstimatorTest, JsonCsvAndOverlayDescribeEveryFrame) {
  const model::AnyPipeline handle = Oracle(spec_);
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(video_);
  ASSERT_TRUE(source.ok());
  const std::string overlay_path = TestPath("overlay.mp4");
  const std::string frames_dir = TestPath("overlay_frames/panels");  // made
  OverlayOptions overlay_options;
  overlay_options.panels = true;
  absl::StatusOr<std::unique_ptr<OverlaySink>> overlay =
      OverlaySink::Open({.video = overlay_path, .frames_dir = frames_dir},
                        spec_.width, spec_.height, 25.0, overlay_options);
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  options.overlay = overlay->get();
  absl::StatusOr<PoseTrack> track = EstimatePoses(handle, *source, options);
  ASSERT_TRUE(track.ok()) << track.status();
  EXPECT_FALSE(Exists(overlay_path));  // nothing until Close()
  ASSERT_TRUE((*overlay)->Close().ok());
  ASSERT_TRUE(Exists(overlay_path));

  // The overlay has every frame, in the video and as PNGs of the picture's
  // size: the frame and its two panels, 4 pixels apart.
  absl::StatusOr<int64_t> frames = CountVideoFrames(overlay_path);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ(*frames, 30);
  const std::vector<std::string> pngs = ListDir(frames_dir);
  ASSERT_EQ(pngs.size(), 30u);
  EXPECT_EQ(pngs.front(), "000000.png");
  EXPECT_EQ(pngs.back(), "000029.png");
  ExpectPngSizes(frames_dir, 3 * spec_.width + 2 * 4, spec_.height);

  const nlohmann::json doc = nlohmann::json::parse(PoseTrackJson(*track));
  ASSERT_EQ(doc["frames"].size(), 30u);
  const nlohmann::json& f0 = doc["frames"][0];
  EXPECT_EQ(f0["frame_type"], "I");
  EXPECT_EQ(f0["features_extracted"], true);
  EXPECT_EQ(f0["annotations"][0]["keypoints"].size(), 39u);
  EXPECT_EQ(f0["annotations"][0]["bbox"].size(), 4u);
  EXPECT_EQ(doc["categories"][0]["keypoints"].size(), 13u);
  EXPECT_EQ(doc["categories"][0]["skeleton"][0][0].get<int>() >= 1, true);
  EXPECT_EQ(doc["summary"]["frames"], 30);
  EXPECT_NEAR(doc["summary"]["keyframe_fraction"].get<double>(), 0.1, 1e-9);

  const std::string csv = PoseTrackCsv(*track);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 31);
  EXPECT_EQ(csv.rfind("frame_index,timestamp,frame_type", 0), 0u);
  EXPECT_NE(csv.find("head_x,head_y,head_conf"), std::string::npos);
  EXPECT_NE(FormatSummary(*track).find("keyframes: 3 (10.0 %)"),
            std::string::npos)
      << FormatSummary(*track);
}

TEST_F(EstimatorTest, OverlayFramesAloneArePngsOfTheFrameSize) {
  const model::AnyPipeline handle = Oracle(spec_);
  absl::StatusOr<FfmpegStreamSource> source = FfmpegStreamSource::Open(video_);
  ASSERT_TRUE(source.ok());
  const std::string frames_dir = TestPath("overlay_frames/plain/");
  OverlayTargets targets;  // PNGs only
  targets.frames_dir = frames_dir;
  absl::StatusOr<std::unique_ptr<OverlaySink>> overlay =
      OverlaySink::Open(targets, spec_.width, spec_.height, 25.0, {});
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  options.overlay = overlay->get();
  ASSERT_TRUE(EstimatePoses(handle, *source, options).ok());
  ASSERT_TRUE((*overlay)->Close().ok());
  EXPECT_EQ(ListDir(frames_dir).size(), 30u);
  EXPECT_TRUE(Exists(TestPath("overlay_frames/plain/000012.png")));
  ExpectPngSizes(frames_dir, spec_.width, spec_.height);
}

// The dots clip with frame 17's payload scrambled (the decoder conceals
// it) and frame 22's start code destroyed (the decoder rejects its packet).
TEST_F(EstimatorTest, ConcealedAndLostFramesAreMarkedInEveryOutput) {
  absl::StatusOr<std::string> bytes = mapn::testing::ReadBytes(video_);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::vector<size_t> vops = mapn::testing::FindVopStarts(*bytes);
  ASSERT_EQ(vops.size(), 30u);
  mapn::testing::Scramble(*bytes, vops[17] + 8, 40);
  mapn::testing::Scramble(*bytes, vops[22], 4);
  const std::string damaged = TestPath("dots_damaged.mp4");
  ASSERT_TRUE(mapn::testing::WriteBytes(damaged, *bytes).ok());
  const model::AnyPipeline handle = Oracle(spec_);
  EstimateOptions options;
  options.joint_set = PennActionJoints();

  // fail: refused, naming the frame.
  absl::StatusOr<FfmpegStreamSource> strict = FfmpegStreamSource::Open(damaged);
  ASSERT_TRUE(strict.ok()) << strict.status();
  absl::StatusOr<PoseTrack> refused = EstimatePoses(handle, *strict, options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("frame 17"), std::string::npos)
      << refused.status();

  // conceal: every frame, the damaged ones marked and counted.
  FfmpegStreamSourceOptions conceal;
  conceal.on_damage = DamagePolicy::kConceal;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(damaged, conceal);
  ASSERT_TRUE(source.ok()) << source.status();
  absl::StatusOr<PoseTrack> track = EstimatePoses(handle, *source, options);
  ASSERT_TRUE(track.ok()) << track.status();
  ASSERT_EQ(track->frames.size(), 30u);
  EXPECT_EQ(track->frames[0].damage, FrameDamage::kNone);
  EXPECT_EQ(track->frames[17].damage, FrameDamage::kConcealed);
  EXPECT_EQ(track->frames[22].damage, FrameDamage::kLost);
  EXPECT_EQ(track->frames[22].frame_index, 22);
  EXPECT_TRUE(track->frames[22].has_person());
  EXPECT_GE(track->summary.frames_concealed, 1);
  EXPECT_EQ(track->summary.frames_lost, 1);
  track->on_corrupt = "conceal";

  const nlohmann::json doc = nlohmann::json::parse(PoseTrackJson(*track));
  EXPECT_TRUE(doc["frames"][0]["damage"].is_null());
  EXPECT_EQ(doc["frames"][17]["damage"], "concealed");
  EXPECT_EQ(doc["frames"][22]["damage"], "lost");
  EXPECT_EQ(doc["summary"]["frames_lost"], 1);
  EXPECT_EQ(doc["summary"]["frames_concealed"],
            track->summary.frames_concealed);
  EXPECT_EQ(doc["info"]["on_corrupt"], "conceal");
  EXPECT_EQ(doc["info"]["stream_index"], 0);
  EXPECT_EQ(doc["info"]["video_streams"], 1);

  const std::vector<std::string> rows =
      absl::StrSplit(PoseTrackCsv(*track), '\n');
  const std::vector<std::string> header = absl::StrSplit(rows[0], ',');
  const size_t column = static_cast<size_t>(
      std::find(header.begin(), header.end(), "damage") - header.begin());
  ASSERT_LT(column, header.size());
  auto cell = [&](int frame) -> std::string {
    const std::vector<std::string> cells = absl::StrSplit(rows[frame + 1], ',');
    return cells.size() == header.size() ? cells[column] : "(bad row)";
  };
  EXPECT_EQ(cell(0), "");
  EXPECT_EQ(cell(17), "concealed");
  EXPECT_EQ(cell(22), "lost");

  const std::string summary = FormatSummary(*track);
  EXPECT_NE(summary.find("concealed, 1 lost"), std::string::npos) << summary;

  // A mark put on afterwards (frames a transcode read through) is counted.
  const int64_t concealed = track->summary.frames_concealed;
  MarkDamagedFrames(*track, {3}, {});
  EXPECT_EQ(track->frames[3].damage, FrameDamage::kConcealed);
  EXPECT_EQ(track->summary.frames_concealed, concealed + 1);
  EXPECT_EQ(track->summary.frames_lost, 1);
}

TEST(OverlayTest, DamagedFramesAreNotedInTheCaption) {
  GopWindow window;
  window.frames.resize(1);
  window.num_valid = 1;
  window.rgb = at::zeros({1, 3, 40, 160}, at::kByte);
  FramePose pose;  // nobody
  const at::Tensor plain =
      RenderOverlayFrame(window, 0, pose, PennActionJoints(), {});
  pose.damage = FrameDamage::kConcealed;
  const at::Tensor concealed =
      RenderOverlayFrame(window, 0, pose, PennActionJoints(), {});
  pose.damage = FrameDamage::kLost;
  const at::Tensor lost =
      RenderOverlayFrame(window, 0, pose, PennActionJoints(), {});
  // The caption grows to the right; the picture below it is untouched.
  EXPECT_GT(concealed.sum().item<int64_t>(), plain.sum().item<int64_t>());
  EXPECT_GT(lost.sum().item<int64_t>(), plain.sum().item<int64_t>());
  EXPECT_FALSE(lost.equal(concealed));
  EXPECT_EQ(concealed.slice(1, 14).sum().item<int64_t>(), 0);
}

TEST(OverlayTest, UnusableFramesDirectoryIsRefusedNamingTheFlag) {
  EXPECT_EQ(OverlayFramePath("out/", 42), "out/000042.png");
  EXPECT_EQ(OverlayFramePath("a/b", 1234567), "a/b/1234567.png");

  // A directory under a regular file can never be made.
  const std::string file = TestPath("not_a_dir");
  ASSERT_TRUE(WriteFileAtomically(file, "x").ok());
  const std::string under = file + "/frames";
  absl::Status status = PrepareOverlayFramesDir(under);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("--overlay_frames"), std::string::npos)
      << status;
  EXPECT_NE(status.message().find(under), std::string::npos) << status;
  OverlayTargets targets;
  targets.frames_dir = under;
  EXPECT_FALSE(OverlaySink::Open(targets, 60, 40, 25.0, {}).ok());
  EXPECT_EQ(ReadFile(file).value(), "x");
  // Nor can the file itself be the directory.
  status = PrepareOverlayFramesDir(file);
  EXPECT_NE(status.message().find("--overlay_frames"), std::string::npos)
      << status;
  // An overlay needs somewhere to go.
  EXPECT_FALSE(OverlaySink::Open({}, 60, 40, 25.0, {}).ok());
}

TEST(OverlayTest, MarksExtractedFramesWithACoralBorder) {
  GopWindow window;
  window.frames.resize(1);
  window.num_valid = 1;
  window.rgb = at::zeros({1, 3, 40, 60}, at::kByte);
  FramePose pose;
  PersonPose person;
  person.box = Box{0, 0, 60, 40};
  person.joints.assign(13, JointEstimate{30, 20, 1.0f});
  pose.people.push_back(person);
  pose.features_extracted = true;
  at::Tensor marked =
      RenderOverlayFrame(window, 0, pose, PennActionJoints(), {});
  EXPECT_EQ(marked[0][39][30].item<uint8_t>(), 255);  // coral border, red 255
  pose.features_extracted = false;
  at::Tensor plain =
      RenderOverlayFrame(window, 0, pose, PennActionJoints(), {});
  EXPECT_EQ(plain[0][39][30].item<uint8_t>(), 0);
  EXPECT_GT(plain[0][20][30].item<uint8_t>(), 100);  // a joint disc is drawn
}

// --- Detected boxes ---------------------------------------------------------

// A stand-in person detector: the "person" is the bounding box of the
// pixels whose red value exceeds 40, scored by their mean red / 255.
class BrightnessDetector final : public detect::PersonDetector {
 public:
  absl::StatusOr<std::vector<detect::PersonBox>> Detect(
      const at::Tensor& rgb) const override {
    ++calls;
    const at::Tensor mask = rgb[0] > 40;
    if (!mask.any().item<bool>()) return std::vector<detect::PersonBox>{};
    const at::Tensor rows = mask.any(1).nonzero();
    const at::Tensor cols = mask.any(0).nonzero();
    const Box box{cols.min().item<float>(), rows.min().item<float>(),
                  cols.max().item<float>() + 1, rows.max().item<float>() + 1};
    const float score =
        rgb[0].masked_select(mask).to(at::kFloat).mean().item<float>() / 255;
    return std::vector<detect::PersonBox>{{box, score}};
  }
  std::string Describe() const override { return "brightness"; }
  mutable int calls = 0;
};

// A detector that always returns the same boxes.
class FixedDetector final : public detect::PersonDetector {
 public:
  explicit FixedDetector(std::vector<detect::PersonBox> boxes)
      : boxes_(std::move(boxes)) {}
  absl::StatusOr<std::vector<detect::PersonBox>> Detect(
      const at::Tensor& /*rgb*/) const override {
    return boxes_;
  }
  std::string Describe() const override { return "fixed"; }

 private:
  std::vector<detect::PersonBox> boxes_;
};

// A stand-in model that puts every joint at the centre of its window's
// crop, with the keyframe-only decisions of a MAPN.
class CentreModel final : public StandInModel {
 public:
  CentreModel() : StandInModel("centre") {}
  model::AnyPipeline PerFrameBaseline() override {
    return model::AnyPipeline(std::make_shared<CentreModel>());
  }
  absl::StatusOr<model::RunResult> Run(const GopBatch& batch) override {
    ++windows_run;
    const int64_t t_len = batch.length();
    const float c = (kInputSize - 1) / 2.0f;
    const at::Tensor joints = at::full({t_len, 13, 2}, c);
    HeatmapTargets targets = MakeGaussianTargets(
        InputToHeatmap(joints, kInputSize, kHeatmapSize),
        at::ones({t_len, 13}, at::kBool), kHeatmapSize, kHeatmapSize);
    // Every row (person) alike.
    const int64_t rows = batch.batch_size();
    model::RunResult result;
    result.length = t_len;
    result.heatmaps =
        targets.heatmaps.unsqueeze(0).expand({rows, -1, -1, -1, -1});
    result.decisions = at::zeros({rows, t_len});
    result.decisions.select(1, 0).fill_(1);
    for (int64_t b = 0; b < rows; ++b) {
      for (int64_t t = 0; t < t_len; ++t) {
        result.frame_macs.push_back(t == 0 ? model::MacCount{10, 20}
                                           : model::MacCount{1, 2});
      }
    }
    return result;
  }
  int windows_run = 0;
};

// 48 frames of 128 x 96 in four GOPs of 12: a white 24-pixel square moving
// 2 px right per frame (GOP 0), a dim square standing far from where that
// one ended (GOP 1: the stand-in detector scores it 0.39), nothing (GOP 2),
// and the white square moving 2 px left and 1 down per frame (GOP 3). The
// block motion says exactly how the squares move (gop.h's sign).
struct SquareClip {
  static constexpr int64_t kW = 128, kH = 96, kSide = 24;
  InMemoryFrames frames;
  std::vector<std::optional<Box>> truth;  // the square per frame

  SquareClip() {
    const int64_t n = 48, hb = MotionBlocks(kH), wb = MotionBlocks(kW);
    frames.rgb = at::zeros({n, 3, kH, kW}, at::kByte);
    frames.motion = at::zeros({n, 2, hb, wb}, at::kFloat);
    frames.types.assign(n, FrameType::kP);
    for (int64_t t : {0, 12, 24, 36}) frames.types[t] = FrameType::kI;
    auto m = frames.motion.accessor<float, 4>();
    for (int64_t t = 0; t < n; ++t) {
      float x = 0, y = 0, vx = 0, vy = 0;
      uint8_t value = 255;
      if (t < 12) {
        x = 16 + 2.0f * t, y = 40, vx = 2;
      } else if (t < 24) {
        x = 96, y = 4, value = 100;
      } else if (t < 36) {
        truth.push_back(std::nullopt);
        continue;
      } else {
        x = 90 - 2.0f * (t - 36), y = 20 + 1.0f * (t - 36), vx = -2, vy = 1;
      }
      truth.push_back(value == 255
                          ? std::optional<Box>(Box{x, y, x + kSide, y + kSide})
                          : std::nullopt);
      const int64_t xi = static_cast<int64_t>(x), yi = static_cast<int64_t>(y);
      frames.rgb[t]
          .slice(1, yi, yi + kSide)
          .slice(2, xi, xi + kSide)
          .fill_(value);
      if (frames.types[t] == FrameType::kI) continue;
      for (int64_t by = 0; by < hb; ++by) {
        for (int64_t bx = 0; bx < wb; ++bx) {
          const float cx = 8.0f * bx + 4, cy = 8.0f * by + 4;
          if (cx >= x && cx < x + kSide && cy >= y && cy < y + kSide) {
            m[t][0][by][bx] = -vx;  // pixels came from (x - vx, y - vy)
            m[t][1][by][bx] = -vy;
          }
        }
      }
    }
  }
};

TEST(DetectedBoxesTest, BoxesFollowTheSquareAndEmptyWindowsHaveNoPose) {
  const SquareClip clip;
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(clip.frames, 12);
  ASSERT_TRUE(source.ok()) << source.status();
  auto detector = std::make_shared<BrightnessDetector>();
  auto centre = std::make_shared<CentreModel>();
  const model::AnyPipeline model(centre);
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  // A track ends at its first missed keyframe (the default survives one:
  // AMissedKeyframeIsCarriedThrough).
  DetectedBoxOptions no_misses;
  no_misses.max_missed = 0;
  options.boxes = BoxSource::Detected(detector, no_misses);
  EXPECT_FALSE(options.boxes.whole_frame());
  EXPECT_TRUE(options.boxes.detected());
  // Labels: every joint at the square's centre, the whole frame as the
  // PCK box (a 25.6-pixel radius).
  PoseSequence truth;
  truth.num_frames = 48;
  truth.num_joints = 13;
  truth.joints.assign(48 * 13 * 2, 0.0f);
  truth.visible.assign(48 * 13, 1);
  truth.boxes.assign(48, Box{0, 0, SquareClip::kW, SquareClip::kH});
  for (int64_t t = 0; t < 48; ++t) {
    const Box b = clip.truth[t].value_or(Box{});
    for (int j = 0; j < 13; ++j) {
      truth.joints[(t * 13 + j) * 2] = (b.x1 + b.x2) / 2;
      truth.joints[(t * 13 + j) * 2 + 1] = (b.y1 + b.y2) / 2;
    }
  }
  const GroundTruth labels = GroundTruthOf(truth, PennActionJoints());
  options.ground_truth = &labels;
  absl::StatusOr<PoseTrack> track = EstimatePoses(model, *source, options);
  ASSERT_TRUE(track.ok()) << track.status();
  ASSERT_EQ(track->frames.size(), 48u);
  EXPECT_EQ(detector->calls, 4);      // once per window, on its keyframe
  EXPECT_EQ(centre->windows_run, 2);  // only where someone was found

  for (int64_t t = 0; t < 48; ++t) {
    const FramePose& f = track->frames[t];
    const std::string at = "frame " + std::to_string(t);
    ASSERT_EQ(f.has_person(), clip.truth[t].has_value()) << at;
    if (!f.has_person()) {
      EXPECT_FALSE(f.features_extracted) << at;
      EXPECT_EQ(f.macs.true_macs, 0) << at;
      continue;
    }
    ASSERT_EQ(f.people.size(), 1u) << at;
    const PersonPose& p = f.people[0];
    // A new track in GOP 3: ids are never reused.
    EXPECT_EQ(p.track_id, t < 12 ? 1 : 2) << at;
    // The detected box on the keyframe, then carried exactly.
    const Box& want = *clip.truth[t];
    EXPECT_NEAR(p.box.x1, want.x1, 1e-3) << at;
    EXPECT_NEAR(p.box.y1, want.y1, 1e-3) << at;
    EXPECT_NEAR(p.box.x2, want.x2, 1e-3) << at;
    EXPECT_NEAR(p.box.y2, want.y2, 1e-3) << at;
    EXPECT_EQ(p.box_origin, t % 12 == 0 ? PersonBoxOrigin::kDetected
                                        : PersonBoxOrigin::kCarried)
        << at;
    ASSERT_TRUE(p.box_score.has_value()) << at;
    EXPECT_FLOAT_EQ(*p.box_score, 1.0f) << at;
    EXPECT_EQ(p.features_extracted, t % 12 == 0) << at;
    EXPECT_EQ(f.features_extracted, t % 12 == 0) << at;
    // The crop: the union of the window's boxes, squared and enlarged.
    const int64_t k = t - t % 12;
    Box extent = *clip.truth[k];
    for (int64_t u = k; u < k + 12; ++u) {
      extent = Box{std::min(extent.x1, clip.truth[u]->x1),
                   std::min(extent.y1, clip.truth[u]->y1),
                   std::max(extent.x2, clip.truth[u]->x2),
                   std::max(extent.y2, clip.truth[u]->y2)};
    }
    const Box crop = ExpandBox(extent);
    EXPECT_NEAR(p.crop_box.x1, crop.x1, 1e-3) << at;
    EXPECT_NEAR(p.crop_box.y2, crop.y2, 1e-3) << at;
    // The model's joints came back through that crop: the crop's centre, in
    // pixel-centre coordinates (a box's corners are pixel edges).
    ASSERT_EQ(p.joints.size(), 13u) << at;
    const double tolerance = 0.3 * crop.width() / 32;
    EXPECT_NEAR(p.joints[3].x, (crop.x1 + crop.x2) / 2 - 0.5, tolerance) << at;
    EXPECT_NEAR(p.joints[3].y, (crop.y1 + crop.y2) / 2 - 0.5, tolerance) << at;
  }
  const PoseTrackSummary& s = track->summary;
  EXPECT_EQ(s.frames, 48);
  EXPECT_EQ(s.frames_without_person, 24);
  EXPECT_EQ(s.detections, 4);
  EXPECT_EQ(s.keyframes, 2);
  EXPECT_EQ(s.tracks, 2);
  EXPECT_EQ(s.person_frames, 24);
  EXPECT_EQ(s.person_keyframes, 2);
  EXPECT_EQ(s.max_people_in_frame, 1);
  // The baseline on the same crops: 24 frames of one crop in 48.
  EXPECT_DOUBLE_EQ(s.baseline_macs_per_frame.true_macs, 10.0 * 24 / 48);
  // Frames with nobody count as misses: every joint of the 24 frames with
  // a person is a hit, none of the other 24.
  ASSERT_TRUE(s.pck.has_value());
  EXPECT_DOUBLE_EQ(*s.pck, 50.0);

  // The JSON: no annotation where nobody is, the box's origin elsewhere.
  const nlohmann::json doc = nlohmann::json::parse(PoseTrackJson(*track));
  EXPECT_NE(doc["info"]["boxes"].get<std::string>().find("brightness"),
            std::string::npos);
  EXPECT_TRUE(doc["frames"][12]["annotations"].empty());
  EXPECT_TRUE(doc["frames"][30]["annotations"].empty());
  EXPECT_EQ(doc["frames"][0]["annotations"][0]["bbox_origin"], "detected");
  EXPECT_EQ(doc["frames"][0]["annotations"][0]["track_id"], 1);
  EXPECT_EQ(doc["frames"][40]["annotations"][0]["track_id"], 2);
  EXPECT_EQ(doc["frames"][0]["annotations"][0]["features_extracted"], true);
  EXPECT_EQ(doc["frames"][1]["annotations"][0]["features_extracted"], false);
  EXPECT_EQ(doc["frames"][1]["annotations"][0]["bbox_origin"], "carried");
  EXPECT_FLOAT_EQ(doc["frames"][1]["annotations"][0]["bbox_score"].get<float>(),
                  1.0f);
  EXPECT_EQ(doc["frames"][1]["annotations"][0]["keypoints"].size(), 39u);
  EXPECT_EQ(doc["summary"]["frames_without_person"], 24);
  // The CSV: every frame has its row; a frame with nobody has its box and
  // joint fields empty.
  const std::string csv = PoseTrackCsv(*track);
  std::vector<std::string> lines = absl::StrSplit(csv, '\n');
  ASSERT_EQ(lines.size(), 50u);  // header, 48 frames, the final newline
  const auto commas = [](const std::string& line) {
    return std::count(line.begin(), line.end(), ',');
  };
  EXPECT_EQ(commas(lines[13]), commas(lines[0]));
  EXPECT_EQ(lines[13].rfind("12,", 0), 0u) << lines[13];
  EXPECT_NE(lines[13].find(",,,,,"), std::string::npos) << lines[13];
  EXPECT_EQ(lines[13].find_first_not_of(',', lines[13].find(",,,,")),
            std::string::npos)
      << lines[13];
  EXPECT_NE(FormatSummary(*track).find("nobody found in 24 of 48 frames"),
            std::string::npos)
      << FormatSummary(*track);
}

TEST(DetectedBoxesTest, AMissedKeyframeIsCarriedThrough) {
  // By default a track survives one keyframe without a detection: in GOP 1
  // the square is not found (the dim one elsewhere scores under
  // min_person_score), so its box is carried on (constant velocity over
  // the I-frame, then still), with the same id; GOP 2's second miss ends it.
  const SquareClip clip;
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(clip.frames, 12);
  ASSERT_TRUE(source.ok()) << source.status();
  auto centre = std::make_shared<CentreModel>();
  const model::AnyPipeline model(centre);
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  options.boxes = BoxSource::Detected(std::make_shared<BrightnessDetector>());
  absl::StatusOr<PoseTrack> track = EstimatePoses(model, *source, options);
  ASSERT_TRUE(track.ok()) << track.status();
  EXPECT_EQ(centre->windows_run, 3);
  for (int64_t t = 12; t < 24; ++t) {
    const FramePose& f = track->frames[t];
    ASSERT_EQ(f.people.size(), 1u) << t;
    EXPECT_EQ(f.people[0].track_id, 1) << t;
    EXPECT_EQ(f.people[0].box_origin, PersonBoxOrigin::kCarried) << t;
    EXPECT_NEAR(f.people[0].box.x1, 40, 1e-3) << t;
    // Each window starts with an encoder pass for each of its people.
    EXPECT_EQ(f.people[0].features_extracted, t == 12) << t;
  }
  for (int64_t t = 24; t < 36; ++t) EXPECT_FALSE(track->frames[t].has_person());
  EXPECT_EQ(track->frames[36].people.at(0).track_id, 2);
}

TEST(DetectedBoxesTest, MaxPeopleKeepsTheBestAndEachPersonIsARow) {
  // Three people standing still, found on every keyframe; at most two:
  // the two best, the same two ids throughout, each a batch row.
  const SquareClip clip;  // only its 48 frames' shapes and motion matter
  absl::StatusOr<InMemoryStreamSource> source =
      InMemoryStreamSource::FromFrames(clip.frames, 12);
  ASSERT_TRUE(source.ok()) << source.status();
  auto centre = std::make_shared<CentreModel>();
  const model::AnyPipeline model(centre);
  EstimateOptions options;
  options.joint_set = PennActionJoints();
  DetectedBoxOptions two;
  two.max_people = 2;
  options.boxes = BoxSource::Detected(
      std::make_shared<FixedDetector>(
          std::vector<detect::PersonBox>{{Box{4, 50, 30, 90}, 0.6f},
                                         {Box{50, 50, 76, 90}, 0.9f},
                                         {Box{100, 50, 126, 90}, 0.8f}}),
      two);
  absl::StatusOr<PoseTrack> track = EstimatePoses(model, *source, options);
  ASSERT_TRUE(track.ok()) << track.status();
  for (const FramePose& f : track->frames) {
    ASSERT_EQ(f.people.size(), 2u) << f.frame_index;
    // Ids in order of starting: the best first.
    EXPECT_EQ(f.people[0].track_id, 1);
    EXPECT_EQ(f.people[0].box.x1, 50);
    EXPECT_EQ(f.people[1].track_id, 2);
    EXPECT_EQ(f.people[1].box.x1, 100);
    // Each person's crop is their own.
    EXPECT_LT(f.people[0].crop_box.x2, f.people[1].crop_box.x2);
  }
  EXPECT_EQ(track->summary.tracks, 2);
  EXPECT_EQ(track->summary.person_frames, 96);
  // Each window's first frame is a keyframe of both rows; the stand-in
  // model keys nothing else.
  EXPECT_EQ(track->summary.person_keyframes, 8);
  // Per-frame baseline on the same crops: two crops in every frame.
  EXPECT_DOUBLE_EQ(track->summary.baseline_macs_per_frame.true_macs, 20.0);
}

TEST(DetectedBoxesTest, APersonInViewIsKeptAtALowerScore) {
  GopWindow window;
  window.frames.resize(2);
  window.frames[0].index = 12;
  window.frames[1].index = 13;
  window.num_valid = 2;
  window.rgb = at::zeros({2, 3, 96, 128}, at::kByte);
  window.motion = at::zeros({2, 2, 12, 16});
  window.intra = at::zeros({2, 1, 12, 16}, at::kBool);
  const Box seen{40, 20, 70, 80};
  auto detected = [&](float score, const std::optional<Box>& previous) {
    const BoxSource source = BoxSource::Detected(
        std::make_shared<FixedDetector>(std::vector<detect::PersonBox>{
            {Box{100, 0, 120, 30}, score + 0.05f},  // the best: elsewhere
            {Box{44, 22, 72, 84}, score}}));
    absl::StatusOr<WindowBoxes> boxes =
        source.ForWindow(window, 128, 96, previous);
    EXPECT_TRUE(boxes.ok()) << boxes.status();
    return *boxes;
  };
  // 0.4 is under min_person_score (0.5) but over keep_person_score (0.3):
  // the box overlapping the person in view continues them.
  WindowBoxes kept = detected(0.4f, seen);
  ASSERT_TRUE(kept.person[0].has_value());
  EXPECT_EQ(kept.person[0]->x1, 44);
  EXPECT_EQ(kept.origin[0], PersonBoxOrigin::kDetected);
  EXPECT_EQ(kept.origin[1], PersonBoxOrigin::kCarried);
  EXPECT_FLOAT_EQ(*kept.score, 0.4f);
  EXPECT_TRUE(kept.crop.has_value());
  // Nobody in view before: nobody now.
  EXPECT_FALSE(detected(0.4f, std::nullopt).crop.has_value());
  // Someone in view elsewhere: nobody now.
  EXPECT_FALSE(detected(0.4f, Box{0, 60, 20, 90}).crop.has_value());
  // Too low even to continue.
  const WindowBoxes low = detected(0.2f, seen);
  EXPECT_FALSE(low.person[0].has_value());
  EXPECT_FLOAT_EQ(*low.score, 0.25f);  // the best box's
  EXPECT_TRUE(low.detector_ran);
  // Over min_person_score the best box wins wherever it is.
  const WindowBoxes best = detected(0.6f, seen);
  ASSERT_TRUE(best.person[0].has_value());
  EXPECT_EQ(best.person[0]->x1, 100);
}

TEST(OverlayTest, AFrameWithNobodyHasNoSkeleton) {
  GopWindow window;
  window.frames.resize(1);
  window.num_valid = 1;
  window.rgb = at::zeros({1, 3, 40, 60}, at::kByte);
  FramePose pose;  // nobody
  at::Tensor picture =
      RenderOverlayFrame(window, 0, pose, PennActionJoints(), {});
  // Nothing drawn outside the caption in the top-left corner.
  EXPECT_EQ(picture.slice(1, 14).sum().item<int64_t>(), 0);
  // A detected box is outlined in its track's colour (track 1: yellow).
  PersonPose person;
  person.box = Box{10, 20, 50, 38};
  person.box_origin = PersonBoxOrigin::kDetected;
  pose.people.push_back(person);
  picture = RenderOverlayFrame(window, 0, pose, PennActionJoints(), {});
  EXPECT_GT(picture[0][30][10].item<uint8_t>(), 200);
  EXPECT_EQ(picture[0][30][30].item<uint8_t>(), 0);
}

TEST(ProgressTest, LineShowsRateAndEta) {
  ProgressBar bar("estimate", 100, false);
  const std::string line = bar.Line(25, 5.0);
  EXPECT_NE(line.find("25/100"), std::string::npos) << line;
  EXPECT_NE(line.find("5.0 frames/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 00:15"), std::string::npos) << line;
  ProgressBar unknown("estimate", 0, false);
  EXPECT_EQ(unknown.Line(10, 2.0).find("ETA"), std::string::npos);
}

}  // namespace
}  // namespace mapn
