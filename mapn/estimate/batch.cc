#include "mapn/estimate/batch.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "nlohmann/json.hpp"

namespace mapn {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// The name's part below out_dir: no leading '/', no '..' segments.
std::string RelativeOutputName(const std::string& name) {
  std::string out;
  for (const absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") continue;
    if (!out.empty()) out += '/';
    out.append(part.data(), part.size());
  }
  return out;
}

// Two names that would write the same outputs are refused up front.
absl::Status CheckOutputsDistinct(const std::vector<BatchVideo>& videos,
                                  const std::string& where) {
  std::map<std::string, std::string> seen;
  for (const BatchVideo& v : videos) {
    const std::string key = RelativeOutputName(v.name);
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": '", v.name, "' names no file"));
    }
    auto [it, inserted] = seen.emplace(key, v.name);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": '", it->second, "' and '", v.name,
                       "' would write the same outputs (", key,
                       ".poses.json); list one of them by another path"));
    }
  }
  return absl::OkStatus();
}

struct InputStamp {
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

absl::StatusOr<InputStamp> StampOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("'", path, "' does not exist"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a regular file"));
  }
  return InputStamp{static_cast<int64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                        st.st_mtim.tv_nsec};
}

nlohmann::json DoneRecord(const BatchVideo& video, const InputStamp& stamp,
                          const std::string& run_key, int64_t frames,
                          double seconds) {
  return {{"video", video.path}, {"name", video.name},
          {"size", stamp.size},  {"mtime_ns", stamp.mtime_ns},
          {"run_key", run_key},  {"frames", frames},
          {"seconds", seconds}};
}

// Whether `video` was finished before with this input and run key.
bool AlreadyDone(const std::string& done_path, const std::string& json_path,
                 const InputStamp& stamp, const std::string& run_key) {
  absl::StatusOr<std::string> text = ReadFile(done_path);
  if (!text.ok() || !fs::exists(json_path)) return false;
  const nlohmann::json record =
      nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) return false;  // damaged: do it again
  const auto get = [&](const char* key) {
    return record.contains(key) ? record[key] : nlohmann::json();
  };
  return get("size") == stamp.size && get("mtime_ns") == stamp.mtime_ns &&
         get("run_key") == run_key;
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

absl::Status WriteFailures(const std::string& path,
                           const std::vector<BatchFailure>& failures) {
  std::string text = "name\tpath\terror\n";
  for (const BatchFailure& f : failures) {
    absl::StrAppend(&text, OneLine(f.name), "\t", OneLine(f.path), "\t",
                    OneLine(f.error), "\n");
  }
  return WriteFileAtomically(path, text);
}

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

// The shard-wide progress line: videos, frames per second, and an ETA
// from the share of input bytes done (videos differ in length; bytes
// follow it better than a count).
class ShardProgress {
 public:
  ShardProgress(int64_t videos, int64_t bytes, bool enabled)
      : videos_(videos), bytes_(bytes), enabled_(enabled) {}

  void Update(int64_t videos_done, int64_t bytes_done, int64_t frames,
              int64_t failed) {
    if (!enabled_) return;
    const double seconds =
        std::chrono::duration<double>(Clock::now() - start_).count();
    const double share =
        bytes_ > 0 ? static_cast<double>(bytes_done) / bytes_ : 1.0;
    const int width = 24;
    const int filled = static_cast<int>(share * width);
    std::string eta = "-";
    if (share > 0 && share < 1) eta = Duration(seconds * (1 - share) / share);
    std::fprintf(stderr,
                 "\rshard [%s%s] %lld/%lld videos, %lld failed, %.1f "
                 "frames/s, ETA %s\x1b[K",
                 std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(),
                 static_cast<long long>(videos_done),
                 static_cast<long long>(videos_),
                 static_cast<long long>(failed),
                 seconds > 0 ? frames / seconds : 0.0, eta.c_str());
    if (videos_done == videos_) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  int64_t videos_, bytes_;
  bool enabled_;
  Clock::time_point start_ = Clock::now();
};

}  // namespace

bool IsVideoFileName(const std::string& name) {
  static const std::set<std::string>* const kExtensions =
      new std::set<std::string>{".mp4",  ".m4v", ".mov",  ".avi",  ".mkv",
                                ".webm", ".mpg", ".mpeg", ".ts",   ".m2ts",
                                ".flv",  ".wmv", ".3gp",  ".h264", ".264",
                                ".hevc", ".265", ".y4m"};
  const size_t dot = name.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(c));
  return kExtensions->count(ext) > 0;
}

