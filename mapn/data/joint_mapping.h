// File: joint_mapping.h
//
// How the joints of one joint set stand for those of another, as data: for
// each target joint, a weighted combination of source joints (weights sum to
// 1). Most joints are copied (COCO's l_wrist is JHMDB's l_wrist); the others
// are derived, and every derived joint's weights are measured on real labels
// (docs/data.md, "Joint mappings", says how):
//
//   coco -> jhmdb         neck = shoulder midpoint moved 0.12 torso lengths
//                         away from the hips; belly = 0.44 of the way from
//                         the shoulder midpoint to the hip midpoint;
//                         face = mean of the five face points
//   coco -> penn_action   head = mean of the five face points
//   penn_action -> jhmdb  neck and belly as above, face = head
//   jhmdb -> penn_action  head = face
//   posetrack -> penn_action
//                         head = midpoint of head_bottom and head_top
//
// PCK of a model with one joint set against labels of another
// (mapn/eval/pck.h) goes through CommonJointSet: the predictions are mapped
// onto the labels' set when a mapping exists, or both onto a set they both
// map to (COCO predictions and PoseTrack labels meet in Penn Action's 13
// joints).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(JointMapping m,
//                         FindJointMapping(CocoJoints(), JhmdbJoints()));
//   // xy: [17, 2] MoveNet keypoints, scores: [17].
//   MAPN_ASSIGN_OR_RETURN(MappedPose jhmdb, MapPose(m, xy, scores));
//   float neck_x = jhmdb.xy[0], neck_y = jhmdb.xy[1];
#ifndef MAPN_DATA_JOINT_MAPPING_H_
#define MAPN_DATA_JOINT_MAPPING_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/pose_sequence.h"

namespace mapn {

// One term of a target joint: weight * source joint.
struct WeightedJoint {
  int joint = 0;  // index in the source set
  double weight = 1;
};

struct JointMapping {
  std::string from;       // the source set's name
  std::string to;         // the target set's name
  int source_joints = 0;  // the source set's joint count
  // One entry per target joint, in the target set's order; its weights sum
  // to 1 (a negative weight extrapolates, as the neck's does).
  std::vector<std::vector<WeightedJoint>> targets;

  int num_target_joints() const { return static_cast<int>(targets.size()); }
  // Each target joint is one source joint with weight 1 at its own index.
  bool is_identity() const;
  // "coco -> jhmdb".
  std::string Describe() const;
};

// The identity mapping of `set` onto itself.
JointMapping IdentityMapping(const JointSet& set);

// Every mapping mapn knows, built once from the joint names (joints of the
// same name are copied; the file comment lists the derived ones).
const std::vector<JointMapping>& JointMappings();

// The mapping from `from` onto `to`: the identity when they are the same
// set, else one of JointMappings(). NotFound naming both sets and listing
// the mappings there are.
absl::StatusOr<JointMapping> FindJointMapping(const JointSet& from,
                                              const JointSet& to);

// Where predictions in one joint set and labels in another are compared.
struct CommonJoints {
  JointSet joints;         // the set PCK counts in
  JointMapping predicted;  // predicted set -> joints
  JointMapping truth;      // labels' set -> joints
  // "coco predictions mapped to jhmdb"; empty when both are the identity.
  std::string Describe() const;
};

// The common set of `predicted` and `truth`: the labels' own set when the
// predictions map onto it, else the predictions' set when the labels map
// onto it, else the first set of AllJointSets() both map onto.
// InvalidArgument naming both sets and listing the mappings otherwise.
absl::StatusOr<CommonJoints> CommonJointSet(const JointSet& predicted,
                                            const JointSet& truth);

// One pose mapped to the target set.
struct MappedPose {
  std::vector<float> xy;         // [J_target, 2]
  std::vector<float> scores;     // [J_target], when scores were given
  std::vector<uint8_t> visible;  // [J_target], when visibility was given
};

// Maps `xy` ([J_source, 2], x then y) and, when not empty, `scores`
// ([J_source]) and `visible` ([J_source]). A target joint is the weighted
// sum of its sources (NaN when one is not finite), its score the lowest of
// its sources' scores (a derived joint is as sure as its least sure part),
// and it is visible when all its sources are. InvalidArgument when a size
// does not fit the mapping.
absl::StatusOr<MappedPose> MapPose(const JointMapping& mapping,
                                   std::span<const float> xy,
                                   std::span<const float> scores = {},
                                   std::span<const uint8_t> visible = {});

// Maps every frame of `sequence` (whose joints must be the mapping's source
// set); boxes, frames and the rest are kept.
absl::StatusOr<PoseSequence> MapSequence(const JointMapping& mapping,
                                         const PoseSequence& sequence);

}  // namespace mapn

#endif  // MAPN_DATA_JOINT_MAPPING_H_
