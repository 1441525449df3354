#include "mapn/geometry/box.h"

#include <algorithm>

namespace mapn {

Box ExpandBox(const Box& box, const CropBoxOptions& options) {
  const float cx = 0.5f * (box.x1 + box.x2);
  const float cy = 0.5f * (box.y1 + box.y2);
  float w = box.width();
  float h = box.height();
  if (options.aspect > 0) {
    if (w > options.aspect * h) {
      h = w / options.aspect;
    } else {
      w = h * options.aspect;
    }
  }
  w *= options.scale;
  h *= options.scale;
  return Box{cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h};
}

float IntersectionOverUnion(const Box& a, const Box& b) {
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  // Written so that NaN coordinates give 0 too.
  if (!(iw > 0) || !(ih > 0) || !(a.x2 > a.x1) || !(a.y2 > a.y1) ||
      !(b.x2 > b.x1) || !(b.y2 > b.y1)) {
    return 0;
  }
  const float inter = iw * ih;
  return inter / (a.width() * a.height() + b.width() * b.height() - inter);
}

}  // namespace mapn
