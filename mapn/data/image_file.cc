#include "mapn/data/image_file.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/atomic_file.h"
#include "mapn/video/ffmpeg_util.h"

extern "C" {
#include <libavutil/imgutils.h>
}

namespace mapn {

struct ImageEncoder::State {
  ImageCodec codec = ImageCodec::kJpeg;
  int width = 0;
  int height = 0;
  int quality = 0;
  UniqueAVCodecContext context;
  UniqueSwsContext sws;
  UniqueAVFrame frame;
  UniqueAVPacket packet;
  int64_t next_pts = 0;
};

ImageEncoder::ImageEncoder(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
ImageEncoder::ImageEncoder(ImageEncoder&&) noexcept = default;
ImageEncoder& ImageEncoder::operator=(ImageEncoder&&) noexcept = default;
ImageEncoder::~ImageEncoder() = default;

absl::StatusOr<ImageEncoder> ImageEncoder::Create(ImageCodec codec, int width,
                                                  int height,
                                                  int jpeg_quality) {
  QuietFfmpegLogging();
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("image size ", width, "x", height, " is not positive"));
  }
  if (codec == ImageCodec::kJpeg && (jpeg_quality < 1 || jpeg_quality > 31)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "JPEG quality ", jpeg_quality, " is outside 1 (best) .. 31"));
  }
  const bool jpeg = codec == ImageCodec::kJpeg;
  const AVCodec* encoder =
      avcodec_find_encoder(jpeg ? AV_CODEC_ID_MJPEG : AV_CODEC_ID_PNG);
  if (encoder == nullptr) {
    return absl::UnimplementedError(absl::StrCat(
        "this FFmpeg has no ", jpeg ? "mjpeg" : "png", " encoder"));
  }
  auto state = std::make_unique<State>();
  state->codec = codec;
  state->width = width;
  state->height = height;
  state->context.reset(avcodec_alloc_context3(encoder));
  state->frame.reset(av_frame_alloc());
  state->packet.reset(av_packet_alloc());
  if (!state->context || !state->frame || !state->packet) {
    return absl::ResourceExhaustedError("out of memory for an image encoder");
  }
  AVCodecContext* c = state->context.get();
  c->width = width;
  c->height = height;
  c->time_base = AVRational{1, 25};
  // One thread: the output must not depend on scheduling.
  c->thread_count = 1;
  const AVPixelFormat format = jpeg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_RGB24;
  c->pix_fmt = format;
  if (jpeg) {
    c->color_range = AVCOL_RANGE_JPEG;
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * jpeg_quality;
    state->quality = c->global_quality;
  }
  int ret = avcodec_open2(c, encoder, nullptr);
  if (ret < 0) return AvError(ret, "opening the image encoder");
  AVFrame* f = state->frame.get();
  f->format = format;
  f->width = width;
  f->height = height;
  ret = av_frame_get_buffer(f, 0);
  if (ret < 0) return AvError(ret, "allocating an image frame");
  if (jpeg) {
    state->sws.reset(sws_getContext(
        width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUVJ420P,
        SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
    if (!state->sws) {
      return absl::InternalError("cannot convert RGB to JPEG's YUV");
    }
  }
  return ImageEncoder(std::move(state));
}

absl::StatusOr<std::string> ImageEncoder::Encode(const uint8_t* rgb) {
  State& s = *state_;
  AVFrame* f = s.frame.get();
  int ret = av_frame_make_writable(f);
  if (ret < 0) return AvError(ret, "preparing an image frame");
  if (s.codec == ImageCodec::kJpeg) {
    const uint8_t* src[1] = {rgb};
    const int stride[1] = {3 * s.width};
    sws_scale(s.sws.get(), src, stride, 0, s.height, f->data, f->linesize);
    f->quality = s.quality;
  } else {
    for (int y = 0; y < s.height; ++y) {
      std::memcpy(f->data[0] + static_cast<size_t>(y) * f->linesize[0],
                  rgb + static_cast<size_t>(y) * s.width * 3, s.width * 3);
    }
  }
  // Encoders refuse timestamps that do not increase.
  f->pts = s.next_pts++;
  ret = avcodec_send_frame(s.context.get(), f);
  if (ret < 0) return AvError(ret, "encoding an image");
  ret = avcodec_receive_packet(s.context.get(), s.packet.get());
  if (ret < 0) return AvError(ret, "encoding an image");
  std::string bytes(reinterpret_cast<const char*>(s.packet->data),
                    s.packet->size);
  av_packet_unref(s.packet.get());
  return bytes;
}

absl::Status ImageEncoder::Write(const std::string& path, const uint8_t* rgb) {
  absl::StatusOr<std::string> bytes = Encode(rgb);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat(path, ": ", bytes.status().message()));
  }
  return WriteFileAtomically(path, *bytes);
}

