#include "mapn/model/pipeline_support.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace mapn::model {
namespace {

absl::Status CheckTensor(const char* name, const at::Tensor& t,
                         std::vector<int64_t> expected, at::ScalarType type) {
  std::string want = "[";
  for (size_t i = 0; i < expected.size(); ++i) {
    absl::StrAppend(&want, i > 0 ? ", " : "", expected[i]);
  }
  want += "]";
  if (!t.defined()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is undefined; expected ", want));
  }
  if (t.sizes() != c10::IntArrayRef(expected)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has shape ", ShapeString(t), "; expected ", want));
  }
  if (t.scalar_type() != type) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has dtype ", c10::toString(t.scalar_type()),
                     "; expected ", c10::toString(type)));
  }
  return absl::OkStatus();
}

}  // namespace

MacCount RunResult::total() const {
  MacCount sum;
  for (const MacCount& m : frame_macs) sum += m;
  return sum;
}

at::Tensor ApplyKeyframeAndPadding(const at::Tensor& g,
                                   const at::Tensor& valid) {
  const at::Tensor first = at::ones({g.size(0), 1}, g.options());
  if (g.size(1) == 1) return first;
  const at::Tensor rest = g.slice(1, 1) * valid.slice(1, 1).to(g.dtype());
  return at::cat({first, rest}, 1);
}

absl::Status CheckWiring(const WiringFacts& f) {
  if (f.input_size < f.extractor_stride ||
      f.input_size % f.extractor_stride != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input_size ", f.input_size, " is not a positive multiple of ",
        f.extractor, "'s stride ", f.extractor_stride));
  }
  if (f.propagator_in_channels != 0 &&
      f.propagator_in_channels != f.extractor_channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        f.extractor, " gives ", f.extractor_channels, " channels but ",
        f.propagator, " takes ", f.propagator_in_channels,
        " (propagator.in_channels; 0 wires it to the extractor's)"));
  }
  if (f.head_in_channels != f.extractor_channels) {
    return absl::InvalidArgumentError(
        absl::StrCat(f.extractor, " gives ", f.extractor_channels,
                     " channels but ", f.head, " decodes ", f.head_in_channels,
                     " (head.in_channels; 0 wires it to the extractor's)"));
  }
  return absl::OkStatus();
}

std::string ShapeString(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string out = "[";
  for (int64_t d = 0; d < t.dim(); ++d) {
    absl::StrAppend(&out, d > 0 ? ", " : "", t.size(d));
  }
  return out + "]";
}

absl::Status ValidateGopBatch(const GopBatch& batch, int64_t s) {
  if (!batch.rgb.defined() || batch.rgb.dim() != 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GopBatch.rgb must be [B, T, 3, S, S], got ", ShapeString(batch.rgb)));
  }
  const int64_t b = batch.rgb.size(0);
  const int64_t t = batch.rgb.size(1);
  if (b < 1 || t < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GopBatch is empty: rgb has shape ", ShapeString(batch.rgb)));
  }
  absl::Status status =
      CheckTensor("GopBatch.rgb", batch.rgb, {b, t, 3, s, s}, at::kFloat);
  if (status.ok()) {
    status = CheckTensor("GopBatch.motion", batch.motion, {b, t, 2, s, s},
                         at::kFloat);
  }
  if (status.ok()) {
    status = CheckTensor("GopBatch.residual", batch.residual, {b, t, 3, s, s},
                         at::kFloat);
  }
  if (status.ok()) {
    status = CheckTensor("GopBatch.valid", batch.valid, {b, t}, at::kBool);
  }
  if (!status.ok()) return status;
  for (const auto& [name, tensor] :
       {std::pair<const char*, const at::Tensor*>{"motion", &batch.motion},
        {"residual", &batch.residual},
        {"valid", &batch.valid}}) {
    if (tensor->device() != batch.rgb.device()) {
      return absl::InvalidArgumentError(
          absl::StrCat("GopBatch.", name, " is on ", tensor->device().str(),
                       " but rgb on ", batch.rgb.device().str()));
    }
  }
  if (!batch.valid.select(1, 0).all().item<bool>()) {
    return absl::InvalidArgumentError(
        "GopBatch.valid[:, 0] must be true: frame 0 of every window is its "
        "keyframe");
  }
  return absl::OkStatus();
}

absl::Status ValidateDecisions(const at::Tensor& g_mix, const GopBatch& batch,
                               const std::string& policy) {
  if (!g_mix.defined() || g_mix.sizes() != batch.valid.sizes()) {
    return absl::FailedPreconditionError(absl::StrCat(
        policy, " returned g_mix of shape ", ShapeString(g_mix),
        " for a window batch of shape ", ShapeString(batch.valid)));
  }
  if (!(g_mix.select(1, 0) > 0.5).all().item<bool>()) {
    return absl::FailedPreconditionError(absl::StrCat(
        policy, " did not select frame 0 (the keyframe) of every window"));
  }
  return absl::OkStatus();
}

absl::Status ValidateStreamFrame(const StreamFrame& frame, int64_t s) {
  if (!frame.rgb.defined() || frame.rgb.dim() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "StreamFrame.rgb must be [B, 3, S, S], got ", ShapeString(frame.rgb)));
  }
  const int64_t b = frame.rgb.size(0);
  absl::Status status =
      CheckTensor("StreamFrame.rgb", frame.rgb, {b, 3, s, s}, at::kFloat);
  if (status.ok()) {
    status = CheckTensor("StreamFrame.motion", frame.motion, {b, 2, s, s},
                         at::kFloat);
  }
  if (status.ok()) {
    status = CheckTensor("StreamFrame.residual", frame.residual, {b, 3, s, s},
                         at::kFloat);
  }
  return status;
}

at::Tensor TrueIndices(const at::Tensor& mask, int64_t* count) {
  const at::Tensor index = mask.nonzero().flatten();
  *count = index.size(0);
  return index;
}

at::Tensor ScatterRows(const at::Tensor& rows, const at::Tensor& index,
                       int64_t total_rows) {
  std::vector<int64_t> shape(rows.sizes().begin(), rows.sizes().end());
  shape[0] = total_rows;
  return at::zeros(shape, rows.options()).index_copy(0, index, rows);
}

}  // namespace mapn::model
