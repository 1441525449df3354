#include "mapn/video/in_memory_stream_source.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/video/window_assembler.h"

namespace mapn {
namespace {

bool HasShape(const at::Tensor& t, at::ScalarType type,
              std::vector<int64_t> shape) {
  return t.defined() && t.scalar_type() == type && t.sizes().vec() == shape;
}

// out = cur - bilinear sample of prev at (x + dx, y + dy), edges replicated.
void WarpResidual(const uint8_t* prev, const uint8_t* cur, const float* dx,
                  const float* dy, int64_t h, int64_t w, float* out) {
  const int64_t plane = h * w;
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const int64_t i = y * w + x;
      const float sx = static_cast<float>(x) + dx[i];
      const float sy = static_cast<float>(y) + dy[i];
      const float fx0 = std::floor(sx), fy0 = std::floor(sy);
      const float ax = sx - fx0, ay = sy - fy0;
      auto clamp_x = [&](float v) {
        return static_cast<int64_t>(
            std::clamp(v, 0.0f, static_cast<float>(w - 1)));
      };
      auto clamp_y = [&](float v) {
        return static_cast<int64_t>(
            std::clamp(v, 0.0f, static_cast<float>(h - 1)));
      };
      const int64_t x0 = clamp_x(fx0), x1 = clamp_x(fx0 + 1);
      const int64_t y0 = clamp_y(fy0), y1 = clamp_y(fy0 + 1);
      for (int64_t c = 0; c < 3; ++c) {
        const uint8_t* p = prev + c * plane;
        const float v =
            (1 - ay) * ((1 - ax) * p[y0 * w + x0] + ax * p[y0 * w + x1]) +
            ay * ((1 - ax) * p[y1 * w + x0] + ax * p[y1 * w + x1]);
        out[c * plane + i] = static_cast<float>(cur[c * plane + i]) - v;
      }
    }
  }
}

}  // namespace

absl::StatusOr<InMemoryStreamSource> InMemoryStreamSource::FromWindows(
    StreamInfo info, std::vector<GopWindow> windows) {
  int64_t length = 0, h = 0, w = 0;
  for (size_t i = 0; i < windows.size(); ++i) {
    const GopWindow& win = windows[i];
    if (i == 0) {
      length = win.length();
      h = win.height();
      w = win.width();
      if (length < 1) {
        return absl::InvalidArgumentError("window 0 has no frames");
      }
    }
    const int64_t t = win.length();
    if (t != length || !HasShape(win.rgb, at::kByte, {t, 3, h, w}) ||
        !HasShape(win.motion, at::kFloat, {t, 2, h, w}) ||
        !HasShape(win.intra, at::kBool, {t, 1, h, w}) ||
        !HasShape(win.residual, at::kFloat, {t, 3, h, w}) ||
        !HasShape(win.valid, at::kBool, {t}) || win.num_valid < 0 ||
        win.num_valid > t) {
      return absl::InvalidArgumentError(absl::StrCat(
          "window ", i, " does not match window 0 (", length, " frames of ", w,
          "x", h, "): every tensor of gop.h must be defined with ", length,
          " entries of that size"));
    }
  }
  if (info.width == 0 && info.height == 0) {
    info.width = w;
    info.height = h;
  }
  std::deque<GopWindow> queue(std::make_move_iterator(windows.begin()),
                              std::make_move_iterator(windows.end()));
  return InMemoryStreamSource(std::move(info), std::max<int64_t>(length, 1),
                              std::move(queue));
}

