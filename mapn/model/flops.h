// File: flops.h
//
// Analytic multiply-add (MAC) counts of the model's layers, in the two
// conventions that matter when comparing with pose papers:
//
//   * true_macs: the multiply-adds actually executed by convolutions,
//     transposed convolutions, linear layers and the bilinear motion warp
//     (4 per sampled element). Activations, batch norm (foldable into the
//     convolution), pooling, additions and the LSTM's element-wise products
//     are not counted: the convention of the ResNet paper and torchvision
//     (ResNet-50 at 224 x 224: 4.09e9).
//   * hrnet_macs: the HRNet repository's model-summary tool, which pose
//     papers (Simple Baseline, the paper's Table 3 baseline row) quote as
//     "GFLOPs": multiply-adds of conv, deconv and linear layers only, a
//     transposed convolution charged at its OUTPUT resolution (4 x its true
//     cost at stride 2). Nothing else (no warp) is counted.
//
// Both are raw counts. Tables print them in units of 2^30 ("G" as that tool
// divides), through gmacs() below, so the two columns differ only in what is
// counted; SI figures are raw / 1e9.
//
// Example:
//
//   MacCount frame = ResNetMacs({.depth = 18}, 256) +
//                    DeconvHeadMacs(512, 256, 13, 8, 8);
//   std::printf("%.2f %.2f\n", frame.true_gmacs(), frame.hrnet_gmacs());
#ifndef MAPN_MODEL_FLOPS_H_
#define MAPN_MODEL_FLOPS_H_

#include <cstdint>

namespace mapn::model {

// 2^30, the divisor of the HRNet model-summary tool.
inline constexpr double kGiga2 = 1073741824.0;

struct MacCount {
  double true_macs = 0;
  double hrnet_macs = 0;

  double true_gmacs() const { return true_macs / kGiga2; }
  double hrnet_gmacs() const { return hrnet_macs / kGiga2; }

  MacCount& operator+=(const MacCount& other) {
    true_macs += other.true_macs;
    hrnet_macs += other.hrnet_macs;
    return *this;
  }
  friend MacCount operator+(MacCount a, const MacCount& b) { return a += b; }
  friend MacCount operator*(MacCount a, double k) {
    a.true_macs *= k;
    a.hrnet_macs *= k;
    return a;
  }
  friend MacCount operator*(double k, const MacCount& a) { return a * k; }
  friend bool operator==(const MacCount&, const MacCount&) = default;
};

// A k_h x k_w convolution producing out_h x out_w (any stride): counted the
// same in both conventions.
MacCount ConvMacs(int64_t in_channels, int64_t out_channels, int64_t kernel_h,
                  int64_t kernel_w, int64_t out_h, int64_t out_w,
                  int64_t groups = 1);

// A transposed convolution with a k x k kernel over an in_h x in_w input at
// `stride`: true cost at the input resolution, HRNet cost at the output
// resolution (in * stride)^2.
MacCount DeconvMacs(int64_t in_channels, int64_t out_channels, int64_t kernel,
                    int64_t in_h, int64_t in_w, int64_t stride);

MacCount LinearMacs(int64_t in_features, int64_t out_features);

// Bilinear sampling of `channels` planes of h x w: 4 multiply-adds per
// output element, true MACs only.
MacCount WarpMacs(int64_t channels, int64_t h, int64_t w);

// The torchvision ResNet trunk (conv1 .. layer4, no classifier) at an S x S
// input. depth is 18, 34 or 50; base_width 64 is torchvision's, other
// widths scale every stage.
struct ResNetShape {
  int depth = 18;
  int64_t base_width = 64;
};
MacCount ResNetMacs(const ResNetShape& shape, int64_t input_size);

// Channels of the trunk's output: 8 x base_width (18, 34), 32 x (50).
int64_t ResNetChannels(const ResNetShape& shape);

// Simple Baseline's head on an fh x fw feature map: three 4 x 4 stride-2
// transposed convolutions to `head_channels`, then a 1 x 1 convolution to
// `out_channels` at 8 x the feature resolution.
MacCount DeconvHeadMacs(int64_t in_channels, int64_t head_channels,
                        int64_t out_channels, int64_t fh, int64_t fw);

// One ConvLSTM step of equations (6)-(9): one k x k convolution from the
// `channels`-wide sum x_t + h'_{t-1} to the four gates, plus (when `warp`)
// warping h and c (equations (4), (5)) and resampling the motion field from
// input_size to the feature map (average pooling, not counted).
MacCount ConvLstmStepMacs(int64_t channels, int64_t kernel, int64_t h,
                          int64_t w, bool warp);

}  // namespace mapn::model

#endif  // MAPN_MODEL_FLOPS_H_
