#include "mapn/movenet/movenet.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/status_macros.h"
#include "mapn/tfjs/model_files.h"
#include "mapn/tfjs/tf_ops.h"

namespace mapn::movenet {
namespace {

using Act = ConvLayer::Act;

constexpr char kPrefix[] = "StatefulPartitionedCall/";
constexpr char kExtractor[] =
    "center_net_mobile_net_v2fpn_feature_extractor/model_1/";

// Keras' MobileNetV2 channel rounding (_make_divisible with divisor 8).
int64_t Divisible(double v) {
  int64_t n = std::max<int64_t>(8, static_cast<int64_t>(v + 4) / 8 * 8);
  if (n < 0.9 * v) n += 8;
  return n;
}

// Adds a layer with TF-like initial weights (He normal, zero bias) in
// channels_last memory, registered as `name`.weight / `name`.bias.
int AddLayer(torch::nn::Module& module, std::vector<ConvLayer>& layers,
             ConvLayer layer) {
  const int64_t in_per_group = layer.depthwise ? 1 : layer.in;
  const double fan_in =
      static_cast<double>(in_per_group * layer.kernel * layer.kernel);
  at::Tensor w =
      at::randn({layer.out, in_per_group, layer.kernel, layer.kernel})
          .mul_(std::sqrt(2.0 / fan_in))
          .contiguous(at::MemoryFormat::ChannelsLast);
  std::string name = layer.node;
  for (char& c : name) {
    if (c == '/' || c == '.') c = '_';
  }
  layer.weight = module.register_parameter(name + "_weight", w);
  if (layer.bias) {
    layer.bias_value =
        module.register_parameter(name + "_bias", at::zeros({layer.out}));
  }
  layers.push_back(std::move(layer));
  return static_cast<int>(layers.size()) - 1;
}

// A convolution with TF's SAME padding on an NCHW tensor in channels_last
// memory. An asymmetric pad goes through the NHWC view, so the result stays
// channels_last (padding the NCHW view would not).
at::Tensor TfConv(const at::Tensor& x, const ConvLayer& l) {
  tfjs::ops::ConvParams params;
  params.stride_h = params.stride_w = l.stride;
  params.padding = tfjs::ops::Padding::kSame;
  // tf_ops works on the NHWC view of the channels_last tensor: no copy.
  absl::StatusOr<at::Tensor> out =
      tfjs::ops::Conv2D(x.permute({0, 2, 3, 1}), l.weight, l.bias_value, params,
                        l.depthwise ? l.in : 1);
  TORCH_CHECK(out.ok(), "MoveNet layer ", l.node, ": ",
              std::string(out.status().message()));
  at::Tensor y = out->permute({0, 3, 1, 2});
  switch (l.act) {
    case Act::kNone:
      break;
    case Act::kRelu:
      y.relu_();
      break;
    case Act::kRelu6:
      y.clamp_(0, 6);
      break;
  }
  return y;
}

model::MacCount LayerMacs(const ConvLayer& l, int64_t out_h, int64_t out_w) {
  return model::ConvMacs(l.in, l.out, l.kernel, l.kernel, out_h, out_w,
                         l.depthwise ? l.in : 1);
}

// TF's half-pixel bilinear upsampling to h x w, on channels_last tensors.
at::Tensor Upsample(const at::Tensor& x, int64_t h, int64_t w) {
  absl::StatusOr<at::Tensor> y = tfjs::ops::ResizeBilinear(
      x.permute({0, 2, 3, 1}), h, w, /*align_corners=*/false,
      /*half_pixel_centers=*/true);
  TORCH_CHECK(y.ok(),
              "MoveNet upsampling: ", std::string(y.status().message()));
  return y->permute({0, 3, 1, 2});
}

std::string Shape(at::IntArrayRef s) {
  return absl::StrCat("[", absl::StrJoin(s, ","), "]");
}

// Imports one layer from `graph`: checks the node and copies its weights.
absl::Status ImportLayer(const tfjs::GraphModel& graph, const std::string& node,
                         ConvLayer& layer, std::set<std::string>& used) {
  const tfjs::GraphNode* n = graph.Node(node);
  if (!n) {
    return absl::NotFoundError(absl::StrCat(graph.path(), ": no node \"", node,
                                            "\" for MoveNet layer ",
                                            layer.node));
  }
  const std::string where =
      absl::StrCat(graph.path(), ": node \"", node, "\" (op ", n->op, ")");
  const bool fused =
      n->op == "_FusedConv2D" || n->op == "FusedDepthwiseConv2dNative";
  const bool depthwise =
      n->op == "DepthwiseConv2dNative" || n->op == "FusedDepthwiseConv2dNative";
  if (depthwise != layer.depthwise || fused != layer.bias ||
      !(fused || n->op == "Conv2D" || depthwise)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " does not fit a ", layer.depthwise ? "depthwise " : "",
        "convolution ", layer.bias ? "with" : "without", " bias"));
  }
  auto attr = [&](const std::string& k) -> const tfjs::AttrValue* {
    auto it = n->attrs.find(k);
    return it == n->attrs.end() ? nullptr : &it->second;
  };
  const tfjs::AttrValue* strides = attr("strides");
  const tfjs::AttrValue* padding = attr("padding");
  // A 1x1 stride-1 convolution pads nothing either way.
  const bool pointwise = layer.kernel == 1 && layer.stride == 1;
  if (!strides ||
      strides->ints != std::vector<int64_t>{1, layer.stride, layer.stride, 1} ||
      !padding ||
      !(padding->s == "SAME" || (pointwise && padding->s == "VALID"))) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": expected SAME padding and stride ", layer.stride));
  }
  if (const tfjs::AttrValue* d = attr("dilations");
      d && d->ints != std::vector<int64_t>{1, 1, 1, 1}) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": dilated"));
  }
  std::vector<std::string> expected_ops;
  if (fused) {
    expected_ops.push_back("BiasAdd");
    if (layer.act == Act::kRelu) expected_ops.push_back("Relu");
    if (layer.act == Act::kRelu6) expected_ops.push_back("Relu6");
    const tfjs::AttrValue* f = attr("fused_ops");
    if (!f || f->strings != expected_ops) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": fused_ops are not [",
                       absl::StrJoin(expected_ops, ", "), "]"));
    }
  }
  const size_t want_inputs = fused ? 3 : 2;
  if (n->inputs.size() != want_inputs) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": has ", n->inputs.size(), " inputs"));
  }
  const at::Tensor* w = graph.Weight(n->inputs[1]);
  if (!w || w->dim() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": filter \"", n->inputs[1], "\" is not a 4-D constant"));
  }
  const at::Tensor filter = layer.depthwise
                                ? tfjs::ops::DepthwiseFilterToTorch(*w)
                                : tfjs::ops::FilterToTorch(*w);
  if (!filter.sizes().equals(layer.weight.sizes())) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": filter \"", n->inputs[1], "\" ", Shape(w->sizes()),
        " does not fit MoveNet layer ", layer.node, " (torch shape ",
        Shape(layer.weight.sizes()), ")"));
  }
  const at::NoGradGuard no_grad;
  layer.weight.copy_(filter);
  used.insert(n->inputs[1]);
  if (fused) {
    const at::Tensor* b = graph.Weight(n->inputs[2]);
    if (!b || b->numel() != layer.out) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": bias \"", n->inputs[2], "\" does not have ",
                       layer.out, " values"));
    }
    layer.bias_value.copy_(b->reshape({-1}));
    used.insert(n->inputs[2]);
  }
  return absl::OkStatus();
}

