#include "mapn/distill/distill_data.h"

#include <ATen/ATen.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mapn/core/status_macros.h"
#include "mapn/geometry/affine.h"
#include "mapn/model/checkpoint.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/resample.h"
#include "mapn/video/transcode.h"
#include "nlohmann/json.hpp"

namespace mapn::distill {
namespace {

constexpr char kCacheType[] = "DistillTeacherCache";
constexpr int kCacheVersion = 1;

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

uint64_t Fnv1a(const void* data, size_t bytes, uint64_t v) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) v = (v ^ p[i]) * 0x100000001b3ull;
  return v;
}
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull;

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(v));
  return buf;
}

std::string HashOf(const std::string& text) {
  return Hex(Fnv1a(text.data(), text.size(), kFnvBasis));
}

// A file name made of `name`'s letters and digits (others become '_'),
// kept short, and a hash of the whole path so that two videos never share
// a file.
std::string CacheStem(const std::string& name, const std::string& path) {
  std::string stem = std::filesystem::path(name).filename().string();
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') {
      c = '_';
    }
  }
  if (stem.size() > 60) stem.resize(60);
  return absl::StrCat(stem, "-", HashOf(path).substr(0, 12));
}

// The video's identity: its absolute path, size and modification time.
absl::StatusOr<nlohmann::json> VideoStamp(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot stat '", path, "'"));
  }
  std::error_code error;
  const std::string absolute =
      std::filesystem::absolute(path, error).lexically_normal().string();
  return nlohmann::json{
      {"path", error ? path : absolute},
      {"size", static_cast<int64_t>(st.st_size)},
      {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                       st.st_mtim.tv_nsec}};
}

// "teacher, video" for the fields of two keys that differ.
std::string KeyDifferences(const std::string& stored,
                           const std::string& current) {
  const nlohmann::json a = nlohmann::json::parse(stored, nullptr, false);
  const nlohmann::json b = nlohmann::json::parse(current, nullptr, false);
  if (!a.is_object() || !b.is_object()) return "unreadable key";
  std::vector<std::string> fields;
  for (const auto& [name, value] : b.items()) {
    if (!a.contains(name) || a[name] != value) fields.push_back(name);
  }
  return fields.empty() ? "key" : absl::StrJoin(fields, ", ");
}

// Opens `video`, transcoding it into `cache_dir` first when the reader
// refuses its codec or its B-frames. Sets `read_path` to what was opened.
absl::StatusOr<FfmpegStreamSource> OpenVideo(const BatchVideo& video,
                                             const DistillDataOptions& options,
                                             bool transcode,
                                             std::string* read_path) {
  FfmpegStreamSourceOptions source_options;
  source_options.window_length = options.window_length;
  source_options.on_damage = DamagePolicy::kConceal;
  absl::StatusOr<FfmpegStreamSource> source =
      FfmpegStreamSource::Open(video.path, source_options);
  *read_path = video.path;
  if (!transcode && (source.ok() || !absl::IsUnimplemented(source.status()))) {
    return source;
  }

  const std::filesystem::path dir =
      std::filesystem::path(options.cache_dir) / "transcoded";
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  MAPN_ASSIGN_OR_RETURN(nlohmann::json stamp, VideoStamp(video.path));
  const std::string out =
      (dir / absl::StrCat(CacheStem(video.name, video.path), "-",
                          HashOf(stamp.dump()).substr(0, 8), ".mp4"))
          .string();
  if (!std::filesystem::exists(out)) {
    if (!options.quiet) {
      std::fprintf(stderr,
                   "[distill] transcoding %s (the reader takes MPEG-4 Part 2 "
                   "or H.264 without B-frames)\n",
                   video.name.c_str());
    }
    const std::string temp = absl::StrCat(out, ".partial-", ::getpid(), ".mp4");
    const absl::Status transcoded = Transcode(video.path, temp);
    if (!transcoded.ok()) {
      std::filesystem::remove(temp, error);
      return transcoded;
    }
    std::filesystem::rename(temp, out, error);
    if (error) {
      return absl::InternalError(absl::StrCat("cannot rename '", temp, "' to '",
                                              out, "': ", error.message()));
    }
  }
  *read_path = out;
  return FfmpegStreamSource::Open(out, source_options);
}

