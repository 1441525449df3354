// Measures how closely the reader's motion compensation follows the codec,
// for docs/video.md. For each clip and each interpolation filter it prints
//   exact%   inter pixels of P-frames whose residual is exactly zero in R,
//            G and B (DenseResidual), i.e. whose Y and chroma samples the
//            motion compensation predicted exactly
//   mean|r|  mean absolute residual over P-frames (grey levels)
// in two decodings:
//   pred-only  P-frames decoded WITHOUT their coded residual (FFmpeg's
//              skip_idct; MPEG-4 only, the H.264 decoder ignores it), so
//              every inter pixel is the codec's own prediction: an exact MC
//              scores exact% = 100 and mean|r| = 0;
//   normal     the usual decoding: the residual is the codec's coded
//              residual (plus deblocking for H.264), so exact% counts the
//              blocks the encoder left uncoded that the MC reproduces.
// Clips: three generated ones (MPEG-4 half-pel, MPEG-4 with four-vector
// macroblocks, H.264 at a coarse quantiser without deblocking), then every
// path given on the command line.
//
//   bazel run //mapn/video:mc_fidelity --
//   $PWD/../shared/data/real/mv-extractor/vid_mpeg4_part2.mp4
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/test_clips.h"

namespace mapn {
namespace {

struct Score {
  double exact = 0, mean_abs = 0;
  bool ok = false;
  std::string error;
};

Score Measure(const std::string& path, McFilter filter, bool prediction_only) {
  FfmpegStreamSourceOptions options;
  options.mc_filter = filter;
  options.prediction_only = prediction_only;
  options.max_width = options.max_height = 8192;
  Score score;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(path, options);
  if (!source.ok()) {
    score.error = std::string(source.status().message());
    return score;
  }
  double sum = 0;
  int64_t zero = 0, inter = 0, values = 0;
  while (true) {
    absl::StatusOr<std::optional<GopWindow>> w = source->Next();
    if (!w.ok()) {
      score.error = std::string(w.status().message());
      return score;
    }
    if (!*w) break;
    for (int64_t t = 0; t < (*w)->num_valid; ++t) {
      if ((*w)->frames[static_cast<size_t>(t)].type != FrameType::kP) continue;
      const at::Tensor r = DenseResidual(**w, t);
      // Per pixel: exact when R, G and B are all 0.
      const at::Tensor inter_pixels =
          DenseIntra(**w, t).logical_not().squeeze(0);
      sum += r.abs().sum().item<double>();
      values += r.numel();
      zero += r.eq(0).all(0).logical_and(inter_pixels).sum().item<int64_t>();
      inter += inter_pixels.sum().item<int64_t>();
    }
  }
  score.ok = true;
  score.exact =
      inter > 0 ? 100.0 * static_cast<double>(zero) / static_cast<double>(inter)
                : 0;
  score.mean_abs = values > 0 ? sum / static_cast<double>(values) : 0;
  return score;
}

void Report(const std::string& name, const std::string& path) {
  std::printf("%s\n", name.c_str());
  for (bool prediction_only : {true, false}) {
    for (McFilter filter : {McFilter::kMpeg4, McFilter::kH264,
                            McFilter::kBilinear, McFilter::kFullPel}) {
      const Score s = Measure(path, filter, prediction_only);
      if (!s.ok) {
        std::printf("  %-9s %-14s error: %s\n",
                    prediction_only ? "pred-only" : "normal",
                    McFilterName(filter), s.error.c_str());
        return;
      }
      std::printf("  %-9s %-14s exact%% %6.2f  mean|r| %6.3f\n",
                  prediction_only ? "pred-only" : "normal",
                  McFilterName(filter), s.exact, s.mean_abs);
    }
  }
}

std::string Generate(const std::string& name, float dx, float dy,
                     const VideoWriterOptions& options) {
  testing::ClipSpec spec;
  spec.width = 320;
  spec.height = 240;
  spec.frames = 48;
  spec.dx = dx;
  spec.dy = dy;
  const std::string path = testing::TestPath(name);
  const absl::Status s =
      testing::WriteClip(path, testing::MakeFrames(spec), options);
  if (!s.ok())
    std::fprintf(stderr, "%s: %s\n", name.c_str(),
                 std::string(s.message()).c_str());
  return path;
}

}  // namespace
}  // namespace mapn

int main(int argc, char** argv) {
  using namespace mapn;  // NOLINT: a measurement tool
  VideoWriterOptions four_mv = testing::Mpeg4Options();
  four_mv.codec_options["flags"] = "+mv4";
  VideoWriterOptions coarse = testing::H264Options();
  coarse.codec_options.erase("crf");
  coarse.codec_options["x264-params"] =
      "qp=40:no-deblock=1:ref=1:weightp=0:threads=1";
  Report(
      "generated MPEG-4 (q 1), pattern moving (1.5, -0.75) px/frame, "
      "320x240x48",
      Generate("fidelity_mpeg4.mp4", 1.5f, -0.75f, testing::Mpeg4Options()));
  Report(
      "generated MPEG-4 +mv4 (four-vector macroblocks), (-0.5, 1.25) px/frame",
      Generate("fidelity_mpeg4_4mv.mp4", -0.5f, 1.25f, four_mv));
  Report(
      "generated H.264 (x264 qp 40, no deblocking, 1 ref), (0.75, 1.25) "
      "px/frame",
      Generate("fidelity_h264.mp4", 0.75f, 1.25f, coarse));
  Report(
      "generated H.264 (x264 crf 18, deblocking, 1 ref), (0.75, 1.25) px/frame",
      Generate("fidelity_h264_crf18.mp4", 0.75f, 1.25f,
               testing::H264Options()));
  for (int i = 1; i < argc; ++i) Report(argv[i], argv[i]);
  return 0;
}
