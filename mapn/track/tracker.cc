#include "mapn/track/tracker.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"

namespace mapn::track {
namespace {

std::string BoxString(const Box& box) {
  return absl::StrCat("(", box.x1, ", ", box.y1, ", ", box.x2, ", ", box.y2,
                      ")");
}

std::string ShapeString(const at::Tensor& tensor) {
  std::string out = "[";
  for (int64_t d = 0; d < tensor.dim(); ++d) {
    absl::StrAppend(&out, d == 0 ? "" : ", ", tensor.size(d));
  }
  return out + "]";
}

// The frame's motion checked for Carry and Update ("where" opens each
// message); on success `motion` and `intra` are on the CPU, float and bool,
// once for every box that reads them.
absl::Status CheckFrame(const std::string& where, at::Tensor& motion,
                        at::Tensor& intra, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": the frame must be at least 1 x 1 pixels, got ",
                     width, " x ", height));
  }
  if (motion.defined() != intra.defined()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where,
        ": motion and intra must both be given or both be undefined "
        "(no motion), got only ",
        motion.defined() ? "motion" : "intra"));
  }
  if (!motion.defined()) return absl::OkStatus();
  const int64_t hb = MotionBlocks(height), wb = MotionBlocks(width);
  const std::string want = absl::StrCat("[", hb, ", ", wb, "] (blocks of ",
                                        width, " x ", height, " pixels)");
  if (motion.dim() != 3 || motion.size(0) != 2 || motion.size(1) != hb ||
      motion.size(2) != wb || !at::isFloatingType(motion.scalar_type())) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": motion must be floating-point [2, ", want.substr(1), ", got ",
        std::string(c10::toString(motion.scalar_type())), " ",
        ShapeString(motion)));
  }
  if (intra.dim() != 3 || intra.size(0) != 1 || intra.size(1) != hb ||
      intra.size(2) != wb || intra.scalar_type() != at::kBool) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": intra must be bool [1, ", want.substr(1),
                     ", got ", std::string(c10::toString(intra.scalar_type())),
                     " ", ShapeString(intra)));
  }
  motion = motion.to(at::kCPU, at::kFloat).contiguous();
  intra = intra.to(at::kCPU).contiguous();
  if (!at::isfinite(motion).all().item<bool>()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": motion has non-finite vectors"));
  }
  return absl::OkStatus();
}

absl::Status CheckDetections(const std::string& where,
                             std::span<const Detection> detections,
                             int64_t width, int64_t height) {
  const float w = static_cast<float>(width), h = static_cast<float>(height);
  for (size_t i = 0; i < detections.size(); ++i) {
    const Box& box = detections[i].box;
    const std::string which =
        absl::StrCat(where, ": detection ", i, " ", BoxString(box));
    if (!std::isfinite(box.x1) || !std::isfinite(box.y1) ||
        !std::isfinite(box.x2) || !std::isfinite(box.y2)) {
      return absl::InvalidArgumentError(absl::StrCat(which, " is not finite"));
    }
    if (!(box.x2 > box.x1) || !(box.y2 > box.y1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(which, " is empty (x1 < x2 and y1 < y2 needed)"));
    }
    // A box wholly outside the frame is a mistake of coordinates (another
    // frame size, normalised units), not something to track.
    if (box.x2 <= 0 || box.y2 <= 0 || box.x1 >= w || box.y1 >= h) {
      return absl::InvalidArgumentError(absl::StrCat(
          which, " does not overlap the ", width, " x ", height, " frame"));
    }
    if (!std::isfinite(detections[i].score)) {
      return absl::InvalidArgumentError(
          absl::StrCat(which, " has a non-finite score"));
    }
  }
  return absl::OkStatus();
}