// Every convolution weight of the graph's nodes under `scope` must have been
// imported.
absl::Status CheckAllUsed(const tfjs::GraphModel& graph,
                          const std::vector<std::string>& scopes,
                          const std::set<std::string>& used,
                          const std::string& component) {
  for (const tfjs::GraphNode& n : graph.nodes()) {
    if (n.op != "_FusedConv2D" && n.op != "Conv2D" &&
        n.op != "DepthwiseConv2dNative" &&
        n.op != "FusedDepthwiseConv2dNative") {
      continue;
    }
    bool in_scope = false;
    for (const std::string& s : scopes) in_scope |= absl::StartsWith(n.name, s);
    if (!in_scope) continue;
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      if (!used.count(n.inputs[i])) {
        return absl::InvalidArgumentError(absl::StrCat(
            graph.path(), ": weight \"", n.inputs[i], "\" of node \"", n.name,
            "\" has no place in ", component,
            " (the graph is not the MoveNet this code knows)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> Constant(const tfjs::GraphModel& graph,
                                    const std::string& name,
                                    at::IntArrayRef shape) {
  const at::Tensor* t = graph.Weight(name);
  if (!t) {
    return absl::NotFoundError(
        absl::StrCat(graph.path(), ": no constant \"", name, "\""));
  }
  if (!t->sizes().equals(shape)) {
    return absl::InvalidArgumentError(
        absl::StrCat(graph.path(), ": constant \"", name, "\" is ",
                     Shape(t->sizes()), ", expected ", Shape(shape)));
  }
  return t->to(at::kFloat);
}

}  // namespace

absl::Status MoveNetOptions::Validate() const {
  if (variant != kThunder && variant != kLightning) {
    return absl::InvalidArgumentError(
        absl::StrCat("variant must be '", kThunder, "' or '", kLightning,
                     "', got '", variant, "'"));
  }
  return absl::OkStatus();
}

MoveNetEncoderImpl::MoveNetEncoderImpl(const MoveNetOptions& options)
    : torch::nn::Module(TypeName()), options_(options) {
  const absl::Status valid = options.Validate();
  TORCH_CHECK(valid.ok(), TypeName(), ": ", valid.message());
  const double alpha = options.width();
  auto add = [&](std::string node, int64_t in, int64_t out, int64_t k,
                 int64_t stride, bool dw, bool bias, Act act) {
    ConvLayer l;
    l.node = std::move(node);
    l.in = in;
    l.out = out;
    l.kernel = k;
    l.stride = stride;
    l.depthwise = dw;
    l.bias = bias;
    l.act = act;
    return AddLayer(*this, layers_, std::move(l));
  };
  const std::string m = "model/";
  const int64_t first = Divisible(32 * alpha);
  conv1_ =
      add(m + "Conv1_relu/Relu6", 3, first, 3, 2, false, true, Act::kRelu6);
  // Keras' MobileNetV2 table: expansion t, channels c, repeats n, stride s.
  struct Stage {
    int64_t t, c, n, s;
  };
  const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2},
                          {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2},
                          {6, 320, 1, 1}};
  int64_t in = first;
  int index = 0;
  for (const Stage& st : stages) {
    const int64_t out = Divisible(st.c * alpha);
    for (int64_t r = 0; r < st.n; ++r, ++index) {
      const int64_t stride = r == 0 ? st.s : 1;
      const std::string b = index == 0 ? m + "expanded_conv_"
                                       : absl::StrCat(m, "block_", index, "_");
      Block block;
      const int64_t hidden = in * st.t;
      if (st.t != 1) {
        block.expand = add(b + "expand_relu/Relu6", in, hidden, 1, 1, false,
                           true, Act::kRelu6);
      }
      block.depthwise = add(b + "depthwise/depthwise", hidden, hidden, 3,
                            stride, true, true, Act::kRelu6);
      block.project = add(b + "project_BN/FusedBatchNormV3", hidden, out, 1, 1,
                          false, true, Act::kNone);
      block.residual = stride == 1 && in == out;
      blocks_.push_back(block);
      in = out;
    }
  }
  conv_last_ =
      add(m + "out_relu/Relu6", in, 1280, 1, 1, false, true, Act::kRelu6);
  // FPN laterals at strides 4, 8, 16, 32 and the top-down separable convs.
  const int64_t c4 = Divisible(24 * alpha), c8 = Divisible(32 * alpha),
                c16 = Divisible(64 * alpha);
  lateral_[0] = add("conv2d_3/BiasAdd", c4, 24, 1, 1, false, true, Act::kNone);
  lateral_[1] = add("conv2d_2/BiasAdd", c8, 32, 1, 1, false, true, Act::kNone);
  lateral_[2] = add("conv2d_1/BiasAdd", c16, 64, 1, 1, false, true, Act::kNone);
  lateral_[3] = add("conv2d/BiasAdd", 1280, 64, 1, 1, false, true, Act::kNone);
  const int64_t fpn_in[3] = {64, 32, 24}, fpn_out[3] = {32, 24, 24};
  for (int i = 0; i < 3; ++i) {
    const std::string sep =
        i == 0 ? "separable_conv2d" : absl::StrCat("separable_conv2d_", i);
    const std::string relu = i == 0 ? "re_lu" : absl::StrCat("re_lu_", i);
    fpn_dw_[i] = add(sep + "/separable_conv2d/depthwise", fpn_in[i], fpn_in[i],
                     3, 1, true, false, Act::kNone);
    fpn_pw_[i] = add(relu + "/Relu", fpn_in[i], fpn_out[i], 1, 1, false, true,
                     Act::kRelu);
  }
  // TF's preprocessing: x / 127.5 - 1 (the graph's float16 constants
  // replace these at import).
  mean_ = register_buffer("input_mean", at::zeros({1, 3, 1, 1}));
  scale_ = register_buffer("input_scale", at::full({1, 3, 1, 1}, 1 / 127.5));
  offset_ = register_buffer("input_offset", at::ones({}));
}

at::Tensor MoveNetEncoderImpl::Conv(const at::Tensor& x, size_t layer) const {
  return TfConv(x, layers_[layer]);
}

at::Tensor MoveNetEncoderImpl::Extract(const at::Tensor& rgb) {
  TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3 && rgb.size(2) % 32 == 0 &&
                  rgb.size(3) % 32 == 0,
              "MoveNetEncoder: rgb must be [N, 3, S, S] with S a multiple of "
              "32, got ",
              rgb.sizes());
  at::Tensor x = rgb.to(at::kFloat).contiguous(at::MemoryFormat::ChannelsLast);
  x = (x * 255.0f - mean_) * scale_ - offset_;
  x = Conv(x, conv1_);
  at::Tensor taps[4];  // block_2_add, block_5_add, block_9_add, out_relu
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block& b = blocks_[i];
    at::Tensor y = b.expand >= 0 ? Conv(x, b.expand) : x;
    y = Conv(Conv(y, b.depthwise), b.project);
    x = b.residual ? x + y : y;
    if (i == 2) taps[0] = x;
    if (i == 5) taps[1] = x;
    if (i == 9) taps[2] = x;
  }
  taps[3] = Conv(x, conv_last_);
  at::Tensor top = Conv(taps[3], lateral_[3]);
  for (int i = 2; i >= 0; --i) {
    const at::Tensor lateral = Conv(taps[i], lateral_[i]);
    top = Upsample(top, lateral.size(2), lateral.size(3)) + lateral;
    const int f = 2 - i;
    top = Conv(Conv(top, fpn_dw_[f]), fpn_pw_[f]);
  }
  return top;
}

