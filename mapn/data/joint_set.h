// File: joint_set.h
//
// The joint definitions of the datasets mapn trains and evaluates on, as
// data: joint names in the dataset's own order, the left/right pairs that a
// horizontal flip swaps, the paper's PCK column groups (Head, Sho., Elb.,
// Wri., Hip, Knee, Ank.) and a skeleton edge list for drawing. Everything
// that depends on a dataset's joints (heatmap targets, flip augmentation, PCK
// tables, overlays) reads it from here instead of hard-coding indices.
//
// Orders (docs/data.md):
//   Penn Action (13): head, l_shoulder, r_shoulder, l_elbow, r_elbow,
//     l_wrist, r_wrist, l_hip, r_hip, l_knee, r_knee, l_ankle, r_ankle.
//   JHMDB (15): neck, belly, face, r_shoulder, l_shoulder, r_hip, l_hip,
//     r_elbow, l_elbow, r_knee, l_knee, r_wrist, l_wrist, r_ankle, l_ankle.
//   COCO (17): nose, l_eye, r_eye, l_ear, r_ear, l_shoulder, r_shoulder,
//     l_elbow, r_elbow, l_wrist, r_wrist, l_hip, r_hip, l_knee, r_knee,
//     l_ankle, r_ankle (MoveNet's outputs; the Head column is the five face
//     points).
//   PoseTrack (17): nose, head_bottom, head_top, l_ear, r_ear, then COCO's
//     l_shoulder ... r_ankle (PoseTrack18's labels; the ears are never
//     labelled there; the Head column is nose, head_bottom, head_top and the
//     ears).
// mapn/data/joint_mapping.h maps one set onto another (COCO's joints onto
// JHMDB's neck and belly, and so on), for PCK across joint sets.
// JHMDB's Head column is the face joint alone; neck and belly count only in
// the Mean (the convention of mmpose's JhmdbPCKAccuracy, and the only one
// under which the paper's Table 4 means follow from its columns).
//
// Example:
//
//   const JointSet& joints = PennActionJoints();
//   std::vector<int> flip = joints.FlipPermutation();  // flipped[j] =
//   src[flip[j]] for (const JointGroup& group : joints.pck_groups) { ...
//   group.name ... }
#ifndef MAPN_DATA_JOINT_SET_H_
#define MAPN_DATA_JOINT_SET_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mapn {

// One column of a PCK table: the joints whose per-joint PCKs it averages.
struct JointGroup {
  std::string name;
  std::vector<int> joints;
};

struct JointSet {
  std::string name;                             // "penn_action", "jhmdb"
  std::vector<std::string> joint_names;         // dataset order
  std::vector<std::pair<int, int>> flip_pairs;  // (left, right)
  std::vector<JointGroup> pck_groups;           // the paper's column order
  std::vector<std::pair<int, int>> skeleton;    // edges for drawing

  int num_joints() const { return static_cast<int>(joint_names.size()); }
  // Index of a joint by name ("l_wrist"), or nullopt.
  std::optional<int> IndexOf(const std::string& joint_name) const;
  // perm[j] = the joint that lands on j after a horizontal flip (identity for
  // unpaired joints); applying it twice is the identity.
  std::vector<int> FlipPermutation() const;
};

// The joint sets; references to static objects.
const JointSet& PennActionJoints();
const JointSet& JhmdbJoints();
const JointSet& CocoJoints();
const JointSet& PoseTrackJoints();
// The four above, in that order.
const std::vector<const JointSet*>& AllJointSets();

// Looks a joint set up by name ("penn_action", "jhmdb", "coco" or
// "posetrack").
std::optional<JointSet> JointSetByName(const std::string& name);

}  // namespace mapn

#endif  // MAPN_DATA_JOINT_SET_H_