// Minimises the total cost of assigning each of the n rows of `cost` (n x
// m, n <= m) its own column: the Hungarian method with potentials, one row
// added at a time along a shortest augmenting path. Returns each row's
// column.
std::vector<int> MinCostAssignment(
    const std::vector<std::vector<double>>& cost) {
  const int n = static_cast<int>(cost.size());
  const int m = n == 0 ? 0 : static_cast<int>(cost[0].size());
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // 1-based, with column 0 a virtual start: row_of[j] holds column j's row.
  std::vector<double> u(n + 1, 0), v(m + 1, 0);
  std::vector<int> row_of(m + 1, 0), way(m + 1, 0);
  for (int i = 1; i <= n; ++i) {
    row_of[0] = i;
    int j0 = 0;
    std::vector<double> min_slack(m + 1, kInf);
    std::vector<bool> used(m + 1, false);
    do {
      used[j0] = true;
      const int i0 = row_of[j0];
      double delta = kInf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double slack = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (slack < min_slack[j]) {
          min_slack[j] = slack;
          way[j] = j0;
        }
        if (min_slack[j] < delta) {
          delta = min_slack[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) {
          u[row_of[j]] += delta;
          v[j] -= delta;
        } else {
          min_slack[j] -= delta;
        }
      }
      j0 = j1;
    } while (row_of[j0] != 0);
    do {
      const int j1 = way[j0];
      row_of[j0] = row_of[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> column(n, -1);
  for (int j = 1; j <= m; ++j) {
    if (row_of[j] != 0) column[row_of[j] - 1] = j - 1;
  }
  return column;
}

}  // namespace

std::vector<int> OptimalMatching(const std::vector<std::vector<float>>& weights,
                                 float min_weight) {
  const size_t rows = weights.size();
  size_t cols = 0;
  for (const std::vector<float>& row : weights)
    cols = std::max(cols, row.size());
  auto allowed = [&](size_t r, size_t c) {
    if (c >= weights[r].size()) return false;
    const float w = weights[r][c];
    return std::isfinite(w) && w > 0 && w >= min_weight;
  };
  // Pairs that may not match weigh 0: any matching of allowed pairs extends
  // to a full assignment of the same total and vice versa, so the best full
  // assignment, less its zero pairs, is the best matching.
  const bool transpose = rows > cols;
  const size_t n = transpose ? cols : rows, m = transpose ? rows : cols;
  std::vector<std::vector<double>> cost(n, std::vector<double>(m, 0));
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      if (!allowed(r, c)) continue;
      (transpose ? cost[c][r] : cost[r][c]) = -weights[r][c];
    }
  }
  const std::vector<int> assigned = MinCostAssignment(cost);
  std::vector<int> column(rows, -1);
  for (size_t i = 0; i < n; ++i) {
    const int j = assigned[i];
    if (j < 0) continue;
    const size_t r = transpose ? static_cast<size_t>(j) : i;
    const size_t c = transpose ? i : static_cast<size_t>(j);
    if (allowed(r, c)) column[r] = static_cast<int>(c);
  }
  return column;
}

absl::Status TrackerOptions::Validate() const {
  auto bad = [](const std::string& message) {
    return absl::InvalidArgumentError(absl::StrCat("TrackerOptions.", message));
  };
  if (!std::isfinite(min_score)) {
    return bad(absl::StrCat("min_score must be finite, got ", min_score));
  }
  if (keep_score.has_value() &&
      !(*keep_score >= 0 && *keep_score <= min_score)) {
    return bad(absl::StrCat("keep_score must be in [0, min_score = ", min_score,
                            "], got ", *keep_score));
  }
  if (max_tracks < 0) {
    return bad(absl::StrCat("max_tracks must be >= 0 (0: no limit), got ",
                            max_tracks));
  }
  if (!(min_iou > 0 && min_iou <= 1)) {
    return bad(absl::StrCat("min_iou must be in (0, 1], got ", min_iou));
  }
  if (max_missed < 0) {
    return bad(absl::StrCat("max_missed must be >= 0, got ", max_missed));
  }
  if (!(motion.core_fraction > 0 && std::isfinite(motion.core_fraction))) {
    return bad(absl::StrCat("motion.core_fraction must be positive, got ",
                            motion.core_fraction));
  }
  if (motion.min_votes < 0) {
    return bad(
        absl::StrCat("motion.min_votes must be >= 0, got ", motion.min_votes));
  }
  // With no minimum, a box wholly outside the frame would still count as
  // in it, and never end.
  if (!(motion.min_side > 0 && std::isfinite(motion.min_side))) {
    return bad(absl::StrCat("motion.min_side must be positive, got ",
                            motion.min_side));
  }
  return absl::OkStatus();
}

absl::StatusOr<Tracker> Tracker::Create(const TrackerOptions& options) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  return Tracker(options);
}

