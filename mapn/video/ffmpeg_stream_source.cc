#include "mapn/video/ffmpeg_stream_source.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/video/band_pool.h"
#include "mapn/video/ffmpeg_decoder.h"
#include "mapn/video/ffmpeg_util.h"
#include "mapn/video/window_assembler.h"
#include "mapn/video/yuv.h"

extern "C" {
#include <libavutil/frame.h>
}

namespace mapn {
namespace {

static_assert(MotionGrid::kCell == kMotionBlock,
              "the codec grid and the window's motion grid are the same");

absl::Status ValidateOptions(const FfmpegStreamSourceOptions& o) {
  if (o.window_length < 1 || o.window_length > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        "window_length must be in [1, 4096], got ", o.window_length));
  }
  if (o.max_width < 2 || o.max_height < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_width and max_height must be at least 2, got ",
                     o.max_width, " and ", o.max_height));
  }
  if (o.decoder_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("decoder_threads must be >= 0, got ", o.decoder_threads));
  }
  if (o.stream_index < -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream_index must be a stream's index (0 or more) or -1 for the "
        "best video stream, got ",
        o.stream_index));
  }
  if (o.compute_residual && !o.export_motion) {
    return absl::InvalidArgumentError(
        "compute_residual needs export_motion (the residual follows the "
        "motion vectors)");
  }
  return absl::OkStatus();
}

DecoderOptions ToDecoderOptions(const FfmpegStreamSourceOptions& o) {
  DecoderOptions d;
  d.max_width = o.max_width;
  d.max_height = o.max_height;
  d.threads = o.decoder_threads;
  d.export_motion_vectors = o.export_motion;
  d.require_reader_format = true;
  d.prediction_only = o.prediction_only;
  d.stream_index = o.stream_index;
  return d;
}

Yuv420View ViewOf(const AVFrame* f) {
  return Yuv420View{f->data[0],     f->data[1], f->data[2], f->linesize[0],
                    f->linesize[1], f->width,   f->height};
}

YuvToRgb MatrixOf(const AVFrame* f) {
  const bool bt709 = f->colorspace == AVCOL_SPC_BT709;
  const bool full =
      f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P;
  return YuvToRgb::Make(bt709, full);
}

}  // namespace

struct FfmpegStreamSource::State {
  State(const FfmpegStreamSourceOptions& o, std::unique_ptr<FfmpegDecoder> d)
      : options(o),
        decoder(std::move(d)),
        assembler(o.window_length, decoder->info().height,
                  decoder->info().width,
                  WindowContents{o.export_motion, o.compute_residual}) {}

  FfmpegStreamSourceOptions options;
  std::unique_ptr<FfmpegDecoder> decoder;
  WindowAssembler assembler;
  McFilter filter = McFilter::kMpeg4;
  UniqueAVFrame prev;  // the previous decoded frame (a reference)
  bool have_prev = false;
  bool skipping = true;  // until an I-frame opens a GOP
  bool finished = false;
  Stats stats;
  DecodedFrame frame;
  std::vector<std::vector<MotionVector>> current_vectors;
  std::vector<std::vector<MotionVector>> window_vectors;
  // The presentation time of the last frame added (a lost frame's is one
  // frame interval later).
  double last_timestamp_s = std::numeric_limits<double>::quiet_NaN();
};

