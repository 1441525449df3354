#include "mapn/video/transcode.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/video/ffmpeg_decoder.h"
#include "mapn/video/ffmpeg_util.h"
#include "mapn/video/video_writer.h"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/rational.h>
}

namespace mapn {
namespace {

absl::Status ValidateOptions(const TranscodeOptions& o) {
  if (o.gop_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("gop_size must be >= 1, got ", o.gop_size));
  }
  if (o.qscale < 1 || o.qscale > 31) {
    return absl::InvalidArgumentError(
        absl::StrCat("qscale must be in [1, 31], got ", o.qscale));
  }
  if (!(o.input_frame_rate > 0) || o.input_frame_rate > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input_frame_rate must be in (0, 1000], got ", o.input_frame_rate));
  }
  if (o.max_width < 0 || o.max_height < 0 || o.max_width == 1 ||
      o.max_height == 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_width and max_height must be 0 (no limit) or >= 2, got ",
        o.max_width, " and ", o.max_height));
  }
  return absl::OkStatus();
}

// The output size: the input's cut to even dimensions, or scaled down to
// fit the limits (keeping the aspect ratio) and rounded down to even.
void OutputSize(int w, int h, const TranscodeOptions& o, int* ow, int* oh,
                bool* scaled) {
  double s = 1.0;
  if (o.max_width > 0) s = std::min(s, static_cast<double>(o.max_width) / w);
  if (o.max_height > 0) s = std::min(s, static_cast<double>(o.max_height) / h);
  *scaled = s < 1.0;
  if (*scaled) {
    *ow = std::max(2, static_cast<int>(std::floor(w * s)) & ~1);
    *oh = std::max(2, static_cast<int>(std::floor(h * s)) & ~1);
  } else {
    *ow = w & ~1;
    *oh = h & ~1;
  }
}

}  // namespace

absl::Status Transcode(const std::string& input, const std::string& output,
                       const TranscodeOptions& options,
                       TranscodeReport* report) {
  TranscodeReport unused;
  if (report == nullptr) report = &unused;
  *report = TranscodeReport{};
  if (absl::Status s = ValidateOptions(options); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("transcoding '", input, "': ", s.message()));
  }
  const bool image_sequence = input.find('%') != std::string::npos;
  DecoderOptions decoder_options;
  decoder_options.require_reader_format = false;
  decoder_options.export_motion_vectors = false;
  decoder_options.max_width = options.max_input_width;
  decoder_options.max_height = options.max_input_height;
  decoder_options.stream_index = options.stream_index;
  if (image_sequence) {
    decoder_options.demuxer_options["framerate"] =
        absl::StrFormat("%.6g", options.input_frame_rate);
  }
  absl::StatusOr<std::unique_ptr<FfmpegDecoder>> decoder_or =
      FfmpegDecoder::Open(input, decoder_options);
  if (!decoder_or.ok()) return decoder_or.status();
  FfmpegDecoder& decoder = **decoder_or;
  const StreamInfo& info = decoder.info();
  report->input = info;
  const int in_w = static_cast<int>(info.width);
  const int in_h = static_cast<int>(info.height);
  if (in_w < 2 || in_h < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", input, "' is ", in_w, "x", in_h, ", too small to encode"));
  }
  int out_w = 0, out_h = 0;
  bool scaled = false;
  OutputSize(in_w, in_h, options, &out_w, &out_h, &scaled);

  VideoWriterOptions writer_options;
  writer_options.codec = "mpeg4";
  writer_options.gop_size = options.gop_size;
  writer_options.max_b_frames = 0;
  writer_options.qscale = options.qscale;
  const double rate = image_sequence
                          ? options.input_frame_rate
                          : (info.frame_rate > 0 ? info.frame_rate : 25.0);
  const AVRational q = av_d2q(rate, 60000);
  writer_options.frame_rate_num = q.num > 0 ? q.num : 25;
  writer_options.frame_rate_den = q.den > 0 ? q.den : 1;
  absl::StatusOr<std::unique_ptr<VideoWriter>> writer_or =
      VideoWriter::Open(output, out_w, out_h, writer_options);
  if (!writer_or.ok()) return writer_or.status();
  VideoWriter& writer = **writer_or;

  UniqueSwsContext sws;
  int sws_format = -1;
  // swscale's vectorised writers may store a little past the end of a row:
  // aligned rows and a padded buffer (a tight one corrupted the heap for
  // 426-pixel-wide frames).
  const int stride = (3 * out_w + 63) / 64 * 64;
  std::vector<uint8_t> rgb(static_cast<size_t>(stride) * out_h + 64);
  DecodedFrame frame;
  int64_t frames = 0;
  while (true) {
    absl::StatusOr<bool> got = decoder.Next(&frame);
    if (!got.ok() && options.keep_damaged_frames &&
        absl::IsDataLoss(got.status())) {
      const std::optional<int64_t> lost = decoder.lost_frame();
      if (!lost) {  // the decoder drains what it has, then ends
        ++report->stream_errors;
        continue;
      }
      if (frames == 0) {  // no picture to stand in yet
        ++report->dropped_frames;
        continue;
      }
      // The previous frame again, so output frame k stays input frame k.
      if (absl::Status s = writer.WriteRgb(rgb.data(), stride); !s.ok()) {
        return s;
      }
      report->lost_frames.push_back(frames++);
      continue;
    }
    if (!got.ok()) {
      return absl::Status(got.status().code(),
                          absl::StrCat("transcoding to '", output,
                                       "': ", got.status().message()));
    }
    if (!*got) break;
    // Concealed frames are encoded as the decoder left them either way
    // (what `mapn transcode` salvages from a damaged file).
    if (!frame.damage.empty()) report->concealed_frames.push_back(frames);
    const AVFrame* f = frame.frame;
    if (!sws || f->format != sws_format) {
      // Without scaling, reading only out_w x out_h of the input drops the
      // odd last column / row.
      const int src_w = scaled ? in_w : out_w;
      const int src_h = scaled ? in_h : out_h;
      sws.reset(sws_getContext(
          src_w, src_h, static_cast<AVPixelFormat>(f->format), out_w, out_h,
          AV_PIX_FMT_RGB24, scaled ? SWS_AREA : SWS_POINT, nullptr, nullptr,
          nullptr));
      if (!sws) {
        return absl::InternalError(absl::StrCat(
            "'", input, "': cannot convert frame ", frame.index, " to RGB"));
      }
      sws_format = f->format;
    }
    uint8_t* dst[1] = {rgb.data()};
    const int dst_stride[1] = {stride};
    sws_scale(sws.get(), f->data, f->linesize, 0, scaled ? in_h : out_h, dst,
              dst_stride);
    if (absl::Status s = writer.WriteRgb(rgb.data(), stride); !s.ok()) {
      return s;
    }
    ++frames;
  }
  if (frames == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", input, "' has no decodable frames"));
  }
  return writer.Close();
}

}  // namespace mapn
