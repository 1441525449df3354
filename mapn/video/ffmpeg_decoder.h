// File: ffmpeg_decoder.h
//
// Demuxes and decodes the video stream of a file (or of a buffer in memory)
// frame by frame with FFmpeg 5.1, with the codec's motion vectors exported
// (flags2=+export_mvs). It is the layer under FfmpegStreamSource, and also
// what `mapn inspect` (which reports on any stream, B-frames included) and
// Transcode (which reads any codec) use. Every failure is an absl::Status
// naming the file and, where one is involved, the packet or frame.
//
// Which stream: the one FFmpeg itself would pick (av_find_best_stream: a
// stream marked default first, then the one with more frames probed and the
// higher bit rate), not the first video stream, or the container's stream
// `DecoderOptions::stream_index` names; a file with several video streams
// (a small preview beside the main picture, several camera angles) is read
// at the size a player would show. info() says which stream was read and
// how many video streams there are.
//
// What it checks when opening: the file exists and FFmpeg can demux it, it
// has a video stream (the one asked for, when asked: else InvalidArgument
// listing the file's video streams), the stream's size is positive, even and
// within the configured limits, and (unless told otherwise) the codec is one
// FFmpeg exports motion vectors for that the reader supports (MPEG-4 Part 2,
// H.264) in 8-bit 4:2:0.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(std::unique_ptr<FfmpegDecoder> decoder,
//                         FfmpegDecoder::Open("clip.mp4"));
//   DecodedFrame frame;
//   while (true) {
//     MAPN_ASSIGN_OR_RETURN(bool got, decoder->Next(&frame));
//     if (!got) break;
//     // frame.frame (YUV), frame.type, frame.motion_vectors, ...
//   }
#ifndef MAPN_VIDEO_FFMPEG_DECODER_H_
#define MAPN_VIDEO_FFMPEG_DECODER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/video/gop.h"
#include "mapn/video/motion_vectors.h"

extern "C" {
struct AVFrame;
}

namespace mapn {

struct DecoderOptions {
  // Streams wider or taller than this are refused before decoding.
  int max_width = 4096;
  int max_height = 4096;
  // Decoder threads; 0 lets FFmpeg use one per core.
  int threads = 0;
  bool export_motion_vectors = true;
  // Refuse codecs the reader cannot use (anything but MPEG-4 Part 2 and
  // H.264), pixel formats other than 8-bit 4:2:0 and odd sizes, naming the
  // transcode tool. Transcode and inspect turn this off.
  bool require_reader_format = true;
  // Decodes P- and B-frames WITHOUT their coded residual and deblocking
  // (FFmpeg's skip_idct / skip_loop_filter): every inter block of such a
  // frame is then exactly the codec's motion-compensated prediction from
  // the previous output frame. Only for measuring how closely mapn's motion
  // compensation follows the codec (docs/video.md); never for real use.
  bool prediction_only = false;
  // Options for the demuxer, e.g. {"framerate", "30"} for an image
  // sequence read through FFmpeg's image2 demuxer.
  std::map<std::string, std::string> demuxer_options;
  // The container's index of the video stream to read (as ffprobe numbers
  // streams, audio included); -1 for the one FFmpeg picks as best.
  int stream_index = -1;
};

struct DecodedFrame {
  // The decoded picture; owned by the decoder, valid until the next Next().
  const AVFrame* frame = nullptr;
  // Frames before this one: decoded ones, plus ones lost to packets the
  // decoder rejected (so damage does not shift later indices). Packets
  // that code no picture (MPEG-4 not-coded VOPs, empty AVI chunks) do not
  // count: the index is what labels per decoded frame use.
  int64_t index = 0;
  FrameType type = FrameType::kI;
  // FFmpeg's picture type letter: 'I', 'P', 'B', 'S' (MPEG-4 sprite), ...
  char picture_type = 'I';
  double timestamp_s = 0.0;   // NaN when the stream carries none
  int64_t packet_index = -1;  // the packet (0-based) the frame came from
  std::vector<MotionVector> motion_vectors;
  // MPEG-4 Part 2: the VOP's rounding_type (read from the packet).
  bool mpeg4_no_rounding = false;
  // Non-empty when the decoder reported errors it concealed in this frame.
  std::string damage;
};

class FfmpegDecoder {
 public:
  static absl::StatusOr<std::unique_ptr<FfmpegDecoder>> Open(
      const std::string& path, const DecoderOptions& options = {});
  // Reads from `size` bytes at `data`, which must outlive the decoder;
  // `name` stands for the file in messages.
  static absl::StatusOr<std::unique_ptr<FfmpegDecoder>> OpenMemory(
      const uint8_t* data, size_t size, const std::string& name,
      const DecoderOptions& options = {});

  ~FfmpegDecoder();
  FfmpegDecoder(const FfmpegDecoder&) = delete;
  FfmpegDecoder& operator=(const FfmpegDecoder&) = delete;

  // Decodes the next frame in presentation order into `out`; false at the
  // end of the stream. A packet the decoder rejects gives DataLoss and the
  // next call carries on with the next packet; a container read error gives
  // DataLoss and the next calls drain the frames already decoded, then end.
  // FailedPrecondition: the stream changed its size or pixel format.
  absl::StatusOr<bool> Next(DecodedFrame* out);

  const StreamInfo& info() const;
  // FFmpeg's AVCodecID of the stream.
  int codec_id() const;
  // FFmpeg's demuxer name ("mov,mp4,m4a,3gp,3g2,mj2", "avi", "h264", ...).
  std::string container() const;
  int64_t packets_read() const;
  // After Next() returned DataLoss: the index of the frame that error lost
  // (a packet the decoder rejected, a frame it failed to decode); nullopt
  // for container read errors and truncation, which lose an unknown number
  // of frames, and after any other result.
  std::optional<int64_t> lost_frame() const;

 private:
  struct State;
  explicit FfmpegDecoder(std::unique_ptr<State> state);
  static absl::StatusOr<std::unique_ptr<FfmpegDecoder>> OpenImpl(
      std::unique_ptr<State> state, const std::string& url);

  std::unique_ptr<State> state_;
};

// True for the codecs FfmpegStreamSource reads (FFmpeg AVCodecID values).
bool IsReaderCodec(int codec_id);

// The message tail that tells a user how to make a file readable.
std::string TranscodeHint(const std::string& path);

}  // namespace mapn

#endif  // MAPN_VIDEO_FFMPEG_DECODER_H_
