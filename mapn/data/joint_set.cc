#include "mapn/data/joint_set.h"

#include <numeric>

namespace mapn {

std::optional<int> JointSet::IndexOf(const std::string& joint_name) const {
  for (int j = 0; j < num_joints(); ++j) {
    if (joint_names[j] == joint_name) return j;
  }
  return std::nullopt;
}

std::vector<int> JointSet::FlipPermutation() const {
  std::vector<int> perm(joint_names.size());
  std::iota(perm.begin(), perm.end(), 0);
  for (const auto& [left, right] : flip_pairs) {
    perm[left] = right;
    perm[right] = left;
  }
  return perm;
}

const JointSet& PennActionJoints() {
  static const JointSet* const kSet = new JointSet{
      .name = "penn_action",
      .joint_names = {"head", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
                      "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee",
                      "r_knee", "l_ankle", "r_ankle"},
      .flip_pairs = {{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}},
      .pck_groups = {{"Head", {0}},
                     {"Sho.", {1, 2}},
                     {"Elb.", {3, 4}},
                     {"Wri.", {5, 6}},
                     {"Hip", {7, 8}},
                     {"Knee", {9, 10}},
                     {"Ank.", {11, 12}}},
      .skeleton = {{0, 1},
                   {0, 2},
                   {1, 2},
                   {1, 3},
                   {3, 5},
                   {2, 4},
                   {4, 6},
                   {1, 7},
                   {2, 8},
                   {7, 8},
                   {7, 9},
                   {9, 11},
                   {8, 10},
                   {10, 12}},
  };
  return *kSet;
}

const JointSet& JhmdbJoints() {
  static const JointSet* const kSet = new JointSet{
      .name = "jhmdb",
      .joint_names = {"neck", "belly", "face", "r_shoulder", "l_shoulder",
                      "r_hip", "l_hip", "r_elbow", "l_elbow", "r_knee",
                      "l_knee", "r_wrist", "l_wrist", "r_ankle", "l_ankle"},
      // (left, right) like Penn Action's pairs, although JHMDB lists the
      // right joint first.
      .flip_pairs = {{4, 3}, {6, 5}, {8, 7}, {10, 9}, {12, 11}, {14, 13}},
      .pck_groups = {{"Head", {2}},
                     {"Sho.", {3, 4}},
                     {"Elb.", {7, 8}},
                     {"Wri.", {11, 12}},
                     {"Hip", {5, 6}},
                     {"Knee", {9, 10}},
                     {"Ank.", {13, 14}}},
      .skeleton = {{2, 0},
                   {0, 1},
                   {0, 3},
                   {0, 4},
                   {3, 7},
                   {7, 11},
                   {4, 8},
                   {8, 12},
                   {1, 5},
                   {1, 6},
                   {5, 9},
                   {9, 13},
                   {6, 10},
                   {10, 14}},
  };
  return *kSet;
}

namespace {

// COCO's 17-keypoint layout, which PoseTrack18 shares (its points 1 and 2
// are the head's bottom and top where COCO has the eyes): the PCK column
// groups and the skeleton, 0-based.
std::vector<JointGroup> Coco17PckGroups() {
  return {{"Head", {0, 1, 2, 3, 4}}, {"Sho.", {5, 6}},  {"Elb.", {7, 8}},
          {"Wri.", {9, 10}},         {"Hip", {11, 12}}, {"Knee", {13, 14}},
          {"Ank.", {15, 16}}};
}

std::vector<std::pair<int, int>> Coco17Skeleton() {
  return {{15, 13}, {13, 11}, {16, 14}, {14, 12}, {11, 12}, {5, 11}, {6, 12},
          {5, 6},   {5, 7},   {6, 8},   {7, 9},   {8, 10},  {1, 2},  {0, 1},
          {0, 2},   {1, 3},   {2, 4},   {3, 5},   {4, 6}};
}

}  // namespace

const JointSet& CocoJoints() {
  static const JointSet* const kSet = new JointSet{
      .name = "coco",
      .joint_names = {"nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder",
                      "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
                      "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle",
                      "r_ankle"},
      .flip_pairs = {{1, 2},
                     {3, 4},
                     {5, 6},
                     {7, 8},
                     {9, 10},
                     {11, 12},
                     {13, 14},
                     {15, 16}},
      .pck_groups = Coco17PckGroups(),
      .skeleton = Coco17Skeleton(),
  };
  return *kSet;
}

const JointSet& PoseTrackJoints() {
  static const JointSet* const kSet = new JointSet{
      .name = "posetrack",
      .joint_names = {"nose", "head_bottom", "head_top", "l_ear", "r_ear",
                      "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
                      "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee",
                      "r_knee", "l_ankle", "r_ankle"},
      .flip_pairs =
          {{3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}, {13, 14}, {15, 16}},
      // The ears are never labelled in PoseTrack18; listed, they would
      // count if a file did label them.
      .pck_groups = Coco17PckGroups(),
      // PoseTrack18's category has COCO's skeleton.
      .skeleton = Coco17Skeleton(),
  };
  return *kSet;
}

const std::vector<const JointSet*>& AllJointSets() {
  static const std::vector<const JointSet*>* const kSets =
      new std::vector<const JointSet*>{&PennActionJoints(), &JhmdbJoints(),
                                       &CocoJoints(), &PoseTrackJoints()};
  return *kSets;
}

std::optional<JointSet> JointSetByName(const std::string& name) {
  for (const JointSet* set : AllJointSets()) {
    if (set->name == name) return *set;
  }
  return std::nullopt;
}

}  // namespace mapn
