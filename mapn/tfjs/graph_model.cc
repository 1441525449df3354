#include "mapn/tfjs/graph_model.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/status_macros.h"
#include "mapn/tfjs/tf_ops.h"
#include "nlohmann/json.hpp"

namespace mapn::tfjs {
namespace {

using Json = nlohmann::ordered_json;
using Tensors = std::vector<at::Tensor>;
using Kernel = std::function<absl::StatusOr<Tensors>(const Tensors&)>;

std::string ShapeStr(at::IntArrayRef sizes) {
  return absl::StrCat("[", absl::StrJoin(sizes, ","), "]");
}
// TF's names for the dtypes, as model.json and users know them.
std::string DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return "float32";
    case at::kInt:
      return "int32";
    case at::kLong:
      return "int64";
    case at::kBool:
      return "bool";
    default:
      return std::string(c10::toString(t));
  }
}
std::string Describe(const at::Tensor& t) {
  return absl::StrCat(DtypeName(t.scalar_type()), " ", ShapeStr(t.sizes()));
}

std::string Base64Decode(const std::string& in) {
  static const std::string kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    const size_t pos = kChars.find(c);
    if (pos == std::string::npos) break;  // '=' padding ends the data
    val = ((val << 6) | static_cast<int>(pos)) & 0xFFFFFF;  // 4 sextets
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

// TF dtype names the interpreter computes with.
bool DtypeFromName(const std::string& name, at::ScalarType* type) {
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"DT_FLOAT", at::kFloat},
      {"DT_INT32", at::kInt},
      {"DT_INT64", at::kLong},
      {"DT_BOOL", at::kBool}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return false;
  *type = it->second;
  return true;
}

// `j[key]` when present, else an empty JSON value (null iterates as empty).
const Json& Member(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

int64_t JsonInt(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    int64_t out = 0;
    if (absl::SimpleAtoi(v.get<std::string>(), &out)) return out;
  }
  throw std::runtime_error("not an integer: " + v.dump());
}

AttrValue DecodeAttr(const Json& v) {
  AttrValue a;
  if (v.contains("i")) {
    a.kind = AttrValue::Kind::kInt;
    a.i = JsonInt(v["i"]);
  } else if (v.contains("f")) {
    a.kind = AttrValue::Kind::kFloat;
    a.f = v["f"].is_number() ? v["f"].get<double>() : 0.0;
  } else if (v.contains("b")) {
    a.kind = AttrValue::Kind::kBool;
    a.b = v["b"].get<bool>();
  } else if (v.contains("s")) {
    a.kind = AttrValue::Kind::kString;
    a.s = Base64Decode(v["s"].get<std::string>());
  } else if (v.contains("type")) {
    a.kind = AttrValue::Kind::kType;
    a.type_name = v["type"].get<std::string>();
    DtypeFromName(a.type_name, &a.type);
  } else if (v.contains("list")) {
    const Json& l = v["list"];
    if (l.contains("s")) {
      a.kind = AttrValue::Kind::kStringList;
      for (const Json& s : l["s"]) {
        a.strings.push_back(Base64Decode(s.get<std::string>()));
      }
    } else {
      a.kind = AttrValue::Kind::kIntList;
      if (l.contains("i")) {
        for (const Json& i : l["i"]) a.ints.push_back(JsonInt(i));
      }
    }
  } else if (v.contains("shape")) {
    a.kind = AttrValue::Kind::kShape;
    const Json& s = v["shape"];
    if (s.contains("dim")) {
      for (const Json& d : s["dim"]) {
        a.ints.push_back(d.contains("size") ? JsonInt(d["size"]) : 0);
      }
    }
  }
  return a;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return ss.str();
}

struct Ref {
  int node = -1;
  int index = 0;
};

struct Compiled {
  int num_outputs = 1;
  std::vector<Ref> inputs;
  std::vector<int> control;
  Kernel kernel;  // empty for Const and Placeholder
};

}  // namespace

struct GraphModel::Impl {
  std::string path;
  std::vector<GraphNode> nodes;
  std::unordered_map<std::string, int> index;
  std::map<std::string, at::Tensor> consts;
  std::vector<Compiled> compiled;
  std::vector<int> order;  // topological
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

namespace {

// Builds the error text for a node.
std::string Where(const std::string& path, const GraphNode& n) {
  return absl::StrCat(path, ": node \"", n.name, "\" (op ", n.op, ")");
}

class NodeCompiler {
 public:
  NodeCompiler(const GraphModel::Impl& impl, const GraphNode& node,
               Compiled* out)
      : impl_(impl), node_(node), out_(out) {}

  absl::Status Compile();

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(impl_.path, node_), ": ", what));
  }
  absl::Status Unsupported(const std::string& attr, const std::string& value,
                           const std::string& supported) const {
    return absl::UnimplementedError(absl::StrCat(
        Where(impl_.path, node_), ": attribute \"", attr, "\" = ", value,
        " is not supported (supported: ", supported, ")"));
  }
  const AttrValue* Find(const std::string& key) const {
    auto it = node_.attrs.find(key);
    return it == node_.attrs.end() ? nullptr : &it->second;
  }
  absl::StatusOr<int64_t> Int(const std::string& key,
                              std::optional<int64_t> def = {}) const {
    const AttrValue* a = Find(key);
    if (!a) {
      if (def) return *def;
      return Error(absl::StrCat("missing attribute \"", key, "\""));
    }
    if (a->kind != AttrValue::Kind::kInt) {
      return Error(absl::StrCat("attribute \"", key, "\" is not an int"));
    }
    return a->i;
  }
  absl::StatusOr<bool> Bool(const std::string& key, bool def) const {
    const AttrValue* a = Find(key);
    if (!a) return def;
    if (a->kind != AttrValue::Kind::kBool) {
      return Error(absl::StrCat("attribute \"", key, "\" is not a bool"));
    }
    return a->b;
  }
  absl::StatusOr<double> Float(const std::string& key, double def) const {
    const AttrValue* a = Find(key);
    if (!a) return def;
    if (a->kind != AttrValue::Kind::kFloat) {
      return Error(absl::StrCat("attribute \"", key, "\" is not a float"));
    }
    return a->f;
  }
  absl::StatusOr<std::vector<int64_t>> Ints(const std::string& key,
                                            std::vector<int64_t> def) const {
    const AttrValue* a = Find(key);
    if (!a) return def;
    if (a->kind != AttrValue::Kind::kIntList) {
      return Error(absl::StrCat("attribute \"", key, "\" is not an int list"));
    }
    return a->ints;
  }
  absl::StatusOr<at::ScalarType> Type(const std::string& key) const {
    const AttrValue* a = Find(key);
    if (!a || a->kind != AttrValue::Kind::kType) {
      return Error(absl::StrCat("missing type attribute \"", key, "\""));
    }
    return a->type;
  }
  // The attribute must be one of `allowed` types (when present).
  absl::Status TypeIn(const std::string& key,
                      const std::set<std::string>& allowed) const {
    const AttrValue* a = Find(key);
    if (!a) return absl::OkStatus();
    if (!allowed.count(a->type_name)) {
      return Unsupported(key, a->type_name, absl::StrJoin(allowed, ", "));
    }
    return absl::OkStatus();
  }
  absl::Status Arity(size_t lo, size_t hi) const {
    const size_t n = node_.inputs.size();
    if (n < lo || n > hi) {
      return Error(absl::StrCat(
          "has ", n, " inputs, expected ",
          lo == hi ? absl::StrCat(lo) : absl::StrCat(lo, "-", hi)));
    }
    return absl::OkStatus();
  }
  absl::Status NhwcFormat() const {
    const AttrValue* a = Find("data_format");
    if (a && a->s != "NHWC") {
      return Unsupported("data_format", a->s, "NHWC");
    }
    return absl::OkStatus();
  }
  // strides/dilations/padding of a Conv2D-like node.
  absl::StatusOr<ops::ConvParams> Conv(bool allow_explicit) const;
  const at::Tensor* ConstInput(size_t i) const {
    if (i >= node_.inputs.size()) return nullptr;
    const Ref r = out_->inputs[i];
    auto it = impl_.consts.find(impl_.nodes[r.node].name);
    return (it == impl_.consts.end() || r.index != 0) ? nullptr : &it->second;
  }
  absl::Status CompileConv(bool depthwise, bool fused);

  const GraphModel::Impl& impl_;
  const GraphNode& node_;
  Compiled* out_;
};

