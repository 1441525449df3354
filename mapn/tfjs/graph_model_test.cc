// Tests of the TF.js reader: each op against TensorFlow's definition
// (reference loops written from TF's documented formulas, or values worked
// by hand), the loader's refusals on synthetic model.json files, and the
// parity of the five real models with TF.js itself (goldens made by
// tools/tfjs_golden, docs/models.md).
#include "mapn/tfjs/graph_model.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mapn/testing/shared_data.h"
#include "mapn/tfjs/golden_frames.h"
#include "mapn/tfjs/model_files.h"
#include "mapn/tfjs/tf_ops.h"
#include "nlohmann/json.hpp"

namespace mapn::tfjs {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;

std::vector<float> Values(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kFloat).contiguous().reshape({-1});
  return std::vector<float>(c.data_ptr<float>(),
                            c.data_ptr<float>() + c.numel());
}

// TF's Conv2D / DepthwiseConv2dNative by definition: out[n, i, j, o] = sum
// over taps of x[n, i * s + a * d - pad_top, j * s + b * d - pad_left, c] *
// w[a, b, c, o] (zero outside), with TF's SAME output size and pad_top =
// total / 2.
at::Tensor ReferenceConv(const at::Tensor& x, const at::Tensor& w, int64_t s,
                         int64_t d, bool same, bool depthwise) {
  const int64_t n = x.size(0), h = x.size(1), wd = x.size(2), c = x.size(3);
  const int64_t kh = w.size(0), kw = w.size(1);
  const int64_t ekh = (kh - 1) * d + 1, ekw = (kw - 1) * d + 1;
  const int64_t oh = same ? (h + s - 1) / s : (h - ekh) / s + 1;
  const int64_t ow = same ? (wd + s - 1) / s : (wd - ekw) / s + 1;
  const int64_t pt =
      same ? std::max<int64_t>((oh - 1) * s + ekh - h, 0) / 2 : 0;
  const int64_t pl =
      same ? std::max<int64_t>((ow - 1) * s + ekw - wd, 0) / 2 : 0;
  const int64_t mult = w.size(3);
  const int64_t oc = depthwise ? c * mult : mult;
  at::Tensor out = at::zeros({n, oh, ow, oc}, at::kDouble);
  const at::Tensor xd = x.to(at::kDouble), wd64 = w.to(at::kDouble);
  auto X = xd.accessor<double, 4>();
  auto W = wd64.accessor<double, 4>();
  auto O = out.accessor<double, 4>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t a = 0; a < kh; ++a)
          for (int64_t e = 0; e < kw; ++e) {
            const int64_t y = i * s + a * d - pt, xx = j * s + e * d - pl;
            if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
            for (int64_t ci = 0; ci < c; ++ci) {
              for (int64_t m = 0; m < mult; ++m) {
                if (depthwise) {
                  O[b][i][j][ci * mult + m] += X[b][y][xx][ci] * W[a][e][ci][m];
                } else {
                  O[b][i][j][m] += X[b][y][xx][ci] * W[a][e][ci][m];
                }
              }
            }
          }
  return out.to(at::kFloat);
}

std::pair<int64_t, int64_t> P(int64_t a, int64_t b) { return {a, b}; }

TEST(TfOpsTest, SamePaddingPutsTheExtraAtTheEnd) {
  EXPECT_EQ(ops::SamePadding(5, 3, 2, 1), P(1, 1));
  EXPECT_EQ(ops::SamePadding(6, 3, 2, 1), P(0, 1));
  EXPECT_EQ(ops::SamePadding(7, 1, 2, 1), P(0, 0));
  EXPECT_EQ(ops::SamePadding(4, 4, 1, 1), P(1, 2));
  EXPECT_EQ(ops::SamePadding(5, 3, 1, 2), P(2, 2));
}

TEST(TfOpsTest, ConvMatchesTfDefinition) {
  at::manual_seed(1);
  struct Case {
    int64_t h, w, k, s, d;
    bool same, depthwise;
  };
  for (const Case& c : std::vector<Case>{{7, 7, 3, 2, 1, true, false},
                                         {6, 6, 3, 2, 1, true, false},
                                         {9, 8, 3, 2, 1, true, true},
                                         {6, 7, 3, 1, 2, true, false},
                                         {8, 8, 3, 1, 2, true, true},
                                         {7, 6, 2, 2, 1, true, true},
                                         {7, 7, 3, 2, 1, false, false},
                                         {9, 9, 3, 2, 1, false, true}}) {
    SCOPED_TRACE(absl::StrCat(c.h, "x", c.w, " k", c.k, " s", c.s, " d", c.d,
                              c.same ? " SAME" : " VALID",
                              c.depthwise ? " depthwise" : ""));
    const at::Tensor x = at::randn({2, c.h, c.w, 4});
    const at::Tensor w = at::randn({c.k, c.k, 4, c.depthwise ? 2 : 5});
    ops::ConvParams p;
    p.stride_h = p.stride_w = c.s;
    p.dilation_h = p.dilation_w = c.d;
    p.padding = c.same ? ops::Padding::kSame : ops::Padding::kValid;
    const at::Tensor filter =
        c.depthwise ? ops::DepthwiseFilterToTorch(w) : ops::FilterToTorch(w);
    auto y = ops::Conv2D(x, filter, at::Tensor(), p, c.depthwise ? 4 : 1);
    ASSERT_TRUE(y.ok()) << y.status();
    const at::Tensor ref = ReferenceConv(x, w, c.s, c.d, c.same, c.depthwise);
    ASSERT_EQ(y->sizes(), ref.sizes());
    EXPECT_LT((*y - ref).abs().max().item<float>(), 1e-4);
  }
}

