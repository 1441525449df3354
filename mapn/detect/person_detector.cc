#include "mapn/detect/person_detector.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/tfjs/model_files.h"

namespace mapn::detect {
namespace {

constexpr int kCocoClasses = 80;
constexpr int kCocoPerson = 0;     // COCO's first class, in both detectors
constexpr int kNanoDetBins = 11;   // distances 0..10 strides per side
constexpr int kMultiPoseRow = 56;  // 17 x 3 keypoint values, 4 box, score

std::string ShapeText(const at::Tensor& t) {
  std::string out = "[";
  for (int64_t d = 0; d < t.dim(); ++d) {
    absl::StrAppend(&out, d > 0 ? ", " : "", t.size(d));
  }
  return out + "]";
}

Box ClipToFrame(const Box& b, int64_t width, int64_t height) {
  const float w = static_cast<float>(width), h = static_cast<float>(height);
  return Box{std::clamp(b.x1, 0.0f, w), std::clamp(b.y1, 0.0f, h),
             std::clamp(b.x2, 0.0f, w), std::clamp(b.y2, 0.0f, h)};
}

bool NonEmpty(const Box& b) { return b.x2 > b.x1 && b.y2 > b.y1; }

}  // namespace

std::string DetectorModelName(DetectorModel model) {
  switch (model) {
    case DetectorModel::kCenterNet:
      return "centernet";
    case DetectorModel::kNanoDet:
      return "nanodet";
    case DetectorModel::kMultiPose:
      return "multipose";
  }
  return "unknown";
}

absl::StatusOr<DetectorModel> ParseDetectorModel(const std::string& name) {
  for (DetectorModel m : {kCenterNet, kNanoDet, kMultiPose}) {
    if (name == DetectorModelName(m)) return m;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown person detector '", name,
                   "' (known: centernet, nanodet, multipose)"));
}

std::string DetectorModelFile(DetectorModel model) {
  return model == kMultiPose ? "movenet-multipose" : DetectorModelName(model);
}

int64_t DetectorInputSize(DetectorModel model) {
  switch (model) {
    case DetectorModel::kCenterNet:
      return 512;
    case DetectorModel::kNanoDet:
      return 416;
    case DetectorModel::kMultiPose:
      return 256;
  }
  return 0;
}

double Letterbox::scale() const {
  return static_cast<double>(std::max(width, height)) /
         static_cast<double>(size);
}

Box Letterbox::ToSource(const Box& b) const {
  const float s = static_cast<float>(scale());
  return ClipToFrame(Box{b.x1 * s, b.y1 * s, b.x2 * s, b.y2 * s}, width,
                     height);
}

Box Letterbox::NormalizedToSource(const Box& b) const {
  const float side = static_cast<float>(std::max(width, height));
  return ClipToFrame(Box{b.x1 * side, b.y1 * side, b.x2 * side, b.y2 * side},
                     width, height);
}

at::Tensor LetterboxImage(const at::Tensor& rgb, int64_t size) {
  const int64_t h = rgb.size(1), w = rgb.size(2), side = std::max(h, w);
  const double factor = static_cast<double>(size) / static_cast<double>(side);
  // The rows and columns of the square's picture part (the rest is black):
  // with half-pixel centres, output pixel o samples (o + 0.5) / factor -
  // 0.5, which is inside the picture for o < ceil(h * factor).
  const int64_t out_h = std::min<int64_t>(
      size, static_cast<int64_t>(std::ceil(static_cast<double>(h) * factor)));
  const int64_t out_w = std::min<int64_t>(
      size, static_cast<int64_t>(std::ceil(static_cast<double>(w) * factor)));
  const at::Tensor image = rgb.to(at::kFloat).unsqueeze(0);
  const at::Tensor resized = at::upsample_bilinear2d(
      image, {out_h, out_w}, /*align_corners=*/false, factor, factor);
  at::Tensor square = at::zeros({1, 3, size, size}, at::kFloat);
  square.narrow(2, 0, out_h).narrow(3, 0, out_w).copy_(resized);
  return square.permute({0, 2, 3, 1}).contiguous();
}

