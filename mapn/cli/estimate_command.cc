// `mapn estimate VIDEO`: poses for every frame of any video, with what the
// compressed-domain shortcut saved. Loads a model (by default the bundled
// real-people model: MAPN distilled on MoveNet Lightning), reads the video in
// one pass
// (transcoding it first when the reader refuses it: B-frames, HEVC, ...;
// the video stream FFmpeg picks or --stream's; damage read through with the
// frames marked, or refused with --on_corrupt=fail),
// and writes the poses as JSON (COCO-style, docs/user-guide.md) and
// optionally CSV, an overlay video and overlay PNGs, then prints a summary.
// `mapn estimate --manifest FILE` (or a directory) does the same for many
// videos into --out_dir, one shard of them per process (estimate/batch.h).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "mapn/cli/model_flags.h"
#include "mapn/cli/subcommand.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/ground_truth.h"
#include "mapn/detect/person_detector.h"
#include "mapn/estimate/batch.h"
#include "mapn/estimate/box_source.h"
#include "mapn/estimate/default_model.h"
#include "mapn/estimate/estimator.h"
#include "mapn/estimate/overlay.h"
#include "mapn/estimate/pose_track.h"
#include "mapn/estimate/progress.h"
#include "mapn/model/composition.h"
#include "mapn/movenet/pretrained.h"
#include "mapn/video/ffmpeg_stream_source.h"
#include "mapn/video/transcode.h"
#include "nlohmann/json.hpp"

// Defined as estimate_<name>, given as --<name> (subcommand.h says why).
ABSL_FLAG(std::string, estimate_checkpoint, "",
          "The model (a checkpoint of mapn train or mapn distill); default: "
          "the bundled real-people model (MAPN on MoveNet Lightning with the "
          "residual-energy gate, its ConvLSTM distilled from real video; the "
          "pretrained weights come from the model cache tools/setup.sh "
          "fills).");
ABSL_FLAG(std::string, estimate_model, "",
          "A model by name instead of a checkpoint: movenet_lightning or "
          "movenet_thunder (Google's MoveNet on every frame), or synthpose "
          "(the bundled SynthPose-trained MAPN of the paper's experiments).");
ABSL_FLAG(std::string, estimate_out, "",
          "Where the poses go as JSON (default: VIDEO_STEM.poses.json in "
          "the current directory).");
ABSL_FLAG(std::string, estimate_csv, "",
          "Also write the poses as CSV here: one row per person per frame.");
ABSL_FLAG(std::string, estimate_posetrack, "",
          "Also write the poses in the PoseTrack benchmark's JSON layout "
          "(PoseTrack18, what its evaluation tool poseval reads) here; joints "
          "go to PoseTrack's by name (COCO's 15 of 17, Penn Action's 12).");
ABSL_FLAG(std::string, estimate_overlay, "",
          "Also write an MP4 with the skeleton drawn on every frame and the "
          "frames where features were extracted marked.");
ABSL_FLAG(std::string, estimate_overlay_frames, "",
          "Also write the overlay picture of every frame (as --overlay draws "
          "it, with --panels too) as a PNG in this directory, named by frame "
          "index: DIR/000000.png, DIR/000001.png, ...; the directory is "
          "created if missing. Works with or without --overlay.");
ABSL_FLAG(bool, estimate_panels, false,
          "With --overlay and/or --overlay_frames: add the motion field and "
          "residual panels beside each frame (the paper's Figure 6).");
ABSL_FLAG(std::string, estimate_box, "",
          "The person's box x,y,w,h in pixels, for every frame. Without "
          "--box or --boxes a person detector finds the person (--detector).");
ABSL_FLAG(std::string, estimate_boxes, "",
          "Per-frame boxes: JSON, CSV (frame,x,y,w,h) or a Penn Action "
          "label .mat; see docs/user-guide.md.");
ABSL_FLAG(std::string, estimate_detector, "multipose",
          "Without --box/--boxes: the person detector run on each GOP "
          "window's keyframe, whose box the motion vectors then carry through "
          "the window: multipose (MoveNet MultiPose), centernet or nanodet "
          "(from the model cache tools/setup.sh fills); none uses the whole "
          "frame as the box instead (one person). Every person found is "
          "tracked with an id of their own (see --max_people); where it "
          "finds nobody (see --min_person_score) the frames get no pose.");
ABSL_FLAG(int, estimate_max_missed, 1,
          "Detected people: a person the detector misses on this many "
          "keyframes in a row is still followed (their box carried by the "
          "motion vectors, their pose estimated); one more miss ends their "
          "track. 0 ends it at the first miss.");
