// File: overlay.h
//
// The picture `mapn estimate --overlay` / `--overlay_frames` writes for each
// frame: the decoded frame with each person's skeleton, a coral border and a
// "FEATURES" tag on the frames where the encoder ran for anyone (the
// paper's Figure 6 marks them the same way), and a caption with the frame's
// index and type ("NO PERSON" added where a detector found nobody). A
// tracked person (detected boxes) is drawn in a colour of their own (limbs,
// box and an id tag above the box, "F" in the tag where their features
// were extracted; the box thicker on the keyframe whose detection joined
// their track than where the motion vectors carried it); joints keep left
// blue, right red, so that sides stay readable.
// With panels, the frame's motion field (colour wheel, mapn/viz/flow_color.h)
// and residual follow to the right, like the rows of Figure 6. OverlaySink
// sends those pictures to an H.264 MP4 (atomically: no partial file on
// failure), to a directory of PNGs named by frame index (DIR/000042.png, each
// written atomically as its frame arrives), or to both, rendering each
// picture once.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(
//       auto sink, OverlaySink::Open({.video = "out.mp4", .frames_dir = "out"},
//                                    w, h, 25.0, {.panels = true}));
//   MAPN_RETURN_IF_ERROR(sink->Add(window, t, pose, joint_set));
//   MAPN_RETURN_IF_ERROR(sink->Close());
#ifndef MAPN_ESTIMATE_OVERLAY_H_
#define MAPN_ESTIMATE_OVERLAY_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/data/joint_set.h"
#include "mapn/estimate/pose_track.h"
#include "mapn/video/gop.h"
#include "mapn/video/video_writer.h"

namespace mapn {

struct OverlayOptions {
  // Motion field and residual panels beside the frame.
  bool panels = false;
  // Joints under this confidence are drawn faded.
  float min_confidence = 0.2f;
  // Residual display gain (grey levels are small).
  float residual_gain = 3.0f;
};

// Frame t of `window` (full resolution) with `pose` drawn; uint8 [3, H', W'].
at::Tensor RenderOverlayFrame(const GopWindow& window, int64_t t,
                              const FramePose& pose, const JointSet& joints,
                              const OverlayOptions& options);

// Where OverlaySink sends the pictures; set either or both.
struct OverlayTargets {
  // An MP4 (H.264), complete at Close() or absent. Odd frame sizes are
  // padded by one black row / column to the encoder's even size.
  std::string video;
  // A directory (created with its parents if missing) that receives one PNG
  // per frame, OverlayFramePath(frames_dir, frame_index), at the picture's
  // own size.
  std::string frames_dir;
};

// Where the PNG of frame `frame_index` goes: "DIR/%06d.png".
std::string OverlayFramePath(const std::string& dir, int64_t frame_index);

// Creates `dir` and its parents if missing and checks that a PNG can be
// written in it (nothing is left behind but the directory). Errors name
// --overlay_frames and the path. OverlaySink::Open calls it; a command calls
// it first to refuse an unusable directory before any work.
absl::Status PrepareOverlayFramesDir(const std::string& dir);

class OverlaySink {
 public:
  // `width` x `height` is the source video's frame size. Errors name the
  // flag of the target (--overlay, --overlay_frames) and its path.
  static absl::StatusOr<std::unique_ptr<OverlaySink>> Open(
      const OverlayTargets& targets, int64_t width, int64_t height,
      double frame_rate, const OverlayOptions& options);

  // Renders frame t of `window` once and sends it to every target (the
  // PNG, named by pose.frame_index, is written right away).
  absl::Status Add(const GopWindow& window, int64_t t, const FramePose& pose,
                   const JointSet& joints);
  // Finishes the video, if any.
  absl::Status Close();

 private:
  OverlaySink(std::unique_ptr<VideoWriter> writer, int video_width,
              int video_height, std::string frames_dir, OverlayOptions options)
      : writer_(std::move(writer)),
        video_width_(video_width),
        video_height_(video_height),
        frames_dir_(std::move(frames_dir)),
        options_(options) {}

  std::unique_ptr<VideoWriter> writer_;  // null without a video
  int video_width_;                      // encoded size (even)
  int video_height_;
  std::string frames_dir_;  // empty without PNGs
  OverlayOptions options_;
};

}  // namespace mapn

#endif  // MAPN_ESTIMATE_OVERLAY_H_
