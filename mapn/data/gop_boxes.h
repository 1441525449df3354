// File: gop_boxes.h
//
// The person box each GOP is cropped with (paper, section 4.2): every frame
// of a GOP shares one box, the mean of the box at the GOP's I-frame and the
// box at the next GOP's I-frame. One box per GOP keeps the motion vectors and
// residuals of the GOP in one coordinate frame, so that warping features by
// the motion vectors stays valid inside the crop.
//
// Decisions (docs/data.md, "Boxes"):
//   * GOP starts come from the decoder's frame types (FrameMeta::starts_gop),
//     never from index / 12: the encoder may insert extra I-frames.
//   * The last GOP has no next I-frame; it averages its I-frame's box with
//     the box of the stream's last frame, the nearest stand-in for "where the
//     person is at the end of this GOP".
//   * The mean box is then made square around its centre and scaled by 1.25
//     (CropBoxOptions defaults): the crops are resized to 256 x 256, so a
//     square box keeps the body's proportions (Simple Baseline's
//     aspect-preserving crop), and the margin keeps limbs that move during
//     the 12 frames inside a box that was fixed at the GOP's ends.
//     scale = 1 and aspect = 0 give the paper's bare mean box.
//
// Example:
//
//   std::vector<int64_t> starts = GopStarts(frames);   // from the reader
//   MAPN_ASSIGN_OR_RETURN(std::vector<Box> gop_boxes,
//                         GopBoxes(sequence.boxes, starts));
#ifndef MAPN_DATA_GOP_BOXES_H_
#define MAPN_DATA_GOP_BOXES_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "mapn/geometry/box.h"
#include "mapn/video/gop.h"

namespace mapn {

// The indices of frames that start a GOP, in order.
std::vector<int64_t> GopStarts(std::span<const FrameMeta> frames);

// One box per GOP. `gop_starts` must begin with 0, increase strictly and stay
// below frame_boxes.size().
absl::StatusOr<std::vector<Box>> GopBoxes(std::span<const Box> frame_boxes,
                                          std::span<const int64_t> gop_starts,
                                          const CropBoxOptions& options = {});

// The GOP box of every frame (frame_boxes.size() entries).
absl::StatusOr<std::vector<Box>> FrameCropBoxes(
    std::span<const Box> frame_boxes, std::span<const int64_t> gop_starts,
    const CropBoxOptions& options = {});

}  // namespace mapn

#endif  // MAPN_DATA_GOP_BOXES_H_
