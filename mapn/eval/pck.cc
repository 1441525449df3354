#include "mapn/eval/pck.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/atomic_file.h"

namespace mapn {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* VisibilityText(PckVisibility v) {
  return v == PckVisibility::kAllJoints ? "all joints" : "visible joints";
}

const char* MeanText(PckMean m) {
  return m == PckMean::kPooled ? "pooled" : "per-joint";
}

std::string Caption(const PckResult& r) {
  return absl::StrFormat(
      "PCK@%g (%s%s, %s; groups and Mean = %s)", r.options.alpha,
      r.joint_set.empty() ? "?" : r.joint_set,
      r.mapping.empty() ? "" : absl::StrCat(": ", r.mapping),
      VisibilityText(r.options.visibility),
      r.options.mean == PckMean::kPooled ? "hits / counted joints"
                                         : "average of per-joint PCKs");
}

bool SameConvention(const PckResult& a, const PckResult& b) {
  return a.joint_set == b.joint_set && a.mapping == b.mapping &&
         a.options.alpha == b.options.alpha &&
         a.options.visibility == b.options.visibility &&
         a.options.mean == b.options.mean && a.group_names == b.group_names &&
         a.joint_names == b.joint_names;
}

// Average of the finite values; NaN when there are none.
double MeanOfFinite(const std::vector<double>& values) {
  double sum = 0;
  int n = 0;
  for (double v : values) {
    if (std::isfinite(v)) {
      sum += v;
      ++n;
    }
  }
  return n == 0 ? kNaN : sum / n;
}

}  // namespace

PckOptions PckOptionsFor(const std::string& dataset) {
  PckOptions options;
  if (dataset == "sub_jhmdb" || dataset == "jhmdb") {
    options.visibility = PckVisibility::kAllJoints;
  }
  return options;
}

PckAccumulator::PckAccumulator(JointSet joints, PckOptions options)
    : joints_(std::move(joints)),
      options_(options),
      hits_(joints_.num_joints(), 0),
      counts_(joints_.num_joints(), 0) {}

absl::StatusOr<PckAccumulator> PckAccumulator::Across(const JointSet& predicted,
                                                      const JointSet& truth,
                                                      PckOptions options) {
  absl::StatusOr<CommonJoints> common = CommonJointSet(predicted, truth);
  if (!common.ok()) return common.status();
  PckAccumulator pck(common->joints, options);
  if (!common->predicted.is_identity() || !common->truth.is_identity()) {
    pck.across_ = *std::move(common);
  }
  return pck;
}

absl::Status PckAccumulator::AddFrame(std::span<const float> predicted,
                                      std::span<const float> truth,
                                      std::span<const uint8_t> visible,
                                      const Box& box) {
  if (!across_.has_value()) {
    return AddCommonFrame(predicted, truth, visible, box);
  }
  const JointMapping& p = across_->predicted;
  const JointMapping& t = across_->truth;
  const bool use_visible = options_.visibility == PckVisibility::kVisibleOnly;
  if (predicted.size() != 2 * static_cast<size_t>(p.source_joints) ||
      truth.size() != 2 * static_cast<size_t>(t.source_joints) ||
      (use_visible && visible.size() != static_cast<size_t>(t.source_joints))) {
    return absl::InvalidArgumentError(
        absl::StrCat("PCK frame ", frames_, ": ", predicted.size() / 2,
                     " predicted, ", truth.size() / 2, " true joints and ",
                     visible.size(), " visibility flags; ", p.from, " has ",
                     p.source_joints, " and ", t.from, " ", t.source_joints));
  }
  absl::StatusOr<MappedPose> mapped_prediction = MapPose(p, predicted);
  if (!mapped_prediction.ok()) return mapped_prediction.status();
  absl::StatusOr<MappedPose> mapped_truth =
      MapPose(t, truth, {}, use_visible ? visible : std::span<const uint8_t>());
  if (!mapped_truth.ok()) return mapped_truth.status();
  return AddCommonFrame(mapped_prediction->xy, mapped_truth->xy,
                        mapped_truth->visible, box);
}

absl::Status PckAccumulator::AddCommonFrame(std::span<const float> predicted,
                                            std::span<const float> truth,
                                            std::span<const uint8_t> visible,
                                            const Box& box) {
  const size_t j_count = static_cast<size_t>(joints_.num_joints());
  if (predicted.size() != 2 * j_count || truth.size() != 2 * j_count ||
      (options_.visibility == PckVisibility::kVisibleOnly &&
       visible.size() != j_count)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PCK frame ", frames_, ": ", predicted.size() / 2, " predicted, ",
        truth.size() / 2, " true joints and ", visible.size(),
        " visibility flags for the ", j_count, " joints of ", joints_.name));
  }
  const double size = std::max(box.width(), box.height());
  if (!(size > 0) || !std::isfinite(size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PCK frame ", frames_, ": box (", box.x1, ", ", box.y1, ", ", box.x2,
        ", ", box.y2, ") has no size to normalise by"));
  }
  const double threshold = options_.alpha * size;
  for (size_t j = 0; j < j_count; ++j) {
    if (options_.visibility == PckVisibility::kVisibleOnly && !visible[j]) {
      continue;
    }
    const double dx = static_cast<double>(predicted[2 * j]) - truth[2 * j];
    const double dy =
        static_cast<double>(predicted[2 * j + 1]) - truth[2 * j + 1];
    const double distance = std::sqrt(dx * dx + dy * dy);
    ++counts_[j];
    // NaN compares false: a missing prediction is a miss.
    if (distance <= threshold) ++hits_[j];
  }
  ++frames_;
  return absl::OkStatus();
}

