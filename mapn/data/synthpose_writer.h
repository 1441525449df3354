// File: synthpose_writer.h
//
// The files of a SynthPose dataset on disk, written from rendered clips
// (synthpose.h): a clip in Penn Action's layout or in Sub-JHMDB's, with its
// MPEG-4 conversion, Sub-JHMDB's split lists, and the manifest
// synthpose.json. GenerateSynthPose (synthpose.cc) renders the clips and
// calls these; each writes a clip's files the way the real datasets have
// them, so that LoadPennAction and LoadSubJhmdb read them unchanged.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(SynthClip clip, RenderSynthClip(options, 1));
//   MAPN_RETURN_IF_ERROR(synth::WritePennClip(options, root, clip));
//   nlohmann::json clips = nlohmann::json::array();
//   clips.push_back(synth::ClipJson(clip, options.layout));
//   MAPN_RETURN_IF_ERROR(synth::WriteManifest(options, clips, root));
#ifndef MAPN_DATA_SYNTHPOSE_WRITER_H_
#define MAPN_DATA_SYNTHPOSE_WRITER_H_

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/data/synthpose.h"

namespace mapn::synth {

// Creates `dir` and its parents unless they exist.
absl::Status MakeDirs(const std::string& dir);

// Penn Action's layout: frames/NNNN/%06d.jpg (quantiser o.jpeg_quality),
// labels/NNNN.mat with the real files' fields and types and, with
// o.write_videos, the MPEG-4 conversion mpeg4_gop12/NNNN.mp4.
absl::Status WritePennClip(const SynthPoseOptions& o, const std::string& root,
                           const SynthClip& clip);

// Sub-JHMDB's video name of a clip: "synthpose_NNNN".
std::string JhmdbVideoName(const PoseSequence& seq);

// Sub-JHMDB's layout, under ACTION/synthpose_NNNN: Rename_Images/ (PNG
// frames), joint_positions/ (pos_img, 1-based pixels), puppet_mask/ (the
// person masks) and, with o.write_videos, ReCompress_Videos/ACTION/
// synthpose_NNNN.avi.
absl::Status WriteJhmdbClip(const SynthPoseOptions& o, const std::string& root,
                            const SynthClip& clip);

// Sub-JHMDB's three train/test split lists per action
// (sub_splits/ACTION_test_split_K.txt), gathered clip by clip.
class JhmdbSplits {
 public:
  // `train[k]`: the clip is in the training set of split k + 1.
  void Add(const PoseSequence& seq, const std::array<bool, 3>& train);
  absl::Status Write(const std::string& root) const;

 private:
  // Action -> the lines of each split.
  std::map<std::string, std::array<std::string, 3>> lines_;
};

// The manifest's record of a clip: id, action, viewpoint, split, segments
// and the per-frame fast flags and joint motion.
nlohmann::json ClipJson(const SynthClip& clip, SynthLayout layout);

// Writes root/synthpose.json: the options and the clips' records.
absl::Status WriteManifest(const SynthPoseOptions& o,
                           const nlohmann::json& clips,
                           const std::string& root);

}  // namespace mapn::synth

#endif  // MAPN_DATA_SYNTHPOSE_WRITER_H_
