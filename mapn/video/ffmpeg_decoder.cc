#include "mapn/video/ffmpeg_decoder.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/video/ffmpeg_util.h"
#include "mapn/video/mpeg4_headers.h"

extern "C" {
#include <libavutil/motion_vector.h>
#include <libavutil/pixdesc.h>
}

namespace mapn {
namespace {

constexpr int kMemoryBufferSize = 1 << 16;

struct MemoryInput {
  const uint8_t* data = nullptr;
  size_t size = 0;
  int64_t pos = 0;
};

int ReadMemory(void* opaque, uint8_t* buffer, int buffer_size) {
  auto* in = static_cast<MemoryInput*>(opaque);
  const int64_t left = static_cast<int64_t>(in->size) - in->pos;
  if (left <= 0) return AVERROR_EOF;
  const int n = static_cast<int>(std::min<int64_t>(left, buffer_size));
  std::memcpy(buffer, in->data + in->pos, static_cast<size_t>(n));
  in->pos += n;
  return n;
}

int64_t SeekMemory(void* opaque, int64_t offset, int whence) {
  auto* in = static_cast<MemoryInput*>(opaque);
  const int64_t size = static_cast<int64_t>(in->size);
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
      return size;
    case SEEK_SET:
      break;
    case SEEK_CUR:
      offset += in->pos;
      break;
    case SEEK_END:
      offset += size;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (offset < 0 || offset > size) return AVERROR(EINVAL);
  in->pos = offset;
  return offset;
}

const char* CodecName(AVCodecID id) {
  const AVCodecDescriptor* d = avcodec_descriptor_get(id);
  return d != nullptr ? d->name : "unknown";
}

FrameType ToFrameType(AVPictureType type) {
  switch (type) {
    case AV_PICTURE_TYPE_I:
    case AV_PICTURE_TYPE_SI:
      return FrameType::kI;
    case AV_PICTURE_TYPE_B:
    case AV_PICTURE_TYPE_BI:
      return FrameType::kB;
    default:
      return FrameType::kP;
  }
}

bool IsYuv420(int format) {
  return format == AV_PIX_FMT_YUV420P || format == AV_PIX_FMT_YUVJ420P;
}

// "audio (aac), subtitle (mov_text)" for the message about a file without
// video.
std::string DescribeStreams(const AVFormatContext* format) {
  std::string out;
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    const AVCodecParameters* par = format->streams[i]->codecpar;
    const char* type = av_get_media_type_string(par->codec_type);
    absl::StrAppend(&out, out.empty() ? "" : ", ",
                    type != nullptr ? type : "unknown", " (",
                    CodecName(par->codec_id), ")");
  }
  return out.empty() ? "no streams at all" : out;
}

bool IsVideoStream(const AVStream* s) {
  return s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
         !(s->disposition & AV_DISPOSITION_ATTACHED_PIC);
}

// "0 (h264, 320x180), 2 (mpeg4, 480x270)" for messages about the choice.
std::string DescribeVideoStreams(const AVFormatContext* format) {
  std::string out;
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    const AVStream* s = format->streams[i];
    if (!IsVideoStream(s)) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", s->index, " (",
                    CodecName(s->codecpar->codec_id), ", ", s->codecpar->width,
                    "x", s->codecpar->height, ")");
  }
  return out;
}

// The stream to read: `requested` (a container index) when >= 0, else the
// one av_find_best_stream picks, so mapn reads what ffmpeg and players show.
// Cover pictures (attached pics) are never chosen: should FFmpeg pick one,
// the first real video stream is taken instead.
absl::StatusOr<AVStream*> ChooseVideoStream(AVFormatContext* format,
                                            int requested,
                                            const std::string& name) {
  int video_streams = 0;
  AVStream* first = nullptr;
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    if (!IsVideoStream(format->streams[i])) continue;
    ++video_streams;
    if (first == nullptr) first = format->streams[i];
  }
  if (video_streams == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' has no video stream (it holds ",
                     DescribeStreams(format), ")"));
  }
  if (requested >= 0) {
    const unsigned n = format->nb_streams;
    if (static_cast<unsigned>(requested) >= n ||
        !IsVideoStream(format->streams[requested])) {
      std::string what;
      if (static_cast<unsigned>(requested) >= n) {
        what = absl::StrCat("it has ", n, n == 1 ? " stream" : " streams",
                            ", numbered from 0");
      } else {
        const AVStream* s = format->streams[requested];
        const char* type = av_get_media_type_string(s->codecpar->codec_type);
        what = absl::StrCat(
            "stream ", requested, " is ",
            (s->disposition & AV_DISPOSITION_ATTACHED_PIC)
                ? "a cover picture"
                : absl::StrCat(type != nullptr ? type : "unknown", " (",
                               CodecName(s->codecpar->codec_id), ")"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "'", name, "' has no video stream ", requested, " (", what,
          "); its video streams: ", DescribeVideoStreams(format)));
    }
    return format->streams[requested];
  }
  const int best =
      av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (best >= 0 && IsVideoStream(format->streams[best])) {
    return format->streams[best];
  }
  return first;
}