// A window's crop before the teacher runs.
struct Crop {
  int64_t window_index = 0;
  int64_t num_valid = 0;
  at::Tensor rgb;       // uint8 [T, 3, S, S]
  at::Tensor motion;    // half
  at::Tensor residual;  // half, / 255
  at::Tensor valid;     // bool [T]
};

// Every window of `video` with a person, cropped, and the teacher's
// features of the kept ones.
absl::Status ReadVideoOnce(const BatchVideo& video, const Teacher& teacher,
                           const BoxSource& boxes,
                           const DistillDataOptions& options, bool transcode,
                           DistillVideo& out,
                           std::vector<DistillWindow>& windows) {
  std::string read_path;
  MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
                        OpenVideo(video, options, transcode, &read_path));
  out.path = read_path;
  const int size = static_cast<int>(teacher.input_size());
  const int64_t width = source.info().width;
  const int64_t height = source.info().height;
  std::vector<Crop> crops;
  std::optional<Box> previous;
  while (true) {
    MAPN_ASSIGN_OR_RETURN(std::optional<GopWindow> window, source.Next());
    if (!window) break;
    out.frames += window->num_valid;
    MAPN_ASSIGN_OR_RETURN(const WindowBoxes found,
                          boxes.ForWindow(*window, width, height, previous));
    previous = found.person[window->num_valid - 1];
    if (!found.crop) {
      ++out.windows_without_person;
      continue;
    }
    MAPN_ASSIGN_OR_RETURN(
        ResampledWindow cropped,
        ResampleWindow(*window, BoxToSquare(*found.crop, size), size));
    Crop crop;
    crop.window_index = window->window_index;
    crop.num_valid = window->num_valid;
    crop.rgb = cropped.rgb;
    crop.motion = cropped.motion.to(at::kHalf);
    crop.residual = (cropped.residual / 255.0).to(at::kHalf);
    crop.valid = cropped.valid.clone();
    crops.push_back(std::move(crop));
  }
  // Evenly spread when there are more than asked for.
  std::vector<size_t> kept;
  const size_t n = crops.size();
  const size_t k =
      options.max_windows_per_video > 0
          ? std::min(n, static_cast<size_t>(options.max_windows_per_video))
          : n;
  for (size_t i = 0; i < k; ++i) kept.push_back(i * n / k);

  const at::NoGradGuard no_grad;
  movenet::MoveNetEncoder encoder = teacher.encoder;  // Extract is not const
  for (size_t i : kept) {
    Crop& crop = crops[i];
    DistillWindow w;
    w.window_index = crop.window_index;
    w.num_valid = crop.num_valid;
    const at::Tensor valid_rgb =
        crop.rgb.narrow(0, 0, crop.num_valid).to(at::kFloat) / 255.0;
    const at::Tensor features =
        encoder->Extract(valid_rgb).contiguous().to(at::kHalf);
    const int64_t t_len = crop.rgb.size(0);
    w.features =
        at::zeros({t_len, features.size(1), features.size(2), features.size(3)},
                  features.options());
    w.features.narrow(0, 0, crop.num_valid).copy_(features);
    w.motion = crop.motion;
    w.residual = crop.residual;
    w.valid = crop.valid;
    if (options.keep_frames) w.rgb = crop.rgb;
    windows.push_back(std::move(w));
    out.frames_in_windows += crop.num_valid;
  }
  out.windows = static_cast<int64_t>(kept.size());
  return absl::OkStatus();
}

