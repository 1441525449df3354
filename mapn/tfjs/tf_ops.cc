#include "mapn/tfjs/tf_ops.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mapn::tfjs::ops {
namespace {

std::string ShapeOf(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ","), "] ",
                      std::string(c10::toString(t.scalar_type())));
}

// Runs `f`, turning a LibTorch exception into InvalidArgument naming `op`.
template <typename F>
auto Guard(const char* op, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", e.what()));
  }
}

absl::Status Need4D(const char* op, const at::Tensor& x) {
  if (!x.defined() || x.dim() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": input must be 4-D NHWC, got ", ShapeOf(x)));
  }
  return absl::OkStatus();
}

// Pads for one spatial dim; returns {before, after} and the effective input.
std::pair<int64_t, int64_t> PadsFor(const ConvParams& p, bool height,
                                    int64_t in, int64_t kernel) {
  const int64_t stride = height ? p.stride_h : p.stride_w;
  const int64_t dilation = height ? p.dilation_h : p.dilation_w;
  switch (p.padding) {
    case Padding::kSame:
      return SamePadding(in, kernel, stride, dilation);
    case Padding::kExplicit:
      return height ? std::make_pair(p.explicit_pads[0], p.explicit_pads[1])
                    : std::make_pair(p.explicit_pads[2], p.explicit_pads[3]);
    case Padding::kValid:
      break;
  }
  return {0, 0};
}

// The channels_last NCHW view of a contiguous NHWC tensor.
at::Tensor NchwView(const at::Tensor& x_nhwc) {
  return x_nhwc.contiguous().permute({0, 3, 1, 2});
}

}  // namespace

std::pair<int64_t, int64_t> SamePadding(int64_t in, int64_t kernel,
                                        int64_t stride, int64_t dilation) {
  const int64_t effective = (kernel - 1) * dilation + 1;
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total =
      std::max<int64_t>((out - 1) * stride + effective - in, 0);
  return {total / 2, total - total / 2};
}

at::Tensor FilterToTorch(const at::Tensor& hwio) {
  return hwio.permute({3, 2, 0, 1}).contiguous(at::MemoryFormat::ChannelsLast);
}

at::Tensor DepthwiseFilterToTorch(const at::Tensor& hwim) {
  const int64_t kh = hwim.size(0), kw = hwim.size(1);
  return hwim.permute({2, 3, 0, 1})
      .reshape({hwim.size(2) * hwim.size(3), 1, kh, kw})
      .contiguous(at::MemoryFormat::ChannelsLast);
}

absl::StatusOr<at::Tensor> Conv2D(const at::Tensor& x, const at::Tensor& filter,
                                  const at::Tensor& bias,
                                  const ConvParams& params, int64_t groups) {
  if (absl::Status s = Need4D("Conv2D", x); !s.ok()) return s;
  return Guard("Conv2D", [&]() -> absl::StatusOr<at::Tensor> {
    if (filter.dim() != 4 || filter.size(1) * groups != x.size(3)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Conv2D: input ", ShapeOf(x), " does not fit filter ",
          ShapeOf(filter), " (torch layout) with groups ", groups));
    }
    const auto [top, bottom] = PadsFor(params, true, x.size(1), filter.size(2));
    const auto [left, right] =
        PadsFor(params, false, x.size(2), filter.size(3));
    at::Tensor input = x;
    int64_t pad_h = 0, pad_w = 0;
    if (top == bottom && left == right) {
      pad_h = top;
      pad_w = left;
    } else {
      input = at::constant_pad_nd(x.contiguous(),
                                  {0, 0, left, right, top, bottom}, 0.0);
    }
    const at::Tensor nchw = NchwView(input);
    at::Tensor y;
    if (at::hasMKLDNN() && x.scalar_type() == at::kFloat && x.is_cpu()) {
      // oneDNN directly: at::conv2d routes 1x1 convolutions of a small
      // single image (under 20480 input values) to its THNN kernel, which
      // with Debian's BLAS runs at ~2 GMAC/s against oneDNN's ~60.
      y = at::mkldnn_convolution(nchw, filter, bias, {pad_h, pad_w},
                                 {params.stride_h, params.stride_w},
                                 {params.dilation_h, params.dilation_w},
                                 groups);
    } else {
      y = at::conv2d(nchw, filter, bias, {params.stride_h, params.stride_w},
                     {pad_h, pad_w}, {params.dilation_h, params.dilation_w},
                     groups);
    }
    return y.permute({0, 2, 3, 1});
  });
}

