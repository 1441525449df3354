#include "mapn/track/motion_boxes.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace mapn::track {
namespace {

// The median of `v` (the mean of the two middle values for an even count);
// reorders `v`.
float Median(std::vector<float>& v) {
  const size_t n = v.size();
  const size_t mid = n / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const float upper = v[mid];
  if (n % 2 == 1) return upper;
  const float lower = *std::max_element(v.begin(), v.begin() + mid);
  return 0.5f * (lower + upper);
}

}  // namespace

BoxShift MedianBoxShift(const at::Tensor& motion, const at::Tensor& intra,
                        const Box& box, int64_t width, int64_t height,
                        const BoxMotionOptions& options,
                        std::span<const Box> exclude) {
  const int64_t blocks_high = MotionBlocks(height);
  const int64_t blocks_wide = MotionBlocks(width);
  TORCH_CHECK(motion.dim() == 3 && motion.size(0) == 2 &&
                  motion.size(1) == blocks_high &&
                  motion.size(2) == blocks_wide,
              "MedianBoxShift: motion must be [2, ", blocks_high, ", ",
              blocks_wide, "]");
  TORCH_CHECK(intra.dim() == 3 && intra.size(0) == 1 &&
                  intra.size(1) == blocks_high && intra.size(2) == blocks_wide,
              "MedianBoxShift: intra must be [1, ", blocks_high, ", ",
              blocks_wide, "]");
  const at::Tensor m = motion.to(at::kFloat).contiguous();
  const at::Tensor in = intra.to(at::kBool).contiguous();
  auto mv = m.accessor<float, 3>();
  auto is_intra = in.accessor<bool, 3>();

  const float cx = 0.5f * (box.x1 + box.x2), cy = 0.5f * (box.y1 + box.y2);
  const float hw = 0.5f * options.core_fraction * box.width();
  const float hh = 0.5f * options.core_fraction * box.height();
  const float half = 0.5f * static_cast<float>(kMotionBlock);
  // Blocks whose centre 8 b + 4 lies in [c - h, c + h).
  auto first = [&](float lo) {
    return std::max<int64_t>(
        0, static_cast<int64_t>(std::ceil((lo - half) / kMotionBlock)));
  };
  auto last = [&](float hi, int64_t blocks) {  // exclusive
    const float f = (hi - half) / kMotionBlock;
    int64_t end = static_cast<int64_t>(std::ceil(f));
    return std::min<int64_t>(blocks, end);
  };
  // A block whose centre lies in another object's box may show that
  // object's motion: it does not vote.
  auto excluded = [&](int64_t bx, int64_t by) {
    const float x = static_cast<float>(kMotionBlock * bx) + half;
    const float y = static_cast<float>(kMotionBlock * by) + half;
    for (const Box& other : exclude) {
      if (x >= other.x1 && x < other.x2 && y >= other.y1 && y < other.y2) {
        return true;
      }
    }
    return false;
  };
  std::vector<float> xs, ys;
  int64_t core_blocks = 0, excluded_blocks = 0;
  for (int64_t by = first(cy - hh); by < last(cy + hh, blocks_high); ++by) {
    for (int64_t bx = first(cx - hw); bx < last(cx + hw, blocks_wide); ++bx) {
      ++core_blocks;
      if (excluded(bx, by)) {
        ++excluded_blocks;
        continue;
      }
      if (is_intra[0][by][bx]) continue;
      xs.push_back(mv[0][by][bx]);
      ys.push_back(mv[1][by][bx]);
    }
  }
  const bool centre_inside = cx >= 0 && cy >= 0 &&
                             cx < static_cast<float>(width) &&
                             cy < static_cast<float>(height);
  if (xs.empty() && centre_inside) {
    // A box too small for its core to hold a block centre: the block under
    // its centre votes.
    const int64_t bx =
        std::clamp<int64_t>(static_cast<int64_t>(std::floor(cx / kMotionBlock)),
                            0, blocks_wide - 1);
    const int64_t by =
        std::clamp<int64_t>(static_cast<int64_t>(std::floor(cy / kMotionBlock)),
                            0, blocks_high - 1);
    if (!is_intra[0][by][bx] && !excluded(bx, by)) {
      xs.push_back(mv[0][by][bx]);
      ys.push_back(mv[1][by][bx]);
    }
  }
  BoxShift shift;
  shift.votes = static_cast<int>(xs.size());
  // Mostly covered by others: the few blocks left are the edges of the
  // covering object as often as this one's (no measurement).
  const bool covered =
      excluded_blocks > 0 && 2 * (core_blocks - excluded_blocks) < core_blocks;
  if (covered || shift.votes == 0 || shift.votes < options.min_votes) {
    shift.votes = 0;
    return shift;
  }
  // Content moves by minus the vector (gop.h: pixels come from p + d).
  shift.dx = -Median(xs);
  shift.dy = -Median(ys);
  return shift;
}

void StepBox(CarriedBox& carried, const at::Tensor& motion,
             const at::Tensor& intra, int64_t width, int64_t height,
             const BoxMotionOptions& options, std::span<const Box> exclude) {
  if (carried.lost) return;
  BoxShift shift = MedianBoxShift(motion, intra, carried.box, width, height,
                                  options, exclude);
  if (shift.votes == 0) {
    shift.dx = carried.last_shift.dx;
    shift.dy = carried.last_shift.dy;
  }
  carried.box = Box{carried.box.x1 + shift.dx, carried.box.y1 + shift.dy,
                    carried.box.x2 + shift.dx, carried.box.y2 + shift.dy};
  carried.last_shift = shift;
  carried.lost = !VisiblePart(carried.box, width, height, options).has_value();
}

std::optional<Box> VisiblePart(const Box& box, int64_t width, int64_t height,
                               const BoxMotionOptions& options) {
  const float w = static_cast<float>(width), h = static_cast<float>(height);
  const Box clipped{std::clamp(box.x1, 0.0f, w), std::clamp(box.y1, 0.0f, h),
                    std::clamp(box.x2, 0.0f, w), std::clamp(box.y2, 0.0f, h)};
  if (!(clipped.width() >= options.min_side) ||
      !(clipped.height() >= options.min_side)) {
    return std::nullopt;
  }
  return clipped;
}

std::vector<std::vector<std::optional<Box>>> CarryBoxes(
    const GopWindow& window, std::span<const Box> boxes,
    const BoxMotionOptions& options, int64_t from) {
  const int64_t length = window.length();
  const int64_t width = window.width(), height = window.height();
  std::vector<std::vector<std::optional<Box>>> out(
      length, std::vector<std::optional<Box>>(boxes.size()));
  if (from < 0 || from >= window.num_valid) return out;
  std::vector<CarriedBox> carried;
  for (size_t i = 0; i < boxes.size(); ++i) {
    carried.push_back(CarriedBox{boxes[i], BoxShift{}, false});
    out[from][i] = VisiblePart(boxes[i], width, height, options);
    carried[i].lost = !out[from][i].has_value();
  }
  for (int64_t t = from + 1; t < window.num_valid; ++t) {
    const at::Tensor motion = window.motion[t];
    const at::Tensor intra = window.intra[t];
    for (size_t i = 0; i < boxes.size(); ++i) {
      StepBox(carried[i], motion, intra, width, height, options);
      if (!carried[i].lost) {
        out[t][i] = VisiblePart(carried[i].box, width, height, options);
      }
    }
  }
  return out;
}

}  // namespace mapn::track
