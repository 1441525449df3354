// File: pipeline_support.h
//
// The non-template parts of pipeline.h: the result and option types of
// Pipeline::Run / Forward / streaming, validation of a GopBatch against a
// model's input size, and the row-subset helpers that let the pipeline run
// the extractor only on the frames whose decision is 1. Kept out of the
// template so they compile once.
//
// Example:
//
//   MAPN_RETURN_IF_ERROR(ValidateGopBatch(batch, config.input_size));
#ifndef MAPN_MODEL_PIPELINE_SUPPORT_H_
#define MAPN_MODEL_PIPELINE_SUPPORT_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mapn/model/concepts.h"
#include "mapn/model/flops.h"
#include "mapn/video/gop.h"

namespace mapn::model {

// Inference over windows (Pipeline::Run).
struct RunResult {
  at::Tensor heatmaps;   // float [B, T, J, H, W]; zeros for padding frames
  at::Tensor decisions;  // float [B, T]: 1 where the extractor ran
  // What was executed for each frame, row-major [b * T + t]: the extractor
  // where it ran, the propagator step (frames >= 1) and the head wherever
  // they ran, the policy's cost spread evenly over the window's valid frames.
  std::vector<MacCount> frame_macs;
  int64_t length = 0;  // T

  MacCount macs(int64_t b, int64_t t) const {
    return frame_macs[b * length + t];
  }
  MacCount total() const;
};

// Training forward (Pipeline::Forward).
struct ForwardOptions {
  // Decisions to use instead of the policy's, float [B, T] of 0/1 (e.g.
  // random keyframes while the propagator trains); frame 0 and padding are
  // still forced to 1 and 0. Undefined: ask the policy.
  at::Tensor decisions;
  // Stage 1: every valid frame through extractor and head alone (the
  // per-frame Simple Baseline); no propagator, no policy.
  bool single_frame = false;
  // How the policy turns logits into g_mix.
  GateMode gate_mode = GateMode::kTraining;
  // The extractor's output for every frame, float [B, T, C, h, w], given
  // instead of running the extractor (a frozen encoder's features computed
  // once and cached, as distillation does: mapn/distill); frames whose
  // g_mix is 0 may hold anything. Undefined: the extractor runs.
  at::Tensor features;
};

struct ForwardResult {
  at::Tensor heatmaps;  // float [B, T, J, H, W]; zeros for padding frames
  at::Tensor g_mix;     // float [B, T], eq. (14); differentiable when learned
  at::Tensor logits;    // float [B, T] from a learned policy, else undefined
};

// One frame of a live stream (PipelineStream::Push).
struct StreamFrame {
  at::Tensor rgb;       // float [B, 3, S, S] in [0, 1]
  at::Tensor motion;    // float [B, 2, S, S], pixels (gop.h convention)
  at::Tensor residual;  // float [B, 3, S, S], grey levels / 255
  // Starts a new window (an I-frame). The stream also starts one itself
  // after window_length frames, as the reader cuts long GOPs.
  bool keyframe = false;
};

struct StreamOutput {
  at::Tensor heatmap;   // float [B, J, H, W]
  at::Tensor decision;  // float [B]
  MacCount macs;        // executed for this frame, per batch element
};

// InvalidArgument naming the field and the shapes when `batch` is not a
// float GopBatch of S x S frames ([B, T, 3, S, S] rgb and residual,
// [B, T, 2, S, S] motion, bool [B, T] valid with frame 0 valid, one device).
absl::Status ValidateGopBatch(const GopBatch& batch, int64_t input_size);

// FailedPrecondition naming `policy` when its g_mix breaks the SkipPolicy
// contract: undefined, not [B, T] like batch.valid, or frame 0 not 1.
absl::Status ValidateDecisions(const at::Tensor& g_mix, const GopBatch& batch,
                               const std::string& policy);

// The same for one stream frame.
absl::Status ValidateStreamFrame(const StreamFrame& frame, int64_t input_size);

// Sets frame 0 of g [B, T] to 1 and padding frames (valid false) to 0,
// keeping the gradient of the other entries. Every SkipPolicy's output obeys
// this; Forward() applies it to decision overrides too.
at::Tensor ApplyKeyframeAndPadding(const at::Tensor& g,
                                   const at::Tensor& valid);

// What a pipeline checks about its components when it is built.
struct WiringFacts {
  int64_t input_size = 0;
  std::string extractor;  // component names, for the messages
  int64_t extractor_channels = 0;
  int64_t extractor_stride = 1;
  std::string propagator;
  int64_t propagator_in_channels = 0;  // 0: any
  std::string head;
  int64_t head_in_channels = 0;
};

// InvalidArgument naming both sides when the input size is not a multiple
// of the extractor's stride, or the propagator or the head takes another
// width than the extractor gives.
absl::Status CheckWiring(const WiringFacts& facts);

// "[2, 12, 3, 64, 64]", or "undefined".
std::string ShapeString(const at::Tensor& t);

// Indices (int64, on `mask`'s device) of the true entries of a bool [N]
// mask; `count` receives their number.
at::Tensor TrueIndices(const at::Tensor& mask, int64_t* count);

// rows [n, ...] scattered into a zero tensor of `total_rows` rows at
// `index` (differentiable with respect to `rows`).
at::Tensor ScatterRows(const at::Tensor& rows, const at::Tensor& index,
                       int64_t total_rows);

}  // namespace mapn::model

#endif  // MAPN_MODEL_PIPELINE_SUPPORT_H_
