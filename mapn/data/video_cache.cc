#include "mapn/data/video_cache.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/status_macros.h"
#include "mapn/video/ffmpeg_util.h"
#include "mapn/video/transcode.h"

namespace mapn {
namespace {

namespace fs = std::filesystem;

// FNV-1a, 64 bits: stable across runs and builds (std::hash is not).
uint64_t Fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The newest modification time of a sequence's source: its video file, or
// its frame directory and every file in it.
absl::StatusOr<fs::file_time_type> SourceTime(const PoseSequence& seq) {
  std::error_code ec;
  if (!seq.source_video.empty()) {
    const fs::file_time_type t = fs::last_write_time(seq.source_video, ec);
    if (ec) {
      return absl::NotFoundError(absl::StrCat("video '", seq.source_video,
                                              "' of sequence '", seq.id,
                                              "': ", ec.message()));
    }
    return t;
  }
  if (seq.frame_pattern.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(seq.dataset, " sequence '", seq.id,
                     "' has neither frames nor a video to convert"));
  }
  const fs::path dir = fs::path(seq.frame_pattern).parent_path();
  fs::file_time_type newest = fs::last_write_time(dir, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("frame directory '", dir.string(),
                                            "' of sequence '", seq.id,
                                            "': ", ec.message()));
  }
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const fs::file_time_type t = e.last_write_time(ec);
    if (!ec && t > newest) newest = t;
  }
  return newest;
}

// True when `path` exists and holds `frames` frames.
bool HasFrames(const std::string& path, int64_t frames) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  absl::StatusOr<int64_t> n = CountVideoFrames(path);
  return n.ok() && *n == frames;
}

}  // namespace

std::string CachedVideoPath(const std::string& cache_dir,
                            const PoseDataset& dataset,
                            const PoseSequence& seq) {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::path(dataset.root), ec);
  if (ec) root = fs::absolute(fs::path(dataset.root), ec);
  const uint32_t key = static_cast<uint32_t>(Fnv1a(root.string()));
  return absl::StrFormat("%s/%s-%08x/%s.mp4", cache_dir,
                         dataset.name.empty() ? seq.dataset : dataset.name, key,
                         seq.id);
}

absl::StatusOr<int64_t> CountVideoFrames(const std::string& path) {
  QuietFfmpegLogging();
  AVFormatContext* raw = nullptr;
  int ret = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (ret < 0) return AvError(ret, absl::StrCat("cannot open '", path, "'"));
  UniqueInputFormatContext format(raw);
  ret = avformat_find_stream_info(format.get(), nullptr);
  if (ret < 0) return AvError(ret, absl::StrCat("cannot read '", path, "'"));
  const int stream =
      av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream < 0)
    return AvError(stream, absl::StrCat("no video in '", path, "'"));
  UniqueAVPacket packet(av_packet_alloc());
  int64_t count = 0;
  while ((ret = av_read_frame(format.get(), packet.get())) >= 0) {
    if (packet->stream_index == stream) ++count;
    av_packet_unref(packet.get());
  }
  if (ret != AVERROR_EOF) {
    return AvError(ret, absl::StrCat("reading '", path, "'"));
  }
  return count;
}

absl::Status EnsureCachedVideo(const PoseDataset& dataset, PoseSequence& seq,
                               const VideoCacheOptions& options) {
  // A conversion that came with the data (SynthPose's mpeg4_gop12/).
  if (!seq.cached_video.empty() &&
      HasFrames(seq.cached_video, seq.num_frames)) {
    return absl::OkStatus();
  }
  if (options.cache_dir.empty()) {
    return absl::InvalidArgumentError("the video cache needs a cache_dir");
  }
  const std::string target = CachedVideoPath(options.cache_dir, dataset, seq);
  MAPN_ASSIGN_OR_RETURN(const fs::file_time_type source_time, SourceTime(seq));
  std::error_code ec;
  const fs::file_time_type target_time = fs::last_write_time(target, ec);
  if (!ec && target_time >= source_time && HasFrames(target, seq.num_frames)) {
    seq.cached_video = target;
    return absl::OkStatus();
  }
  if (options.read_only) {
    return absl::NotFoundError(
        absl::StrCat("no up-to-date conversion of ", seq.dataset, " sequence '",
                     seq.id, "' at '", target, "' (the cache is read-only)"));
  }
  fs::create_directories(fs::path(target).parent_path(), ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create the cache directory for '", target,
                     "': ", ec.message()));
  }
  TranscodeOptions transcode;
  transcode.input_frame_rate = seq.frame_rate;
  const std::string input =
      seq.source_video.empty() ? seq.frame_pattern : seq.source_video;
  absl::Status converted = Transcode(input, target, transcode);
  if (!converted.ok()) {
    return absl::Status(converted.code(),
                        absl::StrCat("converting ", seq.dataset, " sequence '",
                                     seq.id, "': ", converted.message()));
  }
  MAPN_ASSIGN_OR_RETURN(const int64_t frames, CountVideoFrames(target));
  if (frames != seq.num_frames) {
    fs::remove(target, ec);
    return absl::DataLossError(absl::StrCat(
        "converting ", seq.dataset, " sequence '", seq.id, "' from '", input,
        "' gave ", frames, " frames but its labels cover ", seq.num_frames));
  }
  seq.cached_video = target;
  return absl::OkStatus();
}

absl::Status CacheVideos(PoseDataset& dataset,
                         const VideoCacheOptions& options) {
  for (PoseSequence& seq : dataset.sequences) {
    MAPN_RETURN_IF_ERROR(EnsureCachedVideo(dataset, seq, options));
  }
  return absl::OkStatus();
}

}  // namespace mapn
