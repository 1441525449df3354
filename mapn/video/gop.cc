#include "mapn/video/gop.h"

#include <c10/core/TensorOptions.h>
#include <c10/util/Exception.h>

namespace mapn {
namespace {

// Block index of each of `pixels` positions: i / kMotionBlock. Only
// Tensor methods here: the reader's sources are also compiled by clang for
// the fuzzer, where the ATen/ops headers do not compile.
at::Tensor BlockIndex(const at::Tensor& like, int64_t pixels) {
  at::Tensor index =
      like.new_empty({pixels}, at::TensorOptions().dtype(at::kLong));
  int64_t* p = index.data_ptr<int64_t>();
  for (int64_t i = 0; i < pixels; ++i) p[i] = i / kMotionBlock;
  return index;
}

}  // namespace

char FrameTypeChar(FrameType type) {
  switch (type) {
    case FrameType::kI:
      return 'I';
    case FrameType::kP:
      return 'P';
    case FrameType::kB:
      return 'B';
    case FrameType::kPadding:
      return '-';
  }
  return '?';
}

const char* FrameDamageName(FrameDamage damage) {
  switch (damage) {
    case FrameDamage::kNone:
      return "";
    case FrameDamage::kConcealed:
      return "concealed";
    case FrameDamage::kLost:
      return "lost";
  }
  return "unknown";
}

at::Tensor ExpandBlocks(const at::Tensor& grid, int64_t height, int64_t width) {
  TORCH_CHECK(grid.defined() && grid.dim() >= 2,
              "ExpandBlocks: the block grid must have at least 2 dimensions");
  TORCH_CHECK(height >= 0 && width >= 0 &&
                  grid.size(-2) == MotionBlocks(height) &&
                  grid.size(-1) == MotionBlocks(width),
              "ExpandBlocks: a ", grid.size(-2), " x ", grid.size(-1),
              " grid is not the ", kMotionBlock, "-pixel block grid of a ",
              width, "x", height, " picture (", MotionBlocks(height), " x ",
              MotionBlocks(width), ")");
  return grid.index_select(-2, BlockIndex(grid, height))
      .index_select(-1, BlockIndex(grid, width));
}

at::Tensor DenseMotion(const GopWindow& window, int64_t t) {
  return ExpandBlocks(window.motion[t], window.height(), window.width());
}

at::Tensor DenseIntra(const GopWindow& window, int64_t t) {
  return ExpandBlocks(window.intra[t], window.height(), window.width());
}

at::Tensor DenseResidual(const GopWindow& window, int64_t t) {
  const int64_t h = window.height(), w = window.width();
  const int64_t hc = window.chroma_high(), wc = window.chroma_wide();
  const int64_t frames = window.length();
  TORCH_CHECK(
      window.has_residual() && window.residual_y.scalar_type() == at::kShort &&
          window.residual_uv.scalar_type() == at::kShort &&
          window.residual_y.sizes() == at::IntArrayRef({frames, 1, h, w}) &&
          window.residual_uv.sizes() == at::IntArrayRef({frames, 2, hc, wc}),
      "DenseResidual: the window has no int16 residual_y [", frames, ", 1, ", h,
      ", ", w, "] and residual_uv [", frames, ", 2, ", hc, ", ", wc,
      "] (gop.h)");
  TORCH_CHECK(t >= 0 && t < frames, "DenseResidual: frame ", t,
              " is outside the window's ", frames, " frames");
  const at::Tensor ry = window.residual_y[t].contiguous();
  const at::Tensor ruv = window.residual_uv[t].contiguous();
  at::Tensor out =
      ry.new_empty({3, h, w}, at::TensorOptions().dtype(at::kFloat));
  const int16_t* y = ry.data_ptr<int16_t>();
  const int16_t* u = ruv.data_ptr<int16_t>();
  const int16_t* v = u + hc * wc;
  float* r = out.data_ptr<float>();
  float* g = r + h * w;
  float* b = g + h * w;
  const YuvToRgb& color = window.frames[static_cast<size_t>(t)].color;
  for (int64_t py = 0; py < h; ++py) {
    for (int64_t px = 0; px < w; ++px) {
      const int64_t i = py * w + px, c = (py / 2) * wc + px / 2;
      const RgbResidual rgb = ResidualToRgb(color, y[i], u[c], v[c]);
      r[i] = rgb.r;
      g[i] = rgb.g;
      b[i] = rgb.b;
    }
  }
  return out;
}

}  // namespace mapn
