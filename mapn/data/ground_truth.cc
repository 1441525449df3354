#include "mapn/data/ground_truth.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/jhmdb.h"
#include "mapn/data/keypoint_json.h"
#include "mapn/data/mat_io.h"
#include "mapn/data/penn_action.h"

namespace mapn {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

absl::Status NoPerson(const std::string& path, const std::string& format) {
  return absl::InvalidArgumentError(
      absl::StrCat("--person applies to a keypoint JSON with several people; '",
                   path, "' is a ", format, " (one person)"));
}

}  // namespace

int64_t GroundTruth::labelled_frames() const {
  return std::count(labelled.begin(), labelled.end(), 1);
}

GroundTruth GroundTruthOf(PoseSequence labels, const JointSet& joints) {
  GroundTruth truth;
  truth.path = labels.id;
  truth.format = labels.dataset;
  truth.joints = joints;
  truth.labelled.assign(static_cast<size_t>(labels.num_frames), 1);
  truth.labels = std::move(labels);
  return truth;
}

absl::StatusOr<GroundTruth> ReadGroundTruth(const std::string& path,
                                            const GroundTruthOptions& options) {
  GroundTruth truth;
  if (EndsWith(path, ".mat")) {
    MAPN_ASSIGN_OR_RETURN(const MatFile mat, MatFile::Open(path));
    if (mat.Has("pos_img")) {
      if (options.person >= 0)
        return NoPerson(path, "JHMDB joint_positions.mat");
      MAPN_ASSIGN_OR_RETURN(PoseSequence labels,
                            ReadJhmdbLabels(path, "", path));
      truth = GroundTruthOf(std::move(labels), JhmdbJoints());
      truth.format = "JHMDB joint_positions.mat";
    } else if (mat.Has("x") && mat.Has("y")) {
      if (options.person >= 0) return NoPerson(path, "Penn Action .mat");
      MAPN_ASSIGN_OR_RETURN(PoseSequence labels,
                            ReadPennActionLabels(path, path));
      truth = GroundTruthOf(std::move(labels), PennActionJoints());
      truth.format = "Penn Action .mat";
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("MAT file '", path,
                       "' has neither 'pos_img' (JHMDB) nor 'x' and "
                       "'y' (Penn Action); its variables: ",
                       absl::StrJoin(mat.variable_names(), ", ")));
    }
    truth.path = path;
    return truth;
  }
  if (EndsWith(path, ".json")) {
    MAPN_ASSIGN_OR_RETURN(const KeypointLabels file, ReadKeypointJson(path));
    MAPN_ASSIGN_OR_RETURN(PersonLabels person,
                          SelectPerson(file, options.person));
    truth.path = path;
    truth.format = file.joints.name == "posetrack" ? "PoseTrack keypoint JSON"
                                                   : "COCO keypoint JSON";
    truth.joints = file.joints;
    truth.labels = std::move(person.sequence);
    truth.labelled = std::move(person.labelled);
    truth.person = std::move(person.description);
    return truth;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", path,
                   "' is no label format mapn reads: a Penn Action or JHMDB "
                   ".mat, or a COCO/PoseTrack keypoint .json"));
}

}  // namespace mapn
