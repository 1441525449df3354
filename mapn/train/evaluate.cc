#include "mapn/train/evaluate.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/pose/keypoints.h"
#include "nlohmann/json.hpp"

namespace mapn::train {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Fixed(double v, int decimals) {
  return std::isfinite(v) ? absl::StrFormat("%.*f", decimals, v) : "-";
}

// OK when a runner's result covers `b` windows of `t_len` frames.
absl::Status CheckRunResult(const model::RunResult& out, int64_t b,
                            int64_t t_len) {
  if (out.heatmaps.dim() != 5 || out.heatmaps.size(0) != b ||
      out.heatmaps.size(1) != t_len ||
      static_cast<int64_t>(out.frame_macs.size()) != b * t_len) {
    return absl::InternalError(absl::StrCat(
        "Run() returned maps of shape ", model::ShapeString(out.heatmaps),
        " and ", out.frame_macs.size(), " MAC entries for ", b, " windows of ",
        t_len, " frames"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EvalResult> EvaluateWithRunner(const model::AnyPipeline& model,
                                              const RunFunction& run,
                                              PoseWindows& data,
                                              const EvalOptions& options) {
  if (options.batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("eval batch_size must be >= 1, got ", options.batch_size));
  }
  MAPN_RETURN_IF_ERROR(data.CheckFits(model.input_size(), model.joints()));
  const PoseDataset& dataset = data.dataset();
  const int joints = static_cast<int>(data.num_joints());
  PckAccumulator pck(dataset.joints,
                     options.pck ? *options.pck : PckOptionsFor(dataset.name));
  EvalResult result;
  result.label = options.label;
  result.model_type = model.type_name();
  result.dataset = dataset.name;
  if (options.keep_predictions) {
    for (const PoseSequence& seq : dataset.sequences) {
      SequencePredictions p;
      p.id = seq.id;
      p.joints.assign(static_cast<size_t>(seq.num_frames * joints * 2),
                      std::numeric_limits<float>::quiet_NaN());
      p.extracted.assign(static_cast<size_t>(seq.num_frames), 0);
      result.sequences.push_back(std::move(p));
    }
  }

  model::MacCount macs_sum;
  const Clock::time_point start = Clock::now();
  Clock::time_point last_print = start;
  for (int64_t first = 0; first < data.size(); first += options.batch_size) {
    std::vector<int64_t> ids;
    for (int64_t id = first;
         id < std::min(data.size(), first + options.batch_size); ++id) {
      ids.push_back(id);
    }
    MAPN_ASSIGN_OR_RETURN(PoseBatch batch, data.Batch(ids));
    const Clock::time_point run_start = Clock::now();
    absl::StatusOr<model::RunResult> out;
    try {
      out = run(batch);
    } catch (const c10::Error& e) {
      return absl::InternalError(
          absl::StrCat("evaluating windows ", ids.front(), "-", ids.back(),
                       ": ", e.what_without_backtrace()));
    }
    if (!out.ok()) return out.status();
    result.model_seconds += Since(run_start);
    const int64_t b = static_cast<int64_t>(ids.size());
    const int64_t t_len = batch.inputs.length();
    MAPN_RETURN_IF_ERROR(CheckRunResult(*out, b, t_len));
    MAPN_ASSIGN_OR_RETURN(const at::Tensor keypoints,
                          model.Keypoints(out->heatmaps.flatten(0, 1)));
    const at::Tensor windows = keypoints.view({b, t_len, joints, 3});
    const at::Tensor decisions =
        out->decisions.to(at::kFloat).cpu().contiguous();
    auto dec = decisions.accessor<float, 2>();
    for (int64_t i = 0; i < b; ++i) {
      const WindowInfo& info = data.window(ids[static_cast<size_t>(i)]);
      const PoseSequence& seq =
          dataset.sequences[static_cast<size_t>(info.sequence)];
      const at::Tensor in_source = ToSourcePixels(
          windows[i], batch.output_to_source[static_cast<size_t>(i)]);
      auto xy = in_source.accessor<float, 3>();
      for (int64_t t = 0; t < t_len; ++t) {
        const int64_t f = info.frames[static_cast<size_t>(t)];
        if (f < 0) continue;  // padding
        ++result.frames;
        const bool extracted = dec[i][t] > 0.5f;
        result.keyframes += extracted ? 1 : 0;
        macs_sum += out->frame_macs[static_cast<size_t>(i * t_len + t)];
        if (f >= seq.num_frames) continue;  // no label
        std::vector<float> predicted(static_cast<size_t>(joints * 2));
        for (int j = 0; j < joints; ++j) {
          predicted[static_cast<size_t>(2 * j)] = xy[t][j][0];
          predicted[static_cast<size_t>(2 * j + 1)] = xy[t][j][1];
        }
        const size_t offset = static_cast<size_t>(f * joints);
        MAPN_RETURN_IF_ERROR(pck.AddFrame(
            predicted,
            std::span<const float>(seq.joints)
                .subspan(2 * offset, static_cast<size_t>(2 * joints)),
            std::span<const uint8_t>(seq.visible)
                .subspan(offset, static_cast<size_t>(joints)),
            seq.boxes[static_cast<size_t>(f)]));
        if (options.keep_predictions) {
          SequencePredictions& p =
              result.sequences[static_cast<size_t>(info.sequence)];
          std::copy(predicted.begin(), predicted.end(),
                    p.joints.begin() + 2 * offset);
          p.extracted[static_cast<size_t>(f)] = extracted ? 1 : 0;
        }
      }
    }
    if (!options.quiet && Since(last_print) >= 10) {
      last_print = Clock::now();
      std::fprintf(stderr, "[eval] %s: %lld / %lld windows\n",
                   options.label.c_str(),
                   static_cast<long long>(ids.back() + 1),
                   static_cast<long long>(data.size()));
    }
  }
  result.total_seconds = Since(start);
  result.pck = pck.Result(options.label);
  const double frames = static_cast<double>(result.frames);
  result.keyframe_percent =
      100.0 * static_cast<double>(result.keyframes) / frames;
  result.macs_per_frame = macs_sum * (1.0 / frames);
  result.baseline_macs_per_frame = model.baseline_macs_per_frame();
  result.true_macs_ratio = result.macs_per_frame.true_macs /
                           result.baseline_macs_per_frame.true_macs;
  result.hrnet_macs_ratio = result.macs_per_frame.hrnet_macs /
                            result.baseline_macs_per_frame.hrnet_macs;
  result.model_fps = frames / result.model_seconds;
  result.end_to_end_fps = frames / result.total_seconds;
  return result;
}

absl::StatusOr<EvalResult> Evaluate(const model::AnyPipeline& model,
                                    PoseWindows& data,
                                    const EvalOptions& options) {
  model.module().eval();
  return EvaluateWithRunner(
      model,
      [&model](const PoseBatch& batch) { return model.Run(batch.inputs); },
      data, options);
}

std::string FormatEvalTable(std::span<const EvalResult> rows) {
  if (rows.empty()) return "";
  std::vector<PckResult> pck;
  for (const EvalResult& r : rows) pck.push_back(r.pck);
  const std::vector<std::string> lines =
      absl::StrSplit(FormatPckTable(pck), '\n', absl::SkipEmpty());
  // FormatPckTable ends with the header line and one line per row.
  const size_t header = lines.size() - rows.size() - 1;
  std::string out;
  for (size_t i = 0; i < header; ++i) absl::StrAppend(&out, lines[i], "\n");
  absl::StrAppend(
      &out,
      "Keyframe: frames the extractor ran on; GMACs: per frame, 2^30 "
      "multiply-adds, true / HRNet-tool convention; xBase: true MACs "
      "over the per-frame Simple Baseline's; fps: model alone / end "
      "to end\n");
  absl::StrAppend(&out, lines[header],
                  absl::StrFormat("%10s%8s%8s%7s%9s%9s\n", "Keyframe", "GMACs",
                                  "HRNet", "xBase", "fps", "e2e fps"));
  for (size_t i = 0; i < rows.size(); ++i) {
    const EvalResult& r = rows[i];
    absl::StrAppend(
        &out, lines[header + 1 + i],
        absl::StrFormat("%9s%%%8s%8s%7s%9s%9s\n", Fixed(r.keyframe_percent, 1),
                        Fixed(r.macs_per_frame.true_gmacs(), 3),
                        Fixed(r.macs_per_frame.hrnet_gmacs(), 3),
                        Fixed(r.true_macs_ratio, 3), Fixed(r.model_fps, 1),
                        Fixed(r.end_to_end_fps, 1)));
  }
  return out;
}

std::string EvalCsv(std::span<const EvalResult> rows) {
  std::vector<PckResult> pck;
  for (const EvalResult& r : rows) pck.push_back(r.pck);
  const std::vector<std::string> lines =
      absl::StrSplit(PckCsv(pck), '\n', absl::SkipEmpty());
  std::string out =
      absl::StrCat(lines[0],
                   ",keyframe_percent,true_gmacs,hrnet_gmacs,true_macs_ratio,"
                   "hrnet_macs_ratio,model_fps,end_to_end_fps\n");
  auto value = [](double v, int decimals) {
    return std::isfinite(v) ? absl::StrFormat("%.*f", decimals, v)
                            : std::string();
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const EvalResult& r = rows[i];
    absl::StrAppend(&out, lines[i + 1], ",", value(r.keyframe_percent, 2), ",",
                    value(r.macs_per_frame.true_gmacs(), 4), ",",
                    value(r.macs_per_frame.hrnet_gmacs(), 4), ",",
                    value(r.true_macs_ratio, 4), ",",
                    value(r.hrnet_macs_ratio, 4), ",", value(r.model_fps, 2),
                    ",", value(r.end_to_end_fps, 2), "\n");
  }
  return out;
}

std::string EvalJson(std::span<const EvalResult> rows) {
  std::vector<PckResult> pck;
  for (const EvalResult& r : rows) pck.push_back(r.pck);
  const nlohmann::json pck_json = nlohmann::json::parse(PckJson(pck));
  auto number = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  nlohmann::json out;
  out["gmacs_unit"] = "2^30 multiply-adds";
  out["rows"] = nlohmann::json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    const EvalResult& r = rows[i];
    nlohmann::json row;
    row["label"] = r.label;
    row["model_type"] = r.model_type;
    row["dataset"] = r.dataset;
    row["pck"] = pck_json["rows"][i];
    row["frames"] = r.frames;
    row["keyframes"] = r.keyframes;
    row["keyframe_percent"] = number(r.keyframe_percent);
    row["macs_per_frame"] = {
        {"true_gmacs", number(r.macs_per_frame.true_gmacs())},
        {"hrnet_gmacs", number(r.macs_per_frame.hrnet_gmacs())}};
    row["baseline_macs_per_frame"] = {
        {"true_gmacs", number(r.baseline_macs_per_frame.true_gmacs())},
        {"hrnet_gmacs", number(r.baseline_macs_per_frame.hrnet_gmacs())}};
    row["macs_ratio"] = {{"true", number(r.true_macs_ratio)},
                         {"hrnet", number(r.hrnet_macs_ratio)}};
    row["fps"] = {{"model", number(r.model_fps)},
                  {"end_to_end", number(r.end_to_end_fps)}};
    row["seconds"] = {{"model", number(r.model_seconds)},
                      {"total", number(r.total_seconds)}};
    out["rows"].push_back(std::move(row));
  }
  return out.dump(2) + "\n";
}

absl::Status WriteEvalCsv(const std::string& path,
                          std::span<const EvalResult> rows) {
  return WriteFileAtomically(path, EvalCsv(rows));
}

absl::Status WriteEvalJson(const std::string& path,
                           std::span<const EvalResult> rows) {
  return WriteFileAtomically(path, EvalJson(rows));
}

}  // namespace mapn::train