absl::StatusOr<InMemoryStreamSource> InMemoryStreamSource::FromFrames(
    const InMemoryFrames& frames, int64_t window_length) {
  if (window_length < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("window_length must be >= 1, got ", window_length));
  }
  if (!frames.rgb.defined() || frames.rgb.dim() != 4 ||
      frames.rgb.size(1) != 3 || frames.rgb.scalar_type() != at::kByte) {
    return absl::InvalidArgumentError(
        "rgb must be a uint8 tensor [N, 3, H, W]");
  }
  const int64_t n = frames.rgb.size(0), h = frames.rgb.size(2),
                w = frames.rgb.size(3);
  if (static_cast<int64_t>(frames.types.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "types has ", frames.types.size(), " entries for ", n, " frames"));
  }
  for (int64_t i = 0; i < n; ++i) {
    const FrameType type = frames.types[static_cast<size_t>(i)];
    if (type != FrameType::kI && type != FrameType::kP) {
      return absl::InvalidArgumentError(absl::StrCat(
          "frame ", i, " has type ", std::string(1, FrameTypeChar(type)),
          "; only I and P frames can be windowed"));
    }
  }
  if (n > 0 && frames.types[0] != FrameType::kI) {
    return absl::InvalidArgumentError("frame 0 must be an I-frame");
  }
  if (frames.motion.defined() &&
      !HasShape(frames.motion, at::kFloat, {n, 2, h, w})) {
    return absl::InvalidArgumentError(
        absl::StrCat("motion must be float [", n, ", 2, ", h, ", ", w, "]"));
  }
  if (frames.intra.defined() &&
      !HasShape(frames.intra, at::kBool, {n, 1, h, w})) {
    return absl::InvalidArgumentError(
        absl::StrCat("intra must be bool [", n, ", 1, ", h, ", ", w, "]"));
  }
  const at::Tensor rgb = frames.rgb.cpu().contiguous();
  const at::Tensor motion =
      frames.motion.defined() ? frames.motion.cpu().contiguous() : at::Tensor();
  const at::Tensor intra =
      frames.intra.defined() ? frames.intra.cpu().contiguous() : at::Tensor();
  const int64_t plane = h * w;
  std::vector<float> zeros;
  if (!motion.defined()) zeros.assign(static_cast<size_t>(2 * plane), 0.0f);

  WindowAssembler assembler(window_length, h, w);
  std::deque<GopWindow> windows;
  for (int64_t i = 0; i < n; ++i) {
    FrameMeta meta;
    meta.index = i;
    meta.type = frames.types[static_cast<size_t>(i)];
    meta.timestamp_s = frames.frame_rate > 0
                           ? static_cast<double>(i) / frames.frame_rate
                           : std::nan("");
    if (std::optional<GopWindow> done = assembler.Add(meta)) {
      windows.push_back(*std::move(done));
    }
    const FrameSlot& slot = assembler.slot();
    const uint8_t* cur = rgb.data_ptr<uint8_t>() + i * 3 * plane;
    std::memcpy(slot.rgb[0], cur, static_cast<size_t>(3 * plane));
    if (meta.type == FrameType::kI) {
      assembler.FillNoMotion(/*intra=*/true);
      continue;
    }
    const float* m = motion.defined() ? motion.data_ptr<float>() + i * 2 * plane
                                      : zeros.data();
    std::memcpy(slot.motion[0], m,
                static_cast<size_t>(2 * plane) * sizeof(float));
    if (intra.defined()) {
      std::memcpy(slot.intra, intra.data_ptr<bool>() + i * plane,
                  static_cast<size_t>(plane));
    } else {
      std::fill_n(slot.intra, plane, false);
    }
    WarpResidual(cur - 3 * plane, cur, m, m + plane, h, w, slot.residual[0]);
  }
  if (std::optional<GopWindow> last = assembler.Finish()) {
    windows.push_back(*std::move(last));
  }
  StreamInfo info;
  info.path = "<memory>";
  info.codec = "none";
  info.width = w;
  info.height = h;
  info.frame_rate = frames.frame_rate;
  info.frame_count_hint = n;
  return InMemoryStreamSource(std::move(info), window_length,
                              std::move(windows));
}

absl::StatusOr<std::optional<GopWindow>> InMemoryStreamSource::Next() {
  if (windows_.empty()) return std::nullopt;
  GopWindow w = std::move(windows_.front());
  windows_.pop_front();
  return w;
}

}  // namespace mapn
