#include "mapn/data/keypoint_json.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "nlohmann/json.hpp"

namespace mapn {
namespace {

using nlohmann::json;

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("keypoint JSON '", path, "': ", what));
}

// "left_shoulder" -> "l_shoulder", as mapn names joints.
std::string MapnJointName(std::string name) {
  if (name.rfind("left_", 0) == 0) return "l_" + name.substr(5);
  if (name.rfind("right_", 0) == 0) return "r_" + name.substr(6);
  return name;
}

bool IsInteger(const json& v) { return v.is_number_integer(); }

// The person category: the one with "keypoints" (the first when several).
absl::StatusOr<JointSet> JointsOf(const json& doc, const std::string& path,
                                  int64_t* category_id) {
  if (!doc.contains("categories") || !doc["categories"].is_array()) {
    return Bad(path,
               "no \"categories\" list naming the keypoints (a COCO or "
               "PoseTrack ground-truth file has one)");
  }
  for (const json& category : doc["categories"]) {
    if (!category.is_object() || !category.contains("keypoints")) continue;
    const json& names = category["keypoints"];
    std::vector<std::string> joint_names;
    for (const json& name : names) {
      if (!name.is_string())
        return Bad(path, "a keypoint name is not a string");
      joint_names.push_back(MapnJointName(name.get<std::string>()));
    }
    *category_id = category.contains("id") && IsInteger(category["id"])
                       ? category["id"].get<int64_t>()
                       : -1;
    for (const JointSet* set : AllJointSets()) {
      if (set->joint_names == joint_names) return *set;
    }
    std::vector<std::string> raw;
    for (const json& name : names) raw.push_back(name.get<std::string>());
    return Bad(path, absl::StrCat("keypoints [", absl::StrJoin(raw, ", "),
                                  "] are no joint set mapn knows (COCO's 17 "
                                  "or PoseTrack's 17)"));
  }
  return Bad(path, "no category lists \"keypoints\"");
}

absl::StatusOr<Box> BoxOf(const json& a, const std::string& where,
                          const std::string& path) {
  if (!a.contains("bbox") || !a["bbox"].is_array() || a["bbox"].size() != 4 ||
      !std::all_of(a["bbox"].begin(), a["bbox"].end(),
                   [](const json& v) { return v.is_number(); })) {
    return Bad(path, absl::StrCat(where, " has no \"bbox\" [x, y, w, h]"));
  }
  const double x = a["bbox"][0].get<double>(), y = a["bbox"][1].get<double>();
  const double w = a["bbox"][2].get<double>(), h = a["bbox"][3].get<double>();
  if (!std::isfinite(x) || !std::isfinite(y) || !(w > 0) || !(h > 0) ||
      !std::isfinite(w) || !std::isfinite(h)) {
    return Bad(path, absl::StrCat(where, ": bbox [", x, ", ", y, ", ", w, ", ",
                                  h, "] has no size"));
  }
  return Box{static_cast<float>(x), static_cast<float>(y),
             static_cast<float>(x + w), static_cast<float>(y + h)};
}

}  // namespace

absl::StatusOr<KeypointLabels> ReadKeypointJson(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Bad(path,
               "not a JSON object with images, annotations and "
               "categories");
  }
  KeypointLabels out;
  out.path = path;
  int64_t category_id = -1;
  MAPN_ASSIGN_OR_RETURN(out.joints, JointsOf(doc, path, &category_id));
  const int j_count = out.joints.num_joints();

  if (!doc.contains("images") || !doc["images"].is_array() ||
      doc["images"].empty()) {
    return Bad(path, "no \"images\"");
  }
  bool all_frame_ids = true;
  for (size_t i = 0; i < doc["images"].size(); ++i) {
    const json& im = doc["images"][i];
    if (!im.is_object() || !im.contains("id") || !IsInteger(im["id"])) {
      return Bad(path, absl::StrCat("images[", i, "] has no integer \"id\""));
    }
    KeypointImage image;
    image.id = im["id"].get<int64_t>();
    if (im.contains("file_name") && im["file_name"].is_string()) {
      image.file_name = im["file_name"].get<std::string>();
    }
    if (im.contains("frame_id") && IsInteger(im["frame_id"])) {
      image.frame_id = im["frame_id"].get<int64_t>();
    } else {
      all_frame_ids = false;
    }
    if (im.contains("is_labeled") && im["is_labeled"].is_boolean()) {
      image.is_labeled = im["is_labeled"].get<bool>();
    }
    if (im.contains("width") && IsInteger(im["width"])) {
      image.width = im["width"].get<int>();
    }
    if (im.contains("height") && IsInteger(im["height"])) {
      image.height = im["height"].get<int>();
    }
    out.images.push_back(std::move(image));
  }
  if (all_frame_ids) {
    std::stable_sort(out.images.begin(), out.images.end(),
                     [](const KeypointImage& a, const KeypointImage& b) {
                       return a.frame_id < b.frame_id;
                     });
  }
  std::map<int64_t, int> frame_of;  // image id -> frame
  for (size_t k = 0; k < out.images.size(); ++k) {
    if (!frame_of.emplace(out.images[k].id, static_cast<int>(k)).second) {
      return Bad(path,
                 absl::StrCat("image id ", out.images[k].id, " appears twice"));
    }
  }
  out.people_of_frame.resize(out.images.size());

  if (!doc.contains("annotations") || !doc["annotations"].is_array()) {
    return Bad(path, "no \"annotations\" list");
  }
  out.has_track_ids = true;
  for (size_t i = 0; i < doc["annotations"].size(); ++i) {
    const json& a = doc["annotations"][i];
    const std::string where = absl::StrCat("annotations[", i, "]");
    if (!a.is_object()) return Bad(path, where + " is not an object");
    if (a.contains("iscrowd") &&
        ((a["iscrowd"].is_boolean() && a["iscrowd"].get<bool>()) ||
         (a["iscrowd"].is_number() && a["iscrowd"].get<double>() != 0))) {
      continue;
    }
    if (category_id >= 0 && a.contains("category_id") &&
        IsInteger(a["category_id"]) &&
        a["category_id"].get<int64_t>() != category_id) {
      continue;  // another category: not a person with keypoints
    }
    if (!a.contains("image_id") || !IsInteger(a["image_id"])) {
      return Bad(path, where + " has no integer \"image_id\"");
    }
    KeypointPerson person;
    person.image_id = a["image_id"].get<int64_t>();
    auto frame = frame_of.find(person.image_id);
    if (frame == frame_of.end()) {
      return Bad(path,
                 absl::StrCat(where, " belongs to image ", person.image_id,
                              ", which \"images\" does not list"));
    }
    if (a.contains("track_id") && IsInteger(a["track_id"])) {
      person.track_id = a["track_id"].get<int64_t>();
    } else {
      out.has_track_ids = false;
    }
    if (!a.contains("keypoints") || !a["keypoints"].is_array() ||
        a["keypoints"].size() != static_cast<size_t>(3 * j_count) ||
        !std::all_of(a["keypoints"].begin(), a["keypoints"].end(),
                     [](const json& v) { return v.is_number(); })) {
      return Bad(path, absl::StrCat(where, ": \"keypoints\" must be ",
                                    3 * j_count, " numbers (x, y, v for the ",
                                    j_count, " ", out.joints.name, " joints)"));
    }
    for (const json& v : a["keypoints"]) {
      const double value = v.get<double>();
      if (!std::isfinite(value)) {
        return Bad(path, where + ": a keypoint value is not finite");
      }
      person.keypoints.push_back(static_cast<float>(value));
    }
    MAPN_ASSIGN_OR_RETURN(person.box, BoxOf(a, where, path));
    out.people_of_frame[frame->second].push_back(
        static_cast<int>(out.people.size()));
    out.people.push_back(std::move(person));
  }
  if (out.people.empty()) out.has_track_ids = false;
  return out;
}

