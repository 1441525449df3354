#include "mapn/model/flops.h"

#include <array>

namespace mapn::model {
namespace {

double D(int64_t v) { return static_cast<double>(v); }

// Output size of a convolution with this kernel, stride and padding.
int64_t ConvOut(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

}  // namespace

MacCount ConvMacs(int64_t in_channels, int64_t out_channels, int64_t kernel_h,
                  int64_t kernel_w, int64_t out_h, int64_t out_w,
                  int64_t groups) {
  const double macs = D(in_channels / groups) * D(out_channels) *
                      D(kernel_h * kernel_w) * D(out_h) * D(out_w);
  return {macs, macs};
}

MacCount DeconvMacs(int64_t in_channels, int64_t out_channels, int64_t kernel,
                    int64_t in_h, int64_t in_w, int64_t stride) {
  const double per_position =
      D(in_channels) * D(out_channels) * D(kernel) * D(kernel);
  return {per_position * D(in_h) * D(in_w),
          per_position * D(in_h * stride) * D(in_w * stride)};
}

MacCount LinearMacs(int64_t in_features, int64_t out_features) {
  const double macs = D(in_features) * D(out_features);
  return {macs, macs};
}

MacCount WarpMacs(int64_t channels, int64_t h, int64_t w) {
  return {4.0 * D(channels) * D(h) * D(w), 0.0};
}

int64_t ResNetChannels(const ResNetShape& shape) {
  return shape.base_width * (shape.depth >= 50 ? 32 : 8);
}

MacCount ResNetMacs(const ResNetShape& shape, int64_t input_size) {
  std::array<int, 4> blocks = {2, 2, 2, 2};
  if (shape.depth == 34 || shape.depth == 50) blocks = {3, 4, 6, 3};
  const bool bottleneck = shape.depth >= 50;
  const int64_t expansion = bottleneck ? 4 : 1;
  const int64_t w = shape.base_width;

  MacCount total;
  int64_t size = ConvOut(input_size, 7, 2, 3);  // conv1
  total += ConvMacs(3, w, 7, 7, size, size);
  size = ConvOut(size, 3, 2, 1);  // maxpool
  int64_t in = w;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = w << stage;
    for (int b = 0; b < blocks[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      const int64_t out_size = ConvOut(size, 3, stride, 1);
      const int64_t out = planes * expansion;
      if (bottleneck) {
        total += ConvMacs(in, planes, 1, 1, size, size);
        total += ConvMacs(planes, planes, 3, 3, out_size, out_size);
        total += ConvMacs(planes, out, 1, 1, out_size, out_size);
      } else {
        total += ConvMacs(in, planes, 3, 3, out_size, out_size);
        total += ConvMacs(planes, planes, 3, 3, out_size, out_size);
      }
      if (stride != 1 || in != out) {
        total += ConvMacs(in, out, 1, 1, out_size, out_size);
      }
      in = out;
      size = out_size;
    }
  }
  return total;
}

MacCount DeconvHeadMacs(int64_t in_channels, int64_t head_channels,
                        int64_t out_channels, int64_t fh, int64_t fw) {
  MacCount total;
  int64_t c = in_channels, h = fh, w = fw;
  for (int i = 0; i < 3; ++i) {
    total += DeconvMacs(c, head_channels, 4, h, w, 2);
    c = head_channels;
    h *= 2;
    w *= 2;
  }
  total += ConvMacs(head_channels, out_channels, 1, 1, h, w);
  return total;
}

MacCount ConvLstmStepMacs(int64_t channels, int64_t kernel, int64_t h,
                          int64_t w, bool warp) {
  MacCount total = ConvMacs(channels, 4 * channels, kernel, kernel, h, w);
  if (warp) total += WarpMacs(2 * channels, h, w);
  return total;
}

}  // namespace mapn::model
