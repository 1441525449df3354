// `mapn inspect VIDEO`: what a video holds, as the compressed-domain reader
// sees it (codec, size, frames, GOPs, frame types, motion vectors per
// frame), whether the reader accepts it, and with --dump the decoded frame |
// motion field | residual of each frame as PNG rows like the paper's
// Figure 6.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/cli/subcommand.h"
#include "mapn/video/ffmpeg_decoder.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/motion_vectors.h"
#include "mapn/viz/flow_color.h"
#include "mapn/viz/panels.h"
#include "mapn/viz/png.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, dump, "",
          "Directory to write one PNG per frame into: decoded frame | motion "
          "field (colour wheel, see legend.png) | residual (mid-grey = 0).");
ABSL_FLAG(bool, json, false, "Print the report as JSON instead of text.");
ABSL_FLAG(int, dump_frames, 48, "At most this many frames are dumped.");
ABSL_FLAG(int, window_length, 12,
          "Window length (T) the reader uses for --dump.");
ABSL_FLAG(double, mv_scale, 0.0,
          "Motion (pixels) drawn at full colour in --dump; 0 picks each "
          "window's largest motion.");
ABSL_FLAG(double, residual_gain, 2.0,
          "Residuals are drawn as 128 + gain * residual in --dump.");
ABSL_FLAG(bool, frames, true, "List per-frame motion-vector statistics.");
ABSL_FLAG(int, inspect_stream, -1,
          "The video stream to report on, by the container's stream index; "
          "default: the one FFmpeg picks as best (what mapn estimate reads).");

namespace mapn::cli {

extern const Subcommand kInspectCommand;  // defined at the end of the file

namespace {

struct FrameStats {
  int64_t index = 0;
  char type = 'I';
  double timestamp_s = 0;
  int64_t vectors = 0;        // all exported vectors
  int64_t past_vectors = 0;   // source < 0
  double intra_fraction = 0;  // of the picture, P- and B-frames
  double mean_magnitude = 0;  // pixels, over vectors
  double max_magnitude = 0;
  double moving_fraction = 0;  // of vectors with |mv| >= 0.5 px
};

struct Report {
  StreamInfo info;
  std::string container;
  std::vector<FrameStats> frames;
  std::vector<int64_t> gop_lengths;
  int64_t count_i = 0, count_p = 0, count_b = 0, count_other = 0;
  std::string reader_status = "ok";
  std::string decode_error;  // a failure part-way through the stream
};

absl::StatusOr<Report> BuildReport(const std::string& path, int stream) {
  DecoderOptions options;
  options.stream_index = stream;
  options.require_reader_format = false;
  options.max_width = options.max_height = 16384;
  absl::StatusOr<std::unique_ptr<FfmpegDecoder>> decoder =
      FfmpegDecoder::Open(path, options);
  if (!decoder.ok()) return decoder.status();
  Report report;
  report.info = (*decoder)->info();
  report.container = (*decoder)->container();
  DecodedFrame frame;
  while (true) {
    absl::StatusOr<bool> got = (*decoder)->Next(&frame);
    if (!got.ok()) {
      report.decode_error = std::string(got.status().message());
      if (absl::IsDataLoss(got.status()))
        continue;  // carries on after a bad packet
      break;
    }
    if (!*got) break;
    FrameStats s;
    s.index = frame.index;
    s.type = frame.picture_type;
    s.timestamp_s = frame.timestamp_s;
    s.vectors = static_cast<int64_t>(frame.motion_vectors.size());
    double sum = 0;
    int64_t moving = 0;
    for (const MotionVector& mv : frame.motion_vectors) {
      const double m = std::hypot(mv.dx(), mv.dy());
      sum += m;
      s.max_magnitude = std::max(s.max_magnitude, m);
      if (m >= 0.5) ++moving;
      if (mv.source < 0) ++s.past_vectors;
    }
    if (s.vectors > 0) {
      s.mean_magnitude = sum / static_cast<double>(s.vectors);
      s.moving_fraction =
          static_cast<double>(moving) / static_cast<double>(s.vectors);
    }
    if (frame.type != FrameType::kI) {
      const MotionGrid grid = MotionGrid::Build(
          frame.motion_vectors, static_cast<int>(report.info.width),
          static_cast<int>(report.info.height));
      int64_t cells = 0, intra = 0;
      for (int r = 0; r * MotionGrid::kCell < grid.height(); ++r) {
        for (int c = 0; c * MotionGrid::kCell < grid.width(); ++c) {
          ++cells;
          if (!grid.at(r, c).has_vector) ++intra;
        }
      }
      s.intra_fraction = cells > 0 ? static_cast<double>(intra) / cells : 0;
    }
    switch (frame.type) {
      case FrameType::kI:
        ++report.count_i;
        report.gop_lengths.push_back(0);
        break;
      case FrameType::kP:
        if (frame.picture_type == 'P')
          ++report.count_p;
        else
          ++report.count_other;
        break;
      case FrameType::kB:
        ++report.count_b;
        break;
      case FrameType::kPadding:
        break;
    }
    if (report.gop_lengths.empty()) report.gop_lengths.push_back(0);
    ++report.gop_lengths.back();
    report.frames.push_back(s);
  }
  // Whether FfmpegStreamSource takes the file, and why not.
  FfmpegStreamSourceOptions source_options;
  source_options.stream_index = stream;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(path, source_options);
  if (!source.ok()) {
    report.reader_status = absl::StrCat("refused: ", source.status().message());
  } else if (report.count_b > 0) {
    report.reader_status = absl::StrCat("refused: ", report.count_b,
                                        " B-frames; ", TranscodeHint(path));
  } else if (report.count_other > 0) {
    report.reader_status =
        absl::StrCat("refused: ", report.count_other,
                     " frames of types other than I/P (MPEG-4 sprites); ",
                     TranscodeHint(path));
  }
  return report;
}

// "12 x 28, 6" for GOP lengths.
std::string RunLengths(const std::vector<int64_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j] == v[i]) ++j;
    absl::StrAppend(&out, out.empty() ? "" : ", ", v[i]);
    if (j - i > 1) absl::StrAppend(&out, " x ", j - i);
    i = j;
  }
  return out.empty() ? "-" : out;
}

