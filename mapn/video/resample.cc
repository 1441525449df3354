#include "mapn/video/resample.h"

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/stack.h>

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mapn {
namespace {

// Where each output pixel samples the source: its four bilinear neighbours
// as pixels (i..), as the 4:2:0 chroma samples covering them (c..) and as
// blocks of gop.h's motion grid (b..), the bilinear weights, the block of
// the nearest pixel, and whether the point is inside the picture at all
// ([-1/2, W - 1/2) x [-1/2, H - 1/2)). Motion and the residual are sampled
// through these indices exactly as if they had been expanded to one value
// per pixel first (DenseMotion, DenseResidual), bit for bit.
struct SampleMap {
  int64_t n = 0;
  std::vector<int64_t> i00, i01, i10, i11;
  std::vector<int64_t> c00, c01, c10, c11;
  std::vector<int64_t> b00, b01, b10, b11, nearest_block;
  std::vector<float> w00, w01, w10, w11;
  std::vector<uint8_t> inside;
};

SampleMap BuildSampleMap(const Affine2D& m, int size, int64_t h, int64_t w) {
  SampleMap s;
  s.n = static_cast<int64_t>(size) * size;
  for (auto* v : {&s.i00, &s.i01, &s.i10, &s.i11, &s.c00, &s.c01, &s.c10,
                  &s.c11, &s.b00, &s.b01, &s.b10, &s.b11, &s.nearest_block}) {
    v->resize(s.n);
  }
  const int64_t wb = MotionBlocks(w), wc = (w + 1) / 2;
  auto block = [wb](int64_t y, int64_t x) {
    return (y / kMotionBlock) * wb + x / kMotionBlock;
  };
  auto chroma = [wc](int64_t y, int64_t x) { return (y / 2) * wc + x / 2; };
  for (auto* v : {&s.w00, &s.w01, &s.w10, &s.w11}) v->resize(s.n);
  s.inside.resize(s.n);
  for (int qy = 0; qy < size; ++qy) {
    for (int qx = 0; qx < size; ++qx) {
      const int64_t i = static_cast<int64_t>(qy) * size + qx;
      double px, py;
      m.Apply(qx, qy, &px, &py);
      const bool in = px >= -0.5 && px < w - 0.5 && py >= -0.5 && py < h - 0.5;
      s.inside[i] = in;
      if (!in) continue;
      const double fx = std::floor(px), fy = std::floor(py);
      const float ax = static_cast<float>(px - fx),
                  ay = static_cast<float>(py - fy);
      const int64_t x0 =
          std::clamp<int64_t>(static_cast<int64_t>(fx), 0, w - 1);
      const int64_t x1 =
          std::clamp<int64_t>(static_cast<int64_t>(fx) + 1, 0, w - 1);
      const int64_t y0 =
          std::clamp<int64_t>(static_cast<int64_t>(fy), 0, h - 1);
      const int64_t y1 =
          std::clamp<int64_t>(static_cast<int64_t>(fy) + 1, 0, h - 1);
      s.i00[i] = y0 * w + x0;
      s.i01[i] = y0 * w + x1;
      s.i10[i] = y1 * w + x0;
      s.i11[i] = y1 * w + x1;
      s.c00[i] = chroma(y0, x0);
      s.c01[i] = chroma(y0, x1);
      s.c10[i] = chroma(y1, x0);
      s.c11[i] = chroma(y1, x1);
      s.b00[i] = block(y0, x0);
      s.b01[i] = block(y0, x1);
      s.b10[i] = block(y1, x0);
      s.b11[i] = block(y1, x1);
      s.w00[i] = (1 - ax) * (1 - ay);
      s.w01[i] = ax * (1 - ay);
      s.w10[i] = (1 - ax) * ay;
      s.w11[i] = ax * ay;
      const int64_t nx = std::clamp<int64_t>(std::llround(px), 0, w - 1);
      const int64_t ny = std::clamp<int64_t>(std::llround(py), 0, h - 1);
      s.nearest_block[i] = block(ny, nx);
    }
  }
  return s;
}

// The bilinear combination of the four neighbours' values, in the one
// order of operations every field uses.
float Blend(const SampleMap& s, int64_t i, float v00, float v01, float v10,
            float v11) {
  return s.w00[i] * v00 + s.w01[i] * v01 + s.w10[i] * v10 + s.w11[i] * v11;
}

float Bilinear(const SampleMap& s, const uint8_t* src, int64_t i) {
  return Blend(s, i, src[s.i00[i]], src[s.i01[i]], src[s.i10[i]],
               src[s.i11[i]]);
}

// A field stored per block of the motion grid, sampled as per pixel.
float BilinearBlocks(const SampleMap& s, const float* src, int64_t i) {
  return Blend(s, i, src[s.b00[i]], src[s.b01[i]], src[s.b10[i]],
               src[s.b11[i]]);
}

// The residual at the four neighbours, each converted to RGB as
// DenseResidual converts it, then blended per channel.
RgbResidual BilinearResidual(const SampleMap& s, const YuvToRgb& color,
                             const int16_t* y, const int16_t* u,
                             const int16_t* v, int64_t i) {
  const RgbResidual a =
      ResidualToRgb(color, y[s.i00[i]], u[s.c00[i]], v[s.c00[i]]);
  const RgbResidual b =
      ResidualToRgb(color, y[s.i01[i]], u[s.c01[i]], v[s.c01[i]]);
  const RgbResidual c =
      ResidualToRgb(color, y[s.i10[i]], u[s.c10[i]], v[s.c10[i]]);
  const RgbResidual d =
      ResidualToRgb(color, y[s.i11[i]], u[s.c11[i]], v[s.c11[i]]);
  return {Blend(s, i, a.r, b.r, c.r, d.r), Blend(s, i, a.g, b.g, c.g, d.g),
          Blend(s, i, a.b, b.b, c.b, d.b)};
}

}  // namespace

absl::StatusOr<ResampledWindow> ResampleWindow(const GopWindow& window,
                                               const Affine2D& m, int size) {
  if (size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("output size must be >= 1, got ", size));
  }
  const std::optional<Affine2D> inverse = m.Inverse();
  if (!inverse || !std::isfinite(m.tx) || !std::isfinite(m.ty)) {
    return absl::InvalidArgumentError(
        "the output-to-source map is singular or not finite");
  }
  if (!window.rgb.defined() || window.rgb.dim() != 4 ||
      window.rgb.scalar_type() != at::kByte || window.rgb.size(1) != 3) {
    return absl::InvalidArgumentError(
        "the window has no uint8 rgb tensor [T, 3, H, W]");
  }
  const int64_t t = window.rgb.size(0), h = window.height(), w = window.width();
  const int64_t hb = window.blocks_high(), wb = window.blocks_wide();
  const bool motion = window.motion.defined() && window.intra.defined();
  auto has_shape = [](const at::Tensor& x, at::ScalarType type,
                      std::vector<int64_t> shape) {
    return x.scalar_type() == type && x.sizes().vec() == shape;
  };
  if (motion && (!has_shape(window.motion, at::kFloat, {t, 2, hb, wb}) ||
                 !has_shape(window.intra, at::kBool, {t, 1, hb, wb}))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the window's motion / intra must be float [", t, ", 2, ", hb, ", ", wb,
        "] / bool [", t, ", 1, ", hb, ", ", wb, "], the ", kMotionBlock,
        "-pixel block grid of its ", w, "x", h, " frames (gop.h)"));
  }
  const bool residual = window.has_residual();
  const int64_t hc = window.chroma_high(), wc = window.chroma_wide();
  if (residual &&
      (!has_shape(window.residual_y, at::kShort, {t, 1, h, w}) ||
       !has_shape(window.residual_uv, at::kShort, {t, 2, hc, wc}))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the window's residual_y / residual_uv must be int16 [", t, ", 1, ", h,
        ", ", w, "] / [", t, ", 2, ", hc, ", ", wc,
        "], the 4:2:0 planes of its ", w, "x", h, " frames (gop.h)"));
  }
  if (static_cast<int64_t>(window.frames.size()) != t) {
    return absl::InvalidArgumentError(
        absl::StrCat("the window has ", window.frames.size(),
                     " frame records for ", t, " frames"));
  }
  const SampleMap s = BuildSampleMap(m, size, h, w);
  const int64_t n = s.n, plane = h * w, blocks = hb * wb, chroma = hc * wc;

  ResampledWindow out;
  out.window_index = window.window_index;
  out.window_in_gop = window.window_in_gop;
  out.frames = window.frames;
  out.num_valid = window.num_valid;
  out.valid = window.valid.clone();
  const at::Tensor rgb_in = window.rgb.contiguous();
  out.rgb = at::empty({t, 3, size, size}, at::kByte);
  at::Tensor motion_in, intra_in, residual_y, residual_uv;
  if (motion) {
    motion_in = window.motion.contiguous();
    intra_in = window.intra.contiguous();
    out.motion = at::empty({t, 2, size, size}, at::kFloat);
    out.intra = at::empty({t, 1, size, size}, at::kBool);
  }
  if (residual) {
    residual_y = window.residual_y.contiguous();
    residual_uv = window.residual_uv.contiguous();
    out.residual = at::empty({t, 3, size, size}, at::kFloat);
  }
  // d_out = M^-1 d_src.
  const Affine2D& mi = *inverse;
  at::parallel_for(0, t, 1, [&](int64_t begin, int64_t end) {
    for (int64_t f = begin; f < end; ++f) {
      for (int c = 0; c < 3; ++c) {
        const uint8_t* src = rgb_in.data_ptr<uint8_t>() + (f * 3 + c) * plane;
        uint8_t* dst = out.rgb.data_ptr<uint8_t>() + (f * 3 + c) * n;
        for (int64_t i = 0; i < n; ++i) {
          dst[i] = s.inside[i] ? static_cast<uint8_t>(std::lround(std::clamp(
                                     Bilinear(s, src, i), 0.0f, 255.0f)))
                               : 0;
        }
      }
      if (residual) {
        const int16_t* y = residual_y.data_ptr<int16_t>() + f * plane;
        const int16_t* u = residual_uv.data_ptr<int16_t>() + f * 2 * chroma;
        const int16_t* v = u + chroma;
        const YuvToRgb& color = window.frames[static_cast<size_t>(f)].color;
        float* r = out.residual.data_ptr<float>() + f * 3 * n;
        float* g = r + n;
        float* b = g + n;
        for (int64_t i = 0; i < n; ++i) {
          if (!s.inside[i]) {
            r[i] = g[i] = b[i] = 0.0f;
            continue;
          }
          const RgbResidual rgb = BilinearResidual(s, color, y, u, v, i);
          r[i] = rgb.r;
          g[i] = rgb.g;
          b[i] = rgb.b;
        }
      }
      if (motion) {
        const float* sx = motion_in.data_ptr<float>() + f * 2 * blocks;
        const float* sy = sx + blocks;
        float* dx = out.motion.data_ptr<float>() + f * 2 * n;
        float* dy = dx + n;
        const bool* intra = intra_in.data_ptr<bool>() + f * blocks;
        bool* intra_out = out.intra.data_ptr<bool>() + f * n;
        for (int64_t i = 0; i < n; ++i) {
          if (!s.inside[i]) {
            dx[i] = dy[i] = 0.0f;
            intra_out[i] = false;
            continue;
          }
          double ox, oy;
          mi.ApplyLinear(BilinearBlocks(s, sx, i), BilinearBlocks(s, sy, i),
                         &ox, &oy);
          dx[i] = static_cast<float>(ox);
          dy[i] = static_cast<float>(oy);
          intra_out[i] = intra[s.nearest_block[i]];
        }
      }
    }
  });
  return out;
}

