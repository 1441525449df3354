// libFuzzer target: arbitrary bytes fed to the reader from memory (a custom
// AVIOContext, no temporary files), through FfmpegDecoder (as `mapn
// inspect` uses it, any codec) and FfmpegStreamSource (windows with motion
// and residual, under every damage policy). Anything but a crash, a leak
// or a sanitizer report is fine: bad input must come back as a Status. A
// window the reader does return must follow gop.h (block-grid motion and
// intra, int16 residual within the matrix bound, no vector off the block
// grid); a window that does not stops the fuzzer like a crash.
//
// Built by clang++-14 with -fsanitize=fuzzer,address,undefined from a
// genrule (the project's C++ toolchain is g++, which has no libFuzzer); see
// BUILD and run_fuzzer.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "mapn/video/ffmpeg_decoder.h"
#include "mapn/video/ffmpeg_stream_source.h"

namespace {

void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "window breaks gop.h: %s\n", what);
  std::abort();
}

bool HasShape(const at::Tensor& t, at::ScalarType type,
              const std::vector<int64_t>& shape) {
  return t.defined() && t.scalar_type() == type && t.sizes().vec() == shape;
}

void CheckWindow(const mapn::GopWindow& w,
                 const std::vector<std::vector<mapn::MotionVector>>& vectors) {
  const int64_t t = w.length(), h = w.height(), wd = w.width();
  const int64_t hb = mapn::MotionBlocks(h), wb = mapn::MotionBlocks(wd);
  Require(HasShape(w.rgb, at::kByte, {t, 3, h, wd}), "rgb shape");
  Require(HasShape(w.motion, at::kFloat, {t, 2, hb, wb}), "motion shape");
  Require(HasShape(w.intra, at::kBool, {t, 1, hb, wb}), "intra shape");
  Require(HasShape(w.residual_y, at::kShort, {t, 1, h, wd}),
          "residual_y shape");
  Require(HasShape(w.residual_uv, at::kShort,
                   {t, 2, w.chroma_high(), w.chroma_wide()}),
          "residual_uv shape");
  for (const at::Tensor* plane : {&w.residual_y, &w.residual_uv}) {
    const int16_t* r = plane->data_ptr<int16_t>();
    for (int64_t i = 0; i < plane->numel(); ++i) {
      Require(r[i] >= -255 && r[i] <= 255, "residual beyond [-255, 255]");
    }
  }
  Require(static_cast<int64_t>(vectors.size()) == t, "one list per frame");
  for (const auto& frame : vectors) {
    Require(mapn::FirstOffGridVector(frame) == nullptr,
            "a vector off the block grid was accepted");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Keep each input cheap: small pictures, one thread, a bounded number of
  // windows and frames.
  mapn::FfmpegStreamSourceOptions options;
  options.max_width = 320;
  options.max_height = 320;
  options.window_length = 4;
  options.decoder_threads = 1;
  options.parallel = false;
  options.keep_motion_vectors = true;
  options.on_damage = size % 3 == 0   ? mapn::DamagePolicy::kFail
                      : size % 3 == 1 ? mapn::DamagePolicy::kSkipGop
                                      : mapn::DamagePolicy::kConceal;
  absl::StatusOr<mapn::FfmpegStreamSource> source =
      mapn::FfmpegStreamSource::OpenMemory(data, size, "fuzz input", options);
  if (source.ok()) {
    for (int i = 0; i < 16; ++i) {
      absl::StatusOr<std::optional<mapn::GopWindow>> window = source->Next();
      if (!window.ok() || !window->has_value()) break;
      CheckWindow(**window, source->window_motion_vectors());
    }
  }

  mapn::DecoderOptions any;
  any.require_reader_format = false;
  any.max_width = 320;
  any.max_height = 320;
  any.threads = 1;
  absl::StatusOr<std::unique_ptr<mapn::FfmpegDecoder>> decoder =
      mapn::FfmpegDecoder::OpenMemory(data, size, "fuzz input", any);
  if (decoder.ok()) {
    mapn::DecodedFrame frame;
    for (int i = 0; i < 32; ++i) {
      absl::StatusOr<bool> got = (*decoder)->Next(&frame);
      if (got.ok() && !*got) break;
      if (!got.ok() && !absl::IsDataLoss(got.status())) break;
    }
  }
  return 0;
}