model::MacCount MoveNetEncoderImpl::Macs(int64_t input_size) const {
  // Every layer's output side: SAME gives ceil(in / stride).
  model::MacCount total;
  int64_t side = input_size;
  auto conv = [&](int layer) {
    const ConvLayer& l = layers_[layer];
    side = (side + l.stride - 1) / l.stride;
    total += LayerMacs(l, side, side);
  };
  int64_t tap_side[4] = {0, 0, 0, 0};
  conv(conv1_);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (blocks_[i].expand >= 0) conv(blocks_[i].expand);
    conv(blocks_[i].depthwise);
    conv(blocks_[i].project);
    if (i == 2) tap_side[0] = side;
    if (i == 5) tap_side[1] = side;
    if (i == 9) tap_side[2] = side;
  }
  conv(conv_last_);
  tap_side[3] = side;
  for (int i = 0; i < 4; ++i) {
    total += LayerMacs(layers_[lateral_[i]], tap_side[i], tap_side[i]);
  }
  for (int f = 0; f < 3; ++f) {
    const int64_t s = tap_side[2 - f];
    total += LayerMacs(layers_[fpn_dw_[f]], s, s);
    total += LayerMacs(layers_[fpn_pw_[f]], s, s);
  }
  return total;
}

MoveNetHeadImpl::MoveNetHeadImpl(const MoveNetOptions& options)
    : torch::nn::Module(TypeName()), options_(options) {
  const absl::Status valid = options.Validate();
  TORCH_CHECK(valid.ok(), TypeName(), ": ", valid.message());
  struct Branch {
    const char* scope;
    int sep, conv;  // the graph's layer numbers
    int64_t out;
  };
  // In Decode's channel order: heatmaps, centre, regression, offsets.
  const Branch branches[] = {{"kpt_heatmap_0", 4, 5, kNumKeypoints},
                             {"center_0", 3, 4, 1},
                             {"kpt_regress_0", 5, 6, 2 * kNumKeypoints},
                             {"kpt_offset_0", 6, 7, 2 * kNumKeypoints}};
  for (const Branch& b : branches) {
    const std::string s = b.scope;
    ConvLayer dw;
    dw.node = absl::StrCat(s, "/separable_conv2d_", b.sep,
                           "/separable_conv2d/depthwise");
    dw.in = dw.out = 24;
    dw.kernel = 3;
    dw.depthwise = true;
    dw.bias = false;
    AddLayer(*this, layers_, dw);
    ConvLayer pw;
    pw.node = absl::StrCat(s, "/re_lu_", b.sep, "/Relu");
    pw.in = 24;
    pw.out = 96;
    pw.act = Act::kRelu;
    AddLayer(*this, layers_, pw);
    ConvLayer out;
    out.node = absl::StrCat(s, "/conv2d_", b.conv, "/BiasAdd");
    out.in = 96;
    out.out = b.out;
    AddLayer(*this, layers_, out);
  }
  const int64_t side = options.input_size() / 4;
  const at::Tensor cells = at::arange(side, at::kFloat);
  grid_y_ = register_buffer(
      "grid_y", cells.view({side, 1, 1}).expand({side, side, 1}).contiguous());
  grid_x_ = register_buffer(
      "grid_x", cells.view({1, side, 1}).expand({side, side, 1}).contiguous());
  center_weight_ = register_buffer("center_weight", at::ones({side, side, 1}));
  distance_offset_ = register_buffer("distance_offset", at::full({}, 1.8f));
  scale_ = register_buffer("output_scale", at::full({2}, 1.0f / side));
}

