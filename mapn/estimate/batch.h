// File: batch.h
//
// Many videos, many machines: what `mapn estimate --manifest FILE` (or a
// directory) does around the single-video estimate. It lists the videos,
// keeps those of this process's shard, skips those a previous run already
// finished with the same input and the same settings, runs the rest one by
// one, records every failure and goes on, and sums up.
//
// The scheduler is the one the user already has: a Slurm job array or a
// Kubernetes Indexed Job starts N copies of the same command, and each copy
// takes the shard its index names (ShardFromEnvironment). A video belongs
// to exactly one shard, decided by a hash of its name alone, so shards
// neither depend on the manifest's order nor need to talk to each other.
//
// What a finished video leaves in `out_dir` (its name's directories kept):
//   NAME.poses.json   the poses (and NAME.poses.csv with csv set), written by
//                     the caller's RunVideoFn, atomically;
//   NAME.done.json    written after them, atomically: the input's size and
//                     modification time and the run key; a rerun skips the
//                     video when all three still match and the poses exist.
// A shard's failures go to `failures-I-of-N.tsv` (name, path, error),
// rewritten after each failure, so a killed shard leaves what it knew.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(std::vector<BatchVideo> videos,
//                         ListManifest("videos.txt"));
//   MAPN_ASSIGN_OR_RETURN(ShardSpec shard, ShardFromEnvironment(
//                                              SystemEnvironment(), -1));
//   BatchOptions options;
//   options.out_dir = "poses";
//   options.shard = shard;
//   options.run_key = "bundled model, detector multipose";
//   MAPN_ASSIGN_OR_RETURN(
//       BatchSummary summary,
//       RunBatch(videos, options,
//                [&](const BatchVideo& video, const BatchOutputs& out)
//                    -> absl::StatusOr<int64_t> {
//                  ...estimate video.path, write out.json...
//                  return frames;
//                }));
//   std::cout << FormatBatchSummary(summary, options);
#ifndef MAPN_ESTIMATE_BATCH_H_
#define MAPN_ESTIMATE_BATCH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn {

// One video of a batch.
struct BatchVideo {
  std::string path;  // as opened
  // Names it in the shard hash, the outputs and the messages: the
  // manifest's line, or the path relative to the listed directory.
  std::string name;
};

// A manifest: one video per line; blank lines and lines starting with '#'
// are skipped; surrounding spaces are trimmed. A relative path is relative
// to the manifest's own directory (so a manifest travels with its videos
// and works from any working directory). A line listed twice is kept once.
// NotFound / InvalidArgument name the file and line (an empty manifest, two
// lines whose outputs would collide).
absl::StatusOr<std::vector<BatchVideo>> ListManifest(const std::string& path);

// Every file under `dir` (recursively) whose extension is a video
// container's (IsVideoFileName), sorted by name.
absl::StatusOr<std::vector<BatchVideo>> ListVideoDirectory(
    const std::string& dir);

// .mp4 .m4v .mov .avi .mkv .webm .mpg .mpeg .ts .m2ts .flv .wmv .3gp .h264
// .264 .hevc .265 .y4m, any case.
bool IsVideoFileName(const std::string& name);

// Shard `index` of `count` (0 <= index < count).
struct ShardSpec {
  int index = 0;
  int count = 1;

  std::string ToString() const;  // "1/4"
};

// "i/N"; InvalidArgument naming the text otherwise.
absl::StatusOr<ShardSpec> ParseShard(const std::string& text);

// The variables a launcher sets, looked up by name (nullopt when unset).
using Environment =
    std::function<std::optional<std::string>(const std::string& name)>;
Environment SystemEnvironment();

// The shard a launcher gave this process, in this order:
//   * Slurm job array: SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (0
//     when unset) of SLURM_ARRAY_TASK_COUNT (`--array=0-7` gives 8 shards);
//     `num_shards` >= 1 overrides the count (an array with gaps);
//   * Kubernetes Indexed Job: JOB_COMPLETION_INDEX of `num_shards` (the
//     Job's `completions`, which Kubernetes does not export);
//   * neither: 0 of 1 (everything), or an error when `num_shards` > 1.
// `num_shards` < 1 means not given. InvalidArgument names the variable.
absl::StatusOr<ShardSpec> ShardFromEnvironment(const Environment& env,
                                               int num_shards);

// The shard `name` belongs to: FNV-1a (64-bit) of the name, modulo count.
int ShardOf(const std::string& name, int count);

// The videos of `shard`, in the order given.
std::vector<BatchVideo> VideosOfShard(const std::vector<BatchVideo>& videos,
                                      const ShardSpec& shard);

// Where a video's outputs go: `out_dir` / its name with any leading '/'
// and '../' removed, then the suffix.
std::string OutputPath(const std::string& out_dir, const BatchVideo& video,
                       const std::string& suffix);

// The files RunVideoFn writes for one video (directories exist).
struct BatchOutputs {
  std::string json;
  std::string csv;  // empty unless BatchOptions::csv
};

// Estimates one video and writes its outputs (atomically); the frames it
// read. An error is recorded as that video's failure and the batch goes
// on.
using RunVideoFn = std::function<absl::StatusOr<int64_t>(
    const BatchVideo& video, const BatchOutputs& outputs)>;

struct BatchOptions {
  std::string out_dir;
  ShardSpec shard;
  // Everything besides the input that shapes the outputs (model, its
  // options, boxes, detector ...): a video finished under another key is
  // done again.
  std::string run_key;
  bool csv = false;
  // A progress line on stderr over the whole shard, with an ETA from the
  // bytes of input done.
  bool show_progress = false;
};

struct BatchFailure {
  std::string name, path, error;
};

struct BatchSummary {
  int64_t listed = 0;    // videos in the manifest / directory
  int64_t in_shard = 0;  // of them, this shard's
  int64_t done = 0;      // estimated now
  int64_t skipped = 0;   // already done with the same input and run key
  std::vector<BatchFailure> failures;
  int64_t frames = 0;  // frames of the videos done now
  double seconds = 0;  // wall time of the videos done or failed now
  std::string failures_path;

  bool ok() const { return failures.empty(); }
};

// Runs `run` on each video of options.shard that is not already done.
// Errors only for the batch as a whole (an out_dir that cannot be created
// or written); a video's error becomes a failure.
absl::StatusOr<BatchSummary> RunBatch(const std::vector<BatchVideo>& videos,
                                      const BatchOptions& options,
                                      const RunVideoFn& run);

// "shard 1/2: 7 of 13 videos: 5 done, 1 already done, 1 failed ..." and
// one line per failure.
std::string FormatBatchSummary(const BatchSummary& summary,
                               const BatchOptions& options);

}  // namespace mapn

#endif  // MAPN_ESTIMATE_BATCH_H_