absl::StatusOr<ops::ConvParams> NodeCompiler::Conv(bool allow_explicit) const {
  ops::ConvParams p;
  MAPN_RETURN_IF_ERROR(NhwcFormat());
  MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> strides, Ints("strides", {}));
  if (strides.size() != 4 || strides[0] != 1 || strides[3] != 1 ||
      strides[1] < 1 || strides[2] < 1) {
    return Unsupported("strides", ShapeStr(strides), "[1, h, w, 1]");
  }
  p.stride_h = strides[1];
  p.stride_w = strides[2];
  MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> dil,
                        Ints("dilations", {1, 1, 1, 1}));
  if (dil.size() != 4 || dil[0] != 1 || dil[3] != 1 || dil[1] < 1 ||
      dil[2] < 1) {
    return Unsupported("dilations", ShapeStr(dil), "[1, h, w, 1]");
  }
  p.dilation_h = dil[1];
  p.dilation_w = dil[2];
  const AttrValue* pad = Find("padding");
  const std::string padding = pad ? pad->s : "";
  if (padding == "SAME") {
    p.padding = ops::Padding::kSame;
  } else if (padding == "VALID") {
    p.padding = ops::Padding::kValid;
  } else if (padding == "EXPLICIT" && allow_explicit) {
    p.padding = ops::Padding::kExplicit;
    MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> e,
                          Ints("explicit_paddings", {}));
    if (e.size() != 8 || e[0] || e[1] || e[6] || e[7]) {
      return Unsupported("explicit_paddings", ShapeStr(e),
                         "[0, 0, top, bottom, left, right, 0, 0]");
    }
    p.explicit_pads = {e[2], e[3], e[4], e[5]};
  } else {
    return Unsupported(
        "padding", absl::StrCat("\"", padding, "\""),
        allow_explicit ? "SAME, VALID, EXPLICIT" : "SAME, VALID");
  }
  return p;
}

absl::Status NodeCompiler::CompileConv(bool depthwise, bool fused) {
  MAPN_RETURN_IF_ERROR(TypeIn("T", {"DT_FLOAT"}));
  MAPN_ASSIGN_OR_RETURN(ops::ConvParams params, Conv(/*allow_explicit=*/true));
  enum class Act { kNone, kRelu, kRelu6, kLeakyRelu, kElu, kSigmoid };
  Act act = Act::kNone;
  bool bias = false;
  double alpha = 0.2;
  if (fused) {
    const AttrValue* f = Find("fused_ops");
    const std::vector<std::string> ops =
        f ? f->strings : std::vector<std::string>{};
    const std::string written =
        absl::StrCat("[", absl::StrJoin(ops, ", "), "]");
    const std::string supported =
        "[BiasAdd] optionally followed by Relu, Relu6, LeakyRelu, Elu or "
        "Sigmoid";
    if (ops.empty() || ops.size() > 2 || ops[0] != "BiasAdd") {
      return Unsupported("fused_ops", written, supported);
    }
    bias = true;
    if (ops.size() == 2) {
      static const std::map<std::string, Act> kActs = {
          {"Relu", Act::kRelu},
          {"Relu6", Act::kRelu6},
          {"LeakyRelu", Act::kLeakyRelu},
          {"Elu", Act::kElu},
          {"Sigmoid", Act::kSigmoid}};
      auto it = kActs.find(ops[1]);
      if (it == kActs.end())
        return Unsupported("fused_ops", written, supported);
      act = it->second;
    }
    MAPN_ASSIGN_OR_RETURN(int64_t num_args, Int("num_args", 1));
    if (num_args != 1) {
      return Unsupported("num_args", absl::StrCat(num_args),
                         "1 (the bias) for these fused_ops");
    }
    MAPN_ASSIGN_OR_RETURN(alpha, Float("leakyrelu_alpha", 0.2));
    MAPN_RETURN_IF_ERROR(Arity(3, 3));
  } else {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
  }
  // Filters are constants in these models: convert them once, here.
  at::Tensor filter;
  if (const at::Tensor* w = ConstInput(1)) {
    if (w->dim() != 4) {
      return Error(absl::StrCat("filter ", Describe(*w), " is not 4-D"));
    }
    filter =
        depthwise ? ops::DepthwiseFilterToTorch(*w) : ops::FilterToTorch(*w);
  }
  out_->kernel = [filter, depthwise, bias, act, alpha,
                  params](const Tensors& in) -> absl::StatusOr<Tensors> {
    const at::Tensor& x = in[0];
    if (in[1].dim() != 4 || x.dim() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input ", Describe(x), " or filter ", Describe(in[1]),
                       " is not 4-D"));
    }
    const at::Tensor w = filter.defined()
                             ? filter
                             : (depthwise ? ops::DepthwiseFilterToTorch(in[1])
                                          : ops::FilterToTorch(in[1]));
    const int64_t groups = depthwise ? x.size(3) : 1;
    MAPN_ASSIGN_OR_RETURN(
        at::Tensor y,
        ops::Conv2D(x, w, bias ? in[2].reshape({-1}) : at::Tensor(), params,
                    groups));
    switch (act) {
      case Act::kNone:
        break;
      case Act::kRelu:
        y.relu_();
        break;
      case Act::kRelu6:
        y.clamp_(0, 6);
        break;
      case Act::kLeakyRelu:
        y = at::leaky_relu(y, alpha);
        break;
      case Act::kElu:
        y = at::elu(y);
        break;
      case Act::kSigmoid:
        y.sigmoid_();
        break;
    }
    return Tensors{y};
  };
  return absl::OkStatus();
}