at::Tensor MoveNetHeadImpl::Decode(const at::Tensor& features) {
  TORCH_CHECK(features.dim() == 4 && features.size(1) == 24,
              "MoveNetHead: features must be [B, 24, h, w], got ",
              features.sizes());
  const at::Tensor x =
      features.to(at::kFloat).contiguous(at::MemoryFormat::ChannelsLast);
  std::vector<at::Tensor> maps;
  for (size_t i = 0; i < layers_.size(); i += 3) {
    maps.push_back(
        TfConv(TfConv(TfConv(x, layers_[i]), layers_[i + 1]), layers_[i + 2]));
  }
  return at::cat(maps, 1);
}

at::Tensor MoveNetHeadImpl::DecodeKeypoints(const at::Tensor& maps) const {
  const int64_t side = grid_y_.size(0);
  TORCH_CHECK(maps.dim() == 4 && maps.size(1) == kHeadChannels &&
                  maps.size(2) == side && maps.size(3) == side,
              "MoveNetHead::DecodeKeypoints: maps must be [B, 86, ", side, ", ",
              side,
              "] (the graph's decoding constants are for that "
              "size), got ",
              maps.sizes());
  const at::NoGradGuard no_grad;
  const int64_t batch = maps.size(0), h = side, w = side;
  const at::Tensor m = maps.permute({0, 2, 3, 1}).contiguous();  // NHWC
  const at::Tensor heat =
      at::sigmoid(m.narrow(3, kHeatmapChannel, kNumKeypoints));  // [B,h,w,17]
  const at::Tensor center = at::sigmoid(m.narrow(3, kCenterChannel, 1));
  const at::Tensor reg = m.narrow(3, kRegressionChannel, 2 * kNumKeypoints);
  const at::Tensor off = m.narrow(3, kOffsetChannel, 2 * kNumKeypoints);
  // The person: argmax of the centre map weighted towards the middle.
  const at::Tensor idx =
      (center * center_weight_).reshape({batch, -1}).argmax(1);  // [B]
  const at::Tensor yc = at::div(idx, w, "floor");
  const at::Tensor xc = idx - yc * w;
  const at::Tensor b = at::arange(batch, at::kLong);
  const at::Tensor r = reg.index({b, yc, xc}).view({batch, kNumKeypoints, 2});
  const at::Tensor ry = yc.to(at::kFloat).view({batch, 1}) + r.select(2, 0);
  const at::Tensor rx = xc.to(at::kFloat).view({batch, 1}) + r.select(2, 1);
  // Each keypoint: heatmap over (distance to its regressed position + c).
  const at::Tensor dy = grid_y_.unsqueeze(0) - ry.view({batch, 1, 1, -1});
  const at::Tensor dx = grid_x_.unsqueeze(0) - rx.view({batch, 1, 1, -1});
  const at::Tensor dist = at::sqrt(dy * dy + dx * dx) + distance_offset_;
  const at::Tensor k_idx =
      (heat / dist).reshape({batch, h * w, kNumKeypoints}).argmax(1);  // [B,17]
  const at::Tensor ky = at::div(k_idx, w, "floor");
  const at::Tensor kx = k_idx - ky * w;
  const at::Tensor bb = b.view({batch, 1}).expand({batch, kNumKeypoints});
  const at::Tensor k = at::arange(kNumKeypoints, at::kLong)
                           .view({1, kNumKeypoints})
                           .expand({batch, kNumKeypoints});
  const at::Tensor oy = off.index({bb, ky, kx, 2 * k});
  const at::Tensor ox = off.index({bb, ky, kx, 2 * k + 1});
  const at::Tensor y = (ky.to(at::kFloat) + oy) * scale_[0];
  const at::Tensor x = (kx.to(at::kFloat) + ox) * scale_[1];
  const at::Tensor score = heat.index({bb, ky, kx, k});
  return at::stack({y, x, score}, 2);
}

