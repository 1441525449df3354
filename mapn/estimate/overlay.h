// File: overlay.h
//
// The picture `mapn estimate --overlay` writes for each frame: the decoded
// frame with the estimated skeleton, a coral border and a "FEATURES" tag on
// the frames where the ResNet ran (the paper's Figure 6 marks them the same
// way), and a caption with the frame's index and type. With panels, the
// frame's motion field (colour wheel, mapn/viz/flow_color.h) and residual
// follow to the right, like the rows of Figure 6. OverlayVideo encodes those
// pictures as H.264 in an MP4 (atomically: no partial file on failure).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(auto video, OverlayVideo::Open("out.mp4", w, h,
//                                                        25.0, {.panels = true}));
//   MAPN_RETURN_IF_ERROR(video->Add(window, t, pose, joint_set));
//   MAPN_RETURN_IF_ERROR(video->Close());
#ifndef MAPN_ESTIMATE_OVERLAY_H_
#define MAPN_ESTIMATE_OVERLAY_H_

#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

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

class OverlayVideo {
 public:
  // `width` x `height` is the source video's frame size.
  static absl::StatusOr<std::unique_ptr<OverlayVideo>> Open(
      const std::string& path, int64_t width, int64_t height,
      double frame_rate, const OverlayOptions& options);

  absl::Status Add(const GopWindow& window, int64_t t, const FramePose& pose,
                   const JointSet& joints);
  absl::Status Close();

 private:
  OverlayVideo(std::unique_ptr<VideoWriter> writer, int width, int height,
               OverlayOptions options)
      : writer_(std::move(writer)),
        width_(width),
        height_(height),
        options_(options) {}

  std::unique_ptr<VideoWriter> writer_;
  int width_;   // encoded size (even)
  int height_;
  OverlayOptions options_;
};

}  // namespace mapn

#endif  // MAPN_ESTIMATE_OVERLAY_H_
