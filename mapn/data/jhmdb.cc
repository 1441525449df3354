#include "mapn/data/jhmdb.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/mat_io.h"

namespace mapn {
namespace {

namespace fs = std::filesystem;

constexpr int kJhmdbJoints = 15;
// Every JHMDB clip is 320 x 240; used only when no puppet mask says so.
constexpr int kJhmdbWidth = 320;
constexpr int kJhmdbHeight = 240;

std::string DimsText(const std::vector<size_t>& dims) {
  std::string text;
  for (size_t d : dims) absl::StrAppend(&text, text.empty() ? "" : "x", d);
  return text;
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

}  // namespace

absl::StatusOr<std::vector<JhmdbSplitEntry>> ReadJhmdbSplitFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open split file '", path, "'"));
  }
  std::vector<JhmdbSplitEntry> entries;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::istringstream fields(line);
    std::string name, extra;
    int flag = 0;
    if (!(fields >> name)) continue;  // blank line
    if (!(fields >> flag) || (flag != 1 && flag != 2) || (fields >> extra)) {
      return absl::InvalidArgumentError(
          absl::StrCat("split file '", path, "' line ", line_number, ": '",
                       line, "' is not '<video>.avi 1|2'"));
    }
    if (name.size() > 4 && name.substr(name.size() - 4) == ".avi") {
      name.resize(name.size() - 4);
    }
    entries.push_back({name, flag == 1});
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("split file '", path, "' lists no clips"));
  }
  return entries;
}

absl::StatusOr<MaskBoxes> ReadPuppetMaskBoxes(const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(MatFile mat, MatFile::Open(path));
  MAPN_ASSIGN_OR_RETURN(MatArray mask, mat.ReadNumeric("part_mask"));
  if (mask.dims.size() < 2 || mask.dims.size() > 3 || mask.numel() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("variable 'part_mask' of MAT file '", path, "' is ",
                     DimsText(mask.dims), "; expected height x width x T"));
  }
  const size_t h = mask.dims[0];
  const size_t w = mask.dims[1];
  const size_t t_count = mask.dims.size() == 3 ? mask.dims[2] : 1;
  MaskBoxes out;
  out.width = static_cast<int>(w);
  out.height = static_cast<int>(h);
  out.boxes.resize(t_count);
  std::vector<bool> found(t_count, false);
  for (size_t t = 0; t < t_count; ++t) {
    size_t x_min = w, x_max = 0, y_min = h, y_max = 0;
    const double* frame = mask.values.data() + t * w * h;
    for (size_t x = 0; x < w; ++x) {
      const double* column = frame + x * h;  // column-major
      for (size_t y = 0; y < h; ++y) {
        if (column[y] == 0) continue;
        x_min = std::min(x_min, x);
        x_max = std::max(x_max, x);
        y_min = std::min(y_min, y);
        y_max = std::max(y_max, y);
      }
    }
    if (x_min > x_max) continue;
    found[t] = true;
    // 0-based inclusive min, exclusive max: the 1-based MATLAB extent
    // [min, max] becomes [min - 1, max).
    out.boxes[t] =
        Box{static_cast<float>(x_min), static_cast<float>(y_min),
            static_cast<float>(x_max + 1), static_cast<float>(y_max + 1)};
  }
  out.empty_frames =
      static_cast<int>(std::count(found.begin(), found.end(), false));
  absl::StatusOr<int> repaired = RepairBoxes(out.boxes, found);
  if (!repaired.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("variable 'part_mask' of MAT file '", path,
                     "' marks no pixel in any of its ", t_count, " frames"));
  }
  return out;
}