absl::StatusOr<at::Tensor> MaxPool(const at::Tensor& x, int64_t kh, int64_t kw,
                                   const ConvParams& params) {
  if (absl::Status s = Need4D("MaxPool", x); !s.ok()) return s;
  return Guard("MaxPool", [&]() -> absl::StatusOr<at::Tensor> {
    const auto [top, bottom] = PadsFor(params, true, x.size(1), kh);
    const auto [left, right] = PadsFor(params, false, x.size(2), kw);
    at::Tensor input = x;
    if (top || bottom || left || right) {
      input =
          at::constant_pad_nd(x.contiguous(), {0, 0, left, right, top, bottom},
                              -std::numeric_limits<double>::infinity());
    }
    at::Tensor y = at::max_pool2d(NchwView(input), {kh, kw},
                                  {params.stride_h, params.stride_w}, {0, 0},
                                  {params.dilation_h, params.dilation_w});
    return y.permute({0, 2, 3, 1}).contiguous();
  });
}

absl::StatusOr<at::Tensor> ResizeBilinear(const at::Tensor& x, int64_t out_h,
                                          int64_t out_w, bool align_corners,
                                          bool half_pixel_centers) {
  if (absl::Status s = Need4D("ResizeBilinear", x); !s.ok()) return s;
  if (out_h <= 0 || out_w <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResizeBilinear: output size must be positive, got ",
                     out_h, "x", out_w));
  }
  if (align_corners && half_pixel_centers) {
    return absl::InvalidArgumentError(
        "ResizeBilinear: align_corners and half_pixel_centers are exclusive");
  }
  if (x.size(1) <= 0 || x.size(2) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResizeBilinear: empty input ", ShapeOf(x)));
  }
  return Guard("ResizeBilinear", [&]() -> absl::StatusOr<at::Tensor> {
    // TF computes the weights in float per output row/column.
    auto weights = [&](int64_t in, int64_t out, at::Tensor* lo, at::Tensor* hi,
                       at::Tensor* lerp) {
      const float scale = (align_corners && out > 1)
                              ? static_cast<float>(in - 1) / (out - 1)
                              : static_cast<float>(in) / out;
      *lo = at::empty({out}, at::kLong);
      *hi = at::empty({out}, at::kLong);
      *lerp = at::empty({out}, at::kFloat);
      int64_t* l = lo->data_ptr<int64_t>();
      int64_t* h = hi->data_ptr<int64_t>();
      float* f = lerp->data_ptr<float>();
      for (int64_t o = 0; o < out; ++o) {
        const float src = half_pixel_centers
                              ? (static_cast<float>(o) + 0.5f) * scale - 0.5f
                              : static_cast<float>(o) * scale;
        const float src_floor = std::floor(src);
        l[o] = std::max<int64_t>(static_cast<int64_t>(src_floor), 0);
        h[o] = std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1);
        f[o] = src - src_floor;
      }
    };
    at::Tensor ylo, yhi, ylerp, xlo, xhi, xlerp;
    weights(x.size(1), out_h, &ylo, &yhi, &ylerp);
    weights(x.size(2), out_w, &xlo, &xhi, &xlerp);
    const at::Tensor input = x.to(at::kFloat);
    const at::Tensor left = input.index_select(2, xlo);
    const at::Tensor right = input.index_select(2, xhi);
    const at::Tensor rows = left + (right - left) * xlerp.view({1, 1, -1, 1});
    const at::Tensor top = rows.index_select(1, ylo);
    const at::Tensor bottom = rows.index_select(1, yhi);
    return top + (bottom - top) * ylerp.view({1, -1, 1, 1});
  });
}