// True when TF's broadcasting accepts the two shapes.
bool Broadcastable(at::IntArrayRef a, at::IntArrayRef b) {
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t y = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (x != y && x != 1 && y != 1) return false;
  }
  return true;
}

int64_t Scalar(const at::Tensor& t) {
  return t.reshape({-1})[0].item<int64_t>();
}

absl::Status NodeCompiler::Compile() {
  const std::string& op = node_.op;
  using A = const Tensors&;
  using R = absl::StatusOr<Tensors>;
  auto unary = [&](std::function<at::Tensor(const at::Tensor&)> f,
                   std::set<std::string> types = {"DT_FLOAT"}) -> absl::Status {
    MAPN_RETURN_IF_ERROR(TypeIn("T", types));
    MAPN_RETURN_IF_ERROR(Arity(1, 1));
    out_->kernel = [f](A in) -> R { return Tensors{f(in[0])}; };
    return absl::OkStatus();
  };
  auto binary =
      [&](std::function<at::Tensor(const at::Tensor&, const at::Tensor&)> f,
          std::set<std::string> types) -> absl::Status {
    MAPN_RETURN_IF_ERROR(TypeIn("T", types));
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    out_->kernel = [f](A in) -> R {
      if (in[0].scalar_type() != in[1].scalar_type()) {
        return absl::InvalidArgumentError(
            absl::StrCat("operands differ in dtype: ", Describe(in[0]), " and ",
                         Describe(in[1])));
      }
      if (!Broadcastable(in[0].sizes(), in[1].sizes())) {
        return absl::InvalidArgumentError(
            absl::StrCat("shapes do not broadcast: ", Describe(in[0]), " and ",
                         Describe(in[1])));
      }
      return Tensors{f(in[0], in[1])};
    };
    return absl::OkStatus();
  };
  const std::set<std::string> kNum = {"DT_FLOAT", "DT_INT32", "DT_INT64"};
  const std::set<std::string> kAll = {"DT_FLOAT", "DT_INT32", "DT_INT64",
                                      "DT_BOOL"};
  const std::set<std::string> kInt = {"DT_INT32", "DT_INT64"};

  if (op == "Const" || op == "Placeholder") return absl::OkStatus();
  if (op == "Identity") {
    return unary([](const at::Tensor& x) { return x; }, kAll);
  }
  if (op == "Abs") return unary([](const at::Tensor& x) { return at::abs(x); });
  if (op == "Exp") return unary([](const at::Tensor& x) { return at::exp(x); });
  if (op == "Sqrt")
    return unary([](const at::Tensor& x) { return at::sqrt(x); });
  if (op == "Sigmoid") {
    return unary([](const at::Tensor& x) { return at::sigmoid(x); });
  }
  if (op == "Relu")
    return unary([](const at::Tensor& x) { return at::relu(x); });
  if (op == "Relu6") {
    return unary([](const at::Tensor& x) { return at::clamp(x, 0, 6); });
  }
  if (op == "Reciprocal") {
    return unary([](const at::Tensor& x) { return at::reciprocal(x); });
  }
  if (op == "LeakyRelu") {
    MAPN_ASSIGN_OR_RETURN(const double alpha, Float("alpha", 0.2));
    return unary(
        [alpha](const at::Tensor& x) { return at::leaky_relu(x, alpha); });
  }
  if (op == "Add" || op == "AddV2") {
    return binary([](auto& a, auto& b) { return at::add(a, b); }, kNum);
  }
  if (op == "Sub") {
    return binary([](auto& a, auto& b) { return at::sub(a, b); }, kNum);
  }
  if (op == "Mul") {
    return binary([](auto& a, auto& b) { return at::mul(a, b); }, kNum);
  }
  if (op == "RealDiv") {
    return binary([](auto& a, auto& b) { return at::div(a, b); }, {"DT_FLOAT"});
  }
  if (op == "Maximum") {
    return binary([](auto& a, auto& b) { return at::maximum(a, b); }, kNum);
  }
  if (op == "Minimum") {
    return binary([](auto& a, auto& b) { return at::minimum(a, b); }, kNum);
  }
  if (op == "SquaredDifference") {
    return binary(
        [](auto& a, auto& b) {
          const at::Tensor d = a - b;
          return d * d;
        },
        kNum);
  }
  if (op == "FloorDiv") {
    return binary([](auto& a, auto& b) { return at::div(a, b, "floor"); },
                  kNum);
  }
  if (op == "FloorMod") {
    // at::remainder takes the divisor's sign, as TF's FloorMod.
    return binary([](auto& a, auto& b) { return at::remainder(a, b); }, kNum);
  }
  if (op == "Greater") {
    return binary([](auto& a, auto& b) { return at::gt(a, b); }, kNum);
  }
  if (op == "GreaterEqual") {
    return binary([](auto& a, auto& b) { return at::ge(a, b); }, kNum);
  }
  if (op == "Less") {
    return binary([](auto& a, auto& b) { return at::lt(a, b); }, kNum);
  }
  if (op == "LogicalAnd") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    out_->kernel = [](A in) -> R {
      if (!Broadcastable(in[0].sizes(), in[1].sizes())) {
        return absl::InvalidArgumentError("shapes do not broadcast");
      }
      return Tensors{at::logical_and(in[0], in[1])};
    };
    return absl::OkStatus();
  }
  if (op == "Equal") {
    MAPN_RETURN_IF_ERROR(TypeIn("T", kAll));
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    MAPN_ASSIGN_OR_RETURN(const bool strict,
                          Bool("incompatible_shape_error", true));
    out_->kernel = [strict](A in) -> R {
      if (!Broadcastable(in[0].sizes(), in[1].sizes())) {
        // TF answers a scalar false instead of failing in this mode.
        if (!strict) return Tensors{at::zeros({}, at::kBool)};
        return absl::InvalidArgumentError(
            absl::StrCat("shapes do not broadcast: ", Describe(in[0]), " and ",
                         Describe(in[1])));
      }
      return Tensors{at::eq(in[0], in[1])};
    };
    return absl::OkStatus();
  }
  if (op == "AddN") {
    MAPN_RETURN_IF_ERROR(TypeIn("T", kNum));
    MAPN_ASSIGN_OR_RETURN(const int64_t n, Int("N"));
    if (n < 1 || n != static_cast<int64_t>(node_.inputs.size())) {
      return Error(
          absl::StrCat("N = ", n, " but ", node_.inputs.size(), " inputs"));
    }
    out_->kernel = [](A in) -> R {
      at::Tensor sum = in[0].clone();
      for (size_t i = 1; i < in.size(); ++i) {
        if (!in[i].sizes().equals(in[0].sizes())) {
          return absl::InvalidArgumentError("AddN inputs differ in shape");
        }
        sum.add_(in[i]);
      }
      return Tensors{sum};
    };
    return absl::OkStatus();
  }
  if (op == "Cast") {
    MAPN_RETURN_IF_ERROR(TypeIn("SrcT", kAll));
    MAPN_RETURN_IF_ERROR(TypeIn("DstT", kAll));
    MAPN_ASSIGN_OR_RETURN(const at::ScalarType dst, Type("DstT"));
    MAPN_RETURN_IF_ERROR(Arity(1, 1));
    out_->kernel = [dst](A in) -> R { return Tensors{in[0].to(dst)}; };
    return absl::OkStatus();
  }
  if (op == "ConcatV2") {
    MAPN_RETURN_IF_ERROR(TypeIn("T", kAll));
    MAPN_ASSIGN_OR_RETURN(const int64_t n, Int("N"));
    if (n < 1 || n + 1 != static_cast<int64_t>(node_.inputs.size())) {
      return Error(absl::StrCat("N = ", n, " but ", node_.inputs.size(),
                                " inputs (N values and the axis)"));
    }
    out_->kernel = [](A in) -> R {
      const int64_t axis = Scalar(in.back());
      return Tensors{at::cat(at::TensorList(in.data(), in.size() - 1), axis)};
    };
    return absl::OkStatus();
  }
  if (op == "Pack") {
    MAPN_RETURN_IF_ERROR(TypeIn("T", kAll));
    MAPN_ASSIGN_OR_RETURN(const int64_t n, Int("N"));
    MAPN_ASSIGN_OR_RETURN(const int64_t axis, Int("axis", 0));
    if (n < 1 || n != static_cast<int64_t>(node_.inputs.size())) {
      return Error(
          absl::StrCat("N = ", n, " but ", node_.inputs.size(), " inputs"));
    }
    out_->kernel = [axis](A in) -> R { return Tensors{at::stack(in, axis)}; };
    return absl::OkStatus();
  }
  if (op == "Unpack") {
    MAPN_RETURN_IF_ERROR(TypeIn("T", kAll));
    MAPN_ASSIGN_OR_RETURN(const int64_t num, Int("num"));
    MAPN_ASSIGN_OR_RETURN(const int64_t axis, Int("axis", 0));
    MAPN_RETURN_IF_ERROR(Arity(1, 1));
    if (num < 1) return Error(absl::StrCat("num = ", num));
    out_->num_outputs = static_cast<int>(num);
    out_->kernel = [num, axis](A in) -> R {
      const int64_t a = axis < 0 ? axis + in[0].dim() : axis;
      if (a < 0 || a >= in[0].dim() || in[0].size(a) != num) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot unpack ", num, " along axis ", axis, " of ",
                         Describe(in[0])));
      }
      Tensors out;
      for (const at::Tensor& t : at::unbind(in[0], a)) {
        out.push_back(t.contiguous());
      }
      return out;
    };
    return absl::OkStatus();
  }
  if (op == "ExpandDims") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    out_->kernel = [](A in) -> R {
      int64_t d = Scalar(in[1]);
      if (d < 0) d += in[0].dim() + 1;
      if (d < 0 || d > in[0].dim()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "dim ", Scalar(in[1]), " out of range for ", Describe(in[0])));
      }
      return Tensors{in[0].unsqueeze(d)};
    };
    return absl::OkStatus();
  }
  if (op == "Squeeze") {
    MAPN_RETURN_IF_ERROR(Arity(1, 1));
    MAPN_ASSIGN_OR_RETURN(const std::vector<int64_t> dims,
                          Ints("squeeze_dims", {}));
    out_->kernel = [dims](A in) -> R {
      const at::Tensor& x = in[0];
      std::set<int64_t> drop;
      for (int64_t d : dims) {
        const int64_t a = d < 0 ? d + x.dim() : d;
        if (a < 0 || a >= x.dim() || x.size(a) != 1) {
          return absl::InvalidArgumentError(
              absl::StrCat("cannot squeeze dim ", d, " of ", Describe(x)));
        }
        drop.insert(a);
      }
      std::vector<int64_t> shape;
      for (int64_t a = 0; a < x.dim(); ++a) {
        const bool squeeze = dims.empty() ? x.size(a) == 1 : drop.count(a) > 0;
        if (!squeeze) shape.push_back(x.size(a));
      }
      return Tensors{x.reshape(shape)};
    };
    return absl::OkStatus();
  }
  if (op == "Reshape") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ops::IntValues(in[1]));
      return Tensors{in[0].reshape(shape)};
    };
    return absl::OkStatus();
  }
  if (op == "Transpose") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ops::IntValues(in[1]));
      return Tensors{in[0].permute(perm).contiguous()};
    };
    return absl::OkStatus();
  }
  if (op == "Shape" || op == "Size") {
    MAPN_RETURN_IF_ERROR(Arity(1, 1));
    MAPN_RETURN_IF_ERROR(TypeIn("out_type", kInt));
    at::ScalarType type = at::kInt;
    if (Find("out_type")) {
      MAPN_ASSIGN_OR_RETURN(type, Type("out_type"));
    }
    const bool shape = op == "Shape";
    out_->kernel = [shape, type](A in) -> R {
      if (shape) {
        return Tensors{at::tensor(in[0].sizes().vec(), at::kLong).to(type)};
      }
      return Tensors{at::scalar_tensor(in[0].numel(), at::kLong).to(type)};
    };
    return absl::OkStatus();
  }
  if (op == "Fill") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> dims, ops::IntValues(in[0]));
      if (in[1].numel() != 1) {
        return absl::InvalidArgumentError("Fill value must be a scalar");
      }
      return Tensors{at::full(dims, in[1].reshape({}).item(),
                              at::TensorOptions().dtype(in[1].scalar_type()))};
    };
    return absl::OkStatus();
  }
  if (op == "Range") {
    MAPN_RETURN_IF_ERROR(Arity(3, 3));
    MAPN_RETURN_IF_ERROR(TypeIn("Tidx", kNum));
    out_->kernel = [](A in) -> R {
      for (const at::Tensor& t : in) {
        if (t.numel() != 1) {
          return absl::InvalidArgumentError("Range operands must be scalars");
        }
      }
      return Tensors{
          at::arange(in[0].reshape({}).item(), in[1].reshape({}).item(),
                     in[2].reshape({}).item(),
                     at::TensorOptions().dtype(in[0].scalar_type()))};
    };
    return absl::OkStatus();
  }
  if (op == "Tile") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> m, ops::IntValues(in[1]));
      if (static_cast<int64_t>(m.size()) != in[0].dim()) {
        return absl::InvalidArgumentError(
            absl::StrCat("multiples ", ShapeStr(m), " for ", Describe(in[0])));
      }
      return Tensors{in[0].repeat(m)};
    };
    return absl::OkStatus();
  }
  if (op == "ArgMax") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    MAPN_RETURN_IF_ERROR(TypeIn("output_type", kInt));
    at::ScalarType type = at::kLong;  // TF's default output_type
    if (Find("output_type")) {
      MAPN_ASSIGN_OR_RETURN(type, Type("output_type"));
    }
    out_->kernel = [type](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(at::Tensor y,
                            ops::ArgMax(in[0], Scalar(in[1]), type));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "TopKV2") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    MAPN_ASSIGN_OR_RETURN(const bool sorted, Bool("sorted", true));
    if (!sorted) return Unsupported("sorted", "false", "true");
    out_->num_outputs = 2;
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(auto vi, ops::TopKV2(in[0], Scalar(in[1])));
      return Tensors{vi.first, vi.second};
    };
    return absl::OkStatus();
  }
  if (op == "GatherNd") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(at::Tensor y, ops::GatherNd(in[0], in[1]));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "GatherV2") {
    MAPN_RETURN_IF_ERROR(Arity(3, 3));
    MAPN_ASSIGN_OR_RETURN(const int64_t batch_dims, Int("batch_dims", 0));
    if (batch_dims != 0) {
      return Unsupported("batch_dims", absl::StrCat(batch_dims), "0");
    }
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(at::Tensor y,
                            ops::GatherV2(in[0], in[1], Scalar(in[2])));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "StridedSlice") {
    MAPN_RETURN_IF_ERROR(Arity(4, 4));
    ops::StridedSliceMasks m;
    MAPN_ASSIGN_OR_RETURN(m.begin, Int("begin_mask", 0));
    MAPN_ASSIGN_OR_RETURN(m.end, Int("end_mask", 0));
    MAPN_ASSIGN_OR_RETURN(m.ellipsis, Int("ellipsis_mask", 0));
    MAPN_ASSIGN_OR_RETURN(m.new_axis, Int("new_axis_mask", 0));
    MAPN_ASSIGN_OR_RETURN(m.shrink_axis, Int("shrink_axis_mask", 0));
    if (m.ellipsis != 0) {
      return Unsupported("ellipsis_mask", absl::StrCat(m.ellipsis), "0");
    }
    out_->kernel = [m](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> b, ops::IntValues(in[1]));
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> e, ops::IntValues(in[2]));
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> s, ops::IntValues(in[3]));
      MAPN_ASSIGN_OR_RETURN(at::Tensor y, ops::StridedSlice(in[0], b, e, s, m));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "Split") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    MAPN_ASSIGN_OR_RETURN(const int64_t num, Int("num_split"));
    if (num < 1) return Error(absl::StrCat("num_split = ", num));
    out_->num_outputs = static_cast<int>(num);
    out_->kernel = [num](A in) -> R {
      const at::Tensor& x = in[1];
      int64_t axis = Scalar(in[0]);
      if (axis < 0) axis += x.dim();
      if (axis < 0 || axis >= x.dim() || x.size(axis) % num != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot split ", Describe(x), " in ", num,
                         " along axis ", Scalar(in[0])));
      }
      Tensors out;
      for (const at::Tensor& t : at::split(x, x.size(axis) / num, axis)) {
        out.push_back(t.contiguous());
      }
      return out;
    };
    return absl::OkStatus();
  }
  if (op == "SplitV") {
    MAPN_RETURN_IF_ERROR(Arity(3, 3));
    MAPN_ASSIGN_OR_RETURN(const int64_t num, Int("num_split"));
    if (num < 1) return Error(absl::StrCat("num_split = ", num));
    out_->num_outputs = static_cast<int>(num);
    out_->kernel = [num](A in) -> R {
      const at::Tensor& x = in[0];
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, ops::IntValues(in[1]));
      int64_t axis = Scalar(in[2]);
      if (axis < 0) axis += x.dim();
      if (axis < 0 || axis >= x.dim() ||
          static_cast<int64_t>(sizes.size()) != num) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot split ", Describe(x), " by ", ShapeStr(sizes),
                         " along axis ", Scalar(in[2])));
      }
      int64_t known = 0, unknown = -1;
      for (size_t i = 0; i < sizes.size(); ++i) {
        if (sizes[i] == -1 && unknown < 0) {
          unknown = static_cast<int64_t>(i);
        } else {
          known += sizes[i];
        }
      }
      if (unknown >= 0) sizes[unknown] = x.size(axis) - known;
      Tensors out;
      for (const at::Tensor& t : at::split_with_sizes(x, sizes, axis)) {
        out.push_back(t.contiguous());
      }
      return out;
    };
    return absl::OkStatus();
  }
  if (op == "Select") {
    MAPN_RETURN_IF_ERROR(Arity(3, 3));
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(at::Tensor y, ops::Select(in[0], in[1], in[2]));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "SparseToDense") {
    MAPN_RETURN_IF_ERROR(Arity(4, 4));
    MAPN_ASSIGN_OR_RETURN(const bool validate, Bool("validate_indices", true));
    if (!validate) return Unsupported("validate_indices", "false", "true");
    out_->kernel = [](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(at::Tensor y,
                            ops::SparseToDense(in[0], in[1], in[2], in[3]));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "Pad" || op == "PadV2") {
    const bool v2 = op == "PadV2";
    MAPN_RETURN_IF_ERROR(Arity(v2 ? 3 : 2, v2 ? 3 : 2));
    out_->kernel = [v2](A in) -> R {
      double value = 0;
      if (v2) {
        if (in[2].numel() != 1) {
          return absl::InvalidArgumentError("constant_values must be scalar");
        }
        value = in[2].reshape({}).item<double>();
      }
      MAPN_ASSIGN_OR_RETURN(at::Tensor y, ops::Pad(in[0], in[1], value));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "Mean" || op == "Sum" || op == "Max") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    // TF's integer Mean truncates; LibTorch has none: float only.
    MAPN_RETURN_IF_ERROR(
        TypeIn("T", op == "Mean" ? std::set<std::string>{"DT_FLOAT"} : kNum));
    MAPN_ASSIGN_OR_RETURN(const bool keep, Bool("keep_dims", false));
    const std::string kind = op;
    out_->kernel = [kind, keep](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(at::Tensor y,
                            ops::Reduce(kind, in[0], in[1], keep));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "MaxPool") {
    MAPN_RETURN_IF_ERROR(Arity(1, 1));
    MAPN_RETURN_IF_ERROR(TypeIn("T", {"DT_FLOAT"}));
    MAPN_ASSIGN_OR_RETURN(const ops::ConvParams params,
                          Conv(/*allow_explicit=*/false));
    MAPN_ASSIGN_OR_RETURN(const std::vector<int64_t> k, Ints("ksize", {}));
    if (k.size() != 4 || k[0] != 1 || k[3] != 1 || k[1] < 1 || k[2] < 1) {
      return Unsupported("ksize", ShapeStr(k), "[1, h, w, 1]");
    }
    out_->kernel = [k, params](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(at::Tensor y,
                            ops::MaxPool(in[0], k[1], k[2], params));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "ResizeBilinear") {
    MAPN_RETURN_IF_ERROR(Arity(2, 2));
    MAPN_RETURN_IF_ERROR(TypeIn("T", kNum));
    MAPN_ASSIGN_OR_RETURN(const bool align, Bool("align_corners", false));
    MAPN_ASSIGN_OR_RETURN(const bool half, Bool("half_pixel_centers", false));
    if (align && half) {
      return Unsupported("half_pixel_centers", "true with align_corners true",
                         "at most one of align_corners, half_pixel_centers");
    }
    out_->kernel = [align, half](A in) -> R {
      MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> size, ops::IntValues(in[1]));
      if (size.size() != 2) {
        return absl::InvalidArgumentError(
            absl::StrCat("size must have 2 values, got ", ShapeStr(size)));
      }
      MAPN_ASSIGN_OR_RETURN(
          at::Tensor y,
          ops::ResizeBilinear(in[0], size[0], size[1], align, half));
      return Tensors{y};
    };
    return absl::OkStatus();
  }
  if (op == "Conv2D") return CompileConv(false, false);
  if (op == "_FusedConv2D") return CompileConv(false, true);
  if (op == "DepthwiseConv2dNative") return CompileConv(true, false);
  if (op == "FusedDepthwiseConv2dNative") return CompileConv(true, true);
  return absl::UnimplementedError(absl::StrCat(
      Where(impl_.path, node_), ": op ", op,
      " is not supported by mapn's TF.js reader (docs/models.md lists the "
      "supported ops)"));
}

// Reads the weight groups and fills impl->consts.
absl::Status LoadWeights(const Json& manifest, const std::string& dir,
                         const std::string& path, GraphModel::Impl* impl) {
  if (!manifest.is_array() && !manifest.is_null()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": weightsManifest is not a list"));
  }
  for (const Json& group : manifest) {
    if (!group.contains("paths") || !group.contains("weights")) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": a weightsManifest group lacks paths or weights"));
    }
    std::string data;
    std::vector<std::string> files;
    std::vector<size_t> file_sizes;
    for (const Json& p : group["paths"]) {
      const std::string file = dir + "/" + p.get<std::string>();
      absl::StatusOr<std::string> bytes = ReadFile(file);
      if (!bytes.ok()) {
        return absl::NotFoundError(absl::StrCat(path, ": weights file ", file,
                                                " is missing or unreadable (",
                                                bytes.status().message(), ")"));
      }
      files.push_back(file);
      file_sizes.push_back(bytes->size());
      data += *bytes;
    }
    // First pass: the bytes the manifest says the group holds.
    struct Entry {
      std::string name;
      std::vector<int64_t> shape;
      std::string dtype, qdtype;
      double scale = 1, min = 0;
      size_t offset = 0, bytes = 0;
    };
    std::vector<Entry> entries;
    size_t total = 0;
    for (const Json& w : group["weights"]) {
      Entry e;
      e.name = w.at("name").get<std::string>();
      for (const Json& d : w.at("shape")) e.shape.push_back(JsonInt(d));
      e.dtype = w.at("dtype").get<std::string>();
      int64_t numel = 1;
      for (int64_t d : e.shape) {
        if (d < 0 || (d > 0 && numel > (int64_t{1} << 40) / d)) {
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": weight \"", e.name, "\" has a negative or huge shape"));
        }
        numel *= d;
      }
      std::string stored = e.dtype;
      if (w.contains("quantization")) {
        const Json& q = w["quantization"];
        e.qdtype = q.value("dtype", std::string());
        stored = e.qdtype;
        if (e.qdtype == "uint8" || e.qdtype == "uint16") {
          if (!q.contains("scale") || !q.contains("min")) {
            return absl::UnimplementedError(absl::StrCat(
                path, ": weight \"", e.name, "\": ", e.qdtype,
                " quantization without scale and min (a codebook) is not "
                "supported"));
          }
          e.scale = q["scale"].get<double>();
          e.min = q["min"].get<double>();
        } else if (e.qdtype != "float16") {
          return absl::UnimplementedError(absl::StrCat(
              path, ": weight \"", e.name, "\": quantization dtype \"",
              e.qdtype, "\" is not supported (float16, uint8, uint16)"));
        }
      }
      static const std::map<std::string, size_t> kBytes = {
          {"float32", 4}, {"int32", 4}, {"bool", 1},
          {"float16", 2}, {"uint8", 1}, {"uint16", 2}};
      auto it = kBytes.find(stored);
      if (it == kBytes.end() ||
          (e.dtype != "float32" && e.dtype != "int32" && e.dtype != "bool")) {
        return absl::UnimplementedError(absl::StrCat(
            path, ": weight \"", e.name, "\" has dtype \"", e.dtype,
            "\" stored as \"", stored, "\"; supported: float32, int32, bool"));
      }
      e.offset = total;
      e.bytes = static_cast<size_t>(numel) * it->second;
      total += e.bytes;
      entries.push_back(std::move(e));
    }
    if (total != data.size()) {
      std::vector<std::string> sizes;
      for (size_t i = 0; i < files.size(); ++i) {
        sizes.push_back(absl::StrCat(files[i], " (", file_sizes[i], " bytes)"));
      }
      return absl::DataLossError(absl::StrCat(
          path, ": weights file size does not match the manifest: expected ",
          total, " bytes, got ", data.size(), " in ",
          absl::StrJoin(sizes, ", ")));
    }
    for (const Entry& e : entries) {
      const char* p = data.data() + e.offset;
      at::Tensor t;
      if (e.qdtype == "float16") {
        t = at::empty(e.shape, at::kHalf);
        if (e.bytes > 0) std::memcpy(t.data_ptr(), p, e.bytes);
        t = t.to(at::kFloat);
      } else if (e.qdtype == "uint8" || e.qdtype == "uint16") {
        t = at::empty(e.shape, e.qdtype == "uint8" ? at::kByte : at::kShort);
        if (e.bytes > 0) std::memcpy(t.data_ptr(), p, e.bytes);
        if (e.qdtype == "uint16") {
          // No uint16 in LibTorch: widen the int16 bit pattern.
          t = t.to(at::kInt).bitwise_and(0xFFFF);
        }
        t = t.to(at::kDouble) * e.scale + e.min;
        t = e.dtype == "int32" ? at::round(t).to(at::kInt) : t.to(at::kFloat);
      } else {
        t = at::empty(e.shape, e.dtype == "float32" ? at::kFloat
                               : e.dtype == "int32" ? at::kInt
                                                    : at::kBool);
        if (e.bytes > 0) std::memcpy(t.data_ptr(), p, e.bytes);
      }
      impl->consts[e.name] = t;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Ref> ParseRef(const GraphModel::Impl& impl,
                             const std::string& ref) {
  Ref r;
  std::string name = ref;
  const size_t colon = ref.rfind(':');
  if (colon != std::string::npos) {
    int index = 0;
    if (absl::SimpleAtoi(ref.substr(colon + 1), &index)) {
      name = ref.substr(0, colon);
      r.index = index;
    }
  }
  auto it = impl.index.find(name);
  if (it == impl.index.end()) {
    return absl::NotFoundError(absl::StrCat(impl.path, ": no node \"", name,
                                            "\" (from \"", ref, "\")"));
  }
  r.node = it->second;
  return r;
}

absl::StatusOr<TensorInfo> SignatureEntry(const GraphModel::Impl& impl,
                                          const std::string& key,
                                          const Json& v) {
  TensorInfo info;
  info.key = key;
  const std::string name = v.value("name", key);
  MAPN_ASSIGN_OR_RETURN(const Ref r, ParseRef(impl, name));
  info.node = impl.nodes[r.node].name;
  info.index = r.index;
  DtypeFromName(v.value("dtype", std::string("DT_FLOAT")), &info.dtype);
  if (v.contains("tensorShape") && v["tensorShape"].contains("dim")) {
    for (const Json& d : v["tensorShape"]["dim"]) {
      info.shape.push_back(d.contains("size") ? JsonInt(d["size"]) : 0);
    }
  }
  return info;
}

absl::Status Build(const Json& root, GraphModel::Impl* impl) {
  const std::string& path = impl->path;
  if (root.contains("format") && root["format"] != "graph-model") {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": format is ", root["format"].dump(), ", not graph-model"));
  }
  if (!root.contains("modelTopology") ||
      !root["modelTopology"].contains("node")) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no modelTopology.node (not a graph model)"));
  }
  const Json& library = Member(root["modelTopology"], "library");
  if (library.contains("function") && !library["function"].empty()) {
    return absl::UnimplementedError(
        absl::StrCat(path,
                     ": graphs with a function library (control flow) are not "
                     "supported"));
  }
  for (const Json& n : root["modelTopology"]["node"]) {
    GraphNode node;
    node.name = n.at("name").get<std::string>();
    node.op = n.at("op").get<std::string>();
    for (const Json& i : Member(n, "input")) {
      const std::string s = i.get<std::string>();
      if (!s.empty() && s[0] == '^') {
        node.control_inputs.push_back(s.substr(1));
      } else {
        node.inputs.push_back(s);
      }
    }
    for (const auto& [key, value] : Member(n, "attr").items()) {
      node.attrs[key] = DecodeAttr(value);
    }
    if (!impl->index.emplace(node.name, impl->nodes.size()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": two nodes are named \"", node.name, "\""));
    }
    impl->nodes.push_back(std::move(node));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  MAPN_RETURN_IF_ERROR(LoadWeights(Member(root, "weightsManifest"),
                                   dir.empty() ? "." : dir, path, impl));
  // Resolve inputs and compile every node.
  impl->compiled.resize(impl->nodes.size());
  for (size_t i = 0; i < impl->nodes.size(); ++i) {
    const GraphNode& node = impl->nodes[i];
    Compiled& c = impl->compiled[i];
    for (const std::string& in : node.inputs) {
      absl::StatusOr<Ref> r = ParseRef(*impl, in);
      if (!r.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            Where(path, node), ": input \"", in, "\" names no node"));
      }
      c.inputs.push_back(*r);
    }
    for (const std::string& in : node.control_inputs) {
      MAPN_ASSIGN_OR_RETURN(const Ref r, ParseRef(*impl, in));
      c.control.push_back(r.node);
    }
    // Every dtype attribute must be one the interpreter computes with.
    for (const auto& [key, a] : node.attrs) {
      at::ScalarType unused;
      if (a.kind == AttrValue::Kind::kType &&
          !DtypeFromName(a.type_name, &unused)) {
        return absl::UnimplementedError(absl::StrCat(
            Where(path, node), ": attribute \"", key, "\" = ", a.type_name,
            " is not supported (supported: DT_FLOAT, DT_INT32, DT_INT64, "
            "DT_BOOL)"));
      }
    }
    if (node.op == "Const") {
      auto it = impl->consts.find(node.name);
      if (it == impl->consts.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            Where(path, node), ": the weights manifest has no value for it"));
      }
      auto dt = node.attrs.find("dtype");
      if (dt != node.attrs.end() && dt->second.type == at::kLong) {
        it->second = it->second.to(at::kLong);  // stored as int32 by TF.js
      }
    }
    MAPN_RETURN_IF_ERROR(NodeCompiler(*impl, node, &c).Compile());
  }
  // Output indices are known now: check every reference.
  for (size_t i = 0; i < impl->nodes.size(); ++i) {
    for (const Ref& r : impl->compiled[i].inputs) {
      if (r.index < 0 || r.index >= impl->compiled[r.node].num_outputs) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(path, impl->nodes[i]), ": reads output ",
                         r.index, " of \"", impl->nodes[r.node].name,
                         "\", which has ", impl->compiled[r.node].num_outputs));
      }
    }
  }
  // Kahn's algorithm over data and control edges.
  const size_t n = impl->nodes.size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> users(n);
  for (size_t i = 0; i < n; ++i) {
    for (const Ref& r : impl->compiled[i].inputs) {
      users[r.node].push_back(static_cast<int>(i));
      ++pending[i];
    }
    for (int c : impl->compiled[i].control) {
      users[c].push_back(static_cast<int>(i));
      ++pending[i];
    }
  }
  std::vector<int> ready;
  for (size_t i = n; i-- > 0;) {
    if (pending[i] == 0) ready.push_back(static_cast<int>(i));
  }
  while (!ready.empty()) {
    const int i = ready.back();
    ready.pop_back();
    impl->order.push_back(i);
    for (int u : users[i]) {
      if (--pending[u] == 0) ready.push_back(u);
    }
  }
  if (impl->order.size() != n) {
    for (size_t i = 0; i < n; ++i) {
      if (pending[i] > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": the graph has a cycle through node \"",
                         impl->nodes[i].name, "\""));
      }
    }
  }
  // Inputs: every placeholder, keyed as the signature names it.
  std::map<std::string, std::string> input_keys;
  const Json& sig = Member(root, "signature");
  for (const auto& [key, v] : Member(sig, "inputs").items()) {
    MAPN_ASSIGN_OR_RETURN(const TensorInfo info, SignatureEntry(*impl, key, v));
    input_keys[info.node] = key;
  }
  for (const GraphNode& node : impl->nodes) {
    if (node.op != "Placeholder") continue;
    TensorInfo info;
    info.node = node.name;
    info.key = input_keys.count(node.name) ? input_keys[node.name] : node.name;
    auto dt = node.attrs.find("dtype");
    if (dt == node.attrs.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(path, node), ": no dtype"));
    }
    info.dtype = dt->second.type;
    auto shape = node.attrs.find("shape");
    if (shape != node.attrs.end()) info.shape = shape->second.ints;
    impl->inputs.push_back(info);
  }
  for (const auto& [key, v] : Member(sig, "outputs").items()) {
    MAPN_ASSIGN_OR_RETURN(TensorInfo info, SignatureEntry(*impl, key, v));
    impl->outputs.push_back(std::move(info));
  }
  if (impl->outputs.empty()) {
    // No signature: the nodes nobody reads.
    std::vector<bool> read(n, false);
    for (const Compiled& c : impl->compiled) {
      for (const Ref& r : c.inputs) read[r.node] = true;
    }
    for (size_t i = 0; i < n; ++i) {
      if (!read[i] && impl->nodes[i].op != "Const") {
        TensorInfo info;
        info.key = info.node = impl->nodes[i].name;
        impl->outputs.push_back(info);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GraphModel> GraphModel::Load(
    const std::string& model_json_path) {
  auto impl = std::make_shared<Impl>();
  impl->path = model_json_path;
  absl::StatusOr<std::string> text = ReadFile(model_json_path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat(
        "TF.js model ", model_json_path,
        " not found or unreadable (tools/setup.sh fetches the models "
        "mapn uses)"));
  }
  try {
    const Json root = Json::parse(*text);
    MAPN_RETURN_IF_ERROR(Build(root, impl.get()));
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_json_path, ": malformed model.json: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_json_path, ": ", e.what()));
  }
  return GraphModel(std::move(impl));
}

absl::StatusOr<std::vector<at::Tensor>> GraphModel::Run(
    const std::map<std::string, at::Tensor>& inputs) const {
  std::vector<std::string> fetches;
  for (const TensorInfo& o : impl_->outputs) {
    fetches.push_back(absl::StrCat(o.node, ":", o.index));
  }
  return Run(inputs, fetches);
}

absl::StatusOr<std::vector<at::Tensor>> GraphModel::Run(
    const std::map<std::string, at::Tensor>& inputs,
    const std::vector<std::string>& fetches) const {
  const Impl& g = *impl_;
  const size_t n = g.nodes.size();
  const at::NoGradGuard no_grad;
  std::vector<Tensors> values(n);
  // Inputs: by node name or signature key, each placeholder exactly once.
  std::set<std::string> used;
  for (const TensorInfo& info : g.inputs) {
    auto it = inputs.find(info.node);
    if (it == inputs.end()) it = inputs.find(info.key);
    if (it == inputs.end()) it = inputs.find(info.node + ":0");
    if (it == inputs.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(g.path, ": input \"", info.node, "\" (", info.key,
                       ") was not given"));
    }
    used.insert(it->first);
    const at::Tensor& t = it->second;
    bool fits = t.defined() && t.scalar_type() == info.dtype &&
                t.dim() == static_cast<int64_t>(info.shape.size());
    for (size_t d = 0; fits && d < info.shape.size(); ++d) {
      fits = info.shape[d] < 0 || info.shape[d] == t.size(d);
    }
    if (!fits) {
      return absl::InvalidArgumentError(absl::StrCat(
          g.path, ": input \"", info.node, "\" must be ", DtypeName(info.dtype),
          " ", ShapeStr(info.shape), " (-1: any size), got ",
          t.defined() ? Describe(t) : std::string("an undefined tensor")));
    }
    values[g.index.at(info.node)] = {t.contiguous()};
  }
  for (const auto& [key, t] : inputs) {
    if (!used.count(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(g.path, ": \"", key, "\" is not an input of the graph"));
    }
  }
  // What the fetches need, and how often each value is read.
  std::vector<Ref> wanted;
  for (const std::string& f : fetches) {
    MAPN_ASSIGN_OR_RETURN(const Ref r, ParseRef(g, f));
    if (r.index >= g.compiled[r.node].num_outputs) {
      return absl::InvalidArgumentError(
          absl::StrCat(g.path, ": \"", f, "\": node has ",
                       g.compiled[r.node].num_outputs, " outputs"));
    }
    wanted.push_back(r);
  }
  std::vector<bool> needed(n, false);
  std::vector<int> stack;
  for (const Ref& r : wanted) stack.push_back(r.node);
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    if (needed[i]) continue;
    needed[i] = true;
    for (const Ref& r : g.compiled[i].inputs) stack.push_back(r.node);
    for (int c : g.compiled[i].control) stack.push_back(c);
  }
  std::vector<int> reads(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (!needed[i]) continue;
    for (const Ref& r : g.compiled[i].inputs) ++reads[r.node];
  }
  for (const Ref& r : wanted) ++reads[r.node];
  for (int i : g.order) {
    if (!needed[i]) continue;
    const GraphNode& node = g.nodes[i];
    const Compiled& c = g.compiled[i];
    if (node.op == "Const") {
      values[i] = {g.consts.at(node.name)};
      continue;
    }
    if (node.op == "Placeholder") continue;
    Tensors in;
    in.reserve(c.inputs.size());
    for (const Ref& r : c.inputs) in.push_back(values[r.node][r.index]);
    absl::StatusOr<Tensors> out;
    try {
      out = c.kernel(in);
    } catch (const c10::Error& e) {
      out = absl::InvalidArgumentError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      out = absl::InvalidArgumentError(e.what());
    }
    if (!out.ok()) {
      std::vector<std::string> shapes;
      for (const at::Tensor& t : in) shapes.push_back(Describe(t));
      return absl::Status(
          out.status().code(),
          absl::StrCat(Where(g.path, node), ": ", out.status().message(),
                       " (inputs: ", absl::StrJoin(shapes, "; "), ")"));
    }
    values[i] = std::move(*out);
    // Free what no later node reads.
    for (const Ref& r : c.inputs) {
      if (--reads[r.node] == 0) values[r.node].clear();
    }
  }
  std::vector<at::Tensor> result;
  for (const Ref& r : wanted) result.push_back(values[r.node][r.index]);
  return result;
}

