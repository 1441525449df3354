#include "mapn/video/video_writer.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mapn/core/atomic_file.h"
#include "mapn/video/ffmpeg_util.h"

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
}

namespace mapn {

struct VideoWriter::State {
  std::string path;
  std::unique_ptr<AtomicFile> file;
  UniqueOutputFormatContext format;
  UniqueAVCodecContext codec;
  AVStream* stream = nullptr;
  UniqueSwsContext sws;
  UniqueAVFrame frame;
  UniqueAVPacket packet;
  int width = 0;
  int height = 0;
  int quality = 0;  // lambda for fixed-quantiser encoding, 0 = unused
  std::vector<uint8_t> staging;  // contiguous RGB24 for WriteFrame
};

VideoWriter::VideoWriter(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

VideoWriter::~VideoWriter() = default;  // AtomicFile drops the temp file

absl::StatusOr<std::unique_ptr<VideoWriter>> VideoWriter::Open(
    const std::string& path, int width, int height,
    const VideoWriterOptions& options) {
  QuietFfmpegLogging();
  if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode '", path, "': frame size ", width, "x",
                     height, " must be positive and even"));
  }
  if (options.gop_size < 1 || options.max_b_frames < 0 ||
      options.frame_rate_num <= 0 || options.frame_rate_den <= 0 ||
      options.qscale < 0 || options.qscale > 31) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot encode '", path, "': gop_size ", options.gop_size,
        ", max_b_frames ", options.max_b_frames, ", frame rate ",
        options.frame_rate_num, "/", options.frame_rate_den, ", qscale ",
        options.qscale, " out of range"));
  }
  const AVOutputFormat* container =
      av_guess_format(nullptr, path.c_str(), nullptr);
  if (container == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot tell the container format from '", path,
        "'; name the file .mp4, .avi, .mkv, .m4v or .h264"));
  }
  const AVCodec* encoder = avcodec_find_encoder_by_name(options.codec.c_str());
  if (encoder == nullptr || encoder->type != AVMEDIA_TYPE_VIDEO) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode '", path, "': this FFmpeg has no video "
                     "encoder named '", options.codec, "'"));
  }

  auto state = std::make_unique<State>();
  state->path = path;
  state->width = width;
  state->height = height;
  absl::StatusOr<AtomicFile> file = AtomicFile::Create(path);
  if (!file.ok()) return file.status();
  state->file = std::make_unique<AtomicFile>(*std::move(file));

  AVFormatContext* format = nullptr;
  int ret = avformat_alloc_output_context2(&format, container, nullptr,
                                           state->file->temp_path().c_str());
  if (ret < 0) return AvError(ret, absl::StrCat("cannot create '", path, "'"));
  state->format.reset(format);

  state->codec.reset(avcodec_alloc_context3(encoder));
  AVCodecContext* codec = state->codec.get();
  codec->width = width;
  codec->height = height;
  codec->pix_fmt = AV_PIX_FMT_YUV420P;
  codec->time_base = AVRational{options.frame_rate_den, options.frame_rate_num};
  codec->framerate = AVRational{options.frame_rate_num, options.frame_rate_den};
  codec->gop_size = options.gop_size;
  codec->max_b_frames = options.max_b_frames;
  if (options.bit_rate > 0) codec->bit_rate = options.bit_rate;
  if (options.qscale > 0 && encoder->id != AV_CODEC_ID_H264) {
    codec->flags |= AV_CODEC_FLAG_QSCALE;
    codec->global_quality = FF_QP2LAMBDA * options.qscale;
    state->quality = codec->global_quality;
  }
  if (container->flags & AVFMT_GLOBALHEADER) {
    codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  }
  AVDictionary* codec_options = nullptr;
  if (!options.scene_change_detection) {
    // FFmpeg's mpegvideo encoders and libx264 both read sc_threshold, with
    // opposite senses: a huge threshold never fires in the former, while
    // x264 cuts more often the higher it is (every frame became an I-frame)
    // and takes 0 as "off".
    const bool x264 = std::string(encoder->name).rfind("libx264", 0) == 0;
    av_dict_set(&codec_options, "sc_threshold", x264 ? "0" : "1000000000", 0);
  }
  for (const auto& [key, value] : options.codec_options) {
    av_dict_set(&codec_options, key.c_str(), value.c_str(), 0);
  }
  ret = avcodec_open2(codec, encoder, &codec_options);
  // Options the encoder did not take are left in the dictionary.
  std::string unused;
  for (const AVDictionaryEntry* e = nullptr;
       (e = av_dict_get(codec_options, "", e, AV_DICT_IGNORE_SUFFIX));) {
    if (std::string(e->key) == "sc_threshold") continue;
    absl::StrAppend(&unused, unused.empty() ? "" : ", ", e->key);
  }
  av_dict_free(&codec_options);
  if (ret < 0) {
    return AvError(ret, absl::StrCat("cannot open the ", options.codec,
                                     " encoder for '", path, "'"));
  }
  if (!unused.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ", options.codec, " encoder has no option(s) ", unused));
  }

  state->stream = avformat_new_stream(format, nullptr);
  if (state->stream == nullptr) {
    return absl::InternalError(absl::StrCat("cannot add a stream to '", path,
                                            "'"));
  }
  state->stream->time_base = codec->time_base;
  state->stream->avg_frame_rate = codec->framerate;
  ret = avcodec_parameters_from_context(state->stream->codecpar, codec);
  if (ret < 0) return AvError(ret, absl::StrCat("writing '", path, "'"));
  if (!(container->flags & AVFMT_NOFILE)) {
    ret = avio_open(&format->pb, state->file->temp_path().c_str(),
                    AVIO_FLAG_WRITE);
    if (ret < 0) return AvError(ret, absl::StrCat("cannot write '", path, "'"));
  }
  ret = avformat_write_header(format, nullptr);
  if (ret < 0) {
    return AvError(ret, absl::StrCat("writing the header of '", path, "'"));
  }

  state->sws.reset(sws_getContext(width, height, AV_PIX_FMT_RGB24, width,
                                  height, AV_PIX_FMT_YUV420P,
                                  SWS_BICUBIC | SWS_ACCURATE_RND, nullptr,
                                  nullptr, nullptr));
  state->frame.reset(av_frame_alloc());
  state->packet.reset(av_packet_alloc());
  if (!state->sws || !state->frame || !state->packet) {
    return absl::ResourceExhaustedError("out of memory opening an encoder");
  }
  state->frame->format = AV_PIX_FMT_YUV420P;
  state->frame->width = width;
  state->frame->height = height;
  ret = av_frame_get_buffer(state->frame.get(), 0);
  if (ret < 0) return AvError(ret, "allocating an encoder frame");
  return std::unique_ptr<VideoWriter>(new VideoWriter(std::move(state)));
}