absl::StatusOr<RgbImage> ReadImageFile(const std::string& path) {
  QuietFfmpegLogging();
  AVFormatContext* raw = nullptr;
  int ret = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (ret < 0) return AvError(ret, absl::StrCat("cannot open '", path, "'"));
  UniqueInputFormatContext format(raw);
  ret = avformat_find_stream_info(format.get(), nullptr);
  if (ret < 0) return AvError(ret, absl::StrCat("cannot read '", path, "'"));
  const AVCodec* decoder = nullptr;
  const int stream = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1,
                                         -1, &decoder, 0);
  if (stream < 0 || decoder == nullptr) {
    return AvError(stream, absl::StrCat("no image in '", path, "'"));
  }
  UniqueAVCodecContext context(avcodec_alloc_context3(decoder));
  if (!context) return absl::ResourceExhaustedError("out of memory");
  avcodec_parameters_to_context(context.get(),
                                format->streams[stream]->codecpar);
  context->thread_count = 1;
  ret = avcodec_open2(context.get(), decoder, nullptr);
  if (ret < 0) return AvError(ret, absl::StrCat("decoding '", path, "'"));
  UniqueAVPacket packet(av_packet_alloc());
  UniqueAVFrame frame(av_frame_alloc());
  bool got = false;
  while (!got) {
    ret = av_read_frame(format.get(), packet.get());
    const bool eof = ret == AVERROR_EOF;
    if (ret < 0 && !eof) {
      return AvError(ret, absl::StrCat("reading '", path, "'"));
    }
    if (!eof && packet->stream_index != stream) {
      av_packet_unref(packet.get());
      continue;
    }
    ret = avcodec_send_packet(context.get(), eof ? nullptr : packet.get());
    av_packet_unref(packet.get());
    if (ret < 0 && ret != AVERROR_EOF) {
      return AvError(ret, absl::StrCat("decoding '", path, "'"));
    }
    ret = avcodec_receive_frame(context.get(), frame.get());
    if (ret >= 0) {
      got = true;
    } else if (ret != AVERROR(EAGAIN) || eof) {
      return AvError(ret, absl::StrCat("no frame decoded from '", path, "'"));
    }
  }
  RgbImage image;
  image.width = frame->width;
  image.height = frame->height;
  image.rgb.resize(static_cast<size_t>(image.width) * image.height * 3);
  UniqueSwsContext sws(sws_getContext(
      frame->width, frame->height, static_cast<AVPixelFormat>(frame->format),
      frame->width, frame->height, AV_PIX_FMT_RGB24,
      SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
  if (!sws) {
    return absl::InternalError(
        absl::StrCat("cannot convert the pixels of '", path, "' to RGB"));
  }
  uint8_t* dst[1] = {image.rgb.data()};
  const int dst_stride[1] = {3 * image.width};
  sws_scale(sws.get(), frame->data, frame->linesize, 0, frame->height, dst,
            dst_stride);
  return image;
}

}  // namespace mapn
