#include "mapn/data/joint_mapping.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mapn {
namespace {

// JHMDB's neck and belly on the line from the shoulder midpoint S to the hip
// midpoint H: joint = S + t * (H - S). Least-squares fits of t over the 40
// frames of the one real JHMDB label file we have (SOURCES.md section 2,
// docs/data.md "Joint mappings"): neck t = -0.118 (a little above the
// shoulder line, towards the head), belly t = 0.441.
constexpr double kNeckT = -0.12;
constexpr double kBellyT = 0.44;

using Terms = std::vector<std::pair<std::string, double>>;

// A point on the shoulder-to-hip line, as a combination of the four joints.
Terms TorsoPoint(double t) {
  const double s = (1 - t) / 2, h = t / 2;
  return {{"l_shoulder", s}, {"r_shoulder", s}, {"l_hip", h}, {"r_hip", h}};
}

const Terms& FacePoints() {
  static const Terms* const kTerms = new Terms{{"nose", 0.2},
                                               {"l_eye", 0.2},
                                               {"r_eye", 0.2},
                                               {"l_ear", 0.2},
                                               {"r_ear", 0.2}};
  return *kTerms;
}

// The mapping from `from` onto `to`: `derived` joints from their terms,
// every other target joint copied from the source joint of the same name.
// A name that is missing leaves the target joint without terms, which
// JointMappingTest catches.
JointMapping Build(const JointSet& from, const JointSet& to,
                   const std::map<std::string, Terms>& derived) {
  JointMapping m;
  m.from = from.name;
  m.to = to.name;
  m.source_joints = from.num_joints();
  m.targets.resize(to.num_joints());
  for (int j = 0; j < to.num_joints(); ++j) {
    const std::string& name = to.joint_names[j];
    auto it = derived.find(name);
    const Terms terms = it != derived.end() ? it->second : Terms{{name, 1.0}};
    for (const auto& [source, weight] : terms) {
      const std::optional<int> index = from.IndexOf(source);
      if (!index.has_value()) {
        m.targets[j].clear();
        break;
      }
      m.targets[j].push_back({*index, weight});
    }
  }
  return m;
}

std::string MappingList() {
  std::string list;
  for (const JointMapping& m : JointMappings()) {
    absl::StrAppend(&list, list.empty() ? "" : ", ", m.Describe());
  }
  return list;
}

const JointMapping* Listed(const std::string& from, const std::string& to) {
  for (const JointMapping& m : JointMappings()) {
    if (m.from == from && m.to == to) return &m;
  }
  return nullptr;
}

}  // namespace

bool JointMapping::is_identity() const {
  if (from != to || source_joints != num_target_joints()) return false;
  for (int j = 0; j < num_target_joints(); ++j) {
    if (targets[j].size() != 1 || targets[j][0].joint != j ||
        targets[j][0].weight != 1) {
      return false;
    }
  }
  return true;
}

std::string JointMapping::Describe() const {
  return absl::StrCat(from, " -> ", to);
}

JointMapping IdentityMapping(const JointSet& set) {
  return Build(set, set, {});
}

const std::vector<JointMapping>& JointMappings() {
  static const std::vector<JointMapping>* const kMappings = [] {
    const Terms neck = TorsoPoint(kNeckT);
    const Terms belly = TorsoPoint(kBellyT);
    return new std::vector<JointMapping>{
        Build(CocoJoints(), JhmdbJoints(),
              {{"neck", neck}, {"belly", belly}, {"face", FacePoints()}}),
        Build(CocoJoints(), PennActionJoints(), {{"head", FacePoints()}}),
        Build(PennActionJoints(), JhmdbJoints(),
              {{"neck", neck}, {"belly", belly}, {"face", {{"head", 1.0}}}}),
        Build(JhmdbJoints(), PennActionJoints(), {{"head", {{"face", 1.0}}}}),
        Build(PoseTrackJoints(), PennActionJoints(),
              {{"head", {{"head_bottom", 0.5}, {"head_top", 0.5}}}}),
    };
  }();
  return *kMappings;
}

absl::StatusOr<JointMapping> FindJointMapping(const JointSet& from,
                                              const JointSet& to) {
  if (from.name == to.name && from.joint_names == to.joint_names) {
    return IdentityMapping(from);
  }
  if (const JointMapping* m = Listed(from.name, to.name)) return *m;
  return absl::NotFoundError(absl::StrCat("no mapping from the joint set '",
                                          from.name, "' to '", to.name,
                                          "' (mappings: ", MappingList(), ")"));
}