void PrintText(const std::string& path, const Report& r, bool frames) {
  std::cout << "file:        " << path << "\n"
            << "container:   " << r.container << "\n"
            << "stream:      " << r.info.stream_index << " (of "
            << r.info.video_streams
            << (r.info.video_streams == 1 ? " video stream" : " video streams")
            << (r.info.video_streams > 1 ? "; --stream chooses another" : "")
            << ")\n"
            << "codec:       " << r.info.codec << "\n"
            << "resolution:  " << r.info.width << "x" << r.info.height << "\n"
            << "frame rate:  "
            << (r.info.frame_rate > 0
                    ? absl::StrFormat("%.3f fps", r.info.frame_rate)
                    : std::string("unknown"))
            << "\n"
            << "frames:      " << r.frames.size() << " decoded"
            << (r.info.frame_count_hint > 0
                    ? absl::StrCat(" (container: ", r.info.frame_count_hint,
                                   ")")
                    : std::string())
            << "\n"
            << "frame types: I " << r.count_i << ", P " << r.count_p << ", B "
            << r.count_b;
  if (r.count_other > 0) std::cout << ", other " << r.count_other;
  std::cout << "\n"
            << "GOPs:        " << r.gop_lengths.size() << " (lengths "
            << RunLengths(r.gop_lengths) << ")\n"
            << "reader:      " << r.reader_status << "\n";
  if (!r.decode_error.empty())
    std::cout << "damage:      " << r.decode_error << "\n";
  if (!frames) return;
  std::cout
      << "\n frame type  time_s  vectors  intra%  moving%  mean|mv|  max|mv|\n";
  for (const FrameStats& f : r.frames) {
    std::cout << absl::StrFormat(
        "%6d  %c  %7.3f  %7d  %6.1f  %7.1f  %8.2f  %7.2f\n", f.index, f.type,
        f.timestamp_s, f.vectors, 100 * f.intra_fraction,
        100 * f.moving_fraction, f.mean_magnitude, f.max_magnitude);
  }
}

void PrintJson(const std::string& path, const Report& r, bool frames) {
  nlohmann::json j;
  j["file"] = path;
  j["container"] = r.container;
  j["stream_index"] = r.info.stream_index;
  j["video_streams"] = r.info.video_streams;
  j["codec"] = r.info.codec;
  j["width"] = r.info.width;
  j["height"] = r.info.height;
  j["frame_rate"] = r.info.frame_rate;
  j["frames"] = r.frames.size();
  j["container_frame_count"] = r.info.frame_count_hint;
  j["frame_types"] = {{"I", r.count_i},
                      {"P", r.count_p},
                      {"B", r.count_b},
                      {"other", r.count_other}};
  j["gop_lengths"] = r.gop_lengths;
  j["reader"] = r.reader_status;
  if (!r.decode_error.empty()) j["damage"] = r.decode_error;
  if (frames) {
    nlohmann::json list = nlohmann::json::array();
    for (const FrameStats& f : r.frames) {
      list.push_back({{"index", f.index},
                      {"type", std::string(1, f.type)},
                      {"time_s", std::isnan(f.timestamp_s)
                                     ? nlohmann::json(nullptr)
                                     : nlohmann::json(f.timestamp_s)},
                      {"vectors", f.vectors},
                      {"past_vectors", f.past_vectors},
                      {"intra_fraction", f.intra_fraction},
                      {"moving_fraction", f.moving_fraction},
                      {"mean_magnitude", f.mean_magnitude},
                      {"max_magnitude", f.max_magnitude}});
    }
    j["per_frame"] = list;
  }
  std::cout << j.dump(2) << std::endl;
}