absl::StatusOr<PoseSequence> ReadJhmdbLabels(
    const std::string& joint_positions_path,
    const std::string& puppet_mask_path, const std::string& id) {
  MAPN_ASSIGN_OR_RETURN(MatFile mat, MatFile::Open(joint_positions_path));
  MAPN_ASSIGN_OR_RETURN(MatArray pos, mat.ReadNumeric("pos_img"));
  // MATLAB drops a trailing singleton dimension: a one-frame clip is 2 x 15.
  if (pos.dims.size() < 2 || pos.dims.size() > 3 || pos.dims[0] != 2 ||
      pos.dims[1] != kJhmdbJoints || pos.numel() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("variable 'pos_img' of MAT file '", joint_positions_path,
                     "' is ", DimsText(pos.dims), "; expected 2x15xT"));
  }
  const size_t t_count = pos.dims.size() == 3 ? pos.dims[2] : 1;
  PoseSequence seq;
  seq.dataset = "sub_jhmdb";
  seq.id = id;
  seq.action = id.substr(0, id.find('/'));
  seq.num_joints = kJhmdbJoints;
  seq.num_frames = static_cast<int64_t>(t_count);
  seq.joints.resize(t_count * kJhmdbJoints * 2);
  seq.visible.assign(t_count * kJhmdbJoints, 1);
  for (size_t t = 0; t < t_count; ++t) {
    for (int j = 0; j < kJhmdbJoints; ++j) {
      for (int c = 0; c < 2; ++c) {
        const double v = pos.at(c, j, t);
        if (!std::isfinite(v)) {
          return absl::InvalidArgumentError(
              absl::StrCat("MAT file '", joint_positions_path, "': pos_img(",
                           c + 1, ",", j + 1, ",", t + 1, ") is not finite"));
        }
        // 1-based MATLAB pixels to 0-based.
        seq.joints[(t * kJhmdbJoints + j) * 2 + c] =
            static_cast<float>(v - 1.0);
      }
    }
  }
  if (!puppet_mask_path.empty()) {
    MAPN_ASSIGN_OR_RETURN(MaskBoxes mask,
                          ReadPuppetMaskBoxes(puppet_mask_path));
    if (mask.boxes.size() != t_count) {
      return absl::InvalidArgumentError(absl::StrCat(
          "puppet mask '", puppet_mask_path, "' has ", mask.boxes.size(),
          " frames but '", joint_positions_path, "' labels ", t_count));
    }
    seq.boxes = std::move(mask.boxes);
    seq.repaired_boxes = mask.empty_frames;
    seq.width = mask.width;
    seq.height = mask.height;
  } else {
    // Without a mask: the joints' extent, the usual fallback.
    seq.width = kJhmdbWidth;
    seq.height = kJhmdbHeight;
    seq.boxes.resize(t_count);
    for (size_t t = 0; t < t_count; ++t) {
      Box b{std::numeric_limits<float>::max(),
            std::numeric_limits<float>::max(),
            std::numeric_limits<float>::lowest(),
            std::numeric_limits<float>::lowest()};
      for (int j = 0; j < kJhmdbJoints; ++j) {
        b.x1 = std::min(b.x1, seq.x(t, j));
        b.y1 = std::min(b.y1, seq.y(t, j));
        b.x2 = std::max(b.x2, seq.x(t, j) + 1);
        b.y2 = std::max(b.y2, seq.y(t, j) + 1);
      }
      seq.boxes[t] = b;
    }
  }
  MAPN_RETURN_IF_ERROR(seq.Validate());
  return seq;
}

absl::StatusOr<PoseDataset> LoadSubJhmdb(const std::string& root,
                                         const SubJhmdbOptions& options) {
  if (options.split < 1 || options.split > 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Sub-JHMDB split ", options.split, " does not exist (1, 2 or 3)"));
  }
  const std::string splits_dir = root + "/sub_splits";
  const std::string suffix =
      absl::StrCat("_test_split_", options.split, ".txt");
  std::error_code ec;
  if (!fs::is_directory(splits_dir, ec)) {
    return absl::NotFoundError(absl::StrCat(
        "Sub-JHMDB root '", root, "' has no sub_splits/ directory (expected ",
        splits_dir, "/<class>", suffix, ")"));
  }
  std::map<std::string, std::string> split_files;  // class -> path, sorted
  for (const fs::directory_entry& entry :
       fs::directory_iterator(splits_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      split_files[name.substr(0, name.size() - suffix.size())] =
          entry.path().string();
    }
  }
  if (split_files.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no '<class>", suffix, "' files in '", splits_dir, "'"));
  }

  PoseDataset dataset;
  dataset.name = "sub_jhmdb";
  dataset.root = root;
  dataset.joints = JhmdbJoints();
  for (const auto& [action, split_path] : split_files) {
    MAPN_ASSIGN_OR_RETURN(std::vector<JhmdbSplitEntry> entries,
                          ReadJhmdbSplitFile(split_path));
    for (const JhmdbSplitEntry& entry : entries) {
      if (options.subset == Split::kTrain && !entry.train) continue;
      if (options.subset == Split::kTest && entry.train) continue;
      const std::string clip = absl::StrCat(action, "/", entry.video);
      MAPN_ASSIGN_OR_RETURN(
          PoseSequence seq,
          ReadJhmdbLabels(
              absl::StrCat(root, "/joint_positions/", clip,
                           "/joint_positions.mat"),
              absl::StrCat(root, "/puppet_mask/", clip, "/puppet_mask.mat"),
              clip));
      seq.train = entry.train;
      seq.frame_rate = options.frame_rate;
      const std::string images = absl::StrCat(root, "/Rename_Images/", clip);
      const std::string video =
          absl::StrCat(root, "/ReCompress_Videos/", clip, ".avi");
      const bool has_images = options.frames != JhmdbFrameSource::kVideos &&
                              Exists(absl::StrCat(images, "/00001.png"));
      const bool has_video =
          options.frames != JhmdbFrameSource::kImages && Exists(video);
      if (has_images) {
        seq.frame_pattern = images + "/%05d.png";
        seq.frame_start_number = 1;
      } else if (has_video) {
        seq.source_video = video;
      } else if (options.require_frames) {
        return absl::NotFoundError(
            absl::StrCat("Sub-JHMDB clip '", clip, "' has neither '", images,
                         "/00001.png' nor '", video, "'"));
      }
      dataset.sequences.push_back(std::move(seq));
    }
  }
  return dataset;
}

}  // namespace mapn