const at::Tensor* GraphModel::Weight(const std::string& node_name) const {
  auto it = impl_->consts.find(node_name);
  return it == impl_->consts.end() ? nullptr : &it->second;
}

const GraphNode* GraphModel::Node(const std::string& name) const {
  auto it = impl_->index.find(name);
  return it == impl_->index.end() ? nullptr : &impl_->nodes[it->second];
}

const std::vector<GraphNode>& GraphModel::nodes() const { return impl_->nodes; }

std::vector<const GraphNode*> GraphModel::Consumers(
    const std::string& name) const {
  std::vector<const GraphNode*> out;
  auto it = impl_->index.find(name);
  if (it == impl_->index.end()) return out;
  for (size_t i = 0; i < impl_->nodes.size(); ++i) {
    for (const Ref& r : impl_->compiled[i].inputs) {
      if (r.node == it->second) {
        out.push_back(&impl_->nodes[i]);
        break;
      }
    }
  }
  return out;
}

const std::vector<TensorInfo>& GraphModel::inputs() const {
  return impl_->inputs;
}
const std::vector<TensorInfo>& GraphModel::outputs() const {
  return impl_->outputs;
}

std::map<std::string, int> GraphModel::OpCounts() const {
  std::map<std::string, int> counts;
  for (const GraphNode& n : impl_->nodes) ++counts[n.op];
  return counts;
}

const std::string& GraphModel::path() const { return impl_->path; }

}  // namespace mapn::tfjs
