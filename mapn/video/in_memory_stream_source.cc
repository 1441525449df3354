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

// The frames' 4:2:0 representation: BT.601 full-range Y per pixel, U and V
// of each 2x2 block's mean colour, rounded as an encoder would.
struct Yuv420Planes {
  std::vector<uint8_t> y, u, v;
};

uint8_t ToByte(float v) {
  return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

Yuv420Planes RgbToYuv420(const uint8_t* rgb, int64_t h, int64_t w) {
  const int64_t plane = h * w, hc = (h + 1) / 2, wc = (w + 1) / 2;
  const uint8_t *r = rgb, *g = rgb + plane, *b = rgb + 2 * plane;
  Yuv420Planes out;
  out.y.resize(static_cast<size_t>(plane));
  out.u.resize(static_cast<size_t>(hc * wc));
  out.v.resize(static_cast<size_t>(hc * wc));
  for (int64_t i = 0; i < plane; ++i) {
    out.y[i] = ToByte(0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i]);
  }
  for (int64_t cy = 0; cy < hc; ++cy) {
    for (int64_t cx = 0; cx < wc; ++cx) {
      float sr = 0, sg = 0, sb = 0;
      int count = 0;
      for (int64_t y = 2 * cy; y < std::min(2 * cy + 2, h); ++y) {
        for (int64_t x = 2 * cx; x < std::min(2 * cx + 2, w); ++x) {
          sr += r[y * w + x];
          sg += g[y * w + x];
          sb += b[y * w + x];
          ++count;
        }
      }
      sr /= count;
      sg /= count;
      sb /= count;
      out.u[cy * wc + cx] =
          ToByte(128.0f - 0.168736f * sr - 0.331264f * sg + 0.5f * sb);
      out.v[cy * wc + cx] =
          ToByte(128.0f + 0.5f * sr - 0.418688f * sg - 0.081312f * sb);
    }
  }
  return out;
}