// ReadVideoOnce, and again on a transcoded copy when the reader refuses
// the stream part-way (B-frames are found only when they come).
absl::Status ReadVideo(const BatchVideo& video, const Teacher& teacher,
                       const BoxSource& boxes,
                       const DistillDataOptions& options, DistillVideo& out,
                       std::vector<DistillWindow>& windows) {
  const DistillVideo start = out;
  absl::Status status =
      ReadVideoOnce(video, teacher, boxes, options, false, out, windows);
  if (!absl::IsUnimplemented(status)) return status;
  out = start;
  windows.clear();
  return ReadVideoOnce(video, teacher, boxes, options, true, out, windows);
}

absl::Status WriteCache(const std::string& path, const std::string& key,
                        const DistillVideo& video,
                        std::span<const DistillWindow> windows) {
  model::ModelFile file;
  file.type_name = kCacheType;
  file.options_json = key;
  file.tensors.emplace_back(
      "video", at::tensor(std::vector<int64_t>{video.frames,
                                               video.windows_without_person},
                          at::kLong));
  for (size_t i = 0; i < windows.size(); ++i) {
    const DistillWindow& w = windows[i];
    const std::string p = absl::StrCat("w", i, ".");
    file.tensors.emplace_back(
        p + "meta",
        at::tensor(std::vector<int64_t>{w.window_index, w.num_valid},
                   at::kLong));
    file.tensors.emplace_back(p + "features", w.features);
    file.tensors.emplace_back(p + "motion", w.motion);
    file.tensors.emplace_back(p + "residual", w.residual);
    file.tensors.emplace_back(p + "valid", w.valid.to(at::kByte));
    if (w.rgb.defined()) file.tensors.emplace_back(p + "rgb", w.rgb);
  }
  return model::WriteCheckpoint(path, file);
}

// The windows of a cache file whose key is `key`; NotFound when there is
// none, FailedPrecondition saying what changed when it is stale.
absl::Status ReadCache(const std::string& path, const std::string& key,
                       bool keep_frames, DistillVideo& video,
                       std::vector<DistillWindow>& windows) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError("no teacher cache");
  }
  absl::StatusOr<model::ModelFile> file = model::ReadModelFile(path);
  if (!file.ok()) return absl::DataLossError(file.status().message());
  if (file->type_name != kCacheType) {
    return absl::DataLossError(
        absl::StrCat("not a teacher cache: ", file->type_name));
  }
  if (file->options_json != key) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stale (", KeyDifferences(file->options_json, key), " changed)"));
  }
  std::map<std::string, at::Tensor> by_name;
  for (auto& [name, t] : file->tensors) by_name[name] = t;
  const auto get = [&](const std::string& name) -> absl::StatusOr<at::Tensor> {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return absl::DataLossError(
          absl::StrCat("teacher cache '", path, "' lacks ", name));
    }
    return it->second;
  };
  MAPN_ASSIGN_OR_RETURN(at::Tensor meta, get("video"));
  video.frames = meta[0].item<int64_t>();
  video.windows_without_person = meta[1].item<int64_t>();
  for (int64_t i = 0;; ++i) {
    const std::string p = absl::StrCat("w", i, ".");
    if (by_name.count(p + "meta") == 0) break;
    DistillWindow w;
    MAPN_ASSIGN_OR_RETURN(at::Tensor m, get(p + "meta"));
    w.window_index = m[0].item<int64_t>();
    w.num_valid = m[1].item<int64_t>();
    MAPN_ASSIGN_OR_RETURN(w.features, get(p + "features"));
    MAPN_ASSIGN_OR_RETURN(w.motion, get(p + "motion"));
    MAPN_ASSIGN_OR_RETURN(w.residual, get(p + "residual"));
    MAPN_ASSIGN_OR_RETURN(at::Tensor valid, get(p + "valid"));
    w.valid = valid.to(at::kBool);
    if (keep_frames) {
      MAPN_ASSIGN_OR_RETURN(w.rgb, get(p + "rgb"));
    }
    video.frames_in_windows += w.num_valid;
    ++video.windows;
    windows.push_back(std::move(w));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Teacher> Teacher::Pretrained(const std::string& variant) {
  movenet::MoveNetOptions options{.variant = variant};
  MAPN_RETURN_IF_ERROR(options.Validate());
  MAPN_ASSIGN_OR_RETURN(movenet::MoveNet net, movenet::LoadMoveNet(options));
  return FromModules(net.encoder, net.head);
}

absl::StatusOr<Teacher> Teacher::FromModules(movenet::MoveNetEncoder encoder,
                                             movenet::MoveNetHead head) {
  if (encoder.is_empty() || head.is_empty()) {
    return absl::InvalidArgumentError(
        "the teacher needs an encoder and a head");
  }
  if (encoder->options().variant != head->options().variant) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the teacher's encoder is MoveNet ", encoder->options().variant,
        " and its head MoveNet ", head->options().variant));
  }
  uint64_t hash = kFnvBasis;
  for (torch::nn::Module* module :
       {static_cast<torch::nn::Module*>(encoder.get()),
        static_cast<torch::nn::Module*>(head.get())}) {
    for (const model::NamedTensor& t : model::ModuleTensors(*module)) {
      hash = Fnv1a(t.first.data(), t.first.size(), hash);
      const at::Tensor c = t.second.contiguous();
      hash = Fnv1a(c.data_ptr(), c.numel() * c.element_size(), hash);
    }
  }
  encoder->eval();
  head->eval();
  Teacher teacher;
  teacher.encoder = std::move(encoder);
  teacher.head = std::move(head);
  teacher.key =
      absl::StrCat(teacher.encoder->options().variant, "-", Hex(hash));
  return teacher;
}