absl::StatusOr<PersonLabels> SelectPerson(const KeypointLabels& labels,
                                          int64_t person) {
  const size_t t_count = labels.images.size();
  const int j_count = labels.joints.num_joints();
  PersonLabels out;
  PoseSequence& seq = out.sequence;
  seq.dataset = labels.joints.name;
  seq.id = labels.path;
  seq.num_frames = static_cast<int64_t>(t_count);
  seq.num_joints = j_count;
  seq.joints.assign(t_count * j_count * 2, 0.0f);
  seq.visible.assign(t_count * j_count, 0);
  seq.boxes.resize(t_count);
  out.labelled.assign(t_count, 0);
  out.description = person < 0 ? "the only person"
                    : labels.has_track_ids
                        ? absl::StrCat("track_id ", person)
                        : absl::StrCat("annotation ", person, " of each image");

  std::vector<bool> found(t_count, false);
  for (size_t t = 0; t < t_count; ++t) {
    const std::vector<int>& people = labels.people_of_frame[t];
    int chosen = -1;
    if (person < 0) {
      if (people.size() > 1) {
        std::vector<std::string> ids;
        for (size_t i = 0; i < people.size(); ++i) {
          ids.push_back(labels.has_track_ids
                            ? absl::StrCat(labels.people[people[i]].track_id)
                            : absl::StrCat(i));
        }
        return absl::InvalidArgumentError(absl::StrCat(
            "keypoint JSON '", labels.path, "' labels ", people.size(),
            " people in frame ", t, " (", labels.images[t].file_name,
            "): ", labels.has_track_ids ? "track_id " : "annotations ",
            absl::StrJoin(ids, ", "),
            "; choose the one the estimate is of with --person"));
      }
      if (!people.empty()) chosen = people[0];
    } else if (labels.has_track_ids) {
      for (int p : people) {
        if (labels.people[p].track_id == person) chosen = p;
      }
    } else if (person < static_cast<int64_t>(people.size())) {
      chosen = people[person];
    }
    if (chosen < 0) continue;
    const KeypointPerson& p = labels.people[chosen];
    for (int j = 0; j < j_count; ++j) {
      seq.joints[(t * j_count + j) * 2] = p.keypoints[3 * j];
      seq.joints[(t * j_count + j) * 2 + 1] = p.keypoints[3 * j + 1];
      seq.visible[t * j_count + j] = p.keypoints[3 * j + 2] > 0;
    }
    seq.boxes[t] = p.box;
    found[t] = true;
    out.labelled[t] = 1;
  }
  if (std::none_of(found.begin(), found.end(), [](bool f) { return f; })) {
    return absl::NotFoundError(absl::StrCat(
        "keypoint JSON '", labels.path, "' labels ",
        person < 0 ? "nobody" : absl::StrCat("no ", out.description),
        " in any of its ", t_count, " images"));
  }
  MAPN_ASSIGN_OR_RETURN(seq.repaired_boxes, RepairBoxes(seq.boxes, found));
  const KeypointImage& first = labels.images.front();
  seq.width = first.width;
  seq.height = first.height;
  if (seq.width <= 0 || seq.height <= 0) {
    // Frame size unknown: the boxes' extent stands in (Validate wants one).
    float w = 1, h = 1;
    for (const Box& b : seq.boxes) {
      w = std::max(w, b.x2);
      h = std::max(h, b.y2);
    }
    seq.width = static_cast<int>(std::ceil(w));
    seq.height = static_cast<int>(std::ceil(h));
  }
  MAPN_RETURN_IF_ERROR(seq.Validate());
  return out;
}

}  // namespace mapn
