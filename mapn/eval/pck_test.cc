// PCK@0.2 on hand-computed cases.
#include "mapn/eval/pck.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/data/joint_mapping.h"
#include "mapn/data/joint_set.h"

namespace mapn {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Truth: joint j at (10 j, 0). Predictions are offset along y.
std::vector<float> Truth(int joints) {
  std::vector<float> t(2 * joints);
  for (int j = 0; j < joints; ++j) t[2 * j] = 10.0f * j;
  return t;
}
std::vector<float> Offset(const std::vector<float>& truth,
                          const std::vector<float>& dy) {
  std::vector<float> p = truth;
  for (size_t j = 0; j < dy.size(); ++j) p[2 * j + 1] += dy[j];
  return p;
}

TEST(PckTest, ThresholdIsAlphaTimesTheLongerBoxSide) {
  // Box 100 x 50: L = 100, threshold 20 px.
  const Box box{0, 0, 100, 50};
  PckAccumulator pck(PennActionJoints(), PckOptionsFor("penn_action"));
  const std::vector<float> truth = Truth(13);
  // head 0, l/r shoulder 19.9 / 20 (on the threshold: correct), l/r elbow
  // 20.1 / 0, l/r wrist NaN / 0, then 0 except the r_ankle, which is
  // invisible and far off.
  std::vector<float> dy = {0, 19.9f, 20, 20.1f, 0, kNaN, 0, 0, 0, 0, 0, 0, 500};
  std::vector<uint8_t> visible(13, 1);
  visible[12] = 0;
  ASSERT_TRUE(pck.AddFrame(Offset(truth, dy), truth, visible, box).ok());
  const PckResult r = pck.Result("hand");
  EXPECT_EQ(r.frames, 1);
  EXPECT_EQ(r.joint_hits,
            (std::vector<int64_t>{1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(r.joint_counts,
            (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}));
  ASSERT_EQ(r.groups.size(), 7u);
  EXPECT_DOUBLE_EQ(r.groups[0], 100);  // Head
  EXPECT_DOUBLE_EQ(r.groups[1], 100);  // Sho.
  EXPECT_DOUBLE_EQ(r.groups[2], 50);   // Elb.
  EXPECT_DOUBLE_EQ(r.groups[3], 50);   // Wri.
  // Ank.: the r_ankle never counted, so the group is the l_ankle alone.
  EXPECT_DOUBLE_EQ(r.groups[6], 100);
  // Mean over the 12 joints that counted: 10 of them at 100 %.
  EXPECT_DOUBLE_EQ(r.mean, 1000.0 / 12);
}

TEST(PckTest, PerJointAndPooledMeansDiffer) {
  // l_wrist counted once (hit); r_wrist three times (one hit); nothing else
  // visible.
  const Box box{0, 0, 10, 10};  // threshold 2 px
  const std::vector<float> truth = Truth(13);
  auto frame = [&](float l_dy, float r_dy, bool l_visible) {
    std::vector<float> dy(13, 0);
    dy[5] = l_dy;
    dy[6] = r_dy;
    std::vector<uint8_t> visible(13, 0);
    visible[5] = l_visible;
    visible[6] = 1;
    return std::make_pair(Offset(truth, dy), visible);
  };
  PckOptions per_joint = PckOptionsFor("penn_action");
  PckOptions pooled = per_joint;
  pooled.mean = PckMean::kPooled;
  PckAccumulator a(PennActionJoints(), per_joint);
  PckAccumulator b(PennActionJoints(), pooled);
  for (const auto& [pred, vis] :
       {frame(0, 0, true), frame(0, 5, false), frame(0, 5, false)}) {
    ASSERT_TRUE(a.AddFrame(pred, truth, vis, box).ok());
    ASSERT_TRUE(b.AddFrame(pred, truth, vis, box).ok());
  }
  const PckResult ra = a.Result("per-joint");
  const PckResult rb = b.Result("pooled");
  // Wri.: (100 + 33.3) / 2 against 2 / 4.
  EXPECT_NEAR(ra.groups[3], (100 + 100.0 / 3) / 2, 1e-9);
  EXPECT_DOUBLE_EQ(rb.groups[3], 50);
  EXPECT_NEAR(ra.mean, (100 + 100.0 / 3) / 2, 1e-9);
  EXPECT_DOUBLE_EQ(rb.mean, 50);
  // Groups with no counted joint have no value.
  EXPECT_TRUE(std::isnan(ra.groups[0]));
  EXPECT_TRUE(std::isnan(rb.groups[0]));
}

TEST(PckTest, SubJhmdbCountsAllJointsAndItsHeadIsTheFace) {
  const PckOptions o = PckOptionsFor("sub_jhmdb");
  EXPECT_EQ(o.visibility, PckVisibility::kAllJoints);
  EXPECT_EQ(PckOptionsFor("penn_action").visibility,
            PckVisibility::kVisibleOnly);
  EXPECT_EQ(PckOptionsFor("synthpose").visibility, PckVisibility::kVisibleOnly);
  PckAccumulator pck(JhmdbJoints(), o);
  const std::vector<float> truth = Truth(15);
  // neck (0) and belly (1) wrong, face (2) right, all others right; the
  // visibility flags say "invisible" and must not matter.
  std::vector<float> dy(15, 0);
  dy[0] = 100;
  dy[1] = 100;
  const std::vector<uint8_t> invisible(15, 0);
  ASSERT_TRUE(
      pck.AddFrame(Offset(truth, dy), truth, invisible, Box{0, 0, 50, 40})
          .ok());
  const PckResult r = pck.Result("jhmdb");
  EXPECT_DOUBLE_EQ(r.groups[0], 100);  // Head = face only
  for (double g : r.groups) EXPECT_DOUBLE_EQ(g, 100);
  // Neck and belly appear only in the Mean: 13 of 15.
  EXPECT_DOUBLE_EQ(r.mean, 100.0 * 13 / 15);
}

TEST(PckTest, Sequences) {
  PoseSequence seq;
  seq.dataset = "penn_action";
  seq.id = "0001";
  seq.num_frames = 2;
  seq.num_joints = 13;
  seq.width = 100;
  seq.height = 100;
  seq.joints.assign(2 * 13 * 2, 5.0f);
  seq.visible.assign(2 * 13, 1);
  seq.boxes = {Box{0, 0, 10, 10}, Box{0, 0, 100, 100}};
  // Every prediction 3 px off: a miss in frame 0 (threshold 2), a hit in
  // frame 1 (threshold 20).
  std::vector<float> pred = seq.joints;
  for (size_t i = 0; i < pred.size(); i += 2) pred[i] += 3;
  PckAccumulator pck(PennActionJoints());
  ASSERT_TRUE(pck.AddSequence(pred, seq).ok());
  PckResult r = pck.Result("seq");
  EXPECT_EQ(r.frames, 2);
  EXPECT_DOUBLE_EQ(r.mean, 50);
  // Wrong sizes and unusable boxes are errors that name the sequence.
  pred.pop_back();
  absl::Status s = pck.AddSequence(pred, seq);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'0001'"), std::string::npos) << s;
  pred.push_back(0);
  seq.boxes[1] = Box{5, 5, 5, 5};
  s = pck.AddSequence(pred, seq);
  EXPECT_NE(s.message().find("frame 1"), std::string::npos) << s;
  PckAccumulator jhmdb(JhmdbJoints());
  EXPECT_FALSE(jhmdb.AddSequence(pred, seq).ok());
  EXPECT_FALSE(pck.AddFrame(std::vector<float>(4), std::vector<float>(4),
                            std::vector<uint8_t>(2), Box{0, 0, 1, 1})
                   .ok());
}

TEST(PckTest, MergeAndAverage) {
  const std::vector<float> truth = Truth(15);
  const std::vector<uint8_t> vis(15, 1);
  const Box box{0, 0, 10, 10};
  PckAccumulator a(JhmdbJoints(), PckOptionsFor("sub_jhmdb"));
  PckAccumulator b(JhmdbJoints(), PckOptionsFor("sub_jhmdb"));
  ASSERT_TRUE(a.AddFrame(truth, truth, vis, box).ok());  // all hits
  std::vector<float> off(15, 50);
  ASSERT_TRUE(
      b.AddFrame(Offset(truth, off), truth, vis, box).ok());  // all misses
  const PckResult ra = a.Result("split 1"), rb = b.Result("split 2");
  absl::StatusOr<PckResult> avg =
      AveragePck(std::vector<PckResult>{ra, rb}, "mean");
  ASSERT_TRUE(avg.ok());
  EXPECT_EQ(avg->label, "mean");
  EXPECT_DOUBLE_EQ(avg->mean, 50);
  EXPECT_DOUBLE_EQ(avg->groups[4], 50);
  EXPECT_EQ(avg->frames, 2);
  EXPECT_EQ(avg->joint_counts[0], 2);
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_DOUBLE_EQ(a.Result("merged").mean, 50);
  PckAccumulator penn(PennActionJoints());
  EXPECT_FALSE(a.Merge(penn).ok());
  const PckResult rp = penn.Result("penn");
  EXPECT_FALSE(AveragePck(std::vector<PckResult>{ra, rp}, "x").ok());
  EXPECT_FALSE(AveragePck(std::vector<PckResult>{}, "x").ok());
}

// MoveNet's COCO joints against JHMDB labels: both meet in JHMDB's set,
// where the neck, belly and face come from the mapping.
TEST(PckTest, AcrossJointSetsGoesThroughTheMapping) {
  const JointSet& coco = CocoJoints();
  const JointSet& jhmdb = JhmdbJoints();
  // A COCO pose: joint j at (10 j, 0), the hips 100 px below the shoulders.
  std::vector<float> pred = Truth(17);
  for (int j : {11, 12}) pred[2 * j + 1] = 100;
  // The JHMDB truth is that pose mapped, with the l_wrist moved 30 px and
  // the face 15 px (box 100 x 50: threshold 20 px).
  const JointMapping m = FindJointMapping(coco, jhmdb).value();
  std::vector<float> truth = MapPose(m, pred).value().xy;
  truth[2 * jhmdb.IndexOf("l_wrist").value() + 1] += 30;
  truth[2 * jhmdb.IndexOf("face").value()] += 15;
  absl::StatusOr<PckAccumulator> pck =
      PckAccumulator::Across(coco, jhmdb, PckOptionsFor("jhmdb"));
  ASSERT_TRUE(pck.ok()) << pck.status();
  EXPECT_EQ(pck->joints().name, "jhmdb");
  ASSERT_TRUE(pck->AddFrame(pred, truth, std::vector<uint8_t>(15, 0),
                            Box{0, 0, 100, 50})
                  .ok());
  PckResult r = pck->Result("movenet");
  EXPECT_EQ(r.joint_set, "jhmdb");
  EXPECT_EQ(r.mapping, "coco predictions mapped to jhmdb");
  std::vector<int64_t> hits(15, 1);
  hits[jhmdb.IndexOf("l_wrist").value()] = 0;
  EXPECT_EQ(r.joint_hits, hits);
  EXPECT_DOUBLE_EQ(r.groups[0], 100);  // the face, 15 px off
  EXPECT_DOUBLE_EQ(r.groups[3], 50);   // Wri.
  EXPECT_DOUBLE_EQ(r.mean, 100.0 * 14 / 15);
  const std::string table = FormatPckTable(std::vector<PckResult>{r});
  EXPECT_EQ(table.rfind("PCK@0.2 (jhmdb: coco predictions mapped to jhmdb, "
                        "all joints;",
                        0),
            0u)
      << table;
  EXPECT_EQ(nlohmann::json::parse(
                PckJson(std::vector<PckResult>{r}))["rows"][0]["mapping"],
            "coco predictions mapped to jhmdb");

  // Sizes are those of each side's own set.
  EXPECT_FALSE(pck->AddFrame(truth, truth, {}, Box{0, 0, 1, 1}).ok());
  // Counts of another mapping do not merge.
  PckAccumulator plain(jhmdb, PckOptionsFor("jhmdb"));
  EXPECT_FALSE(pck->Merge(plain).ok());
  // No mapping between the sets: an error naming both.
  JointSet custom;
  custom.name = "custom_2";
  custom.joint_names = {"a", "b"};
  const absl::Status none = PckAccumulator::Across(custom, jhmdb).status();
  EXPECT_NE(none.message().find("'custom_2'"), std::string::npos) << none;
  EXPECT_NE(none.message().find("'jhmdb'"), std::string::npos) << none;
}

// COCO predictions against PoseTrack labels meet in Penn Action's 13
// joints; a derived label joint counts only when all its sources are
// labelled, and sequences take each side's joint count.
TEST(PckTest, AcrossSetsCarriesVisibilityAndSequences) {
  const JointSet& posetrack = PoseTrackJoints();
  absl::StatusOr<PckAccumulator> pck = PckAccumulator::Across(
      CocoJoints(), posetrack, PckOptionsFor("posetrack"));
  ASSERT_TRUE(pck.ok()) << pck.status();
  EXPECT_EQ(pck->joints().name, "penn_action");
  PoseSequence seq;
  seq.dataset = "posetrack";
  seq.id = "x.json";
  seq.num_frames = 1;
  seq.num_joints = 17;
  seq.width = seq.height = 200;
  seq.joints = Truth(17);  // posetrack joint j at (10 j, 0)
  seq.visible.assign(17, 1);
  seq.visible[2] = 0;  // head_top: Penn's head does not count
  seq.visible[6] = 0;  // r_shoulder
  seq.boxes = {Box{0, 0, 100, 100}};
  // Predictions: COCO joint j at (10 j, 0) too, so the body joints (same
  // index in both) hit and the head (the face points' mean, x = 20, against
  // head_bottom/head_top's x = 15) would hit as well.
  const std::vector<float> pred = Truth(17);
  ASSERT_TRUE(pck->AddSequence(pred, seq).ok());
  const PckResult r = pck->Result("p");
  EXPECT_EQ(r.mapping,
            "coco predictions and posetrack labels mapped to penn_action");
  EXPECT_EQ(r.joint_counts,
            (std::vector<int64_t>{0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(r.mean, 100);
  EXPECT_TRUE(std::isnan(r.groups[0]));
  // A prediction of the labels' size is refused.
  EXPECT_FALSE(pck->AddSequence(Truth(13), seq).ok());
}

PckResult ExampleRow(const std::string& label, float wrist_dy) {
  PckAccumulator pck(PennActionJoints());
  const std::vector<float> truth = Truth(13);
  std::vector<float> dy(13, 0);
  dy[5] = wrist_dy;
  std::vector<uint8_t> vis(13, 1);
  vis[12] = 0;
  EXPECT_TRUE(
      pck.AddFrame(Offset(truth, dy), truth, vis, Box{0, 0, 10, 20}).ok());
  return pck.Result(label);
}

TEST(PckTest, TableCsvAndJson) {
  const std::vector<PckResult> rows = {ExampleRow("ours", 0),
                                       ExampleRow("baseline, ResNet-18", 9)};
  const std::string table = FormatPckTable(rows);
  EXPECT_EQ(table,
            "PCK@0.2 (penn_action, visible joints; groups and Mean = average "
            "of per-joint PCKs)\n"
            "Method               Head  Sho.  Elb.  Wri.   Hip  Knee  Ank.  "
            "Mean   Frames\n"
            "ours                100.0 100.0 100.0 100.0 100.0 100.0 100.0 "
            "100.0        1\n"
            "baseline, ResNet-18 100.0 100.0 100.0  50.0 100.0 100.0 100.0  "
            "91.7        1\n");
  const std::string csv = PckCsv(rows);
  EXPECT_EQ(csv,
            "label,Head,Sho.,Elb.,Wri.,Hip,Knee,Ank.,Mean,frames\n"
            "ours,100.00,100.00,100.00,100.00,100.00,100.00,100.00,100.00,1\n"
            "\"baseline, ResNet-18\",100.00,100.00,100.00,50.00,100.00,100.00,"
            "100.00,91.67,1\n");
  const nlohmann::json doc = nlohmann::json::parse(PckJson(rows));
  EXPECT_EQ(doc["metric"], "PCK");
  ASSERT_EQ(doc["rows"].size(), 2u);
  const auto& row = doc["rows"][1];
  EXPECT_EQ(row["label"], "baseline, ResNet-18");
  EXPECT_EQ(row["alpha"], 0.2);
  EXPECT_EQ(row["visibility"], "visible joints");
  EXPECT_EQ(row["mean_convention"], "per-joint");
  EXPECT_DOUBLE_EQ(row["groups"]["Wri."].get<double>(), 50);
  EXPECT_NEAR(row["mean"].get<double>(), 1100.0 / 12, 1e-9);
  EXPECT_EQ(row["joints"]["l_wrist"]["hits"], 0);
  EXPECT_EQ(row["joints"]["l_wrist"]["count"], 1);
  EXPECT_TRUE(row["joints"]["r_ankle"]["pck"].is_null());
  EXPECT_EQ(row["group_order"][0], "Head");

  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp ? tmp : "/tmp";
  ASSERT_TRUE(WritePckCsv(dir + "/pck.csv", rows).ok());
  ASSERT_TRUE(WritePckJson(dir + "/pck.json", rows).ok());
  EXPECT_EQ(*ReadFile(dir + "/pck.csv"), csv);
  EXPECT_EQ(nlohmann::json::parse(*ReadFile(dir + "/pck.json")), doc);
  EXPECT_FALSE(WritePckCsv(dir + "/no/such/dir/pck.csv", rows).ok());

  // Missing values print as "-", empty and null.
  PckAccumulator empty(PennActionJoints());
  const std::vector<PckResult> none = {empty.Result("nothing")};
  EXPECT_NE(FormatPckTable(none).find("     -"), std::string::npos);
  EXPECT_EQ(PckCsv(none),
            "label,Head,Sho.,Elb.,Wri.,Hip,Knee,Ank.,Mean,frames\nnothing,,,,,,"
            ",,,0\n");
  EXPECT_TRUE(
      nlohmann::json::parse(PckJson(none))["rows"][0]["mean"].is_null());
}

}  // namespace
}  // namespace mapn
