// File: ffmpeg_util.h
//
// Ownership and error helpers for FFmpeg 5.1's C API: every FFmpeg object is
// held in a std::unique_ptr with its matching free function, and AVERROR codes
// become absl::Status messages that say what failed and where.
//
// Example:
//
//   UniqueAVFrame frame(av_frame_alloc());
//   int ret = avcodec_receive_frame(codec.get(), frame.get());
//   if (ret < 0) return AvError(ret, "decoding frame 12 of 'in.mp4'");
#ifndef MAPN_VIDEO_FFMPEG_UTIL_H_
#define MAPN_VIDEO_FFMPEG_UTIL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

namespace mapn {

struct AVFrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct AVPacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct AVCodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
// For demuxing contexts opened with avformat_open_input.
struct AVInputFormatContextDeleter {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
// For muxing contexts from avformat_alloc_output_context2; closes the file.
struct AVOutputFormatContextDeleter {
  void operator()(AVFormatContext* f) const {
    if (f == nullptr) return;
    if (f->pb != nullptr && !(f->oformat->flags & AVFMT_NOFILE)) {
      avio_closep(&f->pb);
    }
    avformat_free_context(f);
  }
};
struct SwsContextDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

using UniqueAVFrame = std::unique_ptr<AVFrame, AVFrameDeleter>;
using UniqueAVPacket = std::unique_ptr<AVPacket, AVPacketDeleter>;
using UniqueAVCodecContext =
    std::unique_ptr<AVCodecContext, AVCodecContextDeleter>;
using UniqueInputFormatContext =
    std::unique_ptr<AVFormatContext, AVInputFormatContextDeleter>;
using UniqueOutputFormatContext =
    std::unique_ptr<AVFormatContext, AVOutputFormatContextDeleter>;
using UniqueSwsContext = std::unique_ptr<SwsContext, SwsContextDeleter>;

// FFmpeg's text for an AVERROR code ("Invalid data found when processing
// input", ...).
std::string AvErrorText(int error_code);

// An absl::Status for a failed FFmpeg call: "<context>: <FFmpeg's text>".
// AVERROR(ENOENT) maps to NotFound, AVERROR_INVALIDDATA to DataLoss,
// AVERROR(EACCES) to PermissionDenied, AVERROR_EOF to OutOfRange, other
// codes to Internal.
absl::Status AvError(int error_code, const std::string& context);

// Silences FFmpeg's own logging (it otherwise prints decoder warnings for
// every damaged packet); mapn reports errors through absl::Status instead.
// MAPN_FFMPEG_LOG=1 in the environment keeps FFmpeg's warnings. Idempotent.
void QuietFfmpegLogging();

}  // namespace mapn

#endif  // MAPN_VIDEO_FFMPEG_UTIL_H_