model::MacCount MoveNetHeadImpl::Macs(int64_t h, int64_t w) const {
  model::MacCount total;
  for (const ConvLayer& l : layers_) total += LayerMacs(l, h, w);
  return total;
}

absl::Status ImportMoveNetEncoder(const tfjs::GraphModel& graph,
                                  MoveNetEncoderImpl& encoder) {
  std::set<std::string> used;
  const std::string scope = absl::StrCat(kPrefix, kExtractor);
  for (ConvLayer& l : encoder.layers_) {
    MAPN_RETURN_IF_ERROR(ImportLayer(graph, scope + l.node, l, used));
  }
  MAPN_RETURN_IF_ERROR(CheckAllUsed(graph, {scope}, used, "MoveNetEncoder"));
  const std::string p = kPrefix;
  MAPN_ASSIGN_OR_RETURN(at::Tensor mean,
                        Constant(graph, p + "Reshape", {1, 1, 1, 3}));
  MAPN_ASSIGN_OR_RETURN(at::Tensor scale,
                        Constant(graph, p + "truediv", {1, 1, 1, 3}));
  MAPN_ASSIGN_OR_RETURN(at::Tensor offset, Constant(graph, p + "sub_1/y", {}));
  const at::NoGradGuard no_grad;
  encoder.mean_.copy_(mean.view({1, 3, 1, 1}));
  encoder.scale_.copy_(scale.view({1, 3, 1, 1}));
  encoder.offset_.copy_(offset);
  return absl::OkStatus();
}