absl::Status PckAccumulator::AddSequence(std::span<const float> predicted,
                                         const PoseSequence& truth) {
  const size_t j_count =
      static_cast<size_t>(across_.has_value() ? across_->truth.source_joints
                                              : joints_.num_joints());
  const size_t p_count =
      static_cast<size_t>(across_.has_value() ? across_->predicted.source_joints
                                              : joints_.num_joints());
  const size_t t_count = static_cast<size_t>(truth.num_frames);
  if (truth.num_joints != static_cast<int>(j_count) ||
      predicted.size() != t_count * p_count * 2 ||
      truth.joints.size() != t_count * j_count * 2 ||
      truth.boxes.size() != t_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PCK of ", truth.dataset, " sequence '", truth.id,
        "': ", predicted.size(), " predicted coordinates (", p_count,
        " joints a frame) for ", truth.num_frames, " frames of ",
        truth.num_joints, " joints (", j_count, " expected)"));
  }
  for (int64_t t = 0; t < truth.num_frames; ++t) {
    const size_t at = static_cast<size_t>(t);
    absl::Status status = AddFrame(
        predicted.subspan(2 * at * p_count, 2 * p_count),
        std::span<const float>(truth.joints)
            .subspan(2 * at * j_count, 2 * j_count),
        std::span<const uint8_t>(truth.visible).subspan(at * j_count, j_count),
        truth.boxes[t]);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(truth.dataset, " sequence '", truth.id,
                                       "' frame ", t, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status PckAccumulator::Merge(const PckAccumulator& other) {
  const auto mapping = [](const PckAccumulator& a) {
    return a.across_.has_value() ? a.across_->Describe() : std::string();
  };
  if (other.joints_.joint_names != joints_.joint_names ||
      mapping(other) != mapping(*this) ||
      other.options_.alpha != options_.alpha ||
      other.options_.visibility != options_.visibility) {
    return absl::InvalidArgumentError(
        "cannot merge PCK counts of different joint sets or options");
  }
  for (size_t j = 0; j < hits_.size(); ++j) {
    hits_[j] += other.hits_[j];
    counts_[j] += other.counts_[j];
  }
  frames_ += other.frames_;
  return absl::OkStatus();
}

PckResult PckAccumulator::Result(const std::string& label) const {
  PckResult r;
  r.label = label;
  r.joint_set = joints_.name;
  if (across_.has_value()) r.mapping = across_->Describe();
  r.options = options_;
  r.joint_names = joints_.joint_names;
  r.joint_hits = hits_;
  r.joint_counts = counts_;
  r.frames = frames_;
  std::vector<double> per_joint(hits_.size());
  for (size_t j = 0; j < hits_.size(); ++j) {
    per_joint[j] = counts_[j] == 0 ? kNaN : 100.0 * hits_[j] / counts_[j];
  }
  for (const JointGroup& group : joints_.pck_groups) {
    r.group_names.push_back(group.name);
    if (options_.mean == PckMean::kPooled) {
      int64_t hits = 0, counts = 0;
      for (int j : group.joints) {
        hits += hits_[j];
        counts += counts_[j];
      }
      r.groups.push_back(counts == 0 ? kNaN : 100.0 * hits / counts);
    } else {
      std::vector<double> members;
      for (int j : group.joints) members.push_back(per_joint[j]);
      r.groups.push_back(MeanOfFinite(members));
    }
  }
  if (options_.mean == PckMean::kPooled) {
    int64_t hits = 0, counts = 0;
    for (size_t j = 0; j < hits_.size(); ++j) {
      hits += hits_[j];
      counts += counts_[j];
    }
    r.mean = counts == 0 ? kNaN : 100.0 * hits / counts;
  } else {
    r.mean = MeanOfFinite(per_joint);
  }
  return r;
}

absl::StatusOr<PckResult> AveragePck(std::span<const PckResult> rows,
                                     const std::string& label) {
  if (rows.empty()) return absl::InvalidArgumentError("no PCK rows to average");
  PckResult out = rows[0];
  out.label = label;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (!SameConvention(rows[i], rows[0])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PCK row '", rows[i].label, "' uses other joints or options than '",
          rows[0].label, "'"));
    }
    for (size_t j = 0; j < out.joint_hits.size(); ++j) {
      out.joint_hits[j] += rows[i].joint_hits[j];
      out.joint_counts[j] += rows[i].joint_counts[j];
    }
    out.frames += rows[i].frames;
  }
  for (size_t g = 0; g < out.groups.size(); ++g) {
    std::vector<double> column;
    for (const PckResult& r : rows) column.push_back(r.groups[g]);
    out.groups[g] = MeanOfFinite(column);
  }
  std::vector<double> means;
  for (const PckResult& r : rows) means.push_back(r.mean);
  out.mean = MeanOfFinite(means);
  return out;
}