std::vector<PersonBox> NonMaxSuppression(std::vector<PersonBox> boxes,
                                         float iou, int max_boxes) {
  std::stable_sort(
      boxes.begin(), boxes.end(),
      [](const PersonBox& a, const PersonBox& b) { return a.score > b.score; });
  std::vector<PersonBox> kept;
  for (const PersonBox& candidate : boxes) {
    if (static_cast<int>(kept.size()) >= max_boxes) break;
    if (!NonEmpty(candidate.box)) continue;
    const bool overlaps =
        std::any_of(kept.begin(), kept.end(), [&](const PersonBox& k) {
          return IntersectionOverUnion(k.box, candidate.box) > iou;
        });
    if (!overlaps) kept.push_back(candidate);
  }
  return kept;
}

absl::StatusOr<std::vector<PersonBox>> DecodeCenterNet(
    const at::Tensor& detections, const Letterbox& letterbox, float min_score) {
  if (detections.dim() != 3 || detections.size(0) != 1 ||
      detections.size(2) != 6) {
    return absl::InvalidArgumentError(absl::StrCat(
        "centernet detections must be [1, N, 6], not ", ShapeText(detections)));
  }
  const at::Tensor d = detections[0].to(at::kFloat).contiguous();
  auto a = d.accessor<float, 2>();
  std::vector<PersonBox> out;
  for (int64_t i = 0; i < d.size(0); ++i) {
    const float score = a[i][4];
    if (std::lround(a[i][5]) != kCocoPerson || !(score >= min_score)) continue;
    const Box box = letterbox.ToSource(Box{a[i][0], a[i][1], a[i][2], a[i][3]});
    if (NonEmpty(box)) out.push_back({box, score});
  }
  return out;
}

absl::StatusOr<std::vector<PersonBox>> DecodeNanoDet(
    const std::vector<at::Tensor>& outputs, const Letterbox& letterbox,
    float min_score) {
  // Scores [1, L², 80] and distance logits [1, L², 44], paired by L².
  std::map<int64_t, at::Tensor> scores, distances;
  for (const at::Tensor& t : outputs) {
    if (t.dim() != 3 || t.size(0) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "nanodet outputs must be [1, cells, 80 or 44], not ", ShapeText(t)));
    }
    if (t.size(2) == kCocoClasses) {
      scores[t.size(1)] = t;
    } else if (t.size(2) == 4 * kNanoDetBins) {
      distances[t.size(1)] = t;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("nanodet output of shape ", ShapeText(t),
                       " is neither scores (80 "
                       "classes) nor box distributions (4 x 11)"));
    }
  }
  if (scores.empty() || scores.size() != distances.size()) {
    return absl::InvalidArgumentError(
        "nanodet outputs must pair a score and a box tensor per level");
  }
  std::vector<PersonBox> out;
  for (const auto& [cells, score_t] : scores) {
    auto it = distances.find(cells);
    const int64_t side = std::llround(std::sqrt(static_cast<double>(cells)));
    if (it == distances.end() || side * side != cells ||
        letterbox.size % side != 0) {
      return absl::InvalidArgumentError(absl::StrCat("nanodet level of ", cells,
                                                     " cells does not fit a ",
                                                     letterbox.size, " input"));
    }
    const float stride = static_cast<float>(letterbox.size / side);
    const at::Tensor person =
        score_t[0].select(1, kCocoPerson).to(at::kFloat).contiguous();
    // Softmax over each side's 11 bins, then the expected distance.
    const at::Tensor probs = at::softmax(
        it->second[0].to(at::kFloat).view({cells, 4, kNanoDetBins}), 2);
    const at::Tensor bins = at::arange(kNanoDetBins, at::kFloat);
    const at::Tensor expected = (probs * bins).sum(2).contiguous();  // [L², 4]
    auto p = person.accessor<float, 1>();
    auto e = expected.accessor<float, 2>();
    for (int64_t i = 0; i < cells; ++i) {
      if (!(p[i] >= min_score)) continue;
      const float cx = (static_cast<float>(i % side) + 0.5f) * stride;
      const float cy = (static_cast<float>(i / side) + 0.5f) * stride;
      const Box input{cx - e[i][0] * stride, cy - e[i][1] * stride,
                      cx + e[i][2] * stride, cy + e[i][3] * stride};
      const Box box = letterbox.ToSource(input);
      if (NonEmpty(box)) out.push_back({box, p[i]});
    }
  }
  return out;
}