absl::StatusOr<std::vector<BatchVideo>> ListManifest(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  const fs::path base = fs::path(path).parent_path();
  std::vector<BatchVideo> videos;
  std::set<std::string> seen;
  int line_number = 0;
  for (const absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    const std::string line = Trim(std::string(raw));
    if (line.empty() || line[0] == '#') continue;
    if (!seen.insert(line).second) continue;
    const fs::path video(line);
    videos.push_back(
        {video.is_absolute() || base.empty() ? line : (base / video).string(),
         line});
  }
  if (videos.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest '", path, "' lists no video (", line_number, " lines)"));
  }
  MAPN_RETURN_IF_ERROR(CheckOutputsDistinct(videos, "manifest '" + path + "'"));
  return videos;
}

absl::StatusOr<std::vector<BatchVideo>> ListVideoDirectory(
    const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(absl::StrCat("'", dir, "' is not a directory"));
  }
  std::vector<BatchVideo> videos;
  fs::recursive_directory_iterator it(
      dir, fs::directory_options::follow_directory_symlink, error);
  for (; !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    if (!it->is_regular_file(error)) continue;
    const std::string name =
        fs::relative(it->path(), dir, error).generic_string();
    if (IsVideoFileName(name)) videos.push_back({it->path().string(), name});
  }
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot list directory '", dir, "': ", error.message()));
  }
  if (videos.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "directory '", dir,
        "' holds no video file (by extension: .mp4, .avi, .mkv, .mov, ...)"));
  }
  std::sort(
      videos.begin(), videos.end(),
      [](const BatchVideo& a, const BatchVideo& b) { return a.name < b.name; });
  return videos;
}

std::string ShardSpec::ToString() const {
  return absl::StrCat(index, "/", count);
}

absl::StatusOr<ShardSpec> ParseShard(const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, '/');
  ShardSpec shard;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &shard.index) ||
      !absl::SimpleAtoi(parts[1], &shard.count) || shard.count < 1 ||
      shard.index < 0 || shard.index >= shard.count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard '", text, "' is not i/N with 0 <= i < N (e.g. 0/4)"));
  }
  return shard;
}

Environment SystemEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<ShardSpec> ShardFromEnvironment(const Environment& env,
                                               int num_shards) {
  const auto integer = [&](const char* name,
                           int fallback) -> absl::StatusOr<int> {
    const std::optional<std::string> value = env(name);
    if (!value.has_value()) return fallback;
    int n = 0;
    if (!absl::SimpleAtoi(*value, &n) || n < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", name, "='", *value,
                       "' is not a non-negative integer"));
    }
    return n;
  };
  ShardSpec shard;
  std::string source;
  if (env("SLURM_ARRAY_TASK_ID").has_value()) {
    MAPN_ASSIGN_OR_RETURN(const int id, integer("SLURM_ARRAY_TASK_ID", 0));
    MAPN_ASSIGN_OR_RETURN(const int min, integer("SLURM_ARRAY_TASK_MIN", 0));
    MAPN_ASSIGN_OR_RETURN(const int count,
                          integer("SLURM_ARRAY_TASK_COUNT", -1));
    shard.index = id - min;
    shard.count = num_shards >= 1 ? num_shards : count;
    source = absl::StrCat(
        "SLURM_ARRAY_TASK_ID=", id, " (minus ", "SLURM_ARRAY_TASK_MIN=", min,
        ") of ", num_shards >= 1 ? "--num_shards=" : "SLURM_ARRAY_TASK_COUNT=",
        shard.count);
    if (shard.count < 1) {
      return absl::InvalidArgumentError(
          "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; "
          "give --num_shards or --shard i/N");
    }
  } else if (env("JOB_COMPLETION_INDEX").has_value()) {
    MAPN_ASSIGN_OR_RETURN(shard.index, integer("JOB_COMPLETION_INDEX", 0));
    if (num_shards < 1) {
      return absl::InvalidArgumentError(
          "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give "
          "--num_shards, the Job's completions");
    }
    shard.count = num_shards;
    source = absl::StrCat("JOB_COMPLETION_INDEX=", shard.index,
                          " of --num_shards=", num_shards);
  } else {
    if (num_shards > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--num_shards=", num_shards,
          " needs a shard index: --shard i/N, SLURM_ARRAY_TASK_ID or "
          "JOB_COMPLETION_INDEX"));
    }
    return shard;
  }
  if (shard.index < 0 || shard.index >= shard.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard index out of range: ", source));
  }
  return shard;
}

int ShardOf(const std::string& name, int count) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : name) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(count));
}

std::vector<BatchVideo> VideosOfShard(const std::vector<BatchVideo>& videos,
                                      const ShardSpec& shard) {
  std::vector<BatchVideo> mine;
  for (const BatchVideo& v : videos) {
    if (ShardOf(v.name, shard.count) == shard.index) mine.push_back(v);
  }
  return mine;
}

