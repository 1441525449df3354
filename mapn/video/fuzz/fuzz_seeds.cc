// Writes the fuzzer's seed corpus: small clips in every container and codec
// the reader meets (and some it refuses), encoded with libavcodec, into the
// directory given as the only argument. The file names are fixed: the
// genrule in BUILD lists them.
#include <cstdio>
#include <string>

#include "mapn/video/test_clips.h"

namespace {

int Write(const std::string& path, int width, int height, int frames,
          const mapn::VideoWriterOptions& options) {
  mapn::testing::ClipSpec spec;
  spec.width = width;
  spec.height = height;
  spec.frames = frames;
  spec.dx = 1.5f;
  spec.dy = -0.5f;
  const absl::Status s =
      mapn::testing::WriteClip(path, mapn::testing::MakeFrames(spec), options);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(),
                 std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUTPUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  using mapn::testing::H264Options;
  using mapn::testing::Mpeg4Options;
  mapn::VideoWriterOptions mv4 = Mpeg4Options(4);
  mv4.codec_options["flags"] = "+mv4";
  int failures = 0;
  failures += Write(dir + "/mpeg4.m4v", 48, 32, 6, Mpeg4Options(4));
  failures += Write(dir + "/mpeg4.avi", 32, 32, 5, Mpeg4Options(3));
  failures += Write(dir + "/mpeg4_4mv.mp4", 48, 48, 5, mv4);
  failures += Write(dir + "/mpeg4.mkv", 64, 48, 4, Mpeg4Options());
  failures += Write(dir + "/h264.h264", 48, 32, 6, H264Options(4));
  failures += Write(dir + "/h264.mp4", 32, 48, 5, H264Options(3));
  failures += Write(dir + "/h264_bframes.mkv", 32, 32, 6, H264Options(6, 2));
  return failures == 0 ? 0 : 1;
}
