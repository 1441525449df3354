#include "mapn/tfjs/golden_frames.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/video/ffmpeg_decoder.h"
#include "mapn/video/yuv.h"

extern "C" {
#include <libavutil/frame.h>
}

namespace mapn::tfjs {

const std::vector<GoldenFrame>& GoldenFrames() {
  static const auto* frames = new std::vector<GoldenFrame>{
      {"jhmdb_goalkeeper_f05",
       "jhmdb-readannotation/ReadJHMDBAnnotations/data/"
       "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi",
       5},
      {"jhmdb_goalkeeper_f30",
       "jhmdb-readannotation/ReadJHMDBAnnotations/data/"
       "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi",
       30},
      {"posetrack_000001_f02",
       "mmpose/tests/data/posetrack18/videos/000001_mpiinew_test/"
       "000001_mpiinew_test.mp4",
       2},
      {"tfjs_pose_squats_f20",
       "tfjs-models/pose-detection/test_data/pose_squats.mp4", 20},
      {"bunny_nobody_f0", "mv-extractor/vid_h264.mp4", 0},
  };
  return *frames;
}

absl::StatusOr<at::Tensor> DecodeRgbFrame(const std::string& path,
                                          int64_t index) {
  DecoderOptions options;
  options.export_motion_vectors = false;
  options.require_reader_format = false;
  MAPN_ASSIGN_OR_RETURN(std::unique_ptr<FfmpegDecoder> decoder,
                        FfmpegDecoder::Open(path, options));
  DecodedFrame frame;
  while (true) {
    MAPN_ASSIGN_OR_RETURN(const bool got, decoder->Next(&frame));
    if (!got) {
      return absl::OutOfRangeError(absl::StrCat(path, ": frame ", index,
                                                " requested, the clip has ",
                                                frame.index + 1));
    }
    if (frame.index == index) break;
  }
  const AVFrame* f = frame.frame;
  const int w = f->width, h = f->height;
  at::Tensor planes = at::empty({3, h, w}, at::kByte);
  uint8_t* p = planes.data_ptr<uint8_t>();
  const Yuv420View view{f->data[0],     f->data[1], f->data[2], f->linesize[0],
                        f->linesize[1], w,          h};
  ConvertToRgbPlanar(view, YuvToRgb::Make(/*bt709=*/false, /*full=*/false), 0,
                     h, p, p + w * h, p + 2 * w * h);
  return planes.permute({1, 2, 0}).contiguous();
}

at::Tensor SquareImage(const at::Tensor& rgb, int64_t size) {
  // Scalar double arithmetic rather than LibTorch's kernels: their SIMD
  // paths differ between CPUs, and one ulp can flip a rounded value, which
  // would change the input's hash from the one in the golden file.
  const at::Tensor src = rgb.contiguous();
  const uint8_t* p = src.data_ptr<uint8_t>();
  const int64_t h = src.size(0), w = src.size(1), side = std::max(h, w);
  const double scale = static_cast<double>(side) / static_cast<double>(size);
  std::vector<int64_t> lo(size), hi(size);
  std::vector<double> frac(size);
  for (int64_t o = 0; o < size; ++o) {
    const double at = (static_cast<double>(o) + 0.5) * scale - 0.5;
    const double f = std::floor(at);
    lo[o] = std::max<int64_t>(static_cast<int64_t>(f), 0);
    hi[o] = std::min<int64_t>(static_cast<int64_t>(std::ceil(at)), side - 1);
    frac[o] = at - f;
  }
  // The padded square: black beyond the image's bottom and right edges.
  auto value = [&](int64_t y, int64_t x, int64_t c) -> double {
    return (y < h && x < w) ? p[(y * w + x) * 3 + c] : 0.0;
  };
  at::Tensor out = at::empty({1, size, size, 3}, at::kFloat);
  float* q = out.data_ptr<float>();
  for (int64_t y = 0; y < size; ++y) {
    for (int64_t x = 0; x < size; ++x) {
      for (int64_t c = 0; c < 3; ++c) {
        const double tl = value(lo[y], lo[x], c), tr = value(lo[y], hi[x], c);
        const double bl = value(hi[y], lo[x], c), br = value(hi[y], hi[x], c);
        const double top = tl + (tr - tl) * frac[x];
        const double bottom = bl + (br - bl) * frac[x];
        const double v = std::round(top + (bottom - top) * frac[y]);
        *q++ = static_cast<float>(std::clamp(v, 0.0, 255.0));
      }
    }
  }
  return out;
}

absl::StatusOr<at::Tensor> ModelInput(const std::string& model,
                                      const at::Tensor& rgb) {
  if (rgb.dim() != 3 || rgb.size(2) != 3 || rgb.scalar_type() != at::kByte) {
    return absl::InvalidArgumentError(
        "ModelInput: rgb must be uint8 [H, W, 3]");
  }
  if (model == "movenet-lightning") {
    return SquareImage(rgb, 192).to(at::kInt);
  }
  if (model == "movenet-thunder" || model == "movenet-multipose") {
    return SquareImage(rgb, 256).to(at::kInt);
  }
  if (model == "centernet") return SquareImage(rgb, 512) / 255.0f;
  if (model == "nanodet") {
    return (SquareImage(rgb, 416) / 255.0f).permute({0, 3, 1, 2}).contiguous();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("ModelInput: unknown model \"", model, "\""));
}

std::string TensorFnv1a(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  const auto* p = static_cast<const unsigned char*>(c.data_ptr());
  const size_t bytes = c.numel() * c.element_size();
  uint64_t v = 0xcbf29ce484222325ull;  // the FNV-1a offset basis
  for (size_t i = 0; i < bytes; ++i) v = (v ^ p[i]) * 0x100000001b3ull;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace mapn::tfjs