FfmpegStreamSource::FfmpegStreamSource(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
FfmpegStreamSource::FfmpegStreamSource(FfmpegStreamSource&&) noexcept = default;
FfmpegStreamSource& FfmpegStreamSource::operator=(
    FfmpegStreamSource&&) noexcept = default;
FfmpegStreamSource::~FfmpegStreamSource() = default;

absl::StatusOr<FfmpegStreamSource> FfmpegStreamSource::Open(
    const std::string& path, const FfmpegStreamSourceOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<FfmpegDecoder>> decoder =
      FfmpegDecoder::Open(path, ToDecoderOptions(options));
  if (!decoder.ok()) return decoder.status();
  return Create(std::make_unique<State>(options, *std::move(decoder)));
}

absl::StatusOr<FfmpegStreamSource> FfmpegStreamSource::OpenMemory(
    const uint8_t* data, size_t size, const std::string& name,
    const FfmpegStreamSourceOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<FfmpegDecoder>> decoder =
      FfmpegDecoder::OpenMemory(data, size, name, ToDecoderOptions(options));
  if (!decoder.ok()) return decoder.status();
  return Create(std::make_unique<State>(options, *std::move(decoder)));
}

absl::StatusOr<FfmpegStreamSource> FfmpegStreamSource::Create(
    std::unique_ptr<State> state) {
  state->filter = state->options.mc_filter.value_or(
      state->decoder->codec_id() == AV_CODEC_ID_H264 ? McFilter::kH264
                                                     : McFilter::kMpeg4);
  state->prev.reset(av_frame_alloc());
  if (!state->prev) return absl::ResourceExhaustedError("out of memory");
  return FfmpegStreamSource(std::move(state));
}

const StreamInfo& FfmpegStreamSource::info() const {
  return state_->decoder->info();
}
int64_t FfmpegStreamSource::window_length() const {
  return state_->options.window_length;
}
const FfmpegStreamSource::Stats& FfmpegStreamSource::stats() const {
  return state_->stats;
}
McFilter FfmpegStreamSource::mc_filter() const { return state_->filter; }
const std::vector<std::vector<MotionVector>>&
FfmpegStreamSource::window_motion_vectors() const {
  return state_->window_vectors;
}

absl::StatusOr<std::optional<GopWindow>> FfmpegStreamSource::Next() {
  State& s = *state_;
  const std::string& name = s.decoder->info().path;
  // Hands out a window the assembler closed, with its raw vectors.
  auto emit = [&](GopWindow window) -> std::optional<GopWindow> {
    if (s.options.keep_motion_vectors) {
      s.window_vectors = std::move(s.current_vectors);
      s.window_vectors.resize(static_cast<size_t>(window.length()));
      s.current_vectors.clear();
    }
    ++s.stats.windows;
    return window;
  };
  // Drops the GOP in progress (kSkipGop); the caller has checked the policy.
  auto drop_gop = [&]() {
    if (!s.skipping) {
      ++s.stats.damaged_gops;
      s.assembler.Discard();
      s.current_vectors.clear();
    }
    s.skipping = true;
    s.have_prev = false;
  };

  // kConceal: frame `index`, whose packet the decoder rejected, as the
  // previous picture again with zero motion and residual. The codec's next
  // frame predicts from that same previous picture (the lost one never
  // became a reference), so its vectors and residual stay right.
  auto add_lost = [&](int64_t index) -> std::optional<GopWindow> {
    FrameMeta meta;
    meta.index = index;
    meta.type = FrameType::kP;
    const double rate = s.decoder->info().frame_rate;
    meta.timestamp_s = rate > 0 ? s.last_timestamp_s + 1.0 / rate
                                : std::numeric_limits<double>::quiet_NaN();
    s.last_timestamp_s = meta.timestamp_s;
    meta.color = MatrixOf(s.prev.get());
    meta.damage = FrameDamage::kLost;
    std::optional<GopWindow> done = s.assembler.Add(meta);
    std::optional<GopWindow> out;
    if (done) out = emit(*std::move(done));
    if (s.options.keep_motion_vectors) s.current_vectors.emplace_back();
    s.assembler.FillNoMotion(/*intra=*/false);
    const FrameSlot& slot = s.assembler.slot();
    const Yuv420View prev = ViewOf(s.prev.get());
    ConvertToRgbPlanar(prev, meta.color, 0, prev.height, slot.rgb[0],
                       slot.rgb[1], slot.rgb[2]);
    return out;
  };

  while (!s.finished) {
    absl::StatusOr<bool> got = s.decoder->Next(&s.frame);
    if (!got.ok()) {
      if (absl::IsDataLoss(got.status()) &&
          s.options.on_damage == DamagePolicy::kSkipGop) {
        drop_gop();
        continue;
      }
      if (absl::IsDataLoss(got.status()) &&
          s.options.on_damage == DamagePolicy::kConceal) {
        const std::optional<int64_t> lost = s.decoder->lost_frame();
        if (!lost) {  // the decoder drains what it has, then ends
          ++s.stats.stream_errors;
          continue;
        }
        ++s.stats.frames_lost;
        if (s.skipping || !s.have_prev) {
          ++s.stats.frames_skipped;
          continue;
        }
        if (std::optional<GopWindow> out = add_lost(*lost)) return out;
        continue;
      }
      return got.status();
    }
    if (!*got) {
      s.finished = true;
      std::optional<GopWindow> last = s.assembler.Finish();
      if (last) return emit(*std::move(last));
      return std::nullopt;
    }
    DecodedFrame& f = s.frame;
    ++s.stats.frames_decoded;
    if (f.type == FrameType::kB) {
      return absl::UnimplementedError(absl::StrCat(
          "'", name, "': frame ", f.index,
          " is a B-frame; the reader needs streams of I- and P-frames only: ",
          TranscodeHint(name)));
    }
    if (f.picture_type == 'S') {
      return absl::UnimplementedError(absl::StrCat(
          "'", name, "': frame ", f.index,
          " is an MPEG-4 sprite (global motion compensation) VOP, which the "
          "reader does not follow: ",
          TranscodeHint(name)));
    }
    FrameDamage damage = FrameDamage::kNone;
    if (!f.damage.empty() && s.options.on_damage == DamagePolicy::kConceal) {
      damage = FrameDamage::kConcealed;
      ++s.stats.frames_concealed;
    } else if (!f.damage.empty()) {
      if (s.options.on_damage == DamagePolicy::kFail) {
        return absl::DataLossError(
            absl::StrCat("'", name, "' is corrupt: ", f.damage));
      }
      std::optional<GopWindow> done;
      // A damaged I-frame ends the previous GOP intact.
      if (f.type == FrameType::kI && !s.skipping) done = s.assembler.Finish();
      if (done) {
        s.skipping = true;
        s.have_prev = false;
        ++s.stats.frames_skipped;
        ++s.stats.damaged_gops;
        return emit(*std::move(done));
      }
      drop_gop();
      ++s.stats.frames_skipped;
      continue;
    }
    if (f.type == FrameType::kP && s.skipping) {
      ++s.stats.frames_skipped;  // no I-frame to predict from
      continue;
    }
    if (f.type == FrameType::kI) s.skipping = false;

    FrameMeta meta;
    meta.index = f.index;
    meta.type = f.type;
    meta.timestamp_s = f.timestamp_s;
    meta.color = MatrixOf(f.frame);
    meta.damage = damage;
    s.last_timestamp_s = f.timestamp_s;
    std::optional<GopWindow> done = s.assembler.Add(meta);
    std::optional<GopWindow> out;
    if (done) out = emit(*std::move(done));
    if (s.options.keep_motion_vectors) {
      s.current_vectors.push_back(f.type == FrameType::kP
                                      ? f.motion_vectors
                                      : std::vector<MotionVector>{});
    }

    // Fill the frame's slot: for P-frames the block motion first, then RGB
    // and the residual band by band (8 luma rows).
    const FrameSlot& slot = s.assembler.slot();
    const Yuv420View cur = ViewOf(f.frame);
    const YuvToRgb& matrix = meta.color;
    const bool inter = f.type == FrameType::kP;
    if (!inter) s.assembler.FillNoMotion(/*intra=*/true);
    const bool want_motion = inter && slot.motion[0] != nullptr;
    const bool want_residual =
        want_motion && slot.residual[0] != nullptr && s.have_prev;
    if (want_motion && slot.residual[0] != nullptr && !s.have_prev) {
      s.assembler.ClearResidual();
    }
    MotionGrid grid;
    if (want_motion) {
      if (const MotionVector* mv = FirstOffGridVector(f.motion_vectors)) {
        return absl::UnimplementedError(absl::StrFormat(
            "'%s': frame %d has a %dx%d motion vector block at (%d, %d), off "
            "the %d-pixel grid windows store motion on; FFmpeg 5.1 exports "
            "only blocks of 8 to 16 pixels on that grid for MPEG-4 Part 2 "
            "and H.264, so this libavcodec behaves differently",
            name, f.index, mv->w, mv->h, mv->dst_x - mv->w / 2,
            mv->dst_y - mv->h / 2, kMotionBlock));
      }
      grid = MotionGrid::Build(f.motion_vectors, cur.width, cur.height);
      WriteBlockMotion(grid, 0, grid.rows(), slot.motion[0], slot.motion[1],
                       slot.intra);
    }
    const Yuv420View prev = ViewOf(s.prev.get());
    const McOptions mc{s.filter, f.mpeg4_no_rounding};
    const int64_t bands =
        (cur.height + MotionGrid::kCell - 1) / MotionGrid::kCell;
    auto process = [&](int64_t band_begin, int64_t band_end) {
      const int row_begin = static_cast<int>(band_begin) * MotionGrid::kCell;
      const int row_end =
          std::min(cur.height, static_cast<int>(band_end) * MotionGrid::kCell);
      ConvertToRgbPlanar(cur, matrix, row_begin, row_end, slot.rgb[0],
                         slot.rgb[1], slot.rgb[2]);
      if (want_residual) {
        ComputeResidualYuv(prev, cur, grid, mc, static_cast<int>(band_begin),
                           static_cast<int>(band_end), slot.residual[0],
                           slot.residual[1], slot.residual[2]);
      }
    };
    if (s.options.parallel) {
      BandPool::Default().Run(bands, process);
    } else {
      process(0, bands);
    }

    av_frame_unref(s.prev.get());
    if (av_frame_ref(s.prev.get(), f.frame) < 0) {
      return absl::ResourceExhaustedError("out of memory keeping a frame");
    }
    s.have_prev = true;
    if (out) return out;
  }
  return std::nullopt;
}

}  // namespace mapn