TEST(TfOpsTest, ExplicitPaddingAndMaxPool) {
  at::manual_seed(2);
  const at::Tensor x = at::randn({1, 5, 5, 3});
  const at::Tensor w = at::randn({3, 3, 3, 2});
  ops::ConvParams p;
  p.padding = ops::Padding::kExplicit;
  p.explicit_pads = {0, 2, 1, 0};  // top, bottom, left, right
  auto y = ops::Conv2D(x, ops::FilterToTorch(w), at::Tensor(), p);
  ASSERT_TRUE(y.ok()) << y.status();
  const at::Tensor padded = at::constant_pad_nd(x, {0, 0, 1, 0, 0, 2});
  const at::Tensor ref = ReferenceConv(padded, w, 1, 1, false, false);
  ASSERT_EQ(y->sizes(), ref.sizes());
  EXPECT_LT((*y - ref).abs().max().item<float>(), 1e-4);

  // SAME max pooling never picks the padding, even for all-negative input.
  const at::Tensor neg = -at::arange(1, 26, at::kFloat).view({1, 5, 5, 1});
  ops::ConvParams pool;
  pool.stride_h = pool.stride_w = 2;
  pool.padding = ops::Padding::kSame;
  auto m = ops::MaxPool(neg, 3, 3, pool);
  ASSERT_TRUE(m.ok()) << m.status();
  // Output 3x3; windows start at rows/cols -1, 1, 3.
  EXPECT_EQ(Values(*m),
            (std::vector<float>{-1, -2, -4, -6, -7, -9, -16, -17, -19}));
}

// TF's ResizeBilinear, one output pixel at a time.
at::Tensor ReferenceResize(const at::Tensor& x, int64_t oh, int64_t ow,
                           bool align, bool half) {
  const int64_t h = x.size(1), w = x.size(2), c = x.size(3);
  auto scale = [&](int64_t in, int64_t out) {
    return (align && out > 1) ? static_cast<float>(in - 1) / (out - 1)
                              : static_cast<float>(in) / out;
  };
  const float sy = scale(h, oh), sx = scale(w, ow);
  at::Tensor out = at::zeros({1, oh, ow, c});
  auto X = x.accessor<float, 4>();
  auto O = out.accessor<float, 4>();
  for (int64_t i = 0; i < oh; ++i) {
    const float fy = half ? (i + 0.5f) * sy - 0.5f : i * sy;
    const int64_t y0 = std::max<int64_t>(std::floor(fy), 0);
    const int64_t y1 = std::min<int64_t>(std::ceil(fy), h - 1);
    const float ly = fy - std::floor(fy);
    for (int64_t j = 0; j < ow; ++j) {
      const float fx = half ? (j + 0.5f) * sx - 0.5f : j * sx;
      const int64_t x0 = std::max<int64_t>(std::floor(fx), 0);
      const int64_t x1 = std::min<int64_t>(std::ceil(fx), w - 1);
      const float lx = fx - std::floor(fx);
      for (int64_t k = 0; k < c; ++k) {
        const float top =
            X[0][y0][x0][k] + (X[0][y0][x1][k] - X[0][y0][x0][k]) * lx;
        const float bot =
            X[0][y1][x0][k] + (X[0][y1][x1][k] - X[0][y1][x0][k]) * lx;
        O[0][i][j][k] = top + (bot - top) * ly;
      }
    }
  }
  return out;
}

TEST(TfOpsTest, ResizeBilinearEachMode) {
  // [0, 1] -> 4 columns, worked by hand from TF's formulas.
  const at::Tensor row = at::tensor({0.0f, 1.0f}).view({1, 1, 2, 1});
  auto half = ops::ResizeBilinear(row, 1, 4, false, true);
  auto plain = ops::ResizeBilinear(row, 1, 4, false, false);
  auto align = ops::ResizeBilinear(row, 1, 4, true, false);
  ASSERT_TRUE(half.ok() && plain.ok() && align.ok());
  // Half-pixel: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper
  // clamped to 1).
  EXPECT_EQ(Values(*half), (std::vector<float>{0, 0.25f, 0.75f, 1}));
  // Neither: sources 0, 0.5, 1, 1.5.
  EXPECT_EQ(Values(*plain), (std::vector<float>{0, 0.5f, 1, 1}));
  // Align corners: sources 0, 1/3, 2/3, 1.
  const std::vector<float> a = Values(*align);
  EXPECT_FLOAT_EQ(a[1], 1.0f / 3);
  EXPECT_FLOAT_EQ(a[3], 1.0f);

  at::manual_seed(3);
  const at::Tensor x = at::randn({1, 7, 5, 3});
  for (const auto& [oh, ow] : std::vector<std::pair<int64_t, int64_t>>{
           {14, 10}, {3, 2}, {9, 13}, {1, 1}}) {
    for (int mode = 0; mode < 3; ++mode) {
      const bool al = mode == 1, hp = mode == 2;
      SCOPED_TRACE(absl::StrCat(oh, "x", ow, " align=", al, " half=", hp));
      auto y = ops::ResizeBilinear(x, oh, ow, al, hp);
      ASSERT_TRUE(y.ok()) << y.status();
      EXPECT_LT(
          (*y - ReferenceResize(x, oh, ow, al, hp)).abs().max().item<float>(),
          1e-6);
    }
  }
  EXPECT_FALSE(ops::ResizeBilinear(x, 4, 4, true, true).ok());
  EXPECT_FALSE(ops::ResizeBilinear(x.view({7, 5, 3}), 4, 4, false, true).ok());
}