absl::StatusOr<at::Tensor> StridedSlice(const at::Tensor& x,
                                        const std::vector<int64_t>& begin,
                                        const std::vector<int64_t>& end,
                                        const std::vector<int64_t>& strides,
                                        const StridedSliceMasks& masks) {
  const size_t n = begin.size();
  if (end.size() != n || strides.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("StridedSlice: begin, end and strides differ in length (",
                     n, ", ", end.size(), ", ", strides.size(), ")"));
  }
  if (masks.ellipsis != 0) {
    return absl::InvalidArgumentError(
        "StridedSlice: ellipsis_mask is not supported");
  }
  int64_t consumed = 0;  // input dims the spec names
  for (size_t i = 0; i < n; ++i) {
    if (!((masks.new_axis >> i) & 1)) ++consumed;
  }
  if (consumed > x.dim()) {
    return absl::InvalidArgumentError(
        absl::StrCat("StridedSlice: ", n, " entries for input ", ShapeOf(x)));
  }
  return Guard("StridedSlice", [&]() -> absl::StatusOr<at::Tensor> {
    at::Tensor y = x;
    int64_t dim = 0;  // the dimension of y the next entry applies to
    for (size_t i = 0; i < n; ++i) {
      const bool new_axis = (masks.new_axis >> i) & 1;
      const bool shrink = (masks.shrink_axis >> i) & 1;
      if (new_axis) {
        y = y.unsqueeze(dim);
        ++dim;
        continue;
      }
      const int64_t size = y.size(dim);
      const int64_t stride = strides[i];
      if (stride == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("StridedSlice: stride 0 in entry ", i));
      }
      if (shrink) {
        int64_t index = begin[i] < 0 ? begin[i] + size : begin[i];
        if (index < 0 || index >= size) {
          return absl::InvalidArgumentError(
              absl::StrCat("StridedSlice: index ", begin[i],
                           " out of range for dim ", dim, " of ", ShapeOf(x)));
        }
        y = y.select(dim, index);
        continue;
      }
      const bool begin_masked = (masks.begin >> i) & 1;
      const bool end_masked = (masks.end >> i) & 1;
      int64_t b, e;
      if (stride > 0) {
        b = begin_masked ? 0 : begin[i];
        e = end_masked ? size : end[i];
        if (!begin_masked && b < 0) b += size;
        if (!end_masked && e < 0) e += size;
        b = std::clamp<int64_t>(b, 0, size);
        e = std::clamp<int64_t>(e, 0, size);
        y = e > b ? y.slice(dim, b, e, stride) : y.slice(dim, 0, 0);
      } else {
        b = begin_masked ? size - 1 : begin[i];
        e = end_masked ? -1 : end[i];
        if (!begin_masked && b < 0) b += size;
        if (!end_masked && e < 0) e += size;
        b = std::clamp<int64_t>(b, -1, size - 1);
        if (!end_masked) e = std::clamp<int64_t>(e, -1, size - 1);
        if (b > e) {
          y = y.index_select(dim, at::arange(b, e, stride, at::kLong));
        } else {
          y = y.slice(dim, 0, 0);
        }
      }
      ++dim;
    }
    return y.contiguous();
  });
}

absl::StatusOr<at::Tensor> GatherNd(const at::Tensor& params,
                                    const at::Tensor& indices) {
  if (indices.dim() < 1 || indices.size(-1) > params.dim()) {
    return absl::InvalidArgumentError(
        absl::StrCat("GatherNd: indices ", ShapeOf(indices),
                     " do not fit params ", ShapeOf(params)));
  }
  return Guard("GatherNd", [&]() -> absl::StatusOr<at::Tensor> {
    const int64_t m = indices.size(-1);
    at::Tensor idx = indices.to(at::kLong).reshape({-1, m});
    std::vector<int64_t> lead(params.sizes().begin(),
                              params.sizes().begin() + m);
    at::Tensor dims = at::tensor(lead, at::kLong);
    if (idx.numel() > 0 &&
        ((idx < 0).any().item<bool>() || (idx >= dims).any().item<bool>())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "GatherNd: an index is out of range for params ", ShapeOf(params)));
    }
    int64_t rows = 1;
    for (int64_t d : lead) rows *= d;
    std::vector<int64_t> strides(m, 1);
    for (int64_t j = m - 2; j >= 0; --j)
      strides[j] = strides[j + 1] * lead[j + 1];
    at::Tensor linear =
        (idx * at::tensor(strides, at::kLong).view({1, m})).sum(1);
    std::vector<int64_t> rest(params.sizes().begin() + m, params.sizes().end());
    std::vector<int64_t> flat_shape = {rows};
    flat_shape.insert(flat_shape.end(), rest.begin(), rest.end());
    at::Tensor out = params.reshape(flat_shape).index_select(0, linear);
    std::vector<int64_t> out_shape(indices.sizes().begin(),
                                   indices.sizes().end() - 1);
    out_shape.insert(out_shape.end(), rest.begin(), rest.end());
    return out.reshape(out_shape);
  });
}

