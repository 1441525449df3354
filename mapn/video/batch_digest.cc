// Prints a digest of the model inputs the reader and ResampleWindow make
// from each clip given, so that a change of the window layout or of the
// cropping code can be checked to leave training data bit for bit as it
// was: build this at two commits and compare the lines. For every window,
// two crops are batched with ToGopBatch (the central 74 % x 82 % box at
// 96 x 96, and the same crop rotated by 0.3 rad and flipped), and the
// bytes of the batch's rgb, motion and residual go into a 64-bit FNV-1a
// hash per clip and over all clips.
//
//   bazel run -c opt //mapn/video:batch_digest -- CLIP...
#include <cstdint>
#include <cstdio>
#include <string>

#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/resample.h"

namespace mapn {
namespace {

struct Fnv1a {
  uint64_t value = 1469598103934665603ull;
  void Add(const void* data, size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < bytes; ++i) {
      value = (value ^ p[i]) * 1099511628211ull;
    }
  }
};

// Adds the clip's batches to `clip` and `all`; returns the crops made or
// -1 after printing why the clip could not be read.
int64_t DigestClip(const std::string& path, Fnv1a* clip, Fnv1a* all) {
  auto source = FfmpegStreamSource::Open(path);
  if (!source.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(source.status().message()).c_str());
    return -1;
  }
  int64_t crops = 0;
  while (true) {
    auto window = source->Next();
    if (!window.ok()) {
      std::fprintf(stderr, "%s\n",
                   std::string(window.status().message()).c_str());
      return -1;
    }
    if (!*window) return crops;
    const float w = static_cast<float>((*window)->width());
    const float h = static_cast<float>((*window)->height());
    const Affine2D crop =
        BoxToSquare(Box{0.13f * w, 0.11f * h, 0.87f * w, 0.93f * h}, 96);
    for (const Affine2D& m :
         {crop, crop.Compose(Affine2D::RotationAbout(0.3, 47.5, 47.5))
                    .Compose(Affine2D::FlipX(96))}) {
      auto resampled = ResampleWindow(**window, m, 96);
      if (!resampled.ok()) {
        std::fprintf(stderr, "%s\n",
                     std::string(resampled.status().message()).c_str());
        return -1;
      }
      auto batch = ToGopBatch({*resampled});
      if (!batch.ok()) {
        std::fprintf(stderr, "%s\n",
                     std::string(batch.status().message()).c_str());
        return -1;
      }
      for (const at::Tensor* t :
           {&batch->rgb, &batch->motion, &batch->residual}) {
        const at::Tensor c = t->contiguous();
        clip->Add(c.data_ptr(), c.nbytes());
        all->Add(c.data_ptr(), c.nbytes());
      }
      ++crops;
    }
  }
}

}  // namespace
}  // namespace mapn

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: batch_digest CLIP...\n");
    return 2;
  }
  mapn::Fnv1a all;
  int64_t total = 0;
  for (int i = 1; i < argc; ++i) {
    mapn::Fnv1a clip;
    const int64_t crops = mapn::DigestClip(argv[i], &clip, &all);
    if (crops < 0) return 1;
    total += crops;
    std::printf("%016llx %5lld crops  %s\n",
                static_cast<unsigned long long>(clip.value),
                static_cast<long long>(crops), argv[i]);
  }
  std::printf("%016llx %5lld crops  all\n",
              static_cast<unsigned long long>(all.value),
              static_cast<long long>(total));
  return 0;
}
