#include "mapn/estimate/box_source.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/gop_boxes.h"
#include "mapn/data/penn_action.h"
#include "nlohmann/json.hpp"

namespace mapn {
namespace {

std::string BoxText(const Box& b) {
  return absl::StrCat("[", b.x1, ", ", b.y1, ", ", b.width(), ", ", b.height(),
                      "]");
}

absl::StatusOr<Box> XywhBox(double x, double y, double w, double h,
                            const std::string& where) {
  if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(w) ||
      !std::isfinite(h) || w <= 0 || h <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": box [", x, ", ", y, ", ", w, ", ", h,
        "] needs a finite position and a positive width and height"));
  }
  return Box{static_cast<float>(x), static_cast<float>(y),
             static_cast<float>(x + w), static_cast<float>(y + h)};
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

absl::StatusOr<std::map<int64_t, Box>> ParseJson(const std::string& text,
                                                 const std::string& path) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--boxes '", path,
                     "' is not a JSON array of boxes ([[x, y, w, h], "
                     "...] or [{\"frame\": i, \"bbox\": [x, y, w, h]}, ...])"));
  }
  std::map<int64_t, Box> boxes;
  for (size_t i = 0; i < doc.size(); ++i) {
    const nlohmann::json& item = doc[i];
    const std::string where = absl::StrCat("--boxes '", path, "' entry ", i);
    int64_t frame = static_cast<int64_t>(i);
    const nlohmann::json* bbox = &item;
    if (item.is_object()) {
      if (!item.contains("frame") || !item["frame"].is_number_integer() ||
          !item.contains("bbox")) {
        return absl::InvalidArgumentError(
            absl::StrCat(where,
                         ": an object entry needs an integer \"frame\" and a "
                         "\"bbox\""));
      }
      frame = item["frame"].get<int64_t>();
      bbox = &item["bbox"];
    }
    if (!bbox->is_array() || bbox->size() != 4 ||
        !std::all_of(bbox->begin(), bbox->end(),
                     [](const nlohmann::json& v) { return v.is_number(); })) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a box is four numbers [x, y, w, h]"));
    }
    if (frame < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": frame ", frame, " is negative"));
    }
    absl::StatusOr<Box> box =
        XywhBox((*bbox)[0].get<double>(), (*bbox)[1].get<double>(),
                (*bbox)[2].get<double>(), (*bbox)[3].get<double>(), where);
    if (!box.ok()) return box.status();
    boxes[frame] = *box;
  }
  return boxes;
}

absl::StatusOr<std::map<int64_t, Box>> ParseCsv(const std::string& text,
                                                const std::string& path) {
  std::map<int64_t, Box> boxes;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    for (std::string& f : fields) {
      f = std::string(absl::StripAsciiWhitespace(f));
    }
    const std::string where =
        absl::StrCat("--boxes '", path, "' line ", line_number);
    int64_t frame = 0;
    double v[4];
    const bool numeric = fields.size() == 5 &&
                         absl::SimpleAtoi(fields[0], &frame) &&
                         absl::SimpleAtod(fields[1], &v[0]) &&
                         absl::SimpleAtod(fields[2], &v[1]) &&
                         absl::SimpleAtod(fields[3], &v[2]) &&
                         absl::SimpleAtod(fields[4], &v[3]);
    if (!numeric) {
      if (boxes.empty() && line_number == 1) continue;  // a header line
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected frame,x,y,w,h"));
    }
    if (frame < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": frame ", frame, " is negative"));
    }
    absl::StatusOr<Box> box = XywhBox(v[0], v[1], v[2], v[3], where);
    if (!box.ok()) return box.status();
    boxes[frame] = *box;
  }
  return boxes;
}

}  // namespace

BoxSource BoxSource::WholeFrame() {
  BoxSource source;
  source.origin_ = "the whole frame";
  return source;
}

absl::StatusOr<BoxSource> BoxSource::Fixed(const std::string& spec) {
  std::vector<std::string> fields = absl::StrSplit(spec, ',');
  double v[4];
  if (fields.size() != 4 || !absl::SimpleAtod(fields[0], &v[0]) ||
      !absl::SimpleAtod(fields[1], &v[1]) ||
      !absl::SimpleAtod(fields[2], &v[2]) ||
      !absl::SimpleAtod(fields[3], &v[3])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--box '", spec, "' must be four numbers x,y,w,h (pixels)"));
  }
  absl::StatusOr<Box> box = XywhBox(v[0], v[1], v[2], v[3], "--box");
  if (!box.ok()) return box.status();
  BoxSource source;
  source.boxes_[kFixedKey] = *box;
  source.origin_ = absl::StrCat("--box ", spec);
  return source;
}

absl::StatusOr<BoxSource> BoxSource::FromFile(const std::string& path) {
  std::map<int64_t, Box> boxes;
  if (EndsWith(path, ".mat")) {
    absl::StatusOr<PoseSequence> labels = ReadPennActionLabels(path, path);
    if (!labels.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--boxes '", path, "': ", labels.status().message()));
    }
    for (size_t i = 0; i < labels->boxes.size(); ++i) {
      boxes[static_cast<int64_t>(i)] = labels->boxes[i];
    }
  } else {
    absl::StatusOr<std::string> text = ReadFile(path);
    if (!text.ok()) {
      return absl::Status(text.status().code(),
                          absl::StrCat("--boxes: ", text.status().message()));
    }
    absl::StatusOr<std::map<int64_t, Box>> parsed =
        EndsWith(path, ".csv") ? ParseCsv(*text, path) : ParseJson(*text, path);
    if (!parsed.ok()) return parsed.status();
    boxes = *std::move(parsed);
  }
  if (boxes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--boxes '", path, "' holds no boxes"));
  }
  BoxSource source;
  source.boxes_ = std::move(boxes);
  source.origin_ = absl::StrCat("--boxes ", path);
  return source;
}