absl::Status Tracker::Carry(const at::Tensor& motion, const at::Tensor& intra,
                            int64_t width, int64_t height) {
  at::Tensor m = motion, in = intra;
  MAPN_RETURN_IF_ERROR(
      CheckFrame(absl::StrCat("Tracker::Carry, frame ", frame_ + 1), m, in,
                 width, height));
  NextFrame(m, in, width, height);
  return absl::OkStatus();
}

absl::Status Tracker::Update(std::span<const Detection> detections,
                             const at::Tensor& motion, const at::Tensor& intra,
                             int64_t width, int64_t height) {
  const std::string where = absl::StrCat("Tracker::Update, frame ", frame_ + 1);
  at::Tensor m = motion, in = intra;
  MAPN_RETURN_IF_ERROR(CheckFrame(where, m, in, width, height));
  MAPN_RETURN_IF_ERROR(CheckDetections(where, detections, width, height));
  NextFrame(m, in, width, height);

  // The detections that count, clipped like the tracks' boxes; a sliver
  // under min_side inside the frame would end at once as a track.
  std::vector<size_t> candidates;
  std::vector<Box> visible;
  for (size_t i = 0; i < detections.size(); ++i) {
    if (detections[i].score <
        options_.keep_score.value_or(options_.min_score)) {
      continue;
    }
    const std::optional<Box> part =
        VisiblePart(detections[i].box, width, height, options_.motion);
    if (!part) continue;
    candidates.push_back(i);
    visible.push_back(*part);
  }

  std::vector<std::vector<float>> iou(tracks_.size(),
                                      std::vector<float>(candidates.size(), 0));
  for (size_t t = 0; t < tracks_.size(); ++t) {
    for (size_t c = 0; c < candidates.size(); ++c) {
      iou[t][c] = IntersectionOverUnion(tracks_[t].box, visible[c]);
    }
  }
  const std::vector<int> match = OptimalMatching(iou, options_.min_iou);
  std::vector<bool> taken(candidates.size(), false);
  std::vector<bool> end(tracks_.size(), false);
  for (size_t t = 0; t < tracks_.size(); ++t) {
    Track& track = tracks_[t];
    if (match[t] < 0) {
      end[t] = ++track.missed > options_.max_missed;
      continue;
    }
    const size_t c = static_cast<size_t>(match[t]);
    taken[c] = true;
    // The box as detected, unclipped: it is carried on from there.
    carried_[t].box = detections[candidates[c]].box;
    track.box = visible[c];
    track.score = detections[candidates[c]].score;
    track.missed = 0;
    track.detected = true;
  }
  EndTracks(end);

  std::vector<size_t> newcomers;
  for (size_t c = 0; c < candidates.size(); ++c) {
    // Under min_score a detection only keeps a track going.
    if (!taken[c] && detections[candidates[c]].score >= options_.min_score) {
      newcomers.push_back(c);
    }
  }
  std::stable_sort(newcomers.begin(), newcomers.end(), [&](size_t a, size_t b) {
    return detections[candidates[a]].score > detections[candidates[b]].score;
  });
  for (const size_t c : newcomers) {
    const int64_t limit = options_.max_tracks;
    if (limit > 0 && static_cast<int64_t>(tracks_.size()) >= limit) {
      // The place of a track not seen in this frame: the one unseen
      // longest, then the lowest-scoring, then the newest.
      std::optional<size_t> out;
      for (size_t t = 0; t < tracks_.size(); ++t) {
        const Track& track = tracks_[t];
        if (track.detected) continue;
        if (!out) {
          out = t;
          continue;
        }
        const Track& worst = tracks_[*out];
        if (std::make_tuple(track.missed, -track.score, track.id) >
            std::make_tuple(worst.missed, -worst.score, worst.id)) {
          out = t;
        }
      }
      if (!out) continue;
      std::vector<bool> evict(tracks_.size(), false);
      evict[*out] = true;
      EndTracks(evict);
    }
    const Detection& detection = detections[candidates[c]];
    Track track;
    track.id = next_id_++;
    track.box = visible[c];
    track.score = detection.score;
    track.first_frame = frame_;
    track.detected = true;
    tracks_.push_back(track);
    carried_.push_back(CarriedBox{detection.box, BoxShift{}, false});
  }
  return absl::OkStatus();
}

