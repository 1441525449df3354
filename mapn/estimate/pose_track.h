// File: pose_track.h
//
// What `mapn estimate` produces for a video: one pose per frame (or none,
// where a person detector found nobody) with what
// the compressed-domain shortcut did for that frame (whether features were
// extracted, the multiply-adds executed), and a summary; plus the writers
// of its JSON and CSV files. The JSON follows COCO's keypoint conventions
// where they fit (a person category with keypoint names and a 1-based
// skeleton; per person `keypoints` as a flat [x1, y1, c1, x2, ...] list with
// c the heatmap confidence, as COCO results carry a score there; `bbox` as
// [x, y, w, h]); docs/user-guide.md documents every field.
//
// Example:
//
//   PoseTrack track = ...;  // from EstimatePoses()
//   MAPN_RETURN_IF_ERROR(WritePoseTrackJson(track, "poses.json"));
//   MAPN_RETURN_IF_ERROR(WritePoseTrackCsv(track, "poses.csv"));
#ifndef MAPN_ESTIMATE_POSE_TRACK_H_
#define MAPN_ESTIMATE_POSE_TRACK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapn/data/joint_set.h"
#include "mapn/geometry/box.h"
#include "mapn/model/flops.h"
#include "mapn/video/gop.h"

namespace mapn {

struct JointEstimate {
  float x = 0;  // image pixels, pixel centres at integers
  float y = 0;
  float confidence = 0;  // heatmap maximum (about 1 at a confident peak)
};

// Where a frame's person box came from.
enum class PersonBoxOrigin : uint8_t {
  kGiven,     // --box, --boxes, or the whole frame
  kDetected,  // the person detector, on this frame (a window's keyframe)
  kCarried,   // a keyframe's detection, carried here by the motion vectors
};

// "given", "detected", "carried".
const char* PersonBoxOriginName(PersonBoxOrigin origin);

// One person in one frame.
struct PersonPose {
  // The person's track: 1, 2, 3, ... in order of appearance, the same in
  // every frame the tracker kept them (detected boxes); 1 for given boxes
  // and the whole frame.
  int64_t track_id = 1;
  // The person's box in this frame and where it came from.
  Box box;
  PersonBoxOrigin box_origin = PersonBoxOrigin::kGiven;
  // For detected and carried boxes: the detector's score of the last
  // keyframe detection that joined the track.
  std::optional<float> box_score;
  // The region the model saw for this person (their window's crop box).
  Box crop_box;
  // Whether the encoder ran on this person's crop of this frame (their own
  // gate decision), and the multiply-adds executed for them here.
  bool features_extracted = false;
  model::MacCount macs;
  std::vector<JointEstimate> joints;

  // Mean joint confidence (0 without joints): the annotation's score.
  double score() const;
};

struct FramePose {
  int64_t frame_index = 0;
  double timestamp_s = 0;
  FrameType type = FrameType::kP;
  int64_t window = 0;
  // The encoder ran on this frame for at least one person.
  bool features_extracted = false;
  // Executed for this frame, all people together (including a person
  // whose box left the frame earlier in the window: their row of the
  // window's batch still ran).
  model::MacCount macs;
  // The people in this frame, ordered by track id; empty when nobody was
  // found (detected boxes only): then the frame has no annotation in the
  // JSON and one row with empty person fields in the CSV.
  std::vector<PersonPose> people;
  // Damage the reader read through (--on_corrupt=conceal): the decoder
  // concealed errors in this frame, or lost it (the previous picture stood
  // in); the pose is then only as good as that picture.
  FrameDamage damage = FrameDamage::kNone;