absl::Status MakeDirectory(const std::string& dir) {
  std::string partial;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      partial = dir.substr(0, i);
      if (!partial.empty() && ::mkdir(partial.c_str(), 0755) != 0 &&
          errno != EEXIST) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot create --dump directory '", partial,
                         "': ", std::strerror(errno)));
      }
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dump '", dir, "' is not a directory"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Dump(const std::string& path, const std::string& dir,
                         int stream) {
  if (absl::Status s = MakeDirectory(dir); !s.ok()) return s;
  FfmpegStreamSourceOptions options;
  options.stream_index = stream;
  options.window_length = absl::GetFlag(FLAGS_window_length);
  options.max_width = options.max_height = 16384;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(path, options);
  if (!source.ok()) return source.status();
  if (absl::Status s = WritePng(dir + "/legend.png", ColorWheelLegend(129));
      !s.ok()) {
    return s;
  }
  const int limit = absl::GetFlag(FLAGS_dump_frames);
  const float gain = static_cast<float>(absl::GetFlag(FLAGS_residual_gain));
  int written = 0;
  while (written < limit) {
    absl::StatusOr<std::optional<GopWindow>> window = source->Next();
    if (!window.ok()) return window.status();
    if (!*window) break;
    const GopWindow& w = **window;
    float scale = static_cast<float>(absl::GetFlag(FLAGS_mv_scale));
    if (scale <= 0) scale = std::max(1.0f, MaxMotionMagnitude(w.motion));
    for (int64_t t = 0; t < w.num_valid && written < limit; ++t) {
      const FrameMeta& meta = w.frames[static_cast<size_t>(t)];
      const at::Tensor row = HStack(
          {w.rgb[t],
           MotionToColor(w.motion[t], w.intra[t], scale, w.height(), w.width()),
           ResidualToImage(DenseResidual(w, t), gain)});
      const std::string file = absl::StrFormat(
          "%s/frame_%06d_%c.png", dir, meta.index, FrameTypeChar(meta.type));
      if (absl::Status s = WritePng(file, row); !s.ok()) return s;
      ++written;
    }
  }
  return written;
}

int RunInspect(const std::vector<std::string>& args,
               const CommandContext& /*context*/) {
  const std::string& path = args[0];
  const int dump_frames = absl::GetFlag(FLAGS_dump_frames);
  const int window_length = absl::GetFlag(FLAGS_window_length);
  const double residual_gain = absl::GetFlag(FLAGS_residual_gain);
  const double mv_scale = absl::GetFlag(FLAGS_mv_scale);
  if (dump_frames < 0)
    return UsageError(kInspectCommand, "--dump_frames must be >= 0");
  if (window_length < 1 || window_length > 4096) {
    return UsageError(kInspectCommand, "--window_length must be in [1, 4096]");
  }
  if (!(residual_gain > 0) || !std::isfinite(residual_gain)) {
    return UsageError(kInspectCommand,
                      "--residual_gain must be a positive number");
  }
  if (!(mv_scale >= 0) || !std::isfinite(mv_scale)) {
    return UsageError(kInspectCommand, "--mv_scale must be >= 0");
  }
  const int stream = absl::GetFlag(FLAGS_inspect_stream);
  if (stream < -1) {
    return UsageError(kInspectCommand,
                      "--stream must be a stream index (0 or more)");
  }
  absl::StatusOr<Report> report = BuildReport(path, stream);
  if (!report.ok())
    return Failure(kInspectCommand.name,
                   std::string(report.status().message()));
  const bool frames = absl::GetFlag(FLAGS_frames);
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(path, *report, frames);
  } else {
    PrintText(path, *report, frames);
  }
  const std::string dir = absl::GetFlag(FLAGS_dump);
  if (!dir.empty()) {
    absl::StatusOr<int> written = Dump(path, dir, stream);
    if (!written.ok())
      return Failure(kInspectCommand.name,
                     std::string(written.status().message()));
    std::cerr << "wrote " << *written << " frame PNGs and legend.png to " << dir
              << "\n";
  }
  return kExitOk;
}

}  // namespace

const Subcommand kInspectCommand = {
    "inspect",
    "Reports what a video holds for the compressed-domain reader.",
    "mapn inspect VIDEO [--dump DIR] [--json] [flags]",
    "Prints the codec, container, resolution, frame rate, frame count, GOP\n"
    "lengths, I/P/B counts and per-frame motion-vector statistics of VIDEO\n"
    "(any video FFmpeg decodes), and whether mapn's reader accepts it. With\n"
    "--dump DIR it also writes, for each frame the reader yields,\n"
    "DIR/frame_<index>_<type>.png: the decoded frame | its motion field |\n"
    "its residual side by side, and DIR/legend.png, the colour key.",
    __FILE__,
    1,
    1,
    &RunInspect};

}  // namespace mapn::cli