std::string FormatPckTable(std::span<const PckResult> rows) {
  if (rows.empty()) return "";
  std::string out = Caption(rows[0]) + "\n";
  for (const PckResult& r : rows) {
    if (!SameConvention(r, rows[0])) {
      absl::StrAppend(&out, "  row '", r.label, "': ", Caption(r), "\n");
    }
  }
  size_t label_width = 6;  // "Method"
  for (const PckResult& r : rows) {
    label_width = std::max(label_width, r.label.size());
  }
  auto cell = [](const std::string& text) {
    return absl::StrFormat("%6s", text);
  };
  absl::StrAppend(&out, absl::StrFormat("%-*s", label_width, "Method"));
  for (const std::string& name : rows[0].group_names) {
    absl::StrAppend(&out, cell(name));
  }
  absl::StrAppend(&out, cell("Mean"), absl::StrFormat("%9s", "Frames"), "\n");
  for (const PckResult& r : rows) {
    absl::StrAppend(&out, absl::StrFormat("%-*s", label_width, r.label));
    auto value = [&](double v) {
      return cell(std::isfinite(v) ? absl::StrFormat("%.1f", v) : "-");
    };
    for (double v : r.groups) absl::StrAppend(&out, value(v));
    absl::StrAppend(&out, value(r.mean), absl::StrFormat("%9d", r.frames),
                    "\n");
  }
  return out;
}

std::string PckCsv(std::span<const PckResult> rows) {
  std::string out = "label";
  if (!rows.empty()) {
    for (const std::string& name : rows[0].group_names) {
      absl::StrAppend(&out, ",", name);
    }
  }
  absl::StrAppend(&out, ",Mean,frames\n");
  for (const PckResult& r : rows) {
    // Labels are ours (method names); quote them in case of commas.
    std::string label = r.label;
    if (label.find_first_of(",\"\n") != std::string::npos) {
      std::string quoted = "\"";
      for (char c : label) {
        if (c == '"') quoted += '"';
        quoted += c;
      }
      label = quoted + "\"";
    }
    absl::StrAppend(&out, label);
    auto value = [](double v) {
      return std::isfinite(v) ? absl::StrFormat("%.2f", v) : std::string();
    };
    for (double v : r.groups) absl::StrAppend(&out, ",", value(v));
    absl::StrAppend(&out, ",", value(r.mean), ",", r.frames, "\n");
  }
  return out;
}

std::string PckJson(std::span<const PckResult> rows) {
  using nlohmann::json;
  auto number = [](double v) -> json {
    return std::isfinite(v) ? json(v) : json(nullptr);
  };
  json doc;
  doc["metric"] = "PCK";
  json list = json::array();
  for (const PckResult& r : rows) {
    json row;
    row["label"] = r.label;
    row["joint_set"] = r.joint_set;
    if (!r.mapping.empty()) row["mapping"] = r.mapping;
    row["alpha"] = r.options.alpha;
    row["visibility"] = VisibilityText(r.options.visibility);
    row["mean_convention"] = MeanText(r.options.mean);
    json groups = json::object();
    for (size_t g = 0; g < r.groups.size(); ++g) {
      groups[r.group_names[g]] = number(r.groups[g]);
    }
    row["groups"] = groups;
    row["group_order"] = r.group_names;
    row["mean"] = number(r.mean);
    json joints = json::object();
    for (size_t j = 0; j < r.joint_names.size(); ++j) {
      const int64_t count = r.joint_counts[j];
      joints[r.joint_names[j]] = {
          {"pck",
           count == 0 ? json(nullptr) : json(100.0 * r.joint_hits[j] / count)},
          {"hits", r.joint_hits[j]},
          {"count", count}};
    }
    row["joints"] = joints;
    row["frames"] = r.frames;
    list.push_back(row);
  }
  doc["rows"] = list;
  return doc.dump(2) + "\n";
}

absl::Status WritePckCsv(const std::string& path,
                         std::span<const PckResult> rows) {
  return WriteFileAtomically(path, PckCsv(rows));
}

absl::Status WritePckJson(const std::string& path,
                          std::span<const PckResult> rows) {
  return WriteFileAtomically(path, PckJson(rows));
}

}  // namespace mapn
