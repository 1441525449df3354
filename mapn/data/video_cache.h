// File: video_cache.h
//
// Converts each labelled sequence once to the stream the reader and the
// paper want, MPEG-4 Part 2 with GOP 12, no B-frames and quantiser 1
// (mapn/video/transcode.h), and keeps it on disk:
//
//   <cache_dir>/<dataset>-<key>/<sequence id>.mp4
//
// where <key> is 8 hex digits of a hash of the dataset's canonical root, so
// that two copies of a dataset (or a real and a synthetic "penn_action")
// never share entries. A cached file is reused while it is newer than every
// file of its source and has one frame per labelled frame; otherwise it is
// converted again. Files appear atomically, so an interrupted run leaves no
// half-written video. A sequence whose `cached_video` is already set (the
// MPEG-4 files SynthPose writes beside its frames) keeps it when its frame
// count matches.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(PoseDataset penn, LoadPennAction(root));
//   MAPN_RETURN_IF_ERROR(CacheVideos(penn, {.cache_dir = "/data/mapn-cache"}));
//   open(penn.sequences[0].cached_video);
#ifndef MAPN_DATA_VIDEO_CACHE_H_
#define MAPN_DATA_VIDEO_CACHE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/data/pose_sequence.h"

namespace mapn {

struct VideoCacheOptions {
  std::string cache_dir;
  // Only look: a missing or stale video is a NotFound error instead of a
  // conversion (for runs that must not write).
  bool read_only = false;
};

// Where `seq` of `dataset` is cached.
std::string CachedVideoPath(const std::string& cache_dir,
                            const PoseDataset& dataset,
                            const PoseSequence& seq);

// Makes sure `seq` has its MPEG-4 conversion and sets seq.cached_video.
absl::Status EnsureCachedVideo(const PoseDataset& dataset, PoseSequence& seq,
                               const VideoCacheOptions& options);

// EnsureCachedVideo for every sequence, in order.
absl::Status CacheVideos(PoseDataset& dataset,
                         const VideoCacheOptions& options);

// The number of video frames (packets of the first video stream) in a file.
absl::StatusOr<int64_t> CountVideoFrames(const std::string& path);

}  // namespace mapn

#endif  // MAPN_DATA_VIDEO_CACHE_H_