absl::StatusOr<ResampledWindow> CropWindow(const GopWindow& window,
                                           const Box& box, int size) {
  if (!(box.width() > 0) || !(box.height() > 0) || !std::isfinite(box.x1) ||
      !std::isfinite(box.y1) || !std::isfinite(box.x2) ||
      !std::isfinite(box.y2)) {
    return absl::InvalidArgumentError(
        absl::StrCat("crop box (", box.x1, ", ", box.y1, ", ", box.x2, ", ",
                     box.y2, ") must have x2 > x1 and y2 > y1"));
  }
  return ResampleWindow(window, BoxToSquare(box, size), size);
}

absl::StatusOr<GopBatch> ToGopBatch(
    const std::vector<ResampledWindow>& windows) {
  if (windows.empty()) return absl::InvalidArgumentError("no windows to batch");
  const int64_t t = windows[0].length(), h = windows[0].height(),
                w = windows[0].width();
  if (h != w) {
    return absl::InvalidArgumentError(absl::StrCat(
        "windows must be square (crop them first), got ", w, "x", h));
  }
  std::vector<at::Tensor> rgb, motion, residual, valid;
  for (size_t i = 0; i < windows.size(); ++i) {
    const ResampledWindow& win = windows[i];
    if (win.length() != t || win.height() != h || win.width() != w ||
        !win.motion.defined() || !win.residual.defined() ||
        !win.valid.defined()) {
      return absl::InvalidArgumentError(
          absl::StrCat("window ", i, " is not a full ", t, "-frame ", w, "x", h,
                       " window with motion and residual like window 0"));
    }
    rgb.push_back(win.rgb);
    motion.push_back(win.motion);
    residual.push_back(win.residual);
    valid.push_back(win.valid);
  }
  GopBatch batch;
  batch.rgb = at::stack(rgb).to(at::kFloat).div_(255.0);
  batch.motion = at::stack(motion).contiguous();
  batch.residual = at::stack(residual).div_(255.0);
  batch.valid = at::stack(valid);
  return batch;
}

}  // namespace mapn
