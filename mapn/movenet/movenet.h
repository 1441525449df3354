// File: movenet.h
//
// Google's MoveNet singlepose (Lightning and Thunder) as native LibTorch
// components, with the pretrained weights imported from the TF.js graph
// models that tools/setup.sh fetches (docs/models.md). The split is the one
// the Motion Adaptive Pose Net exploits: an expensive encoder run on the
// frames a SkipPolicy picks, and a cheap head run on every frame.
//
//   MoveNetEncoder (a FeatureExtractor): MobileNetV2 (width 1.0 for
//     Lightning, 1.75 for Thunder) and an FPN down to the stride-4 map:
//     rgb float [N, 3, S, S] in [0, 1] -> [N, 24, S/4, S/4].
//   MoveNetHead (a HeatmapHead): the four CenterNet heads (keypoint
//     heatmaps, person centre, keypoint regression from the centre, offsets):
//     [B, 24, h, w] -> [B, 86, h, w] raw maps (layout at kHeatmapChannel ...
//     below), and DecodeKeypoints(maps) -> [B, 17, 3] COCO keypoints (y, x,
//     score), y and x in [0, 1] of the input, decoded exactly as the graph
//     does (its constants are imported with the weights).
//
// Both run in TensorFlow's layout, channels_last, end to end: MobileNetV2's
// 17 depthwise convolutions are ~100x slower in LibTorch's NCHW-contiguous
// layout on this machine's CPU (docs/models.md). Convolutions pad like TF's
// SAME (the extra row/column of a stride-2 layer at the bottom/right) and
// the FPN upsamples with TF's half-pixel bilinear rule, so outputs equal the
// graph's up to float rounding.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(MoveNet net, LoadMoveNet({.variant = kThunder}));
//   at::Tensor features = net.encoder->Extract(rgb);  // [1, 24, 64, 64]
//   at::Tensor keypoints =
//       net.head->DecodeKeypoints(net.head->Decode(features));  // [1, 17, 3]
#ifndef MAPN_MOVENET_MOVENET_H_
#define MAPN_MOVENET_MOVENET_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/model/flops.h"
#include "mapn/model/options.h"
#include "mapn/tfjs/graph_model.h"

namespace mapn::movenet {

// The two singlepose variants, as MoveNetOptions::variant spells them.
inline constexpr char kLightning[] = "lightning";
inline constexpr char kThunder[] = "thunder";

// The options of both components (they must agree: the head's decoding
// constants are the variant's).
struct MoveNetOptions {
  // "thunder": the more accurate, 256 x 256 input, MobileNetV2 width 1.75.
  // "lightning": 192 x 192, width 1.0, about 3x cheaper.
  std::string variant = kThunder;

  static constexpr auto Fields() {
    return std::tuple{model::OptionField{"variant", &MoveNetOptions::variant}};
  }
  absl::Status Validate() const;

  bool thunder() const { return variant == kThunder; }
  // The input side the model was trained at (and whose decoding constants
  // the graph holds): 256 or 192.
  int64_t input_size() const { return thunder() ? 256 : 192; }
  // MobileNetV2's width multiplier.
  double width() const { return thunder() ? 1.75 : 1.0; }
  // The model's name in the cache (model_files.h).
  std::string model_name() const {
    return thunder() ? "movenet-thunder" : "movenet-lightning";
  }
};

inline constexpr int64_t kNumKeypoints = 17;  // COCO order

// Channels of MoveNetHead::Decode's output. Heatmaps and centre are logits
// (before the sigmoid); regression and offsets are in feature-map cells and
// interleaved as the graph stores them: channel 2k is keypoint k's y, 2k+1
// its x.
inline constexpr int64_t kHeatmapChannel = 0;      // 17 keypoint heatmaps
inline constexpr int64_t kCenterChannel = 17;      // 1 person centre
inline constexpr int64_t kRegressionChannel = 18;  // 34: centre -> keypoint
inline constexpr int64_t kOffsetChannel = 52;      // 34: sub-cell offsets
inline constexpr int64_t kHeadChannels = 86;

// One TF convolution (SAME padding) as the importer sees it.
struct ConvLayer {
  std::string node;  // the graph node it comes from, without the prefix
  int64_t in = 0, out = 0, kernel = 1, stride = 1;
  bool depthwise = false;
  bool bias = true;
  enum class Act { kNone, kRelu, kRelu6 } act = Act::kNone;
  at::Tensor weight;      // [out, in / groups, k, k], channels_last
  at::Tensor bias_value;  // [out] or undefined
};

class MoveNetEncoderImpl : public torch::nn::Module {
 public:
  using Options = MoveNetOptions;

  // Random weights until ImportMoveNetEncoder (or a checkpoint) sets them.
  // Throws c10::Error for an unknown variant.
  explicit MoveNetEncoderImpl(const MoveNetOptions& options = {});
  static std::string TypeName() { return "MoveNetEncoder"; }
  static int64_t OutputChannels(const MoveNetOptions& /*options*/) {
    return 24;
  }