int CountVideoStreams(const AVFormatContext* format) {
  int n = 0;
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    n += IsVideoStream(format->streams[i]) ? 1 : 0;
  }
  return n;
}

}  // namespace

bool IsReaderCodec(int codec_id) {
  return codec_id == AV_CODEC_ID_MPEG4 || codec_id == AV_CODEC_ID_H264;
}

std::string TranscodeHint(const std::string& path) {
  return absl::StrCat(
      "re-encode it to MPEG-4 Part 2 without B-frames with "
      "`mapn transcode '",
      path, "' OUTPUT.mp4` (mapn::Transcode)");
}

struct FfmpegDecoder::State {
  ~State() {
    codec.reset();
    format.reset();
    if (avio != nullptr) {
      av_freep(&avio->buffer);
      avio_context_free(&avio);
    }
  }

  std::string name;
  DecoderOptions options;
  MemoryInput memory;
  AVIOContext* avio = nullptr;  // custom I/O for OpenMemory
  UniqueInputFormatContext format;
  UniqueAVCodecContext codec;
  AVStream* stream = nullptr;
  UniqueAVPacket packet;
  UniqueAVFrame frame;
  StreamInfo info;
  bool demux_done = false;
  bool flush_sent = false;
  bool ended = false;
  int64_t packets = 0;
  int64_t frames = 0;
  std::optional<Mpeg4Vol> vol;
  std::map<int64_t, bool> rounding;  // packet index -> VOP rounding_type
  double last_timestamp_s = std::numeric_limits<double>::quiet_NaN();
  bool end_checked = false;
  std::optional<int64_t> lost_frame;  // see lost_frame()
};