absl::Status ImportMoveNetHead(const tfjs::GraphModel& graph,
                               MoveNetHeadImpl& head) {
  std::set<std::string> used;
  const std::string p = kPrefix;
  for (ConvLayer& l : head.layers_) {
    MAPN_RETURN_IF_ERROR(ImportLayer(graph, p + l.node, l, used));
  }
  MAPN_RETURN_IF_ERROR(CheckAllUsed(graph,
                                    {p + "kpt_heatmap_0/", p + "center_0/",
                                     p + "kpt_regress_0/", p + "kpt_offset_0/"},
                                    used, "MoveNetHead"));
  const int64_t side = head.grid_y_.size(0);
  MAPN_ASSIGN_OR_RETURN(
      at::Tensor center,
      Constant(graph, "ConstantFolding/" + p + "truediv_2_recip",
               {side, side, 1}));
  MAPN_ASSIGN_OR_RETURN(
      at::Tensor gy, Constant(graph, p + "strided_slice_3", {side, side, 1}));
  MAPN_ASSIGN_OR_RETURN(
      at::Tensor gx, Constant(graph, p + "strided_slice_4", {side, side, 1}));
  MAPN_ASSIGN_OR_RETURN(at::Tensor add, Constant(graph, p + "add_5/y", {}));
  MAPN_ASSIGN_OR_RETURN(at::Tensor scale,
                        Constant(graph, p + "Reshape_13", {1, 1, 1, 2}));
  const at::NoGradGuard no_grad;
  head.center_weight_.copy_(center);
  head.grid_y_.copy_(gy);
  head.grid_x_.copy_(gx);
  head.distance_offset_.copy_(add);
  head.scale_.copy_(scale.view({2}));
  return absl::OkStatus();
}