TEST(TfOpsTest, StridedSliceMasks) {
  const at::Tensor x = at::arange(24, at::kInt).view({2, 3, 4});
  ops::StridedSliceMasks m;
  // x[1, :, ::2] with shrink on dim 0 and end_mask on dims 1, 2.
  m.shrink_axis = 1;
  m.begin = 6;
  m.end = 6;
  auto y = ops::StridedSlice(x, {1, 0, 0}, {2, 0, 0}, {1, 1, 2}, m);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(Values(*y), (std::vector<float>{12, 14, 16, 18, 20, 22}));
  // x[:, newaxis, -2:, ::-1] (new axis in the spec, negative begin, reverse).
  ops::StridedSliceMasks n;
  n.begin = 1 | 8;
  n.end = 1 | 4 | 8;
  n.new_axis = 2;
  auto z = ops::StridedSlice(x, {0, 0, -2, 0}, {0, 0, 0, 0}, {1, 1, 1, -1}, n);
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ(z->sizes(), (std::vector<int64_t>{2, 1, 2, 4}));
  EXPECT_EQ(Values(z->select(0, 0)),
            (std::vector<float>{7, 6, 5, 4, 11, 10, 9, 8}));
  // x[0, 2:0:-1, 1] with out-of-range ends clamped: rows 2, 1.
  ops::StridedSliceMasks s;
  s.shrink_axis = 1 | 4;
  auto w = ops::StridedSlice(x, {0, 2, 1}, {1, 0, 2}, {1, -1, 1}, s);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(Values(*w), (std::vector<float>{9, 5}));
  // Clamping: begin past the end gives an empty slice, not an error.
  auto e = ops::StridedSlice(x, {0, 5, 0}, {2, 9, 4}, {1, 1, 1}, {});
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->size(1), 0);
  // Refusals.
  ops::StridedSliceMasks bad;
  bad.ellipsis = 1;
  EXPECT_FALSE(ops::StridedSlice(x, {0}, {1}, {1}, bad).ok());
  EXPECT_FALSE(ops::StridedSlice(x, {0}, {1}, {0}, {}).ok());
  ops::StridedSliceMasks shrink;
  shrink.shrink_axis = 1;
  EXPECT_FALSE(ops::StridedSlice(x, {5}, {6}, {1}, shrink).ok());
}

TEST(TfOpsTest, GatherArgMaxTopK) {
  const at::Tensor p = at::arange(24, at::kFloat).view({2, 3, 4});
  auto rows = ops::GatherNd(p, at::tensor({0, 1, 1, 2}, at::kInt).view({2, 2}));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(Values(*rows), (std::vector<float>{4, 5, 6, 7, 20, 21, 22, 23}));
  auto points =
      ops::GatherNd(p, at::tensor({1, 0, 3, 0, 2, 1}, at::kInt).view({2, 3}));
  ASSERT_TRUE(points.ok());
  EXPECT_EQ(Values(*points), (std::vector<float>{15, 9}));
  EXPECT_FALSE(
      ops::GatherNd(p, at::tensor({0, 3}, at::kInt).view({1, 2})).ok());

  auto g = ops::GatherV2(p, at::tensor({2, 0}, at::kInt), -1);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->sizes(), (std::vector<int64_t>{2, 3, 2}));
  EXPECT_EQ(Values(g->select(0, 0).select(0, 0)), (std::vector<float>{2, 0}));
  EXPECT_FALSE(ops::GatherV2(p, at::tensor({4}, at::kInt), 2).ok());

  const at::Tensor ties = at::tensor({1.0f, 3.0f, 0.5f, 3.0f, 2.0f});
  auto am = ops::ArgMax(ties, 0, at::kInt);
  ASSERT_TRUE(am.ok());
  EXPECT_EQ(am->item<int>(), 1);
  EXPECT_EQ(am->scalar_type(), at::kInt);
  auto top = ops::TopKV2(ties, 3);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(Values(top->first), (std::vector<float>{3, 3, 2}));
  EXPECT_EQ(Values(top->second), (std::vector<float>{1, 3, 4}));
  EXPECT_EQ(top->second.scalar_type(), at::kInt);
  EXPECT_FALSE(ops::TopKV2(ties, 6).ok());
}