absl::Status ValidateDistillDataOptions(const DistillDataOptions& options) {
  if (options.window_length < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "window_length is ", options.window_length, "; it must be at least 2"));
  }
  if (options.max_windows_per_video < 0) {
    return absl::InvalidArgumentError("max_windows_per_video must be >= 0");
  }
  if (options.cache_dir.empty()) {
    return absl::InvalidArgumentError(
        "distillation needs a cache directory for the teacher's outputs");
  }
  return absl::OkStatus();
}

int64_t DistillData::valid_frames() const {
  int64_t n = 0;
  for (const DistillWindow& w : windows_) n += w.num_valid;
  return n;
}

absl::StatusOr<DistillData> DistillData::Build(
    const std::vector<BatchVideo>& videos, const Teacher& teacher,
    const BoxSource& boxes, const std::string& boxes_key,
    const DistillDataOptions& options) {
  MAPN_RETURN_IF_ERROR(ValidateDistillDataOptions(options));
  if (videos.empty()) {
    return absl::InvalidArgumentError("no videos to distil from");
  }
  std::error_code error;
  std::filesystem::create_directories(options.cache_dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create the teacher cache directory '",
                     options.cache_dir, "': ", error.message()));
  }
  DistillData data;
  data.options_ = options;
  data.input_size_ = teacher.input_size();
  std::string data_key = teacher.key;
  for (const BatchVideo& video : videos) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<nlohmann::json> stamp = VideoStamp(video.path);
    if (!stamp.ok()) {
      data.skipped_.push_back(
          absl::StrCat(video.name, ": ", stamp.status().message()));
      continue;
    }
    const nlohmann::json key_json = {
        {"version", kCacheVersion},
        {"teacher", teacher.key},
        {"video", *stamp},
        {"input_size", teacher.input_size()},
        {"window_length", options.window_length},
        {"boxes", boxes_key},
        {"max_windows_per_video", options.max_windows_per_video},
        {"keep_frames", options.keep_frames}};
    const std::string key = key_json.dump();
    const std::string cache_path =
        (std::filesystem::path(options.cache_dir) /
         absl::StrCat(CacheStem(video.name, video.path), ".teacher"))
            .string();
    DistillVideo part;
    part.name = video.name;
    part.path = video.path;
    std::vector<DistillWindow> windows;
    const absl::Status cached =
        ReadCache(cache_path, key, options.keep_frames, part, windows);
    if (cached.ok()) {
      part.from_cache = true;
    } else {
      if (!options.quiet && !absl::IsNotFound(cached)) {
        std::fprintf(stderr, "[distill] teacher cache of %s: %s; rebuilding\n",
                     video.name.c_str(), std::string(cached.message()).c_str());
      }
      part = DistillVideo{.name = video.name, .path = video.path};
      windows.clear();
      const absl::Status read =
          ReadVideo(video, teacher, boxes, options, part, windows);
      if (!read.ok()) {
        data.skipped_.push_back(absl::StrCat(video.name, ": ", read.message()));
        if (!options.quiet) {
          std::fprintf(stderr, "[distill] skipping %s: %s\n",
                       video.name.c_str(), std::string(read.message()).c_str());
        }
        continue;
      }
      MAPN_RETURN_IF_ERROR(WriteCache(cache_path, key, part, windows));
    }
    if (!options.quiet) {
      std::fprintf(
          stderr,
          "[distill] %s: %lld of %lld frames in %lld windows with a "
          "person%s (%.1f s)\n",
          video.name.c_str(), static_cast<long long>(part.frames_in_windows),
          static_cast<long long>(part.frames),
          static_cast<long long>(part.windows),
          part.from_cache ? ", teacher from the cache" : "", Seconds(start));
    }
    const int video_index = static_cast<int>(data.videos_.size());
    for (DistillWindow& w : windows) {
      w.video = video_index;
      data.windows_.push_back(std::move(w));
    }
    absl::StrAppend(&data_key, "|", video.name, ":", stamp->dump(), ":",
                    part.windows);
    data.videos_.push_back(std::move(part));
  }
  if (data.videos_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no video could be read: ", absl::StrJoin(data.skipped_, "; ")));
  }
  if (data.windows_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no window with a person in ", data.videos_.size(),
                     " videos (", boxes_key, "): nothing to distil from"));
  }
  data.key_ =
      absl::StrCat(data.videos_.size(), " videos, ", data.windows_.size(),
                   " windows, ", HashOf(data_key));
  return data;
}

