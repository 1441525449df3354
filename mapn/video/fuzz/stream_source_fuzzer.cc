// libFuzzer target: arbitrary bytes fed to the reader from memory (a custom
// AVIOContext, no temporary files), through FfmpegDecoder (as `mapn
// inspect` uses it, any codec) and FfmpegStreamSource (windows with motion
// and residual, under both damage policies). Anything but a crash, a leak
// or a sanitizer report is fine: bad input must come back as a Status.
//
// Built by clang++-14 with -fsanitize=fuzzer,address,undefined from a
// genrule (the project's C++ toolchain is g++, which has no libFuzzer); see
// BUILD and run_fuzzer.sh.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "mapn/video/ffmpeg_decoder.h"
#include "mapn/video/ffmpeg_stream_source.h"

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
  options.on_damage =
      size % 2 == 0 ? mapn::DamagePolicy::kFail : mapn::DamagePolicy::kSkipGop;
  absl::StatusOr<mapn::FfmpegStreamSource> source =
      mapn::FfmpegStreamSource::OpenMemory(data, size, "fuzz input", options);
  if (source.ok()) {
    for (int i = 0; i < 16; ++i) {
      absl::StatusOr<std::optional<mapn::GopWindow>> window = source->Next();
      if (!window.ok() || !window->has_value()) break;
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