absl::StatusOr<at::Tensor> GatherV2(const at::Tensor& params,
                                    const at::Tensor& indices, int64_t axis) {
  if (axis < 0) axis += params.dim();
  if (axis < 0 || axis >= params.dim()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GatherV2: axis ", axis, " out of range for ", ShapeOf(params)));
  }
  return Guard("GatherV2", [&]() -> absl::StatusOr<at::Tensor> {
    at::Tensor idx = indices.to(at::kLong).reshape({-1});
    if (idx.numel() > 0 && ((idx < 0).any().item<bool>() ||
                            (idx >= params.size(axis)).any().item<bool>())) {
      return absl::InvalidArgumentError(
          absl::StrCat("GatherV2: an index is out of range for axis ", axis,
                       " of ", ShapeOf(params)));
    }
    at::Tensor out = params.index_select(axis, idx);
    std::vector<int64_t> shape(params.sizes().begin(),
                               params.sizes().begin() + axis);
    shape.insert(shape.end(), indices.sizes().begin(), indices.sizes().end());
    shape.insert(shape.end(), params.sizes().begin() + axis + 1,
                 params.sizes().end());
    return out.reshape(shape);
  });
}

absl::StatusOr<std::pair<at::Tensor, at::Tensor>> TopKV2(const at::Tensor& x,
                                                         int64_t k) {
  if (x.dim() < 1 || k < 0 || k > x.size(-1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("TopKV2: k = ", k, " for input ", ShapeOf(x)));
  }
  return Guard(
      "TopKV2", [&]() -> absl::StatusOr<std::pair<at::Tensor, at::Tensor>> {
        // A stable descending sort keeps equal values in index
        // order, TF's tie rule; at::topk does not promise one.
        auto [values, indices] = at::sort(x, /*stable=*/true, /*dim=*/-1,
                                          /*descending=*/true);
        return std::make_pair(
            values.narrow(-1, 0, k).contiguous(),
            indices.narrow(-1, 0, k).to(at::kInt).contiguous());
      });
}

absl::StatusOr<at::Tensor> ArgMax(const at::Tensor& x, int64_t axis,
                                  at::ScalarType out_dtype) {
  if (axis < 0) axis += x.dim();
  if (axis < 0 || axis >= x.dim() || x.size(axis) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ArgMax: axis ", axis, " for input ", ShapeOf(x)));
  }
  return Guard("ArgMax", [&]() -> absl::StatusOr<at::Tensor> {
    // LibTorch returns the first maximal index, as TF does.
    return at::argmax(x, axis).to(out_dtype);
  });
}

absl::StatusOr<at::Tensor> Pad(const at::Tensor& x, const at::Tensor& paddings,
                               double value) {
  if (paddings.dim() != 2 || paddings.size(0) != x.dim() ||
      paddings.size(1) != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Pad: paddings ", ShapeOf(paddings), " for input ", ShapeOf(x)));
  }
  absl::StatusOr<std::vector<int64_t>> p = IntValues(paddings);
  if (!p.ok()) return p.status();
  for (int64_t v : *p) {
    if (v < 0) return absl::InvalidArgumentError("Pad: negative padding");
  }
  return Guard("Pad", [&]() -> absl::StatusOr<at::Tensor> {
    std::vector<int64_t> pad;  // last dim first, as constant_pad_nd wants
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      pad.push_back((*p)[2 * d]);
      pad.push_back((*p)[2 * d + 1]);
    }
    return at::constant_pad_nd(x.contiguous(), pad, value);
  });
}

absl::StatusOr<at::Tensor> Select(const at::Tensor& cond, const at::Tensor& t,
                                  const at::Tensor& e) {
  if (!t.sizes().equals(e.sizes())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Select: branches differ: ", ShapeOf(t), " and ", ShapeOf(e)));
  }
  at::Tensor c = cond.to(at::kBool);
  if (!c.sizes().equals(t.sizes())) {
    if (c.dim() == 1 && t.dim() >= 1 && c.size(0) == t.size(0)) {
      std::vector<int64_t> shape(t.dim(), 1);
      shape[0] = c.size(0);
      c = c.view(shape);
    } else if (c.dim() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Select: condition ", ShapeOf(cond), " for branches ", ShapeOf(t)));
    }
  }
  return Guard("Select", [&]() -> absl::StatusOr<at::Tensor> {
    return at::where(c, t, e).contiguous();
  });
}

