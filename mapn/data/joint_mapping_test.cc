// Joint mappings: the table's own consistency (indices, weights, left and
// right), hand-checked derived joints, scores and visibility, the common
// set PCK meets in, and the neck and belly weights measured again on the
// real JHMDB labels.
#include "mapn/data/joint_mapping.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/data/jhmdb.h"
#include "mapn/data/joint_set.h"
#include "mapn/testing/shared_data.h"

namespace mapn {
namespace {

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

// Joint j of `set` at `(x, y)` in a [J, 2] array.
void Put(const JointSet& set, const std::string& name, float x, float y,
         std::vector<float>& xy) {
  const int j = set.IndexOf(name).value();
  xy[2 * j] = x;
  xy[2 * j + 1] = y;
}

float X(const JointSet& set, const std::string& name,
        const std::vector<float>& xy) {
  return xy[2 * set.IndexOf(name).value()];
}
float Y(const JointSet& set, const std::string& name,
        const std::vector<float>& xy) {
  return xy[2 * set.IndexOf(name).value() + 1];
}

TEST(JointMappingTest, EveryMappingIsWellFormed) {
  ASSERT_EQ(JointMappings().size(), 5u);
  for (const JointMapping& m : JointMappings()) {
    SCOPED_TRACE(m.Describe());
    const std::optional<JointSet> from = JointSetByName(m.from);
    const std::optional<JointSet> to = JointSetByName(m.to);
    ASSERT_TRUE(from.has_value() && to.has_value());
    EXPECT_EQ(m.source_joints, from->num_joints());
    ASSERT_EQ(m.num_target_joints(), to->num_joints());
    EXPECT_FALSE(m.is_identity());
    for (int j = 0; j < m.num_target_joints(); ++j) {
      ASSERT_FALSE(m.targets[j].empty()) << to->joint_names[j];
      double sum = 0;
      for (const WeightedJoint& term : m.targets[j]) {
        EXPECT_GE(term.joint, 0);
        EXPECT_LT(term.joint, from->num_joints());
        sum += term.weight;
      }
      EXPECT_NEAR(sum, 1.0, 1e-12) << to->joint_names[j];
      // A copied joint keeps its name.
      if (m.targets[j].size() == 1 && m.targets[j][0].weight == 1 &&
          to->joint_names[j] != "face" && to->joint_names[j] != "head") {
        EXPECT_EQ(from->joint_names[m.targets[j][0].joint], to->joint_names[j]);
      }
    }
  }
}

// Mirroring the person and then mapping gives the mapping mirrored: a
// derived joint uses left and right alike, and l_x never lands on r_x.
TEST(JointMappingTest, MappingsCommuteWithLeftRightFlips) {
  for (const JointMapping& m : JointMappings()) {
    SCOPED_TRACE(m.Describe());
    const JointSet from = *JointSetByName(m.from);
    const JointSet to = *JointSetByName(m.to);
    std::vector<float> xy(2 * from.num_joints());
    for (size_t i = 0; i < xy.size(); ++i) {
      xy[i] = static_cast<float>((i * 37) % 101);  // distinct values
    }
    const std::vector<int> src_flip = from.FlipPermutation();
    const std::vector<int> dst_flip = to.FlipPermutation();
    std::vector<float> flipped(xy.size());
    for (int j = 0; j < from.num_joints(); ++j) {
      flipped[2 * j] = xy[2 * src_flip[j]];
      flipped[2 * j + 1] = xy[2 * src_flip[j] + 1];
    }
    const MappedPose a = MapPose(m, flipped).value();
    const MappedPose b = MapPose(m, xy).value();
    for (int j = 0; j < to.num_joints(); ++j) {
      EXPECT_NEAR(a.xy[2 * j], b.xy[2 * dst_flip[j]], 1e-4)
          << to.joint_names[j];
      EXPECT_NEAR(a.xy[2 * j + 1], b.xy[2 * dst_flip[j] + 1], 1e-4)
          << to.joint_names[j];
    }
  }
}

// A COCO pose by hand: shoulders at y = 0 (x 10, 30), hips at y = 50
// (x 12, 28), the face above.
std::vector<float> HandCocoPose() {
  const JointSet& coco = CocoJoints();
  std::vector<float> xy(34, 0);
  Put(coco, "l_shoulder", 10, 0, xy);
  Put(coco, "r_shoulder", 30, 0, xy);
  Put(coco, "l_hip", 12, 50, xy);
  Put(coco, "r_hip", 28, 50, xy);
  Put(coco, "nose", 20, -30, xy);
  Put(coco, "l_eye", 18, -32, xy);
  Put(coco, "r_eye", 22, -32, xy);
  Put(coco, "l_ear", 15, -30, xy);
  Put(coco, "r_ear", 25, -30, xy);
  Put(coco, "l_wrist", 5, 40, xy);
  Put(coco, "r_ankle", 27, 100, xy);
  return xy;
}

TEST(JointMappingTest, CocoToJhmdbByHand) {
  const JointSet& coco = CocoJoints();
  const JointSet& jhmdb = JhmdbJoints();
  const JointMapping m = FindJointMapping(coco, jhmdb).value();
  const std::vector<float> xy = HandCocoPose();
  std::vector<float> scores(17, 0.9f);
  scores[coco.IndexOf("l_hip").value()] = 0.3f;
  scores[coco.IndexOf("r_eye").value()] = 0.2f;
  std::vector<uint8_t> visible(17, 1);
  visible[coco.IndexOf("l_ear").value()] = 0;
  const MappedPose out = MapPose(m, xy, scores, visible).value();
  ASSERT_EQ(out.xy.size(), 30u);
  // Shoulder midpoint (20, 0), hip midpoint (20, 50): the neck 0.12 of the
  // torso above the shoulders, the belly 0.44 of the way down.
  EXPECT_NEAR(X(jhmdb, "neck", out.xy), 20, 1e-5);
  EXPECT_NEAR(Y(jhmdb, "neck", out.xy), -6, 1e-5);
  EXPECT_NEAR(X(jhmdb, "belly", out.xy), 20, 1e-5);
  EXPECT_NEAR(Y(jhmdb, "belly", out.xy), 22, 1e-5);
  // The face: the mean of nose, eyes and ears.
  EXPECT_NEAR(X(jhmdb, "face", out.xy), 20, 1e-5);
  EXPECT_NEAR(Y(jhmdb, "face", out.xy), -30.8, 1e-5);
  // Copied joints, JHMDB's right-first order.
  EXPECT_EQ(X(jhmdb, "r_shoulder", out.xy), 30);
  EXPECT_EQ(X(jhmdb, "l_shoulder", out.xy), 10);
  EXPECT_EQ(X(jhmdb, "l_wrist", out.xy), 5);
  EXPECT_EQ(Y(jhmdb, "r_ankle", out.xy), 100);
  // Scores: a derived joint is as sure as its least sure source.
  EXPECT_FLOAT_EQ(out.scores[0], 0.3f);  // neck uses l_hip
  EXPECT_FLOAT_EQ(out.scores[1], 0.3f);  // belly too
  EXPECT_FLOAT_EQ(out.scores[2], 0.2f);  // face uses r_eye
  EXPECT_FLOAT_EQ(out.scores[3], 0.9f);
  // Visibility: the face needs all five face points.
  EXPECT_EQ(out.visible[2], 0);
  EXPECT_EQ(out.visible[0], 1);

  // A missing source makes its derived joint missing, nothing else.
  std::vector<float> no_nose = xy;
  no_nose[0] = std::numeric_limits<float>::quiet_NaN();
  const MappedPose partial = MapPose(m, no_nose).value();
  EXPECT_TRUE(std::isnan(partial.xy[2 * 2]));
  EXPECT_FALSE(std::isnan(partial.xy[0]));
  EXPECT_TRUE(partial.scores.empty() && partial.visible.empty());

  absl::Status bad = MapPose(m, std::vector<float>(30, 0)).status();
  EXPECT_TRUE(Contains(bad, "coco -> jhmdb") && Contains(bad, "17")) << bad;
}

TEST(JointMappingTest, PennPoseTrackAndJhmdbByHand) {
  const JointSet& penn = PennActionJoints();
  const JointSet& jhmdb = JhmdbJoints();
  const JointSet& posetrack = PoseTrackJoints();

  // COCO -> Penn Action: the head is the face points' mean.
  const MappedPose coco_penn =
      MapPose(FindJointMapping(CocoJoints(), penn).value(), HandCocoPose())
          .value();
  EXPECT_NEAR(X(penn, "head", coco_penn.xy), 20, 1e-5);
  EXPECT_NEAR(Y(penn, "head", coco_penn.xy), -30.8, 1e-5);
  EXPECT_EQ(X(penn, "l_wrist", coco_penn.xy), 5);

  // PoseTrack -> Penn Action: the head between head_bottom and head_top.
  std::vector<float> pt(34, 0);
  Put(posetrack, "head_bottom", 40, 20, pt);
  Put(posetrack, "head_top", 44, -10, pt);
  Put(posetrack, "nose", 100, 100, pt);  // not used
  Put(posetrack, "r_knee", 7, 8, pt);
  const MappedPose pt_penn =
      MapPose(FindJointMapping(posetrack, penn).value(), pt).value();
  EXPECT_NEAR(X(penn, "head", pt_penn.xy), 42, 1e-5);
  EXPECT_NEAR(Y(penn, "head", pt_penn.xy), 5, 1e-5);
  EXPECT_EQ(X(penn, "r_knee", pt_penn.xy), 7);
  EXPECT_EQ(Y(penn, "r_knee", pt_penn.xy), 8);

  // Penn Action -> JHMDB -> Penn Action gives the pose back; the neck and
  // belly come from the shoulders and hips as from COCO's.
  std::vector<float> p(26);
  for (int i = 0; i < 26; ++i) p[i] = static_cast<float>(3 * i + 1);
  Put(penn, "l_shoulder", 10, 0, p);
  Put(penn, "r_shoulder", 30, 0, p);
  Put(penn, "l_hip", 12, 50, p);
  Put(penn, "r_hip", 28, 50, p);
  const MappedPose to_jhmdb =
      MapPose(FindJointMapping(penn, jhmdb).value(), p).value();
  EXPECT_NEAR(Y(jhmdb, "neck", to_jhmdb.xy), -6, 1e-5);
  EXPECT_NEAR(Y(jhmdb, "belly", to_jhmdb.xy), 22, 1e-5);
  EXPECT_EQ(X(jhmdb, "face", to_jhmdb.xy), X(penn, "head", p));
  const MappedPose back =
      MapPose(FindJointMapping(jhmdb, penn).value(), to_jhmdb.xy).value();
  EXPECT_EQ(back.xy, p);
}

TEST(JointMappingTest, FindAndCommonSets) {
  EXPECT_TRUE(FindJointMapping(CocoJoints(), CocoJoints())->is_identity());
  absl::Status none =
      FindJointMapping(CocoJoints(), PoseTrackJoints()).status();
  EXPECT_TRUE(absl::IsNotFound(none));
  EXPECT_TRUE(Contains(none, "'coco' to 'posetrack'") &&
              Contains(none, "coco -> jhmdb"))
      << none;

  struct Case {
    const JointSet* predicted;
    const JointSet* truth;
    std::string common, text;
  };
  const std::vector<Case> cases = {
      {&CocoJoints(), &JhmdbJoints(), "jhmdb",
       "coco predictions mapped to jhmdb"},
      {&PennActionJoints(), &JhmdbJoints(), "jhmdb",
       "penn_action predictions mapped to jhmdb"},
      {&CocoJoints(), &PoseTrackJoints(), "penn_action",
       "coco predictions and posetrack labels mapped to penn_action"},
      {&PennActionJoints(), &PoseTrackJoints(), "penn_action",
       "posetrack labels mapped to penn_action"},
      {&CocoJoints(), &PennActionJoints(), "penn_action",
       "coco predictions mapped to penn_action"},
      {&JhmdbJoints(), &JhmdbJoints(), "jhmdb", ""},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<CommonJoints> common =
        CommonJointSet(*c.predicted, *c.truth);
    ASSERT_TRUE(common.ok()) << common.status();
    EXPECT_EQ(common->joints.name, c.common);
    EXPECT_EQ(common->Describe(), c.text);
    EXPECT_EQ(common->predicted.to, c.common);
    EXPECT_EQ(common->truth.to, c.common);
  }
  JointSet custom;
  custom.name = "custom_3";
  custom.joint_names = {"a", "b", "c"};
  const absl::Status refused = CommonJointSet(custom, JhmdbJoints()).status();
  EXPECT_TRUE(absl::IsInvalidArgument(refused));
  EXPECT_TRUE(Contains(refused, "'custom_3', 3") &&
              Contains(refused, "'jhmdb', 15") &&
              Contains(refused, "no mapping"))
      << refused;
}

TEST(JointMappingTest, Sequences) {
  PoseSequence seq;
  seq.dataset = "sub_jhmdb";
  seq.id = "x";
  seq.num_frames = 2;
  seq.num_joints = 15;
  seq.width = seq.height = 100;
  for (int i = 0; i < 60; ++i) seq.joints.push_back(static_cast<float>(i));
  seq.visible.assign(30, 1);
  seq.visible[15 + 2] = 0;  // frame 1: the face
  seq.boxes = {Box{0, 0, 10, 10}, Box{1, 1, 20, 20}};
  const PoseSequence penn =
      MapSequence(FindJointMapping(JhmdbJoints(), PennActionJoints()).value(),
                  seq)
          .value();
  EXPECT_EQ(penn.num_joints, 13);
  ASSERT_EQ(penn.joints.size(), 52u);
  EXPECT_EQ(penn.x(1, 0), seq.x(1, 2));    // head = face
  EXPECT_EQ(penn.y(1, 12), seq.y(1, 13));  // r_ankle
  EXPECT_TRUE(penn.is_visible(0, 0));
  EXPECT_FALSE(penn.is_visible(1, 0));
  EXPECT_EQ(penn.boxes[1].x2, 20);
  EXPECT_TRUE(penn.Validate().ok());
  const absl::Status wrong =
      MapSequence(FindJointMapping(CocoJoints(), JhmdbJoints()).value(), seq)
          .status();
  EXPECT_TRUE(Contains(wrong, "15 joints")) << wrong;
}

// The neck and belly weights, measured again on the one real JHMDB label
// file (SOURCES.md section 2): JHMDB's own shoulders and hips through the
// Penn Action -> JHMDB mapping land within 3 % of the box of JHMDB's own
// neck and belly on average, and closer than the plain shoulder midpoint
// and torso midpoint would.
TEST(JointMappingTest, NeckAndBellyMatchTheRealJhmdbLabels) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const absl::StatusOr<PoseSequence> seq =
      ReadJhmdbLabels(dir +
                          "/jhmdb-readannotation/ReadJHMDBAnnotations/data/"
                          "joint_positions.mat",
                      "", "catch/clip");
  ASSERT_TRUE(seq.ok()) << seq.status();
  const JointSet& jhmdb = JhmdbJoints();
  const PoseSequence derived =
      MapSequence(
          FindJointMapping(PennActionJoints(), jhmdb).value(),
          MapSequence(FindJointMapping(jhmdb, PennActionJoints()).value(), *seq)
              .value())
          .value();
  double neck = 0, belly = 0, neck_mid = 0, belly_mid = 0, neck_max = 0;
  for (int64_t t = 0; t < seq->num_frames; ++t) {
    const double size = std::max(seq->boxes[t].width(), seq->boxes[t].height());
    const auto dist = [&](float x, float y, int j) {
      return std::hypot(x - seq->x(t, j), y - seq->y(t, j)) / size;
    };
    neck += dist(derived.x(t, 0), derived.y(t, 0), 0);
    belly += dist(derived.x(t, 1), derived.y(t, 1), 1);
    neck_max = std::max(neck_max, dist(derived.x(t, 0), derived.y(t, 0), 0));
    const float sx = (seq->x(t, 3) + seq->x(t, 4)) / 2;
    const float sy = (seq->y(t, 3) + seq->y(t, 4)) / 2;
    const float hx = (seq->x(t, 5) + seq->x(t, 6)) / 2;
    const float hy = (seq->y(t, 5) + seq->y(t, 6)) / 2;
    neck_mid += dist(sx, sy, 0);
    belly_mid += dist((sx + hx) / 2, (sy + hy) / 2, 1);
  }
  const double n = static_cast<double>(seq->num_frames);
  // Measured: neck 0.023 (max 0.069), belly 0.011; the midpoints 0.045
  // and 0.023.
  EXPECT_LT(neck / n, 0.03);
  EXPECT_LT(neck_max, 0.08);
  EXPECT_LT(belly / n, 0.015);
  EXPECT_LT(neck, neck_mid);
  EXPECT_LT(belly, belly_mid);
  // The face and the other joints come back unchanged.
  for (int j = 2; j < 15; ++j) {
    EXPECT_EQ(derived.x(7, j), seq->x(7, j)) << jhmdb.joint_names[j];
  }
}

}  // namespace
}  // namespace mapn