void Tracker::NextFrame(const at::Tensor& motion, const at::Tensor& intra,
                        int64_t width, int64_t height) {
  ++frame_;
  ended_.clear();
  for (Track& track : tracks_) track.detected = false;
  std::vector<bool> end(tracks_.size(), false);
  // Where every track may be: a block inside another track's box may show
  // that one's motion (one person walking in front of another), so it does
  // not vote for this one; a track mostly covered by others keeps its
  // velocity. Another track's box spans where it was and where its last
  // step would take it.
  std::vector<Box> before;
  for (const CarriedBox& carried : carried_) {
    const Box& b = carried.box;
    const float dx = carried.last_shift.dx, dy = carried.last_shift.dy;
    before.push_back(Box{std::min(b.x1, b.x1 + dx), std::min(b.y1, b.y1 + dy),
                         std::max(b.x2, b.x2 + dx), std::max(b.y2, b.y2 + dy)});
  }
  std::vector<Box> others;
  for (size_t t = 0; t < tracks_.size(); ++t) {
    CarriedBox& carried = carried_[t];
    if (motion.defined()) {
      others.clear();
      for (size_t o = 0; o < before.size(); ++o) {
        if (o != t) others.push_back(before[o]);
      }
      StepBox(carried, motion, intra, width, height, options_.motion, others);
    }
    const std::optional<Box> part =
        carried.lost ? std::nullopt
                     : VisiblePart(carried.box, width, height, options_.motion);
    if (part) {
      tracks_[t].box = *part;
    } else {
      carried.lost = true;
      end[t] = true;  // ended with the box it was last seen with
    }
  }
  EndTracks(end);
}

void Tracker::EndTracks(const std::vector<bool>& end) {
  size_t kept = 0;
  for (size_t t = 0; t < tracks_.size(); ++t) {
    if (end[t]) {
      ended_.push_back(tracks_[t]);
      continue;
    }
    tracks_[kept] = tracks_[t];
    carried_[kept] = carried_[t];
    ++kept;
  }
  tracks_.resize(kept);
  carried_.resize(kept);
  std::sort(ended_.begin(), ended_.end(),
            [](const Track& a, const Track& b) { return a.id < b.id; });
}

absl::StatusOr<std::vector<WindowTrack>> TrackWindow(
    Tracker& tracker, const GopWindow& window,
    std::span<const Detection> keyframe_detections) {
  const int64_t length = window.length();
  const int64_t width = window.width(), height = window.height();
  std::vector<WindowTrack> out;
  auto record = [&](int64_t t) {
    for (const Track& track : tracker.tracks()) {
      auto it = std::find_if(out.begin(), out.end(), [&](const WindowTrack& w) {
        return w.id == track.id;
      });
      if (it == out.end()) {
        WindowTrack fresh;
        fresh.id = track.id;
        fresh.boxes.assign(length, std::nullopt);
        fresh.detected.assign(length, false);
        fresh.extent = track.box;
        out.push_back(std::move(fresh));
        it = out.end() - 1;
      }
      it->boxes[t] = track.box;
      it->detected[t] = track.detected;
      it->score = track.score;
      const Box& b = track.box;
      it->extent =
          Box{std::min(it->extent.x1, b.x1), std::min(it->extent.y1, b.y1),
              std::max(it->extent.x2, b.x2), std::max(it->extent.y2, b.y2)};
    }
  };
  // A decode-only window has no motion: the boxes then stay put.
  const bool has_motion = window.motion.defined() && window.intra.defined();
  for (int64_t t = 0; t < window.num_valid; ++t) {
    const at::Tensor motion = has_motion ? window.motion[t] : at::Tensor();
    const at::Tensor intra = has_motion ? window.intra[t] : at::Tensor();
    if (t == 0) {
      MAPN_RETURN_IF_ERROR(
          tracker.Update(keyframe_detections, motion, intra, width, height));
    } else {
      MAPN_RETURN_IF_ERROR(tracker.Carry(motion, intra, width, height));
    }
    record(t);
  }
  std::sort(
      out.begin(), out.end(),
      [](const WindowTrack& a, const WindowTrack& b) { return a.id < b.id; });
  return out;
}

}  // namespace mapn::track
