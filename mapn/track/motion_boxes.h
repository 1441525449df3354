// File: motion_boxes.h
//
// Boxes carried from frame to frame by the codec's motion vectors, with no
// pixels decoded or compared: a box found on a keyframe (by a detector, or
// given) follows its content through the following frames of its GOP
// window. This is how `mapn estimate` keeps the person box of a keyframe
// detection between keyframes, and the motion step of a multi-person
// tracker (issue 14): everything here works on any number of boxes, each
// on its own.
//
// The step from frame t-1 to frame t (gop.h's convention: motion[t] at a
// block of frame t is (dx, dy) when its pixels came from (x + dx, y + dy)
// of frame t-1, so content moved by -(dx, dy)):
//   * the votes are the inter (non-intra) blocks of frame t whose centres
//     lie in the box's core, the box shrunk around its centre to
//     `core_fraction` of its width and height (a person's box holds
//     background at its edges and corners; the core is mostly the person);
//     when no block centre falls in the core (a box under two blocks wide),
//     the block under the box's centre votes alone;
//   * the box moves by minus the median of the votes, separately in x and
//     y (robust to the background and to outlier vectors, unlike the mean);
//     with fewer than `min_votes` votes (an intra-coded region) it stays;
//     when no block votes (an intra-coded region, or a core outside the
//     picture) it repeats its last step (constant velocity);
//   * the box is kept unclipped (its content may hang out of the frame, and
//     its core must not be dragged inwards by clipping) and shown clipped
//     to the frame; once what is left inside is under `min_side` pixels
//     wide or high it has left the frame and is lost (std::nullopt) for the
//     rest of the window.
// Boxes translate only: their size changes only by clipping (a person
// walking towards the camera outgrows the box until the next keyframe's
// detection; the crop's margin absorbs some of it).
//
// Example:
//
//   const GopWindow& window = ...;                  // from a StreamSource
//   std::vector<Box> found = {person_box};          // on window frame 0
//   std::vector<std::vector<std::optional<Box>>> boxes =
//       track::CarryBoxes(window, found);            // [T][1]
//   if (boxes[5][0]) Use(*boxes[5][0]);             // the box in frame 5
#ifndef MAPN_TRACK_MOTION_BOXES_H_
#define MAPN_TRACK_MOTION_BOXES_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "mapn/geometry/box.h"
#include "mapn/video/gop.h"

namespace mapn::track {

struct BoxMotionOptions {
  // The part of the box whose blocks vote: this fraction of its width and
  // height around its centre.
  float core_fraction = 0.5f;
  // Fewer votes than this and the box does not move.
  int min_votes = 1;
  // A clipped box narrower or lower than this (pixels) has left the frame.
  float min_side = 2.0f;
};

// How the content of a box moved from frame t-1 to frame t.
struct BoxShift {
  float dx = 0;   // pixels, + = right
  float dy = 0;   // pixels, + = down
  int votes = 0;  // blocks that voted; 0 means no motion was measured
};

// The shift of the content of `box` (in frame t-1) into frame t, from
// frame t's block motion `motion` (float [2, Hb, Wb]) and intra mask
// `intra` (bool [1, Hb, Wb]) of a height x width picture. Blocks whose
// centre lies in one of `exclude` (other objects' boxes, which may be in
// front: a person walking past another) do not vote, and when they are
// more than half of the core, nothing is measured (votes 0).
BoxShift MedianBoxShift(const at::Tensor& motion, const at::Tensor& intra,
                        const Box& box, int64_t width, int64_t height,
                        const BoxMotionOptions& options = {},
                        std::span<const Box> exclude = {});

// One box being carried.
struct CarriedBox {
  Box box;              // where its content is now; may leave the frame
  BoxShift last_shift;  // the step that brought it here (zero at first)
  bool lost = false;    // left the frame; never moves again
};

// Moves `carried` into frame t, given frame t's block motion and intra
// mask: by MedianBoxShift (without the blocks in `exclude`), or by its last
// shift when no block votes; then marks it lost when VisiblePart is empty.
void StepBox(CarriedBox& carried, const at::Tensor& motion,
             const at::Tensor& intra, int64_t width, int64_t height,
             const BoxMotionOptions& options = {},
             std::span<const Box> exclude = {});

// The part of `box` inside a width x height frame; nullopt when it is under
// options.min_side pixels wide or high.
std::optional<Box> VisiblePart(const Box& box, int64_t width, int64_t height,
                               const BoxMotionOptions& options = {});

// Carries `boxes` (in frame `from` of `window`) through the window's later
// valid frames with StepBox. Result [T][boxes.size()]: each box's
// VisiblePart per frame; frame `from` holds the boxes as given (clipped),
// earlier frames and padding frames nullopt, and a lost box stays nullopt.
std::vector<std::vector<std::optional<Box>>> CarryBoxes(
    const GopWindow& window, std::span<const Box> boxes,
    const BoxMotionOptions& options = {}, int64_t from = 0);

}  // namespace mapn::track

#endif  // MAPN_TRACK_MOTION_BOXES_H_
