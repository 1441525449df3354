#include "mapn/data/gop_boxes.h"

#include "absl/strings/str_cat.h"

namespace mapn {

std::vector<int64_t> GopStarts(std::span<const FrameMeta> frames) {
  std::vector<int64_t> starts;
  for (const FrameMeta& f : frames) {
    if (f.starts_gop && f.index >= 0) starts.push_back(f.index);
  }
  return starts;
}

absl::StatusOr<std::vector<Box>> GopBoxes(std::span<const Box> frame_boxes,
                                          std::span<const int64_t> gop_starts,
                                          const CropBoxOptions& options) {
  const int64_t n = static_cast<int64_t>(frame_boxes.size());
  if (gop_starts.empty() || gop_starts[0] != 0) {
    return absl::InvalidArgumentError(
        "GOP starts must begin with frame 0 (the first I-frame)");
  }
  for (size_t g = 0; g < gop_starts.size(); ++g) {
    if (gop_starts[g] >= n || (g > 0 && gop_starts[g] <= gop_starts[g - 1])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "GOP start ", g, " (frame ", gop_starts[g],
          ") is not increasing or not below the ", n, " labelled frames"));
    }
  }
  if (!(options.scale > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("crop box scale ", options.scale, " must be positive"));
  }
  std::vector<Box> out;
  out.reserve(gop_starts.size());
  for (size_t g = 0; g < gop_starts.size(); ++g) {
    const Box& a = frame_boxes[gop_starts[g]];
    const Box& b = g + 1 < gop_starts.size() ? frame_boxes[gop_starts[g + 1]]
                                             : frame_boxes[n - 1];
    const Box mean{0.5f * (a.x1 + b.x1), 0.5f * (a.y1 + b.y1),
                   0.5f * (a.x2 + b.x2), 0.5f * (a.y2 + b.y2)};
    out.push_back(ExpandBox(mean, options));
  }
  return out;
}

absl::StatusOr<std::vector<Box>> FrameCropBoxes(
    std::span<const Box> frame_boxes, std::span<const int64_t> gop_starts,
    const CropBoxOptions& options) {
  absl::StatusOr<std::vector<Box>> gops =
      GopBoxes(frame_boxes, gop_starts, options);
  if (!gops.ok()) return gops.status();
  std::vector<Box> out(frame_boxes.size());
  size_t g = 0;
  for (size_t t = 0; t < out.size(); ++t) {
    while (g + 1 < gop_starts.size() &&
           static_cast<int64_t>(t) >= gop_starts[g + 1]) {
      ++g;
    }
    out[t] = (*gops)[g];
  }
  return out;
}

}  // namespace mapn