TEST(TfOpsTest, PadSelectSparseToDenseReduce) {
  const at::Tensor x = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2});
  auto pad = ops::Pad(x, at::tensor({1, 0, 0, 2}, at::kInt).view({2, 2}), -1);
  ASSERT_TRUE(pad.ok());
  EXPECT_EQ(Values(*pad),
            (std::vector<float>{-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1}));
  auto sel = ops::Select(at::tensor({0, 1}).to(at::kBool), x, -x);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(Values(*sel), (std::vector<float>{-1, -2, 3, 4}));
  auto dense =
      ops::SparseToDense(at::tensor({0, 1, 2, 0}, at::kLong).view({2, 2}),
                         at::tensor({3, 2}, at::kLong),
                         at::tensor({5, 6}, at::kLong), at::tensor(int64_t{7}));
  ASSERT_TRUE(dense.ok()) << dense.status();
  EXPECT_EQ(Values(*dense), (std::vector<float>{7, 5, 7, 7, 6, 7}));
  EXPECT_FALSE(ops::SparseToDense(
                   at::tensor({0, 0}, at::kLong), at::tensor({3}, at::kLong),
                   at::tensor({5, 6}, at::kLong), at::tensor(int64_t{7}))
                   .ok());  // a repeated index
  auto mean = ops::Reduce("Mean", x, at::tensor({-1}, at::kInt), true);
  ASSERT_TRUE(mean.ok());
  EXPECT_EQ(mean->sizes(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(Values(*mean), (std::vector<float>{1.5f, 3.5f}));
  auto sum = ops::Reduce("Sum", x.to(at::kInt), at::tensor(0, at::kInt), false);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->scalar_type(), at::kInt);
  EXPECT_EQ(Values(*sum), (std::vector<float>{4, 6}));
  auto mx = ops::Reduce("Max", x, at::tensor({0, 1}, at::kInt), false);
  ASSERT_TRUE(mx.ok());
  EXPECT_EQ(mx->item<float>(), 4);
}

// Writes a graph model into a fresh directory: nodes as given, each Const's
// value from `weights` (stored as float16 when `half`), and a signature.
class SyntheticModel {
 public:
  SyntheticModel() {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat(
               "tfjs_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name(),
               "_", counter_++);
    std::filesystem::create_directories(dir_);
  }
  static Json TypeAttr(const std::string& dt) { return {{"type", dt}}; }
  void Placeholder(const std::string& name, const std::string& dt,
                   std::vector<int64_t> shape) {
    Json dims = Json::array();
    for (int64_t d : shape) dims.push_back({{"size", std::to_string(d)}});
    nodes_.push_back(
        {{"name", name},
         {"op", "Placeholder"},
         {"attr",
          {{"dtype", TypeAttr(dt)}, {"shape", {{"shape", {{"dim", dims}}}}}}}});
  }
  void Const(const std::string& name, const at::Tensor& value,
             const std::string& quant = "") {
    const bool is_float = value.scalar_type() == at::kFloat;
    nodes_.push_back({{"name", name},
                      {"op", "Const"},
                      {"attr",
                       {{"dtype", TypeAttr(is_float ? "DT_FLOAT" : "DT_INT32")},
                        {"value", {{"tensor", Json::object()}}}}}});
    Json w = {{"name", name},
              {"shape", value.sizes().vec()},
              {"dtype", is_float ? "float32" : "int32"}};
    at::Tensor stored = value.contiguous();
    if (quant == "float16") {
      w["quantization"] = {{"dtype", "float16"}, {"original_dtype", "float32"}};
      stored = value.to(at::kHalf).contiguous();
    } else if (quant == "uint8") {
      // q = round((v - min) / scale)
      const float min = value.min().item<float>();
      const float scale = (value.max().item<float>() - min) / 255;
      w["quantization"] = {{"dtype", "uint8"}, {"min", min}, {"scale", scale}};
      stored = at::round((value - min) / scale).to(at::kByte).contiguous();
    }
    bin_.append(static_cast<const char*>(stored.data_ptr()),
                stored.numel() * stored.element_size());
    weights_.push_back(w);
  }
  void Node(const std::string& name, const std::string& op,
            std::vector<std::string> inputs, Json attrs = Json::object()) {
    nodes_.push_back(
        {{"name", name}, {"op", op}, {"input", inputs}, {"attr", attrs}});
  }
  void Output(const std::string& name) { outputs_.push_back(name); }
  // Extra bytes appended to (or, negative, removed from) the .bin.
  void CorruptBin(int delta) { bin_delta_ = delta; }