ABSL_FLAG(int, estimate_max_people, 0,
          "Detected people: estimate at most this many at once (0: everyone "
          "the detector finds, at most 10). A person already tracked keeps "
          "their place against a newcomer; each person costs about one more "
          "run of the model.");
ABSL_FLAG(double, estimate_min_person_score, 0.5,
          "The detector's score from which a box on a keyframe is taken as a "
          "person (starts a track). The default, for multipose, gave no "
          "person on 64 frames with nobody and found one on 88 of 100 frames "
          "of single-person clips (docs/models.md, \"Person detection\").");
ABSL_FLAG(double, estimate_keep_person_score, 0.3,
          "A person already in view (tracked) is kept by a keyframe box that "
          "overlaps theirs and scores at least this, though under "
          "--min_person_score (hysteresis). Equal to --min_person_score: no "
          "hysteresis.");
ABSL_FLAG(std::vector<std::string>, estimate_set, {},
          "Change model options that shape no tensor, comma-separated "
          "ROLE.NAME=VALUE (e.g. policy.threshold=0.05 for residual_energy).");
ABSL_FLAG(bool, estimate_causal, false,
          "Use the causal residual gate (decides frame t from residuals up "
          "to t only, for live streams); needs a checkpoint with one.");
ABSL_FLAG(bool, estimate_compare_baseline, false,
          "Also run the per-frame baseline (the same encoder and head on "
          "every frame) on the same crops and report the measured speed-up.");
ABSL_FLAG(std::string, estimate_ground_truth, "",
          "Labels of this video, one per decoded frame: a Penn Action label "
          ".mat, a JHMDB joint_positions.mat, or COCO/PoseTrack keypoint "
          "JSON; prints PCK@0.2 of the estimates against them, through the "
          "joint mapping when the model's joints are another set "
          "(docs/data.md).");
ABSL_FLAG(int64_t, estimate_person, -1,
          "With a --ground_truth JSON that labels several people: the person "
          "the estimate is of (its track_id, or its index among each "
          "image's annotations when the file has no track ids).");
ABSL_FLAG(bool, estimate_ground_truth_boxes, false,
          "Crop around the labelled person's box in every frame of "
          "--ground_truth (Penn Action's bbox, the extent of JHMDB's joints, "
          "the JSON's bbox of --person) instead of --box/--boxes: the pose "
          "model alone, given where the person is.");
ABSL_FLAG(std::string, estimate_progress, "auto",
          "Progress bar on stderr: auto (when it is a terminal), always, "
          "never.");
ABSL_FLAG(int, estimate_stream, -1,
          "The video stream to read, by the container's stream index (as "
          "ffprobe numbers them, audio included); default: the one FFmpeg "
          "picks as best (the stream marked default, else the one with the "
          "most frames and the highest bit rate), not simply the first. The "
          "summary names the stream read when the file has several.");
ABSL_FLAG(std::string, estimate_on_corrupt, "conceal",
          "What damage in the video does: conceal (read through it: frames "
          "the decoder concealed errors in are used as concealed, a frame "
          "whose packet it rejected is the previous picture again, and every "
          "such frame is marked in the JSON, CSV and overlay and counted in "
          "the summary) or fail (refuse the video, naming the frame). The "
          "default suits real footage, where a few damaged packets should "
          "cost a few approximate frames, not the video.");
ABSL_FLAG(std::string, estimate_manifest, "",
          "Many videos: a file listing one video per line (# comments; "
          "relative paths are relative to the manifest), each estimated into "
          "--out_dir. A directory given instead of VIDEO does the same for "
          "every video file under it.");
ABSL_FLAG(std::string, estimate_out_dir, "",
          "With --manifest or a directory: where each video's NAME.poses.json "
          "(and NAME.done.json, the record a rerun skips it by) go, NAME "
          "being the manifest's line or the path below the directory.");
ABSL_FLAG(std::string, estimate_shard, "",
          "With --manifest or a directory: run shard i/N only (every video "
          "belongs to exactly one shard, by a hash of its name). Default: "
          "from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or "
          "JOB_COMPLETION_INDEX with --num_shards, else everything.");
ABSL_FLAG(int, estimate_num_shards, -1,
          "The number of shards when the index comes from the environment: "
          "a Kubernetes Indexed Job's completions (JOB_COMPLETION_INDEX), or "
          "a Slurm array with gaps.");
ABSL_FLAG(bool, estimate_with_csv, false,
          "With --manifest or a directory: also write NAME.poses.csv.");