absl::StatusOr<BoxSource> BoxSource::FromBoxes(std::map<int64_t, Box> boxes,
                                               std::string origin) {
  if (boxes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, " holds no boxes"));
  }
  for (const auto& [frame, box] : boxes) {
    if (frame < 0 || !(box.width() > 0) || !(box.height() > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ", frame ", frame, ": box ", BoxText(box),
                       " needs a frame >= 0 and a positive width and height"));
    }
  }
  BoxSource source;
  source.boxes_ = std::move(boxes);
  source.origin_ = std::move(origin);
  return source;
}

int64_t BoxSource::listed_frames() const {
  if (boxes_.empty() || boxes_.count(kFixedKey)) return 0;
  return static_cast<int64_t>(boxes_.size());
}

absl::Status BoxSource::Validate(int64_t width, int64_t height) const {
  for (const auto& [frame, box] : boxes_) {
    const bool overlaps =
        box.x2 > 0 && box.y2 > 0 && box.x1 < width && box.y1 < height;
    if (!overlaps) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin_, (frame == kFixedKey ? "" : absl::StrCat(", frame ", frame)),
          ": box ", BoxText(box), " (x, y, w, h) lies outside the ", width, "x",
          height, " frame"));
    }
  }
  return absl::OkStatus();
}

Box BoxSource::ForFrame(int64_t index, int64_t width, int64_t height) const {
  if (boxes_.empty()) {
    return Box{0, 0, static_cast<float>(width), static_cast<float>(height)};
  }
  auto it = boxes_.upper_bound(index);
  if (it == boxes_.begin()) return it->second;
  return std::prev(it)->second;
}

Box BoxSource::WindowCropBox(int64_t first, int64_t length, int64_t width,
                             int64_t height) const {
  const Box a = ForFrame(first, width, height);
  const Box b = ForFrame(first + length, width, height);
  const Box mean{(a.x1 + b.x1) / 2, (a.y1 + b.y1) / 2, (a.x2 + b.x2) / 2,
                 (a.y2 + b.y2) / 2};
  CropBoxOptions options;
  // The whole frame is already the context: square it, no extra margin.
  if (whole_frame()) options.scale = 1.0f;
  return ExpandBox(mean, options);
}

BoxSource BoxSource::Detected(
    std::shared_ptr<const detect::PersonDetector> detector,
    const DetectedBoxOptions& options) {
  BoxSource source;
  source.origin_ = absl::StrFormat(
      "detected by %s on keyframes (score >= %.2f; >= %.2f to continue a "
      "person in view), carried by the motion vectors",
      detector->Describe(), options.min_person_score,
      options.keep_person_score);
  source.detector_ = std::move(detector);
  source.detected_options_ = options;
  return source;
}

absl::StatusOr<WindowBoxes> BoxSource::ForWindow(
    const GopWindow& window, int64_t width, int64_t height,
    const std::optional<Box>& previous) const {
  const int64_t length = window.length();
  WindowBoxes out;
  out.person.assign(length, std::nullopt);
  out.origin.assign(length, PersonBoxOrigin::kGiven);
  if (detector_ == nullptr) {
    const int64_t first = window.frames.front().index;
    out.crop = WindowCropBox(first, length, width, height);
    for (int64_t t = 0; t < window.num_valid; ++t) {
      out.person[t] = ForFrame(window.frames[t].index, width, height);
    }
    return out;
  }
  out.detector_ran = true;
  MAPN_ASSIGN_OR_RETURN(const std::vector<detect::PersonBox> found,
                        detector_->Detect(window.rgb[0]));
  if (found.empty()) return out;
  // The best box (the detector sorts by score), else the best one that
  // continues the person the previous window ended with.
  const DetectedBoxOptions& o = detected_options_;
  const detect::PersonBox* chosen = nullptr;
  if (found.front().score >= o.min_person_score) {
    chosen = &found.front();
  } else if (previous.has_value()) {
    for (const detect::PersonBox& candidate : found) {
      if (candidate.score >= o.keep_person_score &&
          IntersectionOverUnion(candidate.box, *previous) >= o.keep_iou) {
        chosen = &candidate;
        break;
      }
    }
  }
  out.score = (chosen != nullptr ? *chosen : found.front()).score;
  if (chosen == nullptr) return out;
  const std::vector<Box> start = {chosen->box};
  const std::vector<std::vector<std::optional<Box>>> carried =
      track::CarryBoxes(window, start, detected_options_.motion);
  std::optional<Box> extent;
  for (int64_t t = 0; t < window.num_valid; ++t) {
    const std::optional<Box>& box = carried[t][0];
    if (!box) continue;
    out.person[t] = box;
    out.origin[t] =
        t == 0 ? PersonBoxOrigin::kDetected : PersonBoxOrigin::kCarried;
    extent =
        extent
            ? Box{std::min(extent->x1, box->x1), std::min(extent->y1, box->y1),
                  std::max(extent->x2, box->x2), std::max(extent->y2, box->y2)}
            : *box;
  }
  if (extent) out.crop = ExpandBox(*extent, detected_options_.crop);
  return out;
}

track::TrackerOptions BoxSource::TrackerOptionsForPeople() const {
  const DetectedBoxOptions& o = detected_options_;
  track::TrackerOptions options;
  options.min_score = o.min_person_score;
  options.keep_score = std::min(o.keep_person_score, o.min_person_score);
  options.min_iou = o.keep_iou;
  options.max_tracks = o.max_people;
  options.max_missed = o.max_missed;
  options.motion = o.motion;
  return options;
}

std::string BoxSource::Describe() const { return origin_; }

}  // namespace mapn