namespace {

// The video's declared length in seconds, when the container states it
// (not when FFmpeg estimated it from the bit rate), else NaN. A stream
// duration is preferred; the file's only counts when the video is its only
// stream (an audio track may be longer).
double DeclaredDuration(const AVFormatContext* format, const AVStream* stream) {
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    return static_cast<double>(stream->duration) * av_q2d(stream->time_base);
  }
  if (format->nb_streams == 1 && format->duration != AV_NOPTS_VALUE &&
      format->duration > 0 &&
      format->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE) {
    return static_cast<double>(format->duration) / AV_TIME_BASE;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

FfmpegDecoder::FfmpegDecoder(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

FfmpegDecoder::~FfmpegDecoder() = default;

const StreamInfo& FfmpegDecoder::info() const { return state_->info; }
int FfmpegDecoder::codec_id() const {
  return state_->stream->codecpar->codec_id;
}
std::string FfmpegDecoder::container() const {
  return state_->format->iformat->name;
}
int64_t FfmpegDecoder::packets_read() const { return state_->packets; }
std::optional<int64_t> FfmpegDecoder::lost_frame() const {
  return state_->lost_frame;
}

absl::StatusOr<std::unique_ptr<FfmpegDecoder>> FfmpegDecoder::Open(
    const std::string& path, const DecoderOptions& options) {
  auto state = std::make_unique<State>();
  state->name = path;
  state->options = options;
  // Distinguish a missing or empty file from one FFmpeg cannot read; image
  // sequence patterns ("%06d.jpg") are not files and go straight to FFmpeg.
  struct stat st;
  if (path.find('%') == std::string::npos) {
    if (::stat(path.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT) {
        return absl::NotFoundError(
            absl::StrCat("cannot open '", path, "': no such file"));
      }
      return absl::PermissionDeniedError(
          absl::StrCat("cannot open '", path, "': ", std::strerror(err)));
    }
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' is a directory, not a video file"));
    }
    if (st.st_size == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' is empty (0 bytes), not a video"));
    }
  }
  return OpenImpl(std::move(state), path);
}

absl::StatusOr<std::unique_ptr<FfmpegDecoder>> FfmpegDecoder::OpenMemory(
    const uint8_t* data, size_t size, const std::string& name,
    const DecoderOptions& options) {
  if (size == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' is empty (0 bytes), not a video"));
  }
  auto state = std::make_unique<State>();
  state->name = name;
  state->options = options;
  state->memory = MemoryInput{data, size, 0};
  auto* buffer = static_cast<uint8_t*>(av_malloc(kMemoryBufferSize));
  if (buffer == nullptr) return absl::ResourceExhaustedError("out of memory");
  state->avio = avio_alloc_context(buffer, kMemoryBufferSize, 0, &state->memory,
                                   &ReadMemory, nullptr, &SeekMemory);
  if (state->avio == nullptr) {
    av_free(buffer);
    return absl::ResourceExhaustedError("out of memory");
  }
  return OpenImpl(std::move(state), name);
}

absl::StatusOr<std::unique_ptr<FfmpegDecoder>> FfmpegDecoder::OpenImpl(
    std::unique_ptr<State> state, const std::string& url) {
  QuietFfmpegLogging();
  const std::string& name = state->name;
  const DecoderOptions& options = state->options;
  AVFormatContext* format = avformat_alloc_context();
  if (format == nullptr) return absl::ResourceExhaustedError("out of memory");
  if (state->avio != nullptr) {
    format->pb = state->avio;
    format->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  AVDictionary* demuxer_options = nullptr;
  for (const auto& [key, value] : options.demuxer_options) {
    av_dict_set(&demuxer_options, key.c_str(), value.c_str(), 0);
  }
  int ret =
      avformat_open_input(&format, url.c_str(), nullptr, &demuxer_options);
  av_dict_free(&demuxer_options);
  if (ret < 0) {  // avformat_open_input freed `format`
    if (ret == AVERROR(ENOENT)) {
      return absl::NotFoundError(
          absl::StrCat("cannot open '", name, "': no such file"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' is not a video FFmpeg can read (",
                     AvErrorText(ret), ")"));
  }
  state->format.reset(format);
  ret = avformat_find_stream_info(format, nullptr);
  if (ret < 0) {
    return absl::DataLossError(absl::StrCat("cannot read the streams of '",
                                            name, "': ", AvErrorText(ret)));
  }

  absl::StatusOr<AVStream*> chosen =
      ChooseVideoStream(format, options.stream_index, name);
  if (!chosen.ok()) return chosen.status();
  state->stream = *chosen;
  // The demuxer need not hand over the packets of the other streams.
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    if (format->streams[i] != state->stream) {
      format->streams[i]->discard = AVDISCARD_ALL;
    }
  }
  AVStream* stream = state->stream;
  const AVCodecParameters* par = stream->codecpar;
  const AVCodecID codec_id = par->codec_id;
  const char* codec_name = CodecName(codec_id);
  if (options.require_reader_format && !IsReaderCodec(codec_id)) {
    const bool no_vectors =
        codec_id == AV_CODEC_ID_HEVC || codec_id == AV_CODEC_ID_VP9 ||
        codec_id == AV_CODEC_ID_AV1 || codec_id == AV_CODEC_ID_VP8;
    return absl::UnimplementedError(absl::StrCat(
        "'", name, "' holds ", codec_name, " video; ",
        no_vectors ? "FFmpeg exports no motion vectors for it, and " : "",
        "the reader takes MPEG-4 Part 2 or H.264 only: ", TranscodeHint(name)));
  }
  if (par->width <= 0 || par->height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "': the video stream has a ", par->width, "x",
                     par->height, " picture; its size must be positive"));
  }
  if (par->width > options.max_width || par->height > options.max_height) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", name, "' is ", par->width, "x", par->height,
        ", over the size limit ", options.max_width, "x", options.max_height,
        " (the max_width / max_height options)"));
  }
  if (options.require_reader_format &&
      (par->width % 2 != 0 || par->height % 2 != 0)) {
    return absl::UnimplementedError(absl::StrCat(
        "'", name, "' has odd dimensions ", par->width, "x", par->height,
        "; the reader needs even ones (4:2:0 chroma): ", TranscodeHint(name),
        ", which crops the last column or row"));
  }
  if (options.require_reader_format && par->format != AV_PIX_FMT_NONE &&
      !IsYuv420(par->format)) {
    const char* fmt =
        av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format));
    return absl::UnimplementedError(absl::StrCat(
        "'", name, "' has pixel format ", fmt != nullptr ? fmt : "unknown",
        "; the reader takes 8-bit 4:2:0 only: ", TranscodeHint(name)));
  }

  const AVCodec* decoder = avcodec_find_decoder(codec_id);
  if (decoder == nullptr) {
    return absl::UnimplementedError(absl::StrCat(
        "'", name, "': this FFmpeg has no decoder for ", codec_name));
  }
  state->codec.reset(avcodec_alloc_context3(decoder));
  AVCodecContext* codec = state->codec.get();
  if (codec == nullptr) return absl::ResourceExhaustedError("out of memory");
  ret = avcodec_parameters_to_context(codec, par);
  if (ret < 0) return AvError(ret, absl::StrCat("reading '", name, "'"));
  codec->thread_count = std::max(0, options.threads);
  codec->pkt_timebase = stream->time_base;
  if (options.export_motion_vectors) {
    codec->flags2 |= AV_CODEC_FLAG2_EXPORT_MVS;
  }
  if (options.prediction_only) {
    codec->skip_idct = AVDISCARD_NONKEY;
    codec->skip_loop_filter = AVDISCARD_ALL;
  }
  ret = avcodec_open2(codec, decoder, nullptr);
  if (ret < 0) {
    return AvError(ret, absl::StrCat("cannot open the ", codec_name,
                                     " decoder for '", name, "'"));
  }
  state->packet.reset(av_packet_alloc());
  state->frame.reset(av_frame_alloc());
  if (!state->packet || !state->frame) {
    return absl::ResourceExhaustedError("out of memory");
  }
  if (codec_id == AV_CODEC_ID_MPEG4) {
    state->vol = FindMpeg4Vol(
        par->extradata, static_cast<size_t>(std::max(0, par->extradata_size)));
  }

  StreamInfo& info = state->info;
  info.path = name;
  info.codec = codec_name;
  info.width = par->width;
  info.height = par->height;
  const AVRational rate = av_guess_frame_rate(format, stream, nullptr);
  info.frame_rate = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
  info.frame_count_hint = std::max<int64_t>(stream->nb_frames, 0);
  info.stream_index = stream->index;
  info.video_streams = CountVideoStreams(format);
  return std::unique_ptr<FfmpegDecoder>(new FfmpegDecoder(std::move(state)));
}