absl::Status VideoWriter::Encode(bool flush) {
  State& s = *state_;
  int ret = avcodec_send_frame(s.codec.get(), flush ? nullptr : s.frame.get());
  if (ret < 0) {
    return AvError(ret, absl::StrCat("encoding frame ", frames_written_,
                                     " of '", s.path, "'"));
  }
  while (true) {
    ret = avcodec_receive_packet(s.codec.get(), s.packet.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return absl::OkStatus();
    if (ret < 0) return AvError(ret, absl::StrCat("encoding '", s.path, "'"));
    av_packet_rescale_ts(s.packet.get(), s.codec->time_base,
                         s.stream->time_base);
    s.packet->stream_index = s.stream->index;
    ret = av_interleaved_write_frame(s.format.get(), s.packet.get());
    if (ret < 0) return AvError(ret, absl::StrCat("writing '", s.path, "'"));
  }
}

absl::Status VideoWriter::WriteRgb(const uint8_t* rgb, int stride) {
  if (closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", state_->path, "' is already closed"));
  }
  State& s = *state_;
  int ret = av_frame_make_writable(s.frame.get());
  if (ret < 0) return AvError(ret, "preparing an encoder frame");
  const uint8_t* src[1] = {rgb};
  const int src_stride[1] = {stride};
  sws_scale(s.sws.get(), src, src_stride, 0, s.height, s.frame->data,
            s.frame->linesize);
  s.frame->pts = frames_written_;
  s.frame->pict_type = AV_PICTURE_TYPE_NONE;
  if (s.quality > 0) s.frame->quality = s.quality;
  absl::Status status = Encode(/*flush=*/false);
  if (status.ok()) ++frames_written_;
  return status;
}

absl::Status VideoWriter::WriteFrame(const at::Tensor& rgb_chw) {
  const State& s = *state_;
  if (!rgb_chw.defined() || rgb_chw.dim() != 3 || rgb_chw.size(0) != 3 ||
      rgb_chw.size(1) != s.height || rgb_chw.size(2) != s.width ||
      rgb_chw.scalar_type() != at::kByte) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame ", frames_written_, " for '", s.path,
        "' must be a uint8 tensor [3, ", s.height, ", ", s.width, "]"));
  }
  const at::Tensor hwc = rgb_chw.cpu().permute({1, 2, 0}).contiguous();
  return WriteRgb(hwc.data_ptr<uint8_t>(), 3 * s.width);
}

absl::Status VideoWriter::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  State& s = *state_;
  absl::Status status = Encode(/*flush=*/true);
  if (!status.ok()) return status;
  const int ret = av_write_trailer(s.format.get());
  if (ret < 0) {
    return AvError(ret, absl::StrCat("writing the trailer of '", s.path, "'"));
  }
  s.format.reset();  // closes the file before the rename
  return s.file->Commit();
}

}  // namespace mapn