  std::string Write() const {
    Json sig_out = Json::object();
    for (const std::string& o : outputs_) sig_out[o] = {{"name", o}};
    Json root = {
        {"format", "graph-model"},
        {"modelTopology", {{"node", nodes_}}},
        {"signature", {{"outputs", sig_out}}},
        {"weightsManifest",
         Json::array({{{"paths", {"weights.bin"}}, {"weights", weights_}}})}};
    const std::string json = (dir_ / "model.json").string();
    std::ofstream(json) << root.dump();
    std::string bin = bin_;
    if (bin_delta_ > 0) bin.append(bin_delta_, '\0');
    if (bin_delta_ < 0) bin.resize(bin.size() + bin_delta_);
    std::ofstream((dir_ / "weights.bin").string(), std::ios::binary) << bin;
    return json;
  }
  std::string dir() const { return dir_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  Json nodes_ = Json::array();
  Json weights_ = Json::array();
  std::string bin_;
  std::vector<std::string> outputs_;
  int bin_delta_ = 0;
};

Json IntAttr(int64_t v) { return {{"i", std::to_string(v)}}; }
Json StrAttr(const std::string& raw) {
  // Base64 as TF.js writes attribute strings.
  static const char* k =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned val = 0;
  int bits = -6;
  for (unsigned char c : raw) {
    val = ((val << 8) | c) & 0xFFFFFF;  // 3 bytes
    bits += 8;
    while (bits >= 0) {
      out.push_back(k[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(k[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return {{"s", out}};
}
Json IntsAttr(std::vector<int64_t> v) {
  Json l = Json::array();
  for (int64_t i : v) l.push_back(std::to_string(i));
  return {{"list", {{"i", l}}}};
}
Json StrsAttr(std::vector<std::string> v) {
  Json l = Json::array();
  for (const std::string& s : v) l.push_back(StrAttr(s)["s"]);
  return {{"list", {{"s", l}}}};
}

TEST(GraphModelTest, RunsAFusedConvGraphWithShapeOps) {
  at::manual_seed(4);
  SyntheticModel m;
  m.Placeholder("x", "DT_FLOAT", {1, -1, -1, 3});
  const at::Tensor w = at::randn({3, 3, 3, 4});
  const at::Tensor b = at::randn({4});
  m.Const("w", w, "float16");
  m.Const("b", b);
  m.Const("axis", at::tensor(3, at::kInt));
  m.Const("shape", at::tensor({1, -1}, at::kInt));
  m.Node("conv", "_FusedConv2D", {"x", "w", "b"},
         {{"T", SyntheticModel::TypeAttr("DT_FLOAT")},
          {"padding", StrAttr("SAME")},
          {"strides", IntsAttr({1, 2, 2, 1})},
          {"data_format", StrAttr("NHWC")},
          {"fused_ops", StrsAttr({"BiasAdd", "Relu6"})},
          {"num_args", IntAttr(1)}});
  m.Node("parts", "Unpack", {"conv"},
         {{"num", IntAttr(4)}, {"axis", IntAttr(3)}});
  m.Node("packed", "Pack", {"parts:3", "parts:0"},
         {{"N", IntAttr(2)}, {"axis", IntAttr(-1)}});
  m.Node("cat", "ConcatV2", {"packed", "conv", "axis"}, {{"N", IntAttr(2)}});
  m.Node("flat", "Reshape", {"cat", "shape"});
  m.Output("flat");
  m.Output("parts:1");
  auto model = GraphModel::Load(m.Write());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->OpCounts().at("Const"), 4);
  ASSERT_NE(model->Weight("w"), nullptr);
  // float16 storage: the weight is the half-rounded value, as float.
  EXPECT_TRUE(model->Weight("w")->equal(w.to(at::kHalf).to(at::kFloat)));

  const at::Tensor x = at::randn({1, 7, 5, 3});
  auto out = model->Run({{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 2u);
  const at::Tensor conv =
      ReferenceConv(x, w.to(at::kHalf).to(at::kFloat), 2, 1, true, false)
          .add(b)
          .clamp(0, 6);  // [1, 4, 3, 4]
  const at::Tensor expected =
      at::cat({at::stack({conv.select(3, 3), conv.select(3, 0)}, -1), conv}, 3)
          .reshape({1, -1});
  EXPECT_EQ((*out)[0].sizes(), (std::vector<int64_t>{1, 4 * 3 * 6}));
  EXPECT_LT(((*out)[0] - expected).abs().max().item<float>(), 1e-4);
  EXPECT_LT(((*out)[1] - conv.select(3, 1)).abs().max().item<float>(), 1e-4);
  // Intermediate tensors can be fetched by name.
  auto parts = model->Run({{"x", x}}, {"conv", "parts:2"});
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ((*parts)[0].sizes(), (std::vector<int64_t>{1, 4, 3, 4}));
}

TEST(GraphModelTest, Uint8QuantizationAndIntOps) {
  SyntheticModel m;
  m.Placeholder("i", "DT_INT32", {3});
  const at::Tensor q = at::linspace(-1, 2, 6).view({2, 3});
  m.Const("q", q, "uint8");
  m.Const("two", at::tensor(2, at::kInt));
  m.Const("k", at::tensor(2, at::kInt));
  m.Node("div", "FloorDiv", {"i", "two"});
  m.Node("mod", "FloorMod", {"i", "two"});
  m.Node("top", "TopKV2", {"q", "k"});
  m.Node("arg", "ArgMax", {"q", "two"},
         {{"output_type", SyntheticModel::TypeAttr("DT_INT32")}});
  m.Output("div");
  m.Output("mod");
  m.Output("top:1");
  auto model = GraphModel::Load(m.Write());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_LT((*model->Weight("q") - q).abs().max().item<float>(), 3.0f / 255);
  auto out = model->Run({{"i", at::tensor({-3, 4, 5}, at::kInt)}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values((*out)[0]), (std::vector<float>{-2, 2, 2}));  // floor
  EXPECT_EQ(Values((*out)[1]), (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(Values((*out)[2]), (std::vector<float>{2, 1, 2, 1}));
  // ArgMax over an axis the tensor lacks fails at run time, naming the node.
  auto bad = model->Run({{"i", at::tensor({1, 2, 3}, at::kInt)}}, {"arg"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"arg\""));
}

// The remaining ops through the graph, on values worked by hand.
TEST(GraphModelTest, ShapeElementwiseAndSelectionOps) {
  SyntheticModel m;
  const Json f32 = SyntheticModel::TypeAttr("DT_FLOAT");
  const Json i32 = SyntheticModel::TypeAttr("DT_INT32");
  m.Placeholder("x", "DT_FLOAT", {2, -1});  // [[-1, 0, 4], [2, -3, 0.25]]
  m.Const("one", at::tensor(1, at::kInt));
  m.Const("zero", at::tensor(0, at::kInt));
  m.Const("sizes", at::tensor({1, -1}, at::kInt));
  m.Const("reps", at::tensor({1, 2}, at::kInt));
  m.Const("perm", at::tensor({1, 0}, at::kInt));
  m.Const("dims", at::tensor({2, 2}, at::kInt));
  m.Const("half", at::tensor(0.5f));
  m.Const("r0", at::tensor(1.0f));
  m.Const("r1", at::tensor(2.0f));
  m.Const("r2", at::tensor(0.25f));
  m.Const("row", at::tensor({1.0f, 1.0f, 1.0f, 1.0f}));
  m.Const("ss_b", at::tensor({0, 1}, at::kInt));
  m.Const("ss_e", at::tensor({0, 3}, at::kInt));
  m.Const("ss_s", at::tensor({1, 1}, at::kInt));
  m.Node("split", "Split", {"one", "x"}, {{"num_split", IntAttr(3)}});
  m.Node("splitv", "SplitV", {"x", "sizes", "one"},
         {{"num_split", IntAttr(2)}});
  m.Node("tile", "Tile", {"x", "reps"});
  m.Node("range", "Range", {"r0", "r1", "r2"}, {{"Tidx", f32}});
  m.Node("fill", "Fill", {"dims", "half"});
  m.Node("shape", "Shape", {"x"}, {{"out_type", i32}});
  m.Node("size", "Size", {"x"}, {{"out_type", i32}});
  m.Node("expand", "ExpandDims", {"x", "zero"});
  m.Node("squeeze", "Squeeze", {"expand"}, {{"squeeze_dims", IntsAttr({0})}});
  m.Node("transpose", "Transpose", {"x", "perm"});
  m.Node("equal_bad", "Equal", {"x", "row"},
         {{"incompatible_shape_error", {{"b", false}}}});
  m.Node("abs", "Abs", {"x"});
  m.Node("relu6", "Relu6", {"tile"});
  m.Node("leaky", "LeakyRelu", {"x"}, {{"alpha", {{"f", 0.5}}}});
  m.Node("recip", "Reciprocal", {"x"});
  m.Node("sqdiff", "SquaredDifference", {"x", "half"});
  m.Node("greater", "Greater", {"x", "half"});
  m.Node("less", "Less", {"x", "half"});
  m.Node("both", "LogicalAnd", {"greater", "greater"});
  m.Node("select", "Select", {"less", "abs", "x"});
  m.Node("addn", "AddN", {"x", "abs", "x"}, {{"N", IntAttr(3)}});
  m.Node("cast", "Cast", {"greater"},
         {{"SrcT", SyntheticModel::TypeAttr("DT_BOOL")}, {"DstT", f32}});
  m.Node("sum", "Sum", {"x", "one"}, {{"keep_dims", {{"b", false}}}});
  m.Node("slice", "StridedSlice", {"x", "ss_b", "ss_e", "ss_s"},
         {{"begin_mask", IntAttr(1)}, {"end_mask", IntAttr(1)}});
  for (const char* o :
       {"split:2", "splitv:1", "tile",    "range",     "fill",
        "shape",   "size",     "squeeze", "transpose", "equal_bad",
        "relu6",   "leaky",    "recip",   "sqdiff",    "both",
        "select",  "addn",     "cast",    "sum",       "slice"}) {
    m.Output(o);
  }
  auto model = GraphModel::Load(m.Write());
  ASSERT_TRUE(model.ok()) << model.status();
  const at::Tensor x =
      at::tensor({-1.0f, 0.0f, 4.0f, 2.0f, -3.0f, 0.25f}).view({2, 3});
  auto out = model->Run({{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<at::Tensor>& o = *out;
  EXPECT_EQ(Values(o[0]), (std::vector<float>{4, 0.25f}));  // split:2
  EXPECT_EQ(Values(o[1]), (std::vector<float>{0, 4, -3, 0.25f}));
  EXPECT_EQ(o[2].sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(Values(o[2].select(0, 0)),
            (std::vector<float>{-1, 0, 4, -1, 0, 4}));
  EXPECT_EQ(Values(o[3]), (std::vector<float>{1, 1.25f, 1.5f, 1.75f}));
  EXPECT_EQ(Values(o[4]), (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(o[5].scalar_type(), at::kInt);
  EXPECT_EQ(Values(o[5]), (std::vector<float>{2, 3}));
  EXPECT_EQ(o[6].item<int>(), 6);
  EXPECT_TRUE(o[7].equal(x));
  EXPECT_EQ(Values(o[8]), (std::vector<float>{-1, 2, 0, -3, 4, 0.25f}));
  // [2, 3] against [4] does not broadcast: a scalar false in this mode.
  EXPECT_EQ(o[9].dim(), 0);
  EXPECT_FALSE(o[9].item<bool>());
  EXPECT_EQ(Values(o[10].select(0, 0)), (std::vector<float>{0, 0, 4, 0, 0, 4}));
  EXPECT_EQ(Values(o[11]), (std::vector<float>{-0.5f, 0, 4, 2, -1.5f, 0.25f}));
  EXPECT_EQ(Values(o[12])[0], -1);
  EXPECT_TRUE(std::isinf(Values(o[12])[1]));
  EXPECT_EQ(Values(o[13]),
            (std::vector<float>{2.25f, 0.25f, 12.25f, 2.25f, 12.25f, 0.0625f}));
  EXPECT_EQ(Values(o[14]), (std::vector<float>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(Values(o[15]), (std::vector<float>{1, 0, 4, 2, 3, 0.25f}));
  EXPECT_EQ(Values(o[16]), (std::vector<float>{-1, 0, 12, 6, -3, 0.75f}));
  EXPECT_EQ(Values(o[17]), (std::vector<float>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(Values(o[18]), (std::vector<float>{3, -0.75f}));
  EXPECT_EQ(Values(o[19]), (std::vector<float>{0, 4, -3, 0.25f}));
  // A split that does not divide refuses at run time, naming the node.
  auto bad = model->Run({{"x", at::zeros({2, 4})}}, {"split"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"split\""));
}

TEST(GraphModelTest, RefusesMissingFiles) {
  auto none = GraphModel::Load("/nonexistent/movenet-thunder.json");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()),
              HasSubstr("tools/setup.sh"));

  SyntheticModel m;
  m.Const("c", at::ones({2}));
  m.Output("c");
  const std::string json = m.Write();
  std::filesystem::remove(std::filesystem::path(m.dir()) / "weights.bin");
  auto no_bin = GraphModel::Load(json);
  ASSERT_FALSE(no_bin.ok());
  EXPECT_THAT(std::string(no_bin.status().message()), HasSubstr("weights.bin"));

  // FindModel looks in MAPN_MODEL_DIR and names the fetching command.
  const char* old = std::getenv("MAPN_MODEL_DIR");
  const std::string saved = old ? old : "";
  setenv("MAPN_MODEL_DIR", m.dir().c_str(), 1);
  auto found = FindModel("movenet-thunder");
  if (old) {
    setenv("MAPN_MODEL_DIR", saved.c_str(), 1);
  } else {
    unsetenv("MAPN_MODEL_DIR");
  }
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(found.status().message()),
              HasSubstr("movenet-thunder.json is missing; tools/setup.sh"));
}

TEST(GraphModelTest, RefusesAWeightsFileOfTheWrongSize) {
  SyntheticModel m;
  m.Const("c", at::ones({2, 3}));
  m.Output("c");
  m.CorruptBin(-4);
  auto model = GraphModel::Load(m.Write());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("expected 24 bytes, got 20"));
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("weights.bin"));
}

TEST(GraphModelTest, RefusesUnknownOpsAndAttributeValues) {
  {
    SyntheticModel m;
    m.Placeholder("x", "DT_FLOAT", {2});
    m.Node("y", "Softplus", {"x"});
    m.Output("y");
    auto model = GraphModel::Load(m.Write());
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(std::string(model.status().message()),
                HasSubstr("node \"y\" (op Softplus)"));
  }
  struct Case {
    std::string op;
    Json attrs;
    std::string attr;
  };
  const Json conv_base = {{"padding", StrAttr("SAME")},
                          {"strides", IntsAttr({1, 1, 1, 1})}};
  auto with = [&](Json base, const std::string& k, Json v) {
    base[k] = v;
    return base;
  };
  for (const Case& c : std::vector<Case>{
           {"Conv2D", with(conv_base, "padding", StrAttr("FULL")), "padding"},
           {"Conv2D", with(conv_base, "data_format", StrAttr("NCHW")),
            "data_format"},
           {"Conv2D", with(conv_base, "strides", IntsAttr({2, 1, 1, 1})),
            "strides"},
           {"_FusedConv2D",
            with(conv_base, "fused_ops", StrsAttr({"FusedBatchNorm"})),
            "fused_ops"},
           {"Conv2D", with(conv_base, "T", SyntheticModel::TypeAttr("DT_HALF")),
            "T"}}) {
    SCOPED_TRACE(c.attr);
    SyntheticModel m;
    m.Placeholder("x", "DT_FLOAT", {1, 4, 4, 1});
    m.Const("w", at::ones({1, 1, 1, 1}));
    m.Const("b", at::ones({1}));
    m.Node("y", c.op,
           c.op == "Conv2D" ? std::vector<std::string>{"x", "w"}
                            : std::vector<std::string>{"x", "w", "b"},
           c.attrs);
    m.Output("y");
    auto model = GraphModel::Load(m.Write());
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(std::string(model.status().message()),
                HasSubstr(absl::StrCat("node \"y\" (op ", c.op,
                                       "): attribute \"", c.attr, "\"")));
  }
  SyntheticModel m;
  m.Placeholder("x", "DT_FLOAT", {2, 2});
  m.Const("i", at::zeros({3}, at::kInt));
  m.Node("y", "StridedSlice", {"x", "i", "i", "i"},
         {{"ellipsis_mask", IntAttr(1)}});
  m.Output("y");
  auto model = GraphModel::Load(m.Write());
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("attribute \"ellipsis_mask\" = 1"));
}

TEST(GraphModelTest, RefusesBadGraphs) {
  SyntheticModel m;
  m.Placeholder("x", "DT_FLOAT", {2});
  m.Node("a", "Relu", {"b"});
  m.Node("b", "Relu", {"a"});
  m.Node("c", "Relu", {"nowhere"});
  m.Output("a");
  auto model = GraphModel::Load(m.Write());
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("input \"nowhere\" names no node"));
  SyntheticModel cyc;
  cyc.Node("a", "Relu", {"b"});
  cyc.Node("b", "Relu", {"a"});
  cyc.Output("a");
  auto cycle = GraphModel::Load(cyc.Write());
  ASSERT_FALSE(cycle.ok());
  EXPECT_THAT(std::string(cycle.status().message()), HasSubstr("cycle"));
  SyntheticModel bad_json;
  const std::string path = bad_json.Write();
  std::ofstream(path) << "{\"modelTopology\": [";
  EXPECT_FALSE(GraphModel::Load(path).ok());
}

TEST(GraphModelTest, RefusesInputsOfTheWrongShapeOrType) {
  SyntheticModel m;
  m.Placeholder("x", "DT_INT32", {1, -1, 3});
  m.Node("y", "Cast", {"x"}, {{"DstT", SyntheticModel::TypeAttr("DT_FLOAT")}});
  m.Output("y");
  auto model = GraphModel::Load(m.Write());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE(model->Run({{"x", at::zeros({1, 5, 3}, at::kInt)}}).ok());
  auto type = model->Run({{"x", at::zeros({1, 5, 3})}});
  ASSERT_FALSE(type.ok());
  EXPECT_THAT(std::string(type.status().message()),
              HasSubstr("input \"x\" must be int32 [1,-1,3]"));
  EXPECT_THAT(std::string(type.status().message()),
              HasSubstr("got float32 [1,5,3]"));
  auto shape = model->Run({{"x", at::zeros({1, 5, 4}, at::kInt)}});
  ASSERT_FALSE(shape.ok());
  EXPECT_THAT(std::string(shape.status().message()), HasSubstr("[1,5,4]"));
  EXPECT_FALSE(model->Run({{"x", at::zeros({5, 3}, at::kInt)}}).ok());
  EXPECT_FALSE(model->Run({}).ok());
  EXPECT_FALSE(model
                   ->Run({{"x", at::zeros({1, 5, 3}, at::kInt)},
                          {"typo", at::zeros({1})}})
                   .ok());
}

// Parity with TF.js: every golden entry's input is rebuilt from the real
// clip (checked by hash) and run through GraphModel.
TEST(GraphModelParityTest, MatchesTfjsOnRealFrames) {
  MAPN_REQUIRE_SHARED_DATA(shared);
  std::ifstream golden_file("mapn/tfjs/testdata/tfjs_golden.json");
  ASSERT_TRUE(golden_file) << "mapn/tfjs/testdata/tfjs_golden.json is missing";
  const Json golden = Json::parse(golden_file);
  std::map<std::string, GraphModel> models;
  for (const char* name : kKnownModels) {
    absl::StatusOr<std::string> path = FindModel(name);
    if (!path.ok()) GTEST_SKIP() << path.status().message();
    auto model = GraphModel::Load(*path);
    ASSERT_TRUE(model.ok()) << model.status();
    models.emplace(name, *model);
  }
  std::map<std::string, at::Tensor> rgb;
  for (const GoldenFrame& f : GoldenFrames()) {
    auto frame = DecodeRgbFrame(shared + "/" + f.clip, f.frame);
    ASSERT_TRUE(frame.ok()) << frame.status();
    rgb[f.name] = *frame;
  }
  struct Worst {
    double keypoint_px = 0, score = 0, raw = 0;
    int entries = 0;
  };
  std::map<std::string, Worst> worst;
  for (const Json& e : golden["entries"]) {
    const std::string model = e["model"], frame = e["frame"];
    SCOPED_TRACE(model + " " + frame);
    ASSERT_TRUE(rgb.count(frame));
    auto input = ModelInput(model, rgb[frame]);
    ASSERT_TRUE(input.ok()) << input.status();
    ASSERT_EQ(TensorFnv1a(*input), e["input_fnv1a64"].get<std::string>())
        << "the rebuilt input differs from the one TF.js ran on";
    auto out =
        models.at(model).Run({{models.at(model).inputs()[0].node, *input}});
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), e["outputs"].size());
    Worst& w = worst[model];
    ++w.entries;
    for (size_t i = 0; i < out->size(); ++i) {
      const Json& o = e["outputs"][i];
      const std::vector<int64_t> shape = o["shape"];
      ASSERT_EQ((*out)[i].sizes().vec(), shape) << o["name"];
      const std::vector<float> ours = Values((*out)[i]);
      const int64_t stride = o["stride"];
      const std::vector<double> theirs = o["values"];
      ASSERT_EQ(static_cast<int64_t>(theirs.size()),
                (static_cast<int64_t>(ours.size()) + stride - 1) / stride);
      if (model == "movenet-lightning" || model == "movenet-thunder") {
        // [1, 1, 17, 3]: y, x normalised to the input, then the score.
        const double side = model == "movenet-thunder" ? 256 : 192;
        for (size_t k = 0; k < theirs.size(); ++k) {
          const double d = std::abs(ours[k] - theirs[k]);
          if (k % 3 == 2) {
            w.score = std::max(w.score, d);
            EXPECT_LE(d, 1e-3) << "score of keypoint " << k / 3;
          } else {
            w.keypoint_px = std::max(w.keypoint_px, d * side);
            EXPECT_LE(d * side, 0.5) << "keypoint " << k / 3;
          }
        }
      } else {
        for (size_t k = 0; k < theirs.size(); ++k) {
          const double d = std::abs(ours[k * stride] - theirs[k]);
          w.raw = std::max(w.raw, d);
          EXPECT_LE(d, 1e-3 * std::max(1.0, std::abs(theirs[k])))
              << o["name"] << " value " << k * stride;
        }
      }
    }
  }
  for (const auto& [model, w] : worst) {
    std::printf(
        "parity %s over %d frames: max keypoint diff %.2e px, max "
        "score diff %.2e, max raw output diff %.2e\n",
        model.c_str(), w.entries, w.keypoint_px, w.score, w.raw);
  }
  EXPECT_EQ(worst.size(), 5u);
}

}  // namespace
}  // namespace mapn::tfjs