absl::StatusOr<bool> FfmpegDecoder::Next(DecodedFrame* out) {
  State& s = *state_;
  AVCodecContext* codec = s.codec.get();
  s.lost_frame.reset();
  while (true) {
    if (s.ended) return false;
    int ret = avcodec_receive_frame(codec, s.frame.get());
    if (ret >= 0) break;
    if (ret == AVERROR_EOF) {
      s.ended = true;
      // A file cut short in a container that does not notice (Matroska
      // just ends) still says how long the video should be.
      const double declared = DeclaredDuration(s.format.get(), s.stream);
      if (!s.end_checked && std::isfinite(declared) && s.info.frame_rate > 0 &&
          std::isfinite(s.last_timestamp_s)) {
        s.end_checked = true;
        const double start = s.stream->start_time != AV_NOPTS_VALUE
                                 ? static_cast<double>(s.stream->start_time) *
                                       av_q2d(s.stream->time_base)
                                 : 0.0;
        const double frame = 1.0 / s.info.frame_rate;
        if (s.last_timestamp_s + frame < start + declared - 2.5 * frame) {
          return absl::DataLossError(absl::StrFormat(
              "'%s' is truncated: the video ends at frame %d (%.3f s) but "
              "the container says it lasts %.3f s",
              s.name, s.frames - 1, s.last_timestamp_s - start, declared));
        }
      }
      return false;
    }
    if (ret != AVERROR(EAGAIN)) {
      // The frame is lost; counting it keeps later indices where an
      // undamaged decode would put them (labels are per frame index).
      const int64_t lost = s.frames++;
      s.lost_frame = lost;
      return absl::DataLossError(absl::StrCat("'", s.name, "': decoding frame ",
                                              lost,
                                              " failed: ", AvErrorText(ret)));
    }
    if (s.flush_sent) {  // the decoder wants input after the flush
      s.ended = true;
      return false;
    }
    if (s.demux_done) {
      avcodec_send_packet(codec, nullptr);
      s.flush_sent = true;
      continue;
    }
    AVPacket* pkt = s.packet.get();
    ret = av_read_frame(s.format.get(), pkt);
    if (ret == AVERROR_EOF) {
      s.demux_done = true;
      continue;
    }
    if (ret < 0) {
      s.demux_done = true;
      return absl::DataLossError(absl::StrCat(
          "'", s.name, "' is truncated or corrupt: reading the packet after ",
          "packet ", s.packets - 1, " (frame ", s.frames,
          ") failed: ", AvErrorText(ret)));
    }
    if (pkt->stream_index != s.stream->index) {
      av_packet_unref(pkt);
      continue;
    }
    const int64_t packet_index = s.packets++;
    if (codec->codec_id == AV_CODEC_ID_MPEG4 && pkt->data != nullptr) {
      const size_t size = static_cast<size_t>(pkt->size);
      if (std::optional<Mpeg4Vol> vol = FindMpeg4Vol(pkt->data, size)) {
        s.vol = vol;
      }
      if (s.vol) {
        if (std::optional<Mpeg4Vop> vop =
                FindMpeg4Vop(pkt->data, size, *s.vol)) {
          s.rounding[packet_index] = vop->rounding_type;
        }
      }
    }
    // The decoder copies pos into the frame's pkt_pos: it carries the
    // packet index to the frame, across frame threads and reordering.
    pkt->pos = packet_index;
    ret = avcodec_send_packet(codec, pkt);
    av_packet_unref(pkt);
    if (ret < 0 && ret != AVERROR(EAGAIN)) {
      // Without B-frames a packet is a frame: count it as lost (see above).
      const int64_t lost = s.frames++;
      s.lost_frame = lost;
      return absl::DataLossError(absl::StrCat(
          "'", s.name, "' is corrupt: the decoder rejected packet ",
          packet_index, " (frame ", lost, "): ", AvErrorText(ret)));
    }
  }

  AVFrame* f = s.frame.get();
  const int64_t index = s.frames++;
  if (f->width != s.info.width || f->height != s.info.height) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", s.name, "': frame ", index, " is ", f->width, "x", f->height,
        " but the stream is ", s.info.width, "x", s.info.height,
        "; size changes inside a stream are not supported: ",
        TranscodeHint(s.name)));
  }
  if (s.options.require_reader_format && !IsYuv420(f->format)) {
    const char* fmt =
        av_get_pix_fmt_name(static_cast<AVPixelFormat>(f->format));
    return absl::FailedPreconditionError(absl::StrCat(
        "'", s.name, "': frame ", index, " has pixel format ",
        fmt != nullptr ? fmt : "unknown",
        "; the reader takes 8-bit 4:2:0: ", TranscodeHint(s.name)));
  }
  out->frame = f;
  out->index = index;
  out->type = ToFrameType(f->pict_type);
  const char letter = av_get_picture_type_char(f->pict_type);
  out->picture_type = letter == '?' ? 'I' : letter;
  const int64_t ts = f->best_effort_timestamp;
  out->timestamp_s =
      ts == AV_NOPTS_VALUE
          ? std::numeric_limits<double>::quiet_NaN()
          : static_cast<double>(ts) * av_q2d(s.stream->time_base);
  out->packet_index = f->pkt_pos;
  if (std::isfinite(out->timestamp_s)) s.last_timestamp_s = out->timestamp_s;
  out->motion_vectors.clear();
  if (const AVFrameSideData* side =
          av_frame_get_side_data(f, AV_FRAME_DATA_MOTION_VECTORS)) {
    const auto* mvs = reinterpret_cast<const AVMotionVector*>(side->data);
    const size_t n = side->size / sizeof(AVMotionVector);
    out->motion_vectors.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const AVMotionVector& m = mvs[i];
      out->motion_vectors.push_back(MotionVector{
          m.source, m.w, m.h, m.src_x, m.src_y, m.dst_x, m.dst_y, m.motion_x,
          m.motion_y, static_cast<int32_t>(m.motion_scale)});
    }
  }
  out->mpeg4_no_rounding = false;
  if (auto it = s.rounding.find(f->pkt_pos); it != s.rounding.end()) {
    out->mpeg4_no_rounding = it->second;
  }
  // Packets up to this one will not produce frames any more.
  s.rounding.erase(s.rounding.begin(), s.rounding.upper_bound(f->pkt_pos));
  out->damage.clear();
  if (f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
    out->damage = absl::StrFormat(
        "the decoder concealed errors in frame %d (packet %d, error flags "
        "0x%x%s)",
        index, f->pkt_pos, f->decode_error_flags,
        (f->flags & AV_FRAME_FLAG_CORRUPT) ? ", marked corrupt" : "");
  }
  return true;
}

}  // namespace mapn