std::string CommonJoints::Describe() const {
  const bool p = !predicted.is_identity(), t = !truth.is_identity();
  if (p && t) {
    return absl::StrCat(predicted.from, " predictions and ", truth.from,
                        " labels mapped to ", joints.name);
  }
  if (p)
    return absl::StrCat(predicted.from, " predictions mapped to ", joints.name);
  if (t) return absl::StrCat(truth.from, " labels mapped to ", joints.name);
  return "";
}

absl::StatusOr<CommonJoints> CommonJointSet(const JointSet& predicted,
                                            const JointSet& truth) {
  std::vector<const JointSet*> candidates = {&truth, &predicted};
  for (const JointSet* set : AllJointSets()) candidates.push_back(set);
  for (const JointSet* common : candidates) {
    absl::StatusOr<JointMapping> p = FindJointMapping(predicted, *common);
    absl::StatusOr<JointMapping> t = FindJointMapping(truth, *common);
    if (p.ok() && t.ok()) {
      return CommonJoints{*common, *std::move(p), *std::move(t)};
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the model's joints ('", predicted.name, "', ", predicted.num_joints(),
      ") and the labels' ('", truth.name, "', ", truth.num_joints(),
      ") have no mapping onto a common joint set (mappings: ", MappingList(),
      "; docs/data.md, \"Joint mappings\")"));
}

absl::StatusOr<MappedPose> MapPose(const JointMapping& mapping,
                                   std::span<const float> xy,
                                   std::span<const float> scores,
                                   std::span<const uint8_t> visible) {
  const size_t n = static_cast<size_t>(mapping.source_joints);
  if (xy.size() != 2 * n || (!scores.empty() && scores.size() != n) ||
      (!visible.empty() && visible.size() != n)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mapping ", mapping.Describe(), " takes ", n, " joints; got ",
        xy.size() / 2, " positions, ", scores.size(), " scores and ",
        visible.size(), " visibility flags"));
  }
  const size_t targets = mapping.targets.size();
  MappedPose out;
  out.xy.resize(2 * targets);
  if (!scores.empty()) out.scores.resize(targets);
  if (!visible.empty()) out.visible.resize(targets);
  for (size_t j = 0; j < targets; ++j) {
    double x = 0, y = 0;
    float score = std::numeric_limits<float>::infinity();
    bool all_visible = true;
    for (const WeightedJoint& term : mapping.targets[j]) {
      x += term.weight * xy[2 * term.joint];
      y += term.weight * xy[2 * term.joint + 1];
      if (!scores.empty()) score = std::min(score, scores[term.joint]);
      if (!visible.empty()) all_visible = all_visible && visible[term.joint];
    }
    // A non-finite source makes the sum non-finite; a target without terms
    // (a broken table) is NaN rather than the origin.
    const bool empty = mapping.targets[j].empty();
    out.xy[2 * j] = empty ? std::nanf("") : static_cast<float>(x);
    out.xy[2 * j + 1] = empty ? std::nanf("") : static_cast<float>(y);
    if (!scores.empty()) out.scores[j] = empty ? 0.0f : score;
    if (!visible.empty()) out.visible[j] = !empty && all_visible;
  }
  return out;
}

absl::StatusOr<PoseSequence> MapSequence(const JointMapping& mapping,
                                         const PoseSequence& sequence) {
  if (sequence.num_joints != mapping.source_joints) {
    return absl::InvalidArgumentError(
        absl::StrCat(sequence.dataset, " sequence '", sequence.id, "' has ",
                     sequence.num_joints, " joints; mapping ",
                     mapping.Describe(), " takes ", mapping.source_joints));
  }
  PoseSequence out = sequence;
  const size_t src = static_cast<size_t>(sequence.num_joints);
  const size_t dst = mapping.targets.size();
  out.num_joints = static_cast<int>(dst);
  out.joints.assign(static_cast<size_t>(sequence.num_frames) * dst * 2, 0);
  out.visible.assign(static_cast<size_t>(sequence.num_frames) * dst, 0);
  for (int64_t t = 0; t < sequence.num_frames; ++t) {
    const size_t at = static_cast<size_t>(t);
    absl::StatusOr<MappedPose> pose = MapPose(
        mapping,
        std::span<const float>(sequence.joints).subspan(2 * at * src, 2 * src),
        {}, std::span<const uint8_t>(sequence.visible).subspan(at * src, src));
    if (!pose.ok()) return pose.status();
    std::copy(pose->xy.begin(), pose->xy.end(),
              out.joints.begin() + 2 * at * dst);
    std::copy(pose->visible.begin(), pose->visible.end(),
              out.visible.begin() + at * dst);
  }
  return out;
}

}  // namespace mapn