at::Tensor MoveNetHeadImpl::Keypoints(const at::Tensor& maps) const {
  const at::Tensor yxs = DecodeKeypoints(maps);  // [B, 17, 3]: y, x in [0, 1]
  const double side = static_cast<double>(maps.size(2));
  const at::Tensor x = yxs.select(-1, 1) * side - 0.5;
  const at::Tensor y = yxs.select(-1, 0) * side - 0.5;
  return at::stack({x, y, yxs.select(-1, 2)}, -1).contiguous();
}

absl::Status MoveNetHeadImpl::ValidateInputSize(int64_t input_size) const {
  if (input_size != options_.input_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MoveNet ", options_.variant, " decodes ", options_.input_size(), " x ",
        options_.input_size(), " inputs, not ", input_size));
  }
  return absl::OkStatus();
}

absl::StatusOr<MoveNet> LoadMoveNet(const MoveNetOptions& options) {
  MAPN_ASSIGN_OR_RETURN(const std::string path,
                        tfjs::FindModel(options.model_name()));
  MAPN_ASSIGN_OR_RETURN(const tfjs::GraphModel graph,
                        tfjs::GraphModel::Load(path));
  MoveNet net;
  net.encoder = MoveNetEncoder(options);
  net.head = MoveNetHead(options);
  MAPN_RETURN_IF_ERROR(ImportMoveNetEncoder(graph, *net.encoder));
  MAPN_RETURN_IF_ERROR(ImportMoveNetHead(graph, *net.head));
  net.encoder->eval();
  net.head->eval();
  return net;
}

}  // namespace mapn::movenet