absl::StatusOr<DistillBatch> DistillData::Batch(
    std::span<const int64_t> ids) const {
  if (ids.empty()) return absl::InvalidArgumentError("an empty batch");
  std::vector<at::Tensor> features, motion, residual, valid, rgb;
  for (int64_t id : ids) {
    if (id < 0 || id >= size()) {
      return absl::OutOfRangeError(absl::StrCat("window ", id, " of ", size()));
    }
    const DistillWindow& w = windows_[id];
    features.push_back(w.features);
    motion.push_back(w.motion);
    residual.push_back(w.residual);
    valid.push_back(w.valid);
    if (w.rgb.defined()) rgb.push_back(w.rgb);
  }
  DistillBatch batch;
  batch.ids.assign(ids.begin(), ids.end());
  batch.features = at::stack(features).to(at::kFloat);
  batch.inputs.motion = at::stack(motion).to(at::kFloat);
  batch.inputs.residual = at::stack(residual).to(at::kFloat);
  batch.inputs.valid = at::stack(valid);
  if (rgb.size() == ids.size()) {
    batch.inputs.rgb = at::stack(rgb).to(at::kFloat) / 255.0;
  } else {
    const auto& m = batch.inputs.motion;
    batch.inputs.rgb =
        at::zeros({m.size(0), m.size(1), 3, m.size(3), m.size(4)}, m.options());
  }
  return batch;
}

}  // namespace mapn::distill