ABSL_FLAG(bool, estimate_auto_transcode, true,
          "When the reader refuses the video (B-frames, HEVC, VP9, AV1, odd "
          "sizes, ...), re-encode it to MPEG-4 Part 2 in a temporary file "
          "first instead of failing.");

namespace mapn::cli {

extern const Subcommand kEstimateCommand;  // defined at the end of the file

namespace {

std::string Stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// A temporary file removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

absl::StatusOr<std::string> MakeTempVideoPath() {
  const char* dir = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(dir != nullptr ? dir : "/tmp",
                                     "/mapn-transcoded-XXXXXX.mp4");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  const int fd = ::mkstemps(buffer.data(), 4);
  if (fd < 0) {
    return absl::InternalError(
        "cannot create a temporary file for the "
        "transcoded video in $TMPDIR or /tmp");
  }
  ::close(fd);
  return std::string(buffer.data());
}

struct Outputs {
  std::string json;
  std::string csv;
  std::string posetrack;
  std::string overlay;
  std::string overlay_frames;  // a directory
};

// How the video is read.
struct ReadChoice {
  int stream_index = -1;  // -1: FFmpeg's best
  DamagePolicy on_damage = DamagePolicy::kConceal;
};

// One attempt at the whole job on `video` (the input, or its transcoded
// copy). Unimplemented from the reader means "transcode and try again".
// `stats` receives the reader's counts.
absl::StatusOr<PoseTrack> RunOnce(const std::string& video,
                                  const ReadChoice& read,
                                  const model::AnyPipeline& model,
                                  const model::AnyPipeline* baseline,
                                  const EstimateOptions& base_options,
                                  const Outputs& outputs, bool show_progress,
                                  FfmpegStreamSource::Stats* stats) {
  FfmpegStreamSourceOptions source_options;
  source_options.stream_index = read.stream_index;
  source_options.on_damage = read.on_damage;
  MAPN_ASSIGN_OR_RETURN(FfmpegStreamSource source,
                        FfmpegStreamSource::Open(video, source_options));
  EstimateOptions options = base_options;
  std::unique_ptr<OverlaySink> overlay;
  if (!outputs.overlay.empty() || !outputs.overlay_frames.empty()) {
    OverlayOptions overlay_options;
    overlay_options.panels = absl::GetFlag(FLAGS_estimate_panels);
    MAPN_ASSIGN_OR_RETURN(
        overlay, OverlaySink::Open({.video = outputs.overlay,
                                    .frames_dir = outputs.overlay_frames},
                                   source.info().width, source.info().height,
                                   source.info().frame_rate, overlay_options));
    options.overlay = overlay.get();
  }
  ProgressBar progress("estimate", source.info().frame_count_hint,
                       show_progress);
  options.progress = &progress;
  absl::StatusOr<PoseTrack> track =
      EstimatePoses(model, source, options, baseline);
  progress.Finish();
  *stats = source.stats();
  if (!track.ok()) return track.status();
  if (overlay != nullptr) MAPN_RETURN_IF_ERROR(overlay->Close());
  return track;
}

// Everything about a run but the video: built once, used for one video or
// for every video of a batch.
struct VideoJob {
  ReadChoice read;
  std::string on_corrupt;
  bool auto_transcode = true;
  const model::AnyPipeline* model = nullptr;
  const model::AnyPipeline* baseline = nullptr;
  const EstimateOptions* options = nullptr;
  std::string checkpoint;
  bool causal = false;
  // Says on stderr that a video is being transcoded (not in a batch, whose
  // progress line it would break).
  bool verbose = true;
};

// Estimates `video` (transcoding it first when the reader refuses it) and
// writes its JSON and CSV atomically; the track, for the summary.
absl::StatusOr<PoseTrack> EstimateVideo(const std::string& video,
                                        const VideoJob& job,
                                        const Outputs& outputs,
                                        bool show_progress) {
  FfmpegStreamSource::Stats stats;
  absl::StatusOr<PoseTrack> track =
      RunOnce(video, job.read, *job.model, job.baseline, *job.options, outputs,
              show_progress, &stats);
  std::optional<TempFile> transcoded;
  TranscodeReport transcode_report;
  if (!track.ok() && absl::IsUnimplemented(track.status()) &&
      job.auto_transcode) {
    if (job.verbose) {
      std::cerr << "mapn estimate: " << track.status().message()
                << "\nmapn estimate: transcoding to MPEG-4 Part 2 first "
                   "(--noauto_transcode to refuse instead)\n";
    }
    MAPN_ASSIGN_OR_RETURN(const std::string temp, MakeTempVideoPath());
    transcoded.emplace(temp);
    TranscodeOptions transcode_options;
    transcode_options.stream_index = job.read.stream_index;
    transcode_options.keep_damaged_frames =
        job.read.on_damage == DamagePolicy::kConceal;
    absl::Status status = Transcode(video, transcoded->path(),
                                    transcode_options, &transcode_report);
    if (status.ok() && job.read.on_damage == DamagePolicy::kFail &&
        !transcode_report.concealed_frames.empty()) {
      status = absl::DataLossError(absl::StrCat(
          "'", video, "' is corrupt: the decoder concealed errors in frame ",
          transcode_report.concealed_frames.front()));
    }
    if (!status.ok()) {
      track = status;
    } else {
      // The copy has the one stream asked for, intact.
      ReadChoice copy;
      copy.on_damage = DamagePolicy::kFail;
      track = RunOnce(transcoded->path(), copy, *job.model, job.baseline,
                      *job.options, outputs, show_progress, &stats);
    }
  }
  if (!track.ok()) {
    if (absl::IsDataLoss(track.status()) &&
        job.read.on_damage == DamagePolicy::kFail) {
      return absl::DataLossError(
          absl::StrCat(track.status().message(),
                       " (--on_corrupt=conceal reads through damage, marking "
                       "the frames)"));
    }
    return track.status();
  }
  track->video_path = video;
  track->transcoded = transcoded.has_value();
  track->on_corrupt = job.on_corrupt;
  PoseTrackSummary& summary = track->summary;
  if (transcoded) {
    track->stream.stream_index = transcode_report.input.stream_index;
    track->stream.video_streams = transcode_report.input.video_streams;
    MarkDamagedFrames(*track, transcode_report.concealed_frames,
                      transcode_report.lost_frames);
    summary.frames_dropped = transcode_report.dropped_frames;
    summary.stream_errors = transcode_report.stream_errors;
  } else {
    summary.frames_dropped = stats.frames_lost - summary.frames_lost;
    summary.stream_errors = stats.stream_errors;
  }
  track->checkpoint = job.checkpoint;
  track->causal = job.causal;
  MAPN_RETURN_IF_ERROR(WritePoseTrackJson(*track, outputs.json));
  if (!outputs.csv.empty()) {
    MAPN_RETURN_IF_ERROR(WritePoseTrackCsv(*track, outputs.csv));
  }
  if (!outputs.posetrack.empty()) {
    MAPN_RETURN_IF_ERROR(
        WritePoseTrackChallengeJson(*track, outputs.posetrack));
  }
  return track;
}

// What a batch's done records compare besides the input: everything that
// shapes the outputs.
std::string RunKey(const VideoJob& job, const model::AnyPipeline& model,
                   const std::string& boxes, const std::string& detector,
                   double min_person_score, double keep_person_score,
                   int max_people, int max_missed) {
  nlohmann::json key = {
      {"model", job.checkpoint},
      {"composition", model.composition()},
      {"model_options", nlohmann::json::parse(model.options_json(), nullptr,
                                              /*allow_exceptions=*/false)},
      {"boxes", boxes},
      {"detector", detector},
      {"min_person_score", min_person_score},
      {"keep_person_score", keep_person_score},
      {"max_people", max_people},
      {"max_missed", max_missed},
      {"causal", job.causal},
      {"stream", job.read.stream_index},
      {"on_corrupt", job.on_corrupt},
      {"auto_transcode", job.auto_transcode},
      {"compare_baseline", job.baseline != nullptr}};
  // A checkpoint rewritten in place is another model.
  std::error_code error;
  const auto size = std::filesystem::file_size(job.checkpoint, error);
  if (!error) {
    key["model_file_size"] = size;
    key["model_file_time"] =
        std::filesystem::last_write_time(job.checkpoint, error)
            .time_since_epoch()
            .count();
  }
  return key.dump();
}

// `mapn estimate --manifest FILE` or `mapn estimate DIR`: every video of
// this process's shard into --out_dir.
int EstimateMany(const Subcommand& self, const std::string& list,
                 bool is_manifest, const ShardSpec& shard, const VideoJob& job,
                 const std::string& run_key, bool show_progress) {
  absl::StatusOr<std::vector<BatchVideo>> videos =
      is_manifest ? ListManifest(list) : ListVideoDirectory(list);
  if (!videos.ok()) {
    return Failure(self.name, std::string(videos.status().message()));
  }
  BatchOptions options;
  options.out_dir = absl::GetFlag(FLAGS_estimate_out_dir);
  options.shard = shard;
  options.run_key = run_key;
  options.csv = absl::GetFlag(FLAGS_estimate_with_csv);
  options.show_progress = show_progress;
  absl::StatusOr<BatchSummary> summary = RunBatch(
      *videos, options,
      [&](const BatchVideo& video,
          const BatchOutputs& out) -> absl::StatusOr<int64_t> {
        Outputs outputs;
        outputs.json = out.json;
        outputs.csv = out.csv;
        MAPN_ASSIGN_OR_RETURN(
            const PoseTrack track,
            EstimateVideo(video.path, job, outputs, /*show_progress=*/false));
        return track.summary.frames;
      });
  if (!summary.ok()) {
    return Failure(self.name, std::string(summary.status().message()));
  }
  std::cout << FormatBatchSummary(*summary, options);
  return summary->ok() ? kExitOk : kExitFailure;
}

int RunEstimate(const std::vector<std::string>& args,
                const CommandContext& context) {
  const Subcommand& self = kEstimateCommand;
  // One video, or many: a manifest or a directory.
  const std::string manifest = absl::GetFlag(FLAGS_estimate_manifest);
  if (!manifest.empty() && !args.empty()) {
    return UsageError(self, "--manifest takes no VIDEO argument");
  }
  if (manifest.empty() && args.empty()) {
    return UsageError(self,
                      "give a VIDEO, a directory of videos or --manifest FILE");
  }
  const bool many = !manifest.empty() || std::filesystem::is_directory(args[0]);
  const std::string video = manifest.empty() ? args[0] : manifest;
  ShardSpec shard;
  if (many) {
    for (const auto& [flag, set] : std::vector<std::pair<std::string, bool>>{
             {"--out", !absl::GetFlag(FLAGS_estimate_out).empty()},
             {"--csv (use --with_csv)",
              !absl::GetFlag(FLAGS_estimate_csv).empty()},
             {"--posetrack", !absl::GetFlag(FLAGS_estimate_posetrack).empty()},
             {"--overlay", !absl::GetFlag(FLAGS_estimate_overlay).empty()},
             {"--overlay_frames",
              !absl::GetFlag(FLAGS_estimate_overlay_frames).empty()},
             {"--boxes", !absl::GetFlag(FLAGS_estimate_boxes).empty()},
             {"--ground_truth",
              !absl::GetFlag(FLAGS_estimate_ground_truth).empty()}}) {
      if (set) {
        return UsageError(self, flag +
                                    " names one video's file; with "
                                    "--manifest or a directory each video's "
                                    "outputs go to --out_dir");
      }
    }
    if (absl::GetFlag(FLAGS_estimate_out_dir).empty()) {
      return UsageError(self, "--manifest or a directory needs --out_dir");
    }
    const std::string shard_flag = absl::GetFlag(FLAGS_estimate_shard);
    absl::StatusOr<ShardSpec> parsed =
        shard_flag.empty()
            ? ShardFromEnvironment(SystemEnvironment(),
                                   absl::GetFlag(FLAGS_estimate_num_shards))
            : ParseShard(shard_flag);
    if (!parsed.ok()) {
      return UsageError(self, std::string(parsed.status().message()));
    }
    shard = *parsed;
  } else if (!absl::GetFlag(FLAGS_estimate_out_dir).empty() ||
             !absl::GetFlag(FLAGS_estimate_shard).empty() ||
             absl::GetFlag(FLAGS_estimate_num_shards) != -1 ||
             absl::GetFlag(FLAGS_estimate_with_csv)) {
    return UsageError(self,
                      "--out_dir, --shard, --num_shards and --with_csv are "
                      "for many videos: --manifest FILE or a directory");
  }

  // Flags first: a typo should not cost a model load.
  const std::string box = absl::GetFlag(FLAGS_estimate_box);
  const std::string boxes_file = absl::GetFlag(FLAGS_estimate_boxes);
  if (!box.empty() && !boxes_file.empty()) {
    return UsageError(self, "--box and --boxes exclude each other");
  }
  const std::string detector_flag = absl::GetFlag(FLAGS_estimate_detector);
  std::optional<detect::DetectorModel> detector_model;
  if (detector_flag != "none") {
    absl::StatusOr<detect::DetectorModel> parsed =
        detect::ParseDetectorModel(detector_flag);
    if (!parsed.ok()) {
      return UsageError(self,
                        absl::StrCat("--detector: ", parsed.status().message(),
                                     ", or none for the whole frame"));
    }
    detector_model = *parsed;
  }
  const double min_person_score =
      absl::GetFlag(FLAGS_estimate_min_person_score);
  if (!(min_person_score >= 0 && min_person_score <= 1)) {
    return UsageError(self, absl::StrCat("--min_person_score must be in [0, "
                                         "1], not ",
                                         min_person_score));
  }
  const double keep_person_score =
      absl::GetFlag(FLAGS_estimate_keep_person_score);
  if (!(keep_person_score >= 0 && keep_person_score <= min_person_score)) {
    return UsageError(self, absl::StrCat("--keep_person_score must be in [0, "
                                         "--min_person_score], not ",
                                         keep_person_score));
  }
  const int max_missed = absl::GetFlag(FLAGS_estimate_max_missed);
  if (max_missed < 0) {
    return UsageError(
        self, absl::StrCat("--max_missed must be 0 or more, not ", max_missed));
  }
  const int max_people = absl::GetFlag(FLAGS_estimate_max_people);
  if (max_people < 0) {
    return UsageError(self, absl::StrCat("--max_people must be 0 (everyone "
                                         "found) or more, not ",
                                         max_people));
  }
  ReadChoice read;
  read.stream_index = absl::GetFlag(FLAGS_estimate_stream);
  if (read.stream_index < -1) {
    return UsageError(self, absl::StrCat("--stream must be a stream index (0 "
                                         "or more), not ",
                                         read.stream_index));
  }
  const std::string on_corrupt = absl::GetFlag(FLAGS_estimate_on_corrupt);
  if (on_corrupt == "conceal") {
    read.on_damage = DamagePolicy::kConceal;
  } else if (on_corrupt == "fail") {
    read.on_damage = DamagePolicy::kFail;
  } else {
    return UsageError(self, absl::StrCat("--on_corrupt must be conceal or "
                                         "fail, not '",
                                         on_corrupt, "'"));
  }
  const std::string progress_flag = absl::GetFlag(FLAGS_estimate_progress);
  if (progress_flag != "auto" && progress_flag != "always" &&
      progress_flag != "never") {
    return UsageError(self, absl::StrCat("--progress must be auto, always or "
                                         "never, not '",
                                         progress_flag, "'"));
  }
  if (absl::GetFlag(FLAGS_estimate_panels) &&
      absl::GetFlag(FLAGS_estimate_overlay).empty() &&
      absl::GetFlag(FLAGS_estimate_overlay_frames).empty()) {
    return UsageError(self, "--panels needs --overlay or --overlay_frames");
  }
  const std::string gt_path = absl::GetFlag(FLAGS_estimate_ground_truth);
  const int64_t person = absl::GetFlag(FLAGS_estimate_person);
  const bool gt_boxes = absl::GetFlag(FLAGS_estimate_ground_truth_boxes);
  if (gt_path.empty() && (person >= 0 || gt_boxes)) {
    return UsageError(
        self, absl::StrCat(person >= 0 ? "--person" : "--ground_truth_boxes",
                           " needs --ground_truth"));
  }
  if (gt_boxes && (!box.empty() || !boxes_file.empty())) {
    return UsageError(self, "--ground_truth_boxes excludes --box and --boxes");
  }
  if (person < -1) {
    return UsageError(self,
                      absl::StrCat("--person must be 0 or more, not ", person));
  }
  BoxSource boxes = BoxSource::WholeFrame();
  if (!box.empty()) {
    absl::StatusOr<BoxSource> fixed = BoxSource::Fixed(box);
    if (!fixed.ok())
      return UsageError(self, std::string(fixed.status().message()));
    boxes = *std::move(fixed);
  } else if (!boxes_file.empty()) {
    absl::StatusOr<BoxSource> from_file = BoxSource::FromFile(boxes_file);
    if (!from_file.ok()) {
      return Failure(self.name, std::string(from_file.status().message()));
    }
    boxes = *std::move(from_file);
  }
  std::optional<GroundTruth> ground_truth;
  if (!gt_path.empty()) {
    absl::StatusOr<GroundTruth> labels =
        ReadGroundTruth(gt_path, {.person = person});
    if (!labels.ok()) {
      return Failure(self.name, absl::StrCat("--ground_truth: ",
                                             labels.status().message()));
    }
    ground_truth = *std::move(labels);
    if (gt_boxes) {
      std::map<int64_t, Box> labelled;
      for (int64_t t = 0; t < ground_truth->labels.num_frames; ++t) {
        if (ground_truth->labelled[t]) {
          labelled[t] = ground_truth->labels.boxes[t];
        }
      }
      absl::StatusOr<BoxSource> from_labels = BoxSource::FromBoxes(
          std::move(labelled),
          absl::StrCat("--ground_truth_boxes ", gt_path,
                       ground_truth->person.empty()
                           ? ""
                           : absl::StrCat(" (", ground_truth->person, ")")));
      if (!from_labels.ok()) {
        return Failure(self.name, std::string(from_labels.status().message()));
      }
      boxes = *std::move(from_labels);
    }
  }
  Outputs outputs;
  outputs.json = absl::GetFlag(FLAGS_estimate_out);
  if (outputs.json.empty() && !many) {
    outputs.json = Stem(video) + ".poses.json";
  }
  outputs.csv = absl::GetFlag(FLAGS_estimate_csv);
  outputs.posetrack = absl::GetFlag(FLAGS_estimate_posetrack);
  outputs.overlay = absl::GetFlag(FLAGS_estimate_overlay);
  outputs.overlay_frames = absl::GetFlag(FLAGS_estimate_overlay_frames);
  // Refuse an unwritable output before the work, not after it.
  for (const std::string* path :
       {&outputs.json, &outputs.csv, &outputs.posetrack, &outputs.overlay}) {
    if (path->empty()) continue;
    absl::Status writable = CheckWritable(*path);
    if (!writable.ok()) {
      return Failure(self.name, std::string(writable.message()));
    }
  }
  if (!outputs.overlay_frames.empty()) {
    absl::Status writable = PrepareOverlayFramesDir(outputs.overlay_frames);
    if (!writable.ok()) {
      return Failure(self.name, std::string(writable.message()));
    }
  }

  absl::StatusOr<std::vector<std::string>> overrides =
      ModelSettings(nullptr, absl::GetFlag(FLAGS_estimate_set), {});
  if (!overrides.ok()) {
    return UsageError(self, std::string(overrides.status().message()));
  }
  std::string checkpoint = absl::GetFlag(FLAGS_estimate_checkpoint);
  const std::string pretrained = absl::GetFlag(FLAGS_estimate_model);
  const bool causal = absl::GetFlag(FLAGS_estimate_causal);
  if (!pretrained.empty() && !checkpoint.empty()) {
    return UsageError(self, "--model and --checkpoint exclude each other");
  }
  if (!pretrained.empty() && !overrides->empty()) {
    return UsageError(self,
                      "--set applies to a checkpoint's model, not --model");
  }
  absl::StatusOr<model::AnyPipeline> model;
  if (!pretrained.empty() && pretrained != "synthpose") {
    model = movenet::PretrainedModel(pretrained);
    if (absl::IsInvalidArgument(model.status())) {
      return UsageError(
          self, absl::StrCat(model.status().message(), ", or synthpose"));
    }
    checkpoint = pretrained;
  } else {
    if (checkpoint.empty()) {
      // The real-people model unless the SynthPose one is asked for (by
      // name, or by --causal: only it has a causal gate).
      absl::StatusOr<std::string> bundled =
          pretrained == "synthpose" || causal
              ? DefaultCheckpointPath(causal)
              : BundledCheckpointPath(kRealPeopleCheckpoint);
      if (!bundled.ok())
        return Failure(self.name, std::string(bundled.status().message()));
      checkpoint = *bundled;
    }
    model = movenet::LoadOnPretrained(checkpoint, *context.compositions,
                                      *overrides);
  }
  if (!model.ok())
    return Failure(self.name, std::string(model.status().message()));
  if (causal && !model->causal()) {
    return Failure(self.name,
                   absl::StrCat("--causal needs a model with a causal "
                                "gate (causal_mapn); '",
                                checkpoint, "' is a ", model->composition()));
  }
  std::optional<model::AnyPipeline> baseline;
  if (absl::GetFlag(FLAGS_estimate_compare_baseline)) {
    baseline = model->PerFrameBaseline();
  }

  // No box given: the person detector (--box, --boxes and
  // --ground_truth_boxes take precedence).
  if (box.empty() && boxes_file.empty() && !gt_boxes &&
      detector_model.has_value()) {
    absl::StatusOr<std::unique_ptr<detect::GraphPersonDetector>> detector =
        detect::GraphPersonDetector::Load({.model = *detector_model});
    if (!detector.ok()) {
      return Failure(self.name,
                     absl::StrCat("--detector ", detector_flag, ": ",
                                  detector.status().message(),
                                  " (--detector=none uses the whole frame "
                                  "instead)"));
    }
    DetectedBoxOptions detected;
    detected.min_person_score = static_cast<float>(min_person_score);
    detected.keep_person_score = static_cast<float>(keep_person_score);
    detected.max_people = max_people;
    detected.max_missed = max_missed;
    boxes = BoxSource::Detected(
        std::shared_ptr<const detect::PersonDetector>(std::move(*detector)),
        detected);
  }

  EstimateOptions options;
  options.boxes = std::move(boxes);
  options.joint_set = JointSetForModel(model->joints());
  if (ground_truth) options.ground_truth = &*ground_truth;
  if (!outputs.posetrack.empty()) {
    // Refused before the work: a model whose joints PoseTrack's are not.
    PoseTrack probe;
    probe.joint_set = options.joint_set;
    const absl::Status fits = PoseTrackChallengeJson(probe).status();
    if (!fits.ok()) {
      return UsageError(self, absl::StrCat("--posetrack: ", fits.message()));
    }
  }
  const bool show_progress = progress_flag == "always" ||
                             (progress_flag == "auto" && StderrIsTerminal());

  VideoJob job;
  job.read = read;
  job.on_corrupt = on_corrupt;
  job.auto_transcode = absl::GetFlag(FLAGS_estimate_auto_transcode);
  job.model = &*model;
  job.baseline = baseline ? &*baseline : nullptr;
  job.options = &options;
  job.checkpoint = checkpoint;
  job.causal = causal;
  if (many) {
    job.verbose = false;
    const std::string key =
        RunKey(job, *model, box.empty() ? "" : "--box " + box,
               options.boxes.detected() ? detector_flag : "none",
               min_person_score, keep_person_score, max_people, max_missed);
    return EstimateMany(self, video, !manifest.empty(), shard, job, key,
                        show_progress);
  }
  absl::StatusOr<PoseTrack> track =
      EstimateVideo(video, job, outputs, show_progress);
  if (!track.ok()) {
    return Failure(self.name, std::string(track.status().message()));
  }
  std::cout << FormatSummary(*track);
  std::cout << "poses: " << outputs.json;
  if (!outputs.csv.empty()) std::cout << ", " << outputs.csv;
  if (!outputs.posetrack.empty()) std::cout << ", " << outputs.posetrack;
  if (!outputs.overlay.empty()) std::cout << "; overlay: " << outputs.overlay;
  if (!outputs.overlay_frames.empty()) {
    std::cout << "; overlay frames: " << track->frames.size() << " PNGs in "
              << outputs.overlay_frames;
  }
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

const Subcommand kEstimateCommand = {
    "estimate",
    "Estimates a pose for every frame of a video.",
    "mapn estimate VIDEO [flags] | --manifest FILE --out_dir DIR | DIR "
    "--out_dir DIR",
    "Reads VIDEO's compressed stream in one pass and estimates one person's "
    "pose in every frame with the Motion Adaptive Pose Net: the encoder "
    "runs on I-frames and on the P-frames the residual gate picks; other "
    "frames propagate features with the codec's motion vectors. The person is "
    "found by a person detector on each GOP window's keyframe and followed "
    "through the window by the motion vectors (frames where nobody is found "
    "get no pose); --box or --boxes give the box instead, --detector=none "
    "takes the whole frame. Without "
    "--checkpoint it uses the bundled real-people model: MAPN on Google's "
    "MoveNet Lightning (17 COCO keypoints) with the residual-energy gate, "
    "its ConvLSTM distilled from per-frame MoveNet on real video (mapn "
    "distill); --model "
    "movenet_lightning or movenet_thunder runs pretrained MoveNet on every "
    "frame instead, --model synthpose the SynthPose-trained MAPN of the "
    "paper's experiments. --ground_truth scores the "
    "poses against labels (Penn Action, JHMDB, COCO or PoseTrack), mapping "
    "joint sets where they differ. Writes "
    "VIDEO_STEM.poses.json (or --out), optionally --csv, --overlay and "
    "--overlay_frames, and prints keyframes, MACs per frame against the "
    "per-frame baseline and, with --compare_baseline, the measured "
    "speed-up. Of several video streams it reads the one FFmpeg picks "
    "(--stream chooses another); damaged frames are read through and "
    "marked (--on_corrupt=fail refuses the video instead). Many videos: "
    "--manifest FILE or a directory instead of VIDEO, with --out_dir; "
    "--shard i/N (or Slurm's and Kubernetes' index variables) runs one "
    "shard; a rerun skips the videos already done, and a video that fails "
    "is listed in OUT_DIR/failures-I-of-N.tsv while the rest go on.",
    __FILE__,
    0,
    1,
    &RunEstimate,
};

}  // namespace mapn::cli
