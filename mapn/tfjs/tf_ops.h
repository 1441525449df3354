// File: tf_ops.h
//
// TensorFlow's semantics for the ops of the TF.js graph models mapn reads,
// written with LibTorch. GraphModel (graph_model.h) calls these for its
// nodes; they are public so that each op can be tested against TF's
// formulas on its own, and so that native modules (mapn/movenet) can reuse
// the exact padding and resize rules.
//
// Layout: 4-D tensors are in TF's logical NHWC order and contiguous. A
// contiguous NHWC tensor permuted to NCHW is LibTorch's channels_last
// layout, so convolutions and pooling run on that view without copying
// (3x3 depthwise convolutions are ~100x faster channels_last than in the
// NCHW-contiguous layout with Debian's LibTorch 1.13), and their outputs are
// permuted back: the data stays in NHWC order end to end.
//
// Every function returns InvalidArgument (never throws) when shapes or
// values do not fit, with the op and the shapes in the message.
//
// Example:
//
//   const at::Tensor w = ops::FilterToTorch(hwio);  // once, at load
//   ConvParams p{.stride_h = 2, .stride_w = 2, .padding = Padding::kSame};
//   MAPN_ASSIGN_OR_RETURN(at::Tensor y, ops::Conv2D(x_nhwc, w, bias, p));
//   MAPN_ASSIGN_OR_RETURN(at::Tensor up,
//                         ops::ResizeBilinear(y, 48, 48, false, true));
#ifndef MAPN_TFJS_TF_OPS_H_
#define MAPN_TFJS_TF_OPS_H_

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace mapn::tfjs::ops {

enum class Padding { kSame, kValid, kExplicit };

// TF's SAME split of the padding of one spatial dimension: the output is
// ceil(in / stride); when the total padding is odd the extra row or column
// goes at the END (bottom/right), unlike PyTorch's symmetric padding.
// Returns {before, after}.
std::pair<int64_t, int64_t> SamePadding(int64_t in, int64_t kernel,
                                        int64_t stride, int64_t dilation);

struct ConvParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::kValid;
  // kExplicit only: top, bottom, left, right.
  std::array<int64_t, 4> explicit_pads = {0, 0, 0, 0};
};

// TF's Conv2D filter [kh, kw, in, out] -> LibTorch's [out, in, kh, kw] in
// channels_last memory.
at::Tensor FilterToTorch(const at::Tensor& hwio);
// TF's depthwise filter [kh, kw, in, multiplier] -> [in * multiplier, 1, kh,
// kw] (TF's output channel c * multiplier + m) in channels_last memory.
at::Tensor DepthwiseFilterToTorch(const at::Tensor& hwim);

// x float [N, H, W, C]; filter from FilterToTorch (groups = 1) or
// DepthwiseFilterToTorch (groups = C); bias [out] or undefined.
// Returns [N, H', W', out] (a contiguous NHWC tensor).
absl::StatusOr<at::Tensor> Conv2D(const at::Tensor& x, const at::Tensor& filter,
                                  const at::Tensor& bias,
                                  const ConvParams& params, int64_t groups = 1);

// MaxPool with a kh x kw window; SAME pads with -inf (padding never wins).
absl::StatusOr<at::Tensor> MaxPool(const at::Tensor& x, int64_t kh, int64_t kw,
                                   const ConvParams& params);

// TF's ResizeBilinear on x [N, H, W, C] (any real dtype; float output):
// scale = in / out, or (in - 1) / (out - 1) with align_corners (out > 1);
// source coordinate = (o + 0.5) * scale - 0.5 with half_pixel_centers, else
// o * scale; lower = max(floor(src), 0), upper = min(ceil(src), in - 1),
// lerp = src - floor(src); top = tl + (tr - tl) * x_lerp, bottom likewise,
// out = top + (bottom - top) * y_lerp, all in float as TF computes it.
absl::StatusOr<at::Tensor> ResizeBilinear(const at::Tensor& x, int64_t out_h,
                                          int64_t out_w, bool align_corners,
                                          bool half_pixel_centers);

struct StridedSliceMasks {
  int64_t begin = 0, end = 0, ellipsis = 0, new_axis = 0, shrink_axis = 0;
};
// TF's StridedSlice (ellipsis_mask must be 0): begin/end/strides are the
// per-entry values; masks as TF defines them; negative strides allowed.
absl::StatusOr<at::Tensor> StridedSlice(const at::Tensor& x,
                                        const std::vector<int64_t>& begin,
                                        const std::vector<int64_t>& end,
                                        const std::vector<int64_t>& strides,
                                        const StridedSliceMasks& masks);

// indices [..., m] into the first m dims of params; out-of-range indices are
// an error (TF's CPU kernel refuses them too).
absl::StatusOr<at::Tensor> GatherNd(const at::Tensor& params,
                                    const at::Tensor& indices);
// GatherV2 with batch_dims = 0.
absl::StatusOr<at::Tensor> GatherV2(const at::Tensor& params,
                                    const at::Tensor& indices, int64_t axis);

// The k largest along the last axis, sorted, ties by lower index first (as
// TF). Returns {values, int32 indices}.
absl::StatusOr<std::pair<at::Tensor, at::Tensor>> TopKV2(const at::Tensor& x,
                                                         int64_t k);

// First index of the maximum along `axis`, as `out_dtype` (int32/int64).
absl::StatusOr<at::Tensor> ArgMax(const at::Tensor& x, int64_t axis,
                                  at::ScalarType out_dtype);

// paddings int [rank, 2]; constant `value`.
absl::StatusOr<at::Tensor> Pad(const at::Tensor& x, const at::Tensor& paddings,
                               double value);

// TF's Select (v1): `cond` of x's shape, or a vector selecting along the
// first dimension.
absl::StatusOr<at::Tensor> Select(const at::Tensor& cond, const at::Tensor& t,
                                  const at::Tensor& e);

// TF's SparseToDense with validate_indices: indices scalar, [n] or [n,
// rank]; values scalar or [n]; repeated or out-of-range indices refused.
absl::StatusOr<at::Tensor> SparseToDense(const at::Tensor& indices,
                                         const at::Tensor& output_shape,
                                         const at::Tensor& values,
                                         const at::Tensor& default_value);

// Reductions over `axes` (negative allowed, int tensor scalar or vector);
// kind is "Mean", "Sum" or "Max".
absl::StatusOr<at::Tensor> Reduce(const std::string& kind, const at::Tensor& x,
                                  const at::Tensor& axes, bool keep_dims);

// The integer values of a (small) int32/int64 tensor, e.g. a shape operand.
absl::StatusOr<std::vector<int64_t>> IntValues(const at::Tensor& t);

}  // namespace mapn::tfjs::ops

#endif  // MAPN_TFJS_TF_OPS_H_