// out = cur - bilinear sample of prev at (x + dx, y + dy) / subsampling,
// edges replicated, rounded, for one plane of ph x pw samples of a picture
// whose luma is h x w; (dx, dy) is the vector of the block covering the
// sample's luma position.
void WarpResidualPlane(const uint8_t* prev, const uint8_t* cur, int64_t ph,
                       int64_t pw, int subsampling, const float* dx,
                       const float* dy, int64_t w, int16_t* out) {
  const int64_t wb = MotionBlocks(w);
  auto clamp_to = [](float v, int64_t size) {
    return static_cast<int64_t>(
        std::clamp(v, 0.0f, static_cast<float>(size - 1)));
  };
  for (int64_t y = 0; y < ph; ++y) {
    for (int64_t x = 0; x < pw; ++x) {
      const int64_t block = (y * subsampling / kMotionBlock) * wb +
                            x * subsampling / kMotionBlock;
      const float sx = static_cast<float>(x) + dx[block] / subsampling;
      const float sy = static_cast<float>(y) + dy[block] / subsampling;
      const float fx0 = std::floor(sx), fy0 = std::floor(sy);
      const float ax = sx - fx0, ay = sy - fy0;
      const int64_t x0 = clamp_to(fx0, pw), x1 = clamp_to(fx0 + 1, pw);
      const int64_t y0 = clamp_to(fy0, ph), y1 = clamp_to(fy0 + 1, ph);
      const float v =
          (1 - ay) * ((1 - ax) * prev[y0 * pw + x0] + ax * prev[y0 * pw + x1]) +
          ay * ((1 - ax) * prev[y1 * pw + x0] + ax * prev[y1 * pw + x1]);
      out[y * pw + x] = static_cast<int16_t>(
          std::nearbyint(static_cast<float>(cur[y * pw + x]) - v));
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
    const int64_t hb = MotionBlocks(h), wb = MotionBlocks(w);
    if (t != length || !HasShape(win.rgb, at::kByte, {t, 3, h, w}) ||
        !HasShape(win.motion, at::kFloat, {t, 2, hb, wb}) ||
        !HasShape(win.intra, at::kBool, {t, 1, hb, wb}) ||
        !HasShape(win.residual_y, at::kShort, {t, 1, h, w}) ||
        !HasShape(win.residual_uv, at::kShort,
                  {t, 2, (h + 1) / 2, (w + 1) / 2}) ||
        !HasShape(win.valid, at::kBool, {t}) || win.num_valid < 0 ||
        win.num_valid > t) {
      return absl::InvalidArgumentError(absl::StrCat(
          "window ", i, " does not match window 0 (", length, " frames of ", w,
          "x", h, "): every tensor of gop.h must be defined with ", length,
          " entries of that size, motion and intra on the ", MotionBlocks(w),
          "x", MotionBlocks(h), " block grid, residual int16 4:2:0"));
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
  const int64_t hb = MotionBlocks(h), wb = MotionBlocks(w);
  if (frames.motion.defined() &&
      !HasShape(frames.motion, at::kFloat, {n, 2, hb, wb})) {
    return absl::InvalidArgumentError(
        absl::StrCat("motion must be float [", n, ", 2, ", hb, ", ", wb,
                     "], one vector per ", kMotionBlock, "x", kMotionBlock,
                     " block of the ", w, "x", h, " frames"));
  }
  if (frames.intra.defined() &&
      !HasShape(frames.intra, at::kBool, {n, 1, hb, wb})) {
    return absl::InvalidArgumentError(
        absl::StrCat("intra must be bool [", n, ", 1, ", hb, ", ", wb,
                     "], one flag per ", kMotionBlock, "x", kMotionBlock,
                     " block of the ", w, "x", h, " frames"));
  }
  const at::Tensor rgb = frames.rgb.cpu().contiguous();
  const at::Tensor motion =
      frames.motion.defined() ? frames.motion.cpu().contiguous() : at::Tensor();
  const at::Tensor intra =
      frames.intra.defined() ? frames.intra.cpu().contiguous() : at::Tensor();
  const int64_t plane = h * w, blocks = hb * wb;
  std::vector<float> zeros;
  if (!motion.defined()) zeros.assign(static_cast<size_t>(2 * blocks), 0.0f);

  const int64_t hc = (h + 1) / 2, wc = (w + 1) / 2;
  WindowAssembler assembler(window_length, h, w);
  std::deque<GopWindow> windows;
  Yuv420Planes prev_yuv;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* cur = rgb.data_ptr<uint8_t>() + i * 3 * plane;
    Yuv420Planes cur_yuv = RgbToYuv420(cur, h, w);
    FrameMeta meta;
    meta.color = YuvToRgb::Make(/*bt709=*/false, /*full_range=*/true);
    meta.index = i;
    meta.type = frames.types[static_cast<size_t>(i)];
    meta.timestamp_s = frames.frame_rate > 0
                           ? static_cast<double>(i) / frames.frame_rate
                           : std::nan("");
    if (std::optional<GopWindow> done = assembler.Add(meta)) {
      windows.push_back(*std::move(done));
    }
    const FrameSlot& slot = assembler.slot();
    std::memcpy(slot.rgb[0], cur, static_cast<size_t>(3 * plane));
    const Yuv420Planes prev = std::exchange(prev_yuv, std::move(cur_yuv));
    if (meta.type == FrameType::kI) {
      assembler.FillNoMotion(/*intra=*/true);
      continue;
    }
    const float* m = motion.defined()
                         ? motion.data_ptr<float>() + i * 2 * blocks
                         : zeros.data();
    std::memcpy(slot.motion[0], m,
                static_cast<size_t>(2 * blocks) * sizeof(float));
    if (intra.defined()) {
      std::memcpy(slot.intra, intra.data_ptr<bool>() + i * blocks,
                  static_cast<size_t>(blocks));
    } else {
      std::fill_n(slot.intra, blocks, false);
    }
    const float *dx = m, *dy = m + blocks;
    WarpResidualPlane(prev.y.data(), prev_yuv.y.data(), h, w, 1, dx, dy, w,
                      slot.residual[0]);
    WarpResidualPlane(prev.u.data(), prev_yuv.u.data(), hc, wc, 2, dx, dy, w,
                      slot.residual[1]);
    WarpResidualPlane(prev.v.data(), prev_yuv.v.data(), hc, wc, 2, dx, dy, w,
                      slot.residual[2]);
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
