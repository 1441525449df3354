#include "mapn/data/synthpose_writer.h"

#include <cmath>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/image_file.h"
#include "mapn/data/mat_io.h"
#include "mapn/video/video_writer.h"

namespace mapn::synth {

namespace {

VideoWriterOptions Mpeg4Options(double frame_rate) {
  VideoWriterOptions v;  // mpeg4, GOP 12, no B-frames, q 1
  v.frame_rate_num = static_cast<int>(std::lround(frame_rate * 1000));
  v.frame_rate_den = 1000;
  return v;
}

// The clip's lossless frames encoded as MPEG-4 Part 2 (the container
// follows the extension of `path`).
absl::Status WriteVideo(const std::string& path, const SynthClip& clip,
                        double frame_rate) {
  MAPN_ASSIGN_OR_RETURN(std::unique_ptr<VideoWriter> writer,
                        VideoWriter::Open(path, clip.width, clip.height,
                                          Mpeg4Options(frame_rate)));
  for (const std::vector<uint8_t>& frame : clip.frames) {
    MAPN_RETURN_IF_ERROR(writer->WriteRgb(frame.data(), 3 * clip.width));
  }
  return writer->Close();
}

// Writes the frames as `dir`/`pattern` (numbered from 1), JPEG with
// quantiser `jpeg_quality` or PNG.
absl::Status WriteImages(const std::string& dir,
                         const absl::FormatSpec<std::string, size_t>& pattern,
                         ImageCodec codec, int jpeg_quality,
                         const SynthClip& clip) {
  MAPN_RETURN_IF_ERROR(MakeDirs(dir));
  MAPN_ASSIGN_OR_RETURN(
      ImageEncoder encoder,
      ImageEncoder::Create(codec, clip.width, clip.height, jpeg_quality));
  for (size_t t = 0; t < clip.frames.size(); ++t) {
    MAPN_RETURN_IF_ERROR(encoder.Write(absl::StrFormat(pattern, dir, t + 1),
                                       clip.frames[t].data()));
  }
  return absl::OkStatus();
}

// labels/NNNN.mat: fields and types as in the real label files, arrays in
// MATLAB order (column-major).
absl::Status WritePennLabels(const std::string& root, const SynthClip& clip) {
  const PoseSequence& seq = clip.labels;
  const size_t n = static_cast<size_t>(seq.num_frames);
  const size_t jn = static_cast<size_t>(seq.num_joints);
  std::vector<double> x(n * jn), y(n * jn), bbox(n * 4);
  std::vector<uint8_t> vis(n * jn);
  for (size_t t = 0; t < n; ++t) {
    for (size_t j = 0; j < jn; ++j) {
      x[t + j * n] = seq.x(t, j);
      y[t + j * n] = seq.y(t, j);
      vis[t + j * n] = seq.is_visible(t, j);
    }
    const Box& b = seq.boxes[t];
    bbox[t] = b.x1;
    bbox[t + n] = b.y1;
    bbox[t + 2 * n] = b.x2;
    bbox[t + 3 * n] = b.y2;
  }
  MAPN_RETURN_IF_ERROR(MakeDirs(root + "/labels"));
  MAPN_ASSIGN_OR_RETURN(MatWriter mat, MatWriter::Create(absl::StrCat(
                                           root, "/labels/", seq.id, ".mat")));
  MAPN_RETURN_IF_ERROR(mat.WriteString("action", seq.action));
  MAPN_RETURN_IF_ERROR(mat.WriteString("pose", clip.pose));
  MAPN_RETURN_IF_ERROR(mat.WriteDouble("x", {n, jn}, x));
  MAPN_RETURN_IF_ERROR(mat.WriteDouble("y", {n, jn}, y));
  MAPN_RETURN_IF_ERROR(mat.WriteLogical("visibility", {n, jn}, vis));
  MAPN_RETURN_IF_ERROR(mat.WriteInt32("train", {1, 1}, {seq.train ? 1 : -1}));
  MAPN_RETURN_IF_ERROR(mat.WriteDouble("bbox", {n, 4}, bbox));
  MAPN_RETURN_IF_ERROR(mat.WriteDouble(
      "dimensions", {1, 3},
      {static_cast<double>(seq.height), static_cast<double>(seq.width),
       static_cast<double>(n)}));
  MAPN_RETURN_IF_ERROR(
      mat.WriteDouble("nframes", {1, 1}, {static_cast<double>(n)}));
  return mat.Close();
}

// joint_positions.mat in `dir`: pos_img, 2 x J x T, 1-based MATLAB pixels,
// and the viewpoint.
absl::Status WriteJhmdbJoints(const std::string& dir, const SynthClip& clip) {
  const PoseSequence& seq = clip.labels;
  const size_t n = static_cast<size_t>(seq.num_frames);
  const size_t jn = static_cast<size_t>(seq.num_joints);
  std::vector<double> pos(2 * jn * n);
  for (size_t t = 0; t < n; ++t) {
    for (size_t j = 0; j < jn; ++j) {
      pos[0 + 2 * (j + jn * t)] = static_cast<double>(seq.x(t, j)) + 1.0;
      pos[1 + 2 * (j + jn * t)] = static_cast<double>(seq.y(t, j)) + 1.0;
    }
  }
  MAPN_RETURN_IF_ERROR(MakeDirs(dir));
  MAPN_ASSIGN_OR_RETURN(MatWriter jp,
                        MatWriter::Create(dir + "/joint_positions.mat"));
  MAPN_RETURN_IF_ERROR(jp.WriteDouble("pos_img", {2, jn, n}, pos));
  MAPN_RETURN_IF_ERROR(jp.WriteString("viewpoint", clip.pose));
  return jp.Close();
}

// puppet_mask.mat in `dir`: part_mask, H x W x T, column-major.
absl::Status WriteJhmdbMask(const std::string& dir, const SynthClip& clip) {
  const size_t n = static_cast<size_t>(clip.labels.num_frames);
  const size_t w = static_cast<size_t>(clip.width),
               h = static_cast<size_t>(clip.height);
  std::vector<uint8_t> mask(w * h * n);
  for (size_t t = 0; t < n; ++t) {
    for (size_t yy = 0; yy < h; ++yy) {
      for (size_t xx = 0; xx < w; ++xx) {
        mask[yy + h * (xx + w * t)] = clip.masks[t][yy * w + xx];
      }
    }
  }
  MAPN_RETURN_IF_ERROR(MakeDirs(dir));
  MAPN_ASSIGN_OR_RETURN(MatWriter pm,
                        MatWriter::Create(dir + "/puppet_mask.mat"));
  MAPN_RETURN_IF_ERROR(pm.WriteUint8("part_mask", {h, w, n}, mask));
  return pm.Close();
}

nlohmann::json OptionsJson(const SynthPoseOptions& o) {
  return nlohmann::json{
      {"seed", o.seed},
      {"num_clips", o.num_clips},
      {"width", o.width},
      {"height", o.height},
      {"min_frames", o.min_frames},
      {"max_frames", o.max_frames},
      {"frame_rate", o.frame_rate},
      {"train_fraction", o.train_fraction},
      {"layout", o.layout == SynthLayout::kJhmdb ? "jhmdb" : "penn_action"},
      {"joint_set", o.joint_set},
      {"fast_fraction", o.fast_fraction},
      {"min_segment_frames", o.min_segment_frames},
      {"max_segment_frames", o.max_segment_frames},
      {"blend_frames", o.blend_frames},
      {"slow_rate", o.slow_rate},
      {"fast_rate", o.fast_rate},
      {"slow_amplitude_min", o.slow_amplitude_min},
      {"slow_amplitude_max", o.slow_amplitude_max},
      {"fast_amplitude_min", o.fast_amplitude_min},
      {"fast_amplitude_max", o.fast_amplitude_max},
      {"stand_weight", o.stand_weight},
      {"walk_weight", o.walk_weight},
      {"jump_weight", o.jump_weight},
      {"arm_swing_weight", o.arm_swing_weight},
      {"bend_weight", o.bend_weight},
      {"turn_speed", o.turn_speed},
      {"stride_length", o.stride_length},
      {"figure_height", o.figure_height},
      {"body_variation", o.body_variation},
      {"limb_thickness", o.limb_thickness},
      {"texture_contrast", o.texture_contrast},
      {"occluded_joints_invisible", o.occluded_joints_invisible},
      {"background_contrast", o.background_contrast},
      {"background_drift", o.background_drift},
      {"parallax", o.parallax},
      {"camera_pan", o.camera_pan},
      {"camera_zoom", o.camera_zoom},
      {"lighting_change", o.lighting_change},
      {"noise_sigma", o.noise_sigma},
      {"jpeg_quality", o.jpeg_quality},
      {"write_videos", o.write_videos},
  };
}

}  // namespace

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create directory '", dir, "': ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status WritePennClip(const SynthPoseOptions& o, const std::string& root,
                           const SynthClip& clip) {
  const PoseSequence& seq = clip.labels;
  MAPN_RETURN_IF_ERROR(WriteImages(absl::StrCat(root, "/frames/", seq.id),
                                   "%s/%06d.jpg", ImageCodec::kJpeg,
                                   o.jpeg_quality, clip));
  MAPN_RETURN_IF_ERROR(WritePennLabels(root, clip));
  if (o.write_videos) {
    MAPN_RETURN_IF_ERROR(MakeDirs(root + "/mpeg4_gop12"));
    MAPN_RETURN_IF_ERROR(
        WriteVideo(absl::StrCat(root, "/mpeg4_gop12/", seq.id, ".mp4"), clip,
                   o.frame_rate));
  }
  return absl::OkStatus();
}

std::string JhmdbVideoName(const PoseSequence& seq) {
  return absl::StrCat("synthpose_", seq.id);
}

absl::Status WriteJhmdbClip(const SynthPoseOptions& o, const std::string& root,
                            const SynthClip& clip) {
  const PoseSequence& seq = clip.labels;
  const std::string rel = absl::StrCat(seq.action, "/", JhmdbVideoName(seq));
  // PNG ignores the quantiser; 2 is ImageEncoder's default.
  MAPN_RETURN_IF_ERROR(WriteImages(absl::StrCat(root, "/Rename_Images/", rel),
                                   "%s/%05d.png", ImageCodec::kPng,
                                   /*jpeg_quality=*/2, clip));
  MAPN_RETURN_IF_ERROR(
      WriteJhmdbJoints(absl::StrCat(root, "/joint_positions/", rel), clip));
  MAPN_RETURN_IF_ERROR(
      WriteJhmdbMask(absl::StrCat(root, "/puppet_mask/", rel), clip));
  if (o.write_videos) {
    const std::string dir =
        absl::StrCat(root, "/ReCompress_Videos/", seq.action);
    MAPN_RETURN_IF_ERROR(MakeDirs(dir));
    MAPN_RETURN_IF_ERROR(
        WriteVideo(absl::StrCat(dir, "/", JhmdbVideoName(seq), ".avi"), clip,
                   o.frame_rate));
  }
  return absl::OkStatus();
}

void JhmdbSplits::Add(const PoseSequence& seq,
                      const std::array<bool, 3>& train) {
  for (int k = 0; k < 3; ++k) {
    absl::StrAppend(&lines_[seq.action][k], JhmdbVideoName(seq), ".avi ",
                    train[k] ? 1 : 2, "\n");
  }
}

absl::Status JhmdbSplits::Write(const std::string& root) const {
  MAPN_RETURN_IF_ERROR(MakeDirs(root + "/sub_splits"));
  for (const auto& [action, lines] : lines_) {
    for (int k = 0; k < 3; ++k) {
      MAPN_RETURN_IF_ERROR(
          WriteFileAtomically(absl::StrCat(root, "/sub_splits/", action,
                                           "_test_split_", k + 1, ".txt"),
                              lines[k]));
    }
  }
  return absl::OkStatus();
}

nlohmann::json ClipJson(const SynthClip& clip, SynthLayout layout) {
  const PoseSequence& seq = clip.labels;
  nlohmann::json segments = nlohmann::json::array();
  for (const SynthSegment& s : clip.segments) {
    segments.push_back({{"first_frame", s.first_frame},
                        {"num_frames", s.num_frames},
                        {"motion", SynthMotionName(s.motion)},
                        {"fast", s.fast},
                        {"amplitude", s.amplitude},
                        {"rate", s.rate}});
  }
  return {{"id", layout == SynthLayout::kJhmdb
                     ? absl::StrCat(seq.action, "/", JhmdbVideoName(seq))
                     : seq.id},
          {"action", seq.action},
          {"pose", clip.pose},
          {"train", seq.train},
          {"num_frames", seq.num_frames},
          {"segments", segments},
          {"fast", clip.fast},
          {"joint_motion", clip.joint_motion}};
}

absl::Status WriteManifest(const SynthPoseOptions& o,
                           const nlohmann::json& clips,
                           const std::string& root) {
  const nlohmann::json manifest{{"generator", "mapn SynthPose"},
                                {"options", OptionsJson(o)},
                                {"clips", clips}};
  return WriteFileAtomically(root + "/synthpose.json", manifest.dump(1) + "\n");
}

}  // namespace mapn::synth
