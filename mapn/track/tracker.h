// File: tracker.h
//
// A multi-object tracker on boxes and scores alone: a detector runs on
// some frames (keyframes); between them every tracked box is carried by the
// codec's motion vectors (motion_boxes.h); on a keyframe the detections
// join the tracks they overlap most, and the rest start new tracks. Each
// track keeps one id for its whole life, survives a few keyframes without
// a detection, and ends once unseen for too long or when its box leaves the
// frame. Nothing here knows what the boxes hold: people for top-down
// multi-person pose estimation (issue 14: `--max_people`,
// `--min_person_score`), or cars, animals, any boxes a detector finds.
//
// Per frame, in stream order, one call:
//   * Update(detections, ...) on a frame the detector ran on, even when it
//     found nothing: tracks are carried into the frame, then matched to the
//     detections by maximum total IoU (OptimalMatching below; pairs under
//     `min_iou` never match, and an assignment that is best pair by pair,
//     greedily, is not always best overall); a matched track takes the
//     detection's box and score; an unmatched detection starts a track
//     with a fresh id (ids count 1, 2, 3, ... and are never reused); an
//     unmatched track counts a miss and ends after `max_missed` of them in
//     a row.
//   * Carry(...) on a frame the detector did not run on: tracks are carried
//     only. Such frames count no misses: nothing looked for the objects.
// Tracks are carried each on its own, except that a block inside another
// track's box does not vote for a track's motion (it may show the other
// object passing in front); a track wholly covered by others keeps its
// last velocity until it comes out from behind them.
// Motion is frame t's block motion (float [2, Hb, Wb]) and intra mask
// (bool [1, Hb, Wb]) of a width x height picture, as in a GopWindow
// (gop.h), on any device. Undefined tensors mean no motion is known (an
// I-frame): the boxes stay where they are. (An I-frame's own tensors,
// every block intra, carry them on at their last step instead: StepBox's
// constant velocity.)
//
// When `max_tracks` is reached, tracks detected in the frame are never
// displaced: a new detection (the highest-scoring first) takes the place of
// a track that went unmatched in this frame (the one unseen longest, then
// the lowest-scoring); with none, it does not start. An object in view
// keeps its id against any newcomer, and a newcomer in view is not kept out
// by an object that has vanished.
//
// Bad input (a non-finite or empty box, a box outside the frame, motion of
// the wrong shape, ...) is an InvalidArgument status naming the frame and
// the detection or tensor, and leaves the tracker as it was.
//
// TrackWindow runs a tracker through a GOP window with detections on its
// first frame, the way `mapn estimate` follows people.
//
// Example:
//
//   track::TrackerOptions options;
//   options.min_score = 0.5f;  // --min_person_score
//   options.max_tracks = 4;    // --max_people
//   MAPN_ASSIGN_OR_RETURN(track::Tracker tracker,
//                         track::Tracker::Create(options));
//   for (int64_t t = 0; t < window.num_valid; ++t) {
//     const at::Tensor motion = t == 0 ? at::Tensor() : window.motion[t];
//     const at::Tensor intra = t == 0 ? at::Tensor() : window.intra[t];
//     if (t == 0) {
//       std::vector<track::Detection> found = Detect(window.rgb[0]);
//       MAPN_RETURN_IF_ERROR(tracker.Update(found, motion, intra,
//                                           window.width(), window.height()));
//     } else {
//       MAPN_RETURN_IF_ERROR(
//           tracker.Carry(motion, intra, window.width(), window.height()));
//     }
//     for (const track::Track& person : tracker.tracks()) {
//       Use(t, person.id, person.box);
//     }
//   }
#ifndef MAPN_TRACK_TRACKER_H_
#define MAPN_TRACK_TRACKER_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/geometry/box.h"
#include "mapn/track/motion_boxes.h"
#include "mapn/video/gop.h"

