#include "mapn/viz/panels.h"

#include <ATen/ops/full.h>

#include <algorithm>
#include <cmath>

namespace mapn {

at::Tensor ResidualToImage(const at::Tensor& residual, float gain) {
  return residual.to(at::kFloat)
      .mul(gain)
      .add(128.0)
      .round()
      .clamp(0, 255)
      .to(at::kByte);
}

namespace {

at::Tensor Stack(const std::vector<at::Tensor>& images, int gap,
                 bool horizontal) {
  if (images.empty()) return at::full({3, 1, 1}, 255, at::kByte);
  int64_t along = 0, across = 0;
  for (const at::Tensor& im : images) {
    along += horizontal ? im.size(2) : im.size(1);
    across = std::max(across, horizontal ? im.size(1) : im.size(2));
  }
  along += static_cast<int64_t>(gap) * static_cast<int64_t>(images.size() - 1);
  at::Tensor out = horizontal ? at::full({3, across, along}, 255, at::kByte)
                              : at::full({3, along, across}, 255, at::kByte);
  int64_t offset = 0;
  for (const at::Tensor& im : images) {
    const at::Tensor src = im.to(at::kByte).cpu();
    if (horizontal) {
      out.narrow(2, offset, src.size(2)).narrow(1, 0, src.size(1)).copy_(src);
      offset += src.size(2) + gap;
    } else {
      out.narrow(1, offset, src.size(1)).narrow(2, 0, src.size(2)).copy_(src);
      offset += src.size(1) + gap;
    }
  }
  return out;
}

}  // namespace

at::Tensor HStack(const std::vector<at::Tensor>& images, int gap) {
  return Stack(images, gap, /*horizontal=*/true);
}

at::Tensor VStack(const std::vector<at::Tensor>& images, int gap) {
  return Stack(images, gap, /*horizontal=*/false);
}

}  // namespace mapn