  // rgb float [N, 3, S, S] in [0, 1] (S a multiple of 32) -> features
  // [N, 24, S/4, S/4] in channels_last memory.
  at::Tensor Extract(const at::Tensor& rgb);
  at::Tensor forward(const at::Tensor& rgb) { return Extract(rgb); }

  int64_t channels() const { return 24; }
  int64_t stride() const { return 4; }
  // Multiply-adds of every convolution (depthwise included) at S x S.
  model::MacCount Macs(int64_t input_size) const;

  const MoveNetOptions& options() const { return options_; }
  const std::vector<ConvLayer>& layers() const { return layers_; }

 private:
  friend absl::Status ImportMoveNetEncoder(const tfjs::GraphModel& graph,
                                           MoveNetEncoderImpl& encoder);
  at::Tensor Conv(const at::Tensor& x, size_t layer) const;

  MoveNetOptions options_;
  std::vector<ConvLayer> layers_;
  // Indices into layers_ of MobileNetV2's blocks and the FPN.
  struct Block {
    int expand = -1, depthwise = -1, project = -1;
    bool residual = false;
  };
  std::vector<Block> blocks_;  // expanded_conv, block_1 .. block_16
  int conv1_ = -1, conv_last_ = -1;
  int lateral_[4] = {-1, -1, -1, -1};  // conv2d_3, _2, _1, conv2d (s4..s32)
  int fpn_dw_[3] = {-1, -1, -1}, fpn_pw_[3] = {-1, -1, -1};
  // The graph's input normalisation: (255 rgb - mean) * scale - offset.
  at::Tensor mean_, scale_, offset_;
};
TORCH_MODULE(MoveNetEncoder);

class MoveNetHeadImpl : public torch::nn::Module {
 public:
  using Options = MoveNetOptions;

  // Random weights until ImportMoveNetHead (or a checkpoint) sets them.
  // Throws c10::Error for an unknown variant.
  explicit MoveNetHeadImpl(const MoveNetOptions& options = {});
  static std::string TypeName() { return "MoveNetHead"; }

  // features [B, 24, h, w] -> raw maps [B, 86, h, w] (channels above),
  // channels_last.
  at::Tensor Decode(const at::Tensor& features);
  at::Tensor forward(const at::Tensor& features) { return Decode(features); }
  // maps [B, 86, h, w] (h = w = input_size / 4) -> [B, 17, 3]: y, x in [0,
  // 1] of the input and the keypoint's heatmap score, as the graph decodes
  // them: the person centre is the argmax of sigmoid(centre) weighted
  // towards the image centre; each keypoint the argmax of its heatmap
  // divided by (distance to the centre's regressed position + 1.8), refined
  // by its offset.
  at::Tensor DecodeKeypoints(const at::Tensor& maps) const;

  // The pipeline's keypoints (concepts.h's optional head hooks): maps
  // [B, 86, h, w] -> [B, 17, 3] with x, y in map pixels (pixel centres at
  // integers: a normalised coordinate u is u * h - 1/2, which the pipeline
  // turns into u * S - 1/2 input pixels) and the score.
  int64_t joints() const { return kNumKeypoints; }
  at::Tensor Keypoints(const at::Tensor& maps) const;

  int64_t in_channels() const { return 24; }
  int64_t out_channels() const { return kHeadChannels; }
  int64_t upsampling() const { return 1; }
  model::MacCount Macs(int64_t h, int64_t w) const;
  // The decoding constants are the variant's: S must be its input size.
  absl::Status ValidateInputSize(int64_t input_size) const;

  const MoveNetOptions& options() const { return options_; }
  const std::vector<ConvLayer>& layers() const { return layers_; }

 private:
  friend absl::Status ImportMoveNetHead(const tfjs::GraphModel& graph,
                                        MoveNetHeadImpl& head);
  MoveNetOptions options_;
  std::vector<ConvLayer> layers_;  // per head: depthwise, 1x1 + ReLU, 1x1
  // The graph's decoding constants, [h, w, 1] maps and scalars. Before an
  // import they hold the same formulas' plain values (grids, no centre
  // prior, 1/h scale, offset 1.8).
  at::Tensor center_weight_, grid_y_, grid_x_, distance_offset_, scale_;
};
TORCH_MODULE(MoveNetHead);

// Copies every weight of `graph` (a MoveNet singlepose graph model of the
// encoder's variant) into the encoder, checking each layer's op, stride,
// padding, activation and shapes. Fails naming the node or weight that does
// not match, and any convolution weight of the graph's feature extractor that
// no layer took.
absl::Status ImportMoveNetEncoder(const tfjs::GraphModel& graph,
                                  MoveNetEncoderImpl& encoder);
// The same for the head's four branches and its decoding constants.
absl::Status ImportMoveNetHead(const tfjs::GraphModel& graph,
                               MoveNetHeadImpl& head);

struct MoveNet {
  MoveNetEncoder encoder{nullptr};
  MoveNetHead head{nullptr};
};
// Finds the model in the cache (FindModel), loads it and imports both parts;
// the modules are in eval mode.
absl::StatusOr<MoveNet> LoadMoveNet(const MoveNetOptions& options = {});

}  // namespace mapn::movenet

#endif  // MAPN_MOVENET_MOVENET_H_