std::string OutputPath(const std::string& out_dir, const BatchVideo& video,
                       const std::string& suffix) {
  return (fs::path(out_dir) / (RelativeOutputName(video.name) + suffix))
      .string();
}

absl::StatusOr<BatchSummary> RunBatch(const std::vector<BatchVideo>& videos,
                                      const BatchOptions& options,
                                      const RunVideoFn& run) {
  std::error_code error;
  fs::create_directories(options.out_dir, error);
  if (error) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create --out_dir '", options.out_dir, "': ", error.message()));
  }
  BatchSummary summary;
  summary.listed = static_cast<int64_t>(videos.size());
  summary.failures_path = (fs::path(options.out_dir) /
                           absl::StrCat("failures-", options.shard.index,
                                        "-of-", options.shard.count, ".tsv"))
                              .string();
  MAPN_RETURN_IF_ERROR(CheckWritable(summary.failures_path));
  const std::vector<BatchVideo> mine = VideosOfShard(videos, options.shard);
  summary.in_shard = static_cast<int64_t>(mine.size());

  int64_t total_bytes = 0;
  for (const BatchVideo& v : mine) {
    if (absl::StatusOr<InputStamp> s = StampOf(v.path); s.ok()) {
      total_bytes += s->size;
    }
  }
  ShardProgress progress(summary.in_shard, total_bytes, options.show_progress);
  int64_t bytes_done = 0, videos_done = 0;
  const auto fail = [&](const BatchVideo& v, const absl::Status& status) {
    summary.failures.push_back({v.name, v.path, std::string(status.message())});
    return WriteFailures(summary.failures_path, summary.failures);
  };

  for (const BatchVideo& video : mine) {
    const Clock::time_point start = Clock::now();
    BatchOutputs outputs{OutputPath(options.out_dir, video, ".poses.json"),
                         options.csv
                             ? OutputPath(options.out_dir, video, ".poses.csv")
                             : std::string()};
    const std::string done_path =
        OutputPath(options.out_dir, video, ".done.json");
    absl::StatusOr<InputStamp> stamp = StampOf(video.path);
    ++videos_done;
    if (!stamp.ok()) {
      MAPN_RETURN_IF_ERROR(fail(video, stamp.status()));
      progress.Update(videos_done, bytes_done, summary.frames,
                      static_cast<int64_t>(summary.failures.size()));
      continue;
    }
    bytes_done += stamp->size;
    if (AlreadyDone(done_path, outputs.json, *stamp, options.run_key)) {
      ++summary.skipped;
      progress.Update(videos_done, bytes_done, summary.frames,
                      static_cast<int64_t>(summary.failures.size()));
      continue;
    }
    fs::create_directories(fs::path(outputs.json).parent_path(), error);
    absl::StatusOr<int64_t> frames =
        error ? absl::PermissionDeniedError(
                    absl::StrCat("cannot create the directory of '",
                                 outputs.json, "': ", error.message()))
              : run(video, outputs);
    const double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    summary.seconds += seconds;
    if (frames.ok()) {
      const absl::Status recorded = WriteFileAtomically(
          done_path,
          DoneRecord(video, *stamp, options.run_key, *frames, seconds).dump(1) +
              "\n");
      if (recorded.ok()) {
        ++summary.done;
        summary.frames += *frames;
      } else {
        MAPN_RETURN_IF_ERROR(fail(video, recorded));
      }
    } else {
      MAPN_RETURN_IF_ERROR(fail(video, frames.status()));
    }
    progress.Update(videos_done, bytes_done, summary.frames,
                    static_cast<int64_t>(summary.failures.size()));
  }
  MAPN_RETURN_IF_ERROR(WriteFailures(summary.failures_path, summary.failures));
  return summary;
}

std::string FormatBatchSummary(const BatchSummary& summary,
                               const BatchOptions& options) {
  std::string out = absl::StrFormat(
      "shard %s: %d of %d videos: %d done, %d already done (skipped), %d "
      "failed\n",
      options.shard.ToString(), summary.in_shard, summary.listed, summary.done,
      summary.skipped, summary.failures.size());
  absl::StrAppend(
      &out, absl::StrFormat(
                "%d frames in %.1f s (%.1f frames/s); outputs in %s\n",
                summary.frames, summary.seconds,
                summary.seconds > 0 ? summary.frames / summary.seconds : 0.0,
                options.out_dir));
  for (const BatchFailure& f : summary.failures) {
    absl::StrAppend(&out, "failed: ", f.name, ": ", OneLine(f.error), "\n");
  }
  if (!summary.failures.empty()) {
    absl::StrAppend(&out, "failures listed in ", summary.failures_path,
                    " (a rerun tries them again)\n");
  }
  return out;
}

}  // namespace mapn