absl::StatusOr<at::Tensor> SparseToDense(const at::Tensor& indices,
                                         const at::Tensor& output_shape,
                                         const at::Tensor& values,
                                         const at::Tensor& default_value) {
  absl::StatusOr<std::vector<int64_t>> shape = IntValues(output_shape);
  if (!shape.ok()) return shape.status();
  const int64_t rank = static_cast<int64_t>(shape->size());
  if (default_value.numel() != 1 || indices.dim() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("SparseToDense: indices ", ShapeOf(indices),
                     ", default value ", ShapeOf(default_value)));
  }
  // A 0-D or 1-D `indices` holds one 1-D index per value.
  at::Tensor idx = indices.to(at::kLong);
  if (idx.dim() < 2) idx = idx.reshape({-1, 1});
  const int64_t n = idx.size(0);
  if (idx.size(1) != rank) {
    return absl::InvalidArgumentError(absl::StrCat("SparseToDense: indices ",
                                                   ShapeOf(indices),
                                                   " for output rank ", rank));
  }
  if (!(values.numel() == 1 || (values.dim() == 1 && values.size(0) == n))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SparseToDense: values ", ShapeOf(values), " for ", n, " indices"));
  }
  return Guard("SparseToDense", [&]() -> absl::StatusOr<at::Tensor> {
    at::Tensor out = at::full(*shape, default_value.reshape({}).item(),
                              at::TensorOptions().dtype(values.scalar_type()));
    if (n == 0) return out;
    std::set<std::vector<int64_t>> seen;
    auto acc = idx.accessor<int64_t, 2>();
    for (int64_t i = 0; i < n; ++i) {
      std::vector<int64_t> at_i(rank);
      for (int64_t j = 0; j < rank; ++j) {
        at_i[j] = acc[i][j];
        if (at_i[j] < 0 || at_i[j] >= (*shape)[j]) {
          return absl::InvalidArgumentError(
              absl::StrCat("SparseToDense: index ", i, " is out of range"));
        }
      }
      if (!seen.insert(at_i).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("SparseToDense: index ", i, " is repeated"));
      }
    }
    std::vector<at::Tensor> index_list;
    for (int64_t j = 0; j < rank; ++j) index_list.push_back(idx.select(1, j));
    const at::Tensor v = values.numel() == 1
                             ? values.reshape({1}).expand({n}).contiguous()
                             : values;
    c10::List<c10::optional<at::Tensor>> list;
    for (const at::Tensor& t : index_list) list.push_back(t);
    out.index_put_(list, v.to(out.scalar_type()));
    return out;
  });
}

absl::StatusOr<at::Tensor> Reduce(const std::string& kind, const at::Tensor& x,
                                  const at::Tensor& axes, bool keep_dims) {
  absl::StatusOr<std::vector<int64_t>> dims = IntValues(axes);
  if (!dims.ok()) return dims.status();
  for (int64_t& d : *dims) {
    if (d < 0) d += x.dim();
    if (d < 0 || d >= x.dim()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, ": axis out of range for input ", ShapeOf(x)));
    }
  }
  if (dims->empty()) return x;
  return Guard(kind.c_str(), [&]() -> absl::StatusOr<at::Tensor> {
    if (kind == "Mean") return at::mean(x, *dims, keep_dims);
    if (kind == "Sum") return at::sum(x, *dims, keep_dims, x.scalar_type());
    if (kind == "Max") return at::amax(x, *dims, keep_dims);
    return absl::InvalidArgumentError(
        absl::StrCat("Reduce: unknown reduction ", kind));
  });
}

absl::StatusOr<std::vector<int64_t>> IntValues(const at::Tensor& t) {
  if (!t.defined() ||
      (t.scalar_type() != at::kInt && t.scalar_type() != at::kLong)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an integer tensor, got ", ShapeOf(t)));
  }
  const at::Tensor v = t.to(at::kLong).contiguous().reshape({-1});
  const int64_t* p = v.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + v.numel());
}

}  // namespace mapn::tfjs::ops