  bool has_person() const { return !people.empty(); }
};

// Wall-clock figures of one run of a model over the video.
struct RunTiming {
  double model_seconds = 0;  // inference only (decoding and I/O excluded)
  double total_seconds = 0;  // the whole run: decoding, cropping, model
};

struct PoseTrackSummary {
  int64_t frames = 0;
  int64_t keyframes = 0;  // frames whose features were extracted (anyone's)
  model::MacCount macs_per_frame;
  // The per-frame Simple Baseline of the same encoder and head, run on
  // every person crop the model ran on (with several people, per frame on
  // average; the same as one run of it with one person in every frame).
  model::MacCount baseline_macs_per_frame;
  RunTiming timing;
  // With --compare-baseline: the baseline run over the same windows.
  std::optional<RunTiming> baseline_timing;
  // Frames where nobody was found (detected boxes): no pose.
  int64_t frames_without_person = 0;
  // People: poses over all frames (a frame with two people counts two),
  // those whose features were extracted (per-person keyframes), distinct
  // track ids, and the most people in one frame.
  int64_t person_frames = 0;
  int64_t person_keyframes = 0;
  int64_t tracks = 0;
  int64_t max_people_in_frame = 0;
  // Detected boxes: keyframes the detector ran on, and its wall-clock time
  // (included in timing.total_seconds, not in timing.model_seconds).
  int64_t detections = 0;
  double detector_seconds = 0;
  // With --ground_truth: PCK@0.2 of these poses (mean over joints, %), in
  // the joint set `pck_joint_set`, reached by `pck_mapping` ("coco
  // predictions mapped to jhmdb"; empty when the model and the labels share
  // their joints); `ground_truth` describes the labels.
  std::optional<double> pck;
  std::string pck_table;
  std::string pck_joint_set;
  std::string pck_mapping;
  std::string ground_truth;
  // Damage read through (--on_corrupt=conceal): frames of the track marked
  // concealed or lost, lost frames with no picture before them to stand in
  // (not in the track), and container errors or truncation that ended the
  // video early.
  int64_t frames_concealed = 0;
  int64_t frames_lost = 0;
  int64_t frames_dropped = 0;
  int64_t stream_errors = 0;

  double keyframe_fraction() const {
    return frames > 0 ? static_cast<double>(keyframes) / frames : 0;
  }
  double macs_ratio() const {
    return baseline_macs_per_frame.true_macs > 0
               ? macs_per_frame.true_macs / baseline_macs_per_frame.true_macs
               : 0;
  }
  // Baseline model time over this model's time, when measured.
  std::optional<double> speedup() const;
};

struct PoseTrack {
  // Input and model description, written into the JSON's "info".
  std::string video_path;
  StreamInfo stream;
  bool transcoded = false;  // the reader needed `mapn transcode` first
  // "conceal" or "fail": how damage was handled (--on_corrupt).
  std::string on_corrupt = "fail";
  std::string checkpoint;
  std::string model_type;          // the pipeline's type name
  std::string composition;         // the composition's name ("mapn")
  std::string model_options_json;  // its options (model/options_json.h)
  std::string boxes;               // where the boxes came from
  bool causal = false;
  JointSet joint_set;

  std::vector<FramePose> frames;
  PoseTrackSummary summary;
};

std::string PoseTrackJson(const PoseTrack& track);
// One row per person per frame (a frame with nobody: one row, person
// fields empty).
std::string PoseTrackCsv(const PoseTrack& track);
// The PoseTrack benchmark's JSON (PoseTrack18 layout, what its evaluation
// tool poseval reads): "images" (one per frame: id, frame_id, file_name
// "VIDEO/FRAME.jpg", vid_id), "annotations" (one per person per frame:
// image_id, track_id, bbox, keypoints [x, y, 1] in PoseTrack's 17 joints,
// scores per joint; joints the model does not have are [0, 0, 0] with
// score 0), "categories" (PoseTrack's person). Joints move to PoseTrack's
// places by name (COCO's 15 of 17, Penn Action's 12); InvalidArgument for
// a joint set sharing fewer than half of PoseTrack's names.
absl::StatusOr<std::string> PoseTrackChallengeJson(const PoseTrack& track);
// Written atomically: a failure leaves no partial file.
absl::Status WritePoseTrackJson(const PoseTrack& track,
                                const std::string& path);
absl::Status WritePoseTrackCsv(const PoseTrack& track, const std::string& path);
absl::Status WritePoseTrackChallengeJson(const PoseTrack& track,
                                         const std::string& path);

// Marks the frames with these indices (frames a transcode read through,
// TranscodeReport) and counts them into the summary: the transcoded copy
// the track was estimated on is intact, the input was not.
void MarkDamagedFrames(PoseTrack& track, const std::vector<int64_t>& concealed,
                       const std::vector<int64_t>& lost);

// The closing lines `mapn estimate` prints.
std::string FormatSummary(const PoseTrack& track);

}  // namespace mapn

#endif  // MAPN_ESTIMATE_POSE_TRACK_H_