absl::StatusOr<std::vector<PersonBox>> DecodeMultiPose(
    const at::Tensor& output, const Letterbox& letterbox, float min_score) {
  if (output.dim() != 3 || output.size(0) != 1 ||
      output.size(2) != kMultiPoseRow) {
    return absl::InvalidArgumentError(absl::StrCat(
        "multipose output must be [1, N, 56], not ", ShapeText(output)));
  }
  const at::Tensor o = output[0].to(at::kFloat).contiguous();
  auto a = o.accessor<float, 2>();
  std::vector<PersonBox> out;
  for (int64_t i = 0; i < o.size(0); ++i) {
    const float score = a[i][55];
    if (!(score >= min_score)) continue;
    // (ymin, xmin, ymax, xmax) in [0, 1] of the input square.
    const Box box = letterbox.NormalizedToSource(
        Box{a[i][52], a[i][51], a[i][54], a[i][53]});
    if (NonEmpty(box)) out.push_back({box, score});
  }
  return out;
}

absl::StatusOr<std::unique_ptr<GraphPersonDetector>> GraphPersonDetector::Load(
    const PersonDetectorOptions& options) {
  MAPN_ASSIGN_OR_RETURN(const std::string json,
                        tfjs::FindModel(DetectorModelFile(options.model)));
  MAPN_ASSIGN_OR_RETURN(tfjs::GraphModel graph, tfjs::GraphModel::Load(json));
  return std::unique_ptr<GraphPersonDetector>(
      new GraphPersonDetector(options, std::move(graph)));
}

absl::StatusOr<std::vector<PersonBox>> GraphPersonDetector::Detect(
    const at::Tensor& rgb) const {
  if (rgb.dim() != 3 || rgb.size(0) != 3 || rgb.scalar_type() != at::kByte ||
      rgb.size(1) < 1 || rgb.size(2) < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a person detector takes uint8 [3, H, W] frames, not ",
                     ShapeText(rgb)));
  }
  const at::NoGradGuard no_grad;
  const int64_t size = DetectorInputSize(options_.model);
  const Letterbox letterbox{rgb.size(2), rgb.size(1), size};
  const at::Tensor image = LetterboxImage(rgb, size);  // [1, S, S, 3], 0-255
  std::vector<PersonBox> candidates;
  switch (options_.model) {
    case DetectorModel::kCenterNet: {
      MAPN_ASSIGN_OR_RETURN(
          std::vector<at::Tensor> out,
          graph_.Run({{"tower_0/images", image}}, {"tower_0/detections"}));
      MAPN_ASSIGN_OR_RETURN(
          candidates,
          DecodeCenterNet(out[0], letterbox, options_.candidate_score));
      break;
    }
    case DetectorModel::kNanoDet: {
      const at::Tensor nchw =
          (image / 255.0f).permute({0, 3, 1, 2}).contiguous();
      MAPN_ASSIGN_OR_RETURN(std::vector<at::Tensor> out,
                            graph_.Run({{"input_1", nchw}}));
      MAPN_ASSIGN_OR_RETURN(
          candidates, DecodeNanoDet(out, letterbox, options_.candidate_score));
      break;
    }
    case DetectorModel::kMultiPose: {
      MAPN_ASSIGN_OR_RETURN(
          std::vector<at::Tensor> out,
          graph_.Run({{"input", at::round(image).to(at::kInt)}}));
      MAPN_ASSIGN_OR_RETURN(
          candidates,
          DecodeMultiPose(out[0], letterbox, options_.candidate_score));
      break;
    }
  }
  return NonMaxSuppression(std::move(candidates), options_.nms_iou,
                           options_.max_people);
}

std::string GraphPersonDetector::Describe() const {
  return DetectorModelName(options_.model);
}

}  // namespace mapn::detect
