#include "mapn/geometry/box.h"

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

}  // namespace mapn