namespace mapn::track {

// One box a detector found in a frame, in pixels of that frame.
struct Detection {
  Box box;
  float score = 0;
};

struct TrackerOptions {
  // Detections scoring below this are ignored: they neither join nor start
  // a track (for the tracks, as if the detector had not seen them).
  float min_score = 0.3f;
  // Hysteresis: a detection scoring at least this (though under min_score)
  // may still join a track it overlaps, so that a person in view does not
  // blink out on a keyframe that scores a little low; it never starts one.
  // Unset: min_score. In [0, min_score].
  std::optional<float> keep_score;
  // At most this many live tracks (0: no limit); see the file comment for
  // who gets a place when more qualify.
  int max_tracks = 0;
  // A detection joins a track only with at least this IoU against the
  // track's box carried into the frame. In (0, 1].
  float min_iou = 0.3f;
  // A track ends at its (max_missed + 1)-th Update in a row without a
  // detection; 0 ends it at its first.
  int max_missed = 12;
  // How boxes are carried between frames.
  BoxMotionOptions motion;

  // InvalidArgument naming the field and its value when out of range.
  absl::Status Validate() const;
};

struct Track {
  int64_t id = 0;           // 1, 2, 3, ... in order of starting
  Box box;                  // in the current frame, clipped to it
  float score = 0;          // of the last detection that joined it
  int64_t first_frame = 0;  // the frame it started in; == frame(): new
  int missed = 0;           // Updates in a row without a detection
  bool detected = false;    // a detection joined it in the current frame
};

class Tracker {
 public:
  // InvalidArgument when `options` are not valid (TrackerOptions::Validate).
  static absl::StatusOr<Tracker> Create(const TrackerOptions& options = {});

  // The next frame, which the detector did not run on: every track is
  // carried by the frame's motion; a track whose box leaves the frame ends.
  absl::Status Carry(const at::Tensor& motion, const at::Tensor& intra,
                     int64_t width, int64_t height);

  // The next frame, which the detector ran on and found `detections` in
  // (the file comment has the steps).
  absl::Status Update(std::span<const Detection> detections,
                      const at::Tensor& motion, const at::Tensor& intra,
                      int64_t width, int64_t height);

  // The live tracks in the current frame, ordered by id.
  const std::vector<Track>& tracks() const { return tracks_; }
  // The tracks that ended in the current frame, as they were last seen
  // (their box in the frame before, for one that left it), ordered by id.
  const std::vector<Track>& ended() const { return ended_; }
  // The current frame: 0 after the first Carry or Update, -1 before.
  int64_t frame() const { return frame_; }
  const TrackerOptions& options() const { return options_; }

 private:
  explicit Tracker(const TrackerOptions& options) : options_(options) {}

  // Starts the next frame: no track detected in it yet, none ended; moves
  // every track into it and ends those that leave it.
  void NextFrame(const at::Tensor& motion, const at::Tensor& intra,
                 int64_t width, int64_t height);
  // Ends tracks_[i] for every i with end[i] true.
  void EndTracks(const std::vector<bool>& end);

  TrackerOptions options_;
  std::vector<Track> tracks_;
  std::vector<CarriedBox> carried_;  // tracks_[i]'s box, unclipped
  std::vector<Track> ended_;
  int64_t frame_ = -1;
  int64_t next_id_ = 1;
};

// One track through one GOP window (TrackWindow).
struct WindowTrack {
  int64_t id = 0;
  // Per frame of the window (T entries): the track's box, nullopt before it
  // started, after it ended and on padding frames.
  std::vector<std::optional<Box>> boxes;
  // Per frame: a detection joined the track there.
  std::vector<bool> detected;
  // The score of the last detection that joined it, as of the window's end.
  float score = 0;
  // The smallest box holding all of `boxes`.
  Box extent;
};

// Runs `tracker` through `window`'s valid frames: Update with
// `keyframe_detections` on frame 0 (the window's keyframe), Carry on the
// others. Returns every track alive in at least one of them, ordered by id.
// Errors are Update's and Carry's (naming the frame).
absl::StatusOr<std::vector<WindowTrack>> TrackWindow(
    Tracker& tracker, const GopWindow& window,
    std::span<const Detection> keyframe_detections);

// A matching of the rows of `weights` to its columns (each used at most
// once) with the largest total weight, among those using only pairs whose
// weight is positive and at least `min_weight`: the Hungarian method,
// O(n^2 m) for n rows and m columns, n <= m (or the other way round).
// Returns each row's column, or -1 for a row left out. Missing entries (rows
// shorter than the longest) and non-finite weights may not match.
std::vector<int> OptimalMatching(const std::vector<std::vector<float>>& weights,
                                 float min_weight);

}  // namespace mapn::track

#endif  // MAPN_TRACK_TRACKER_H_
