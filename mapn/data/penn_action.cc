#include "mapn/data/penn_action.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapn/core/status_macros.h"
#include "mapn/data/mat_io.h"

namespace mapn {
namespace {

namespace fs = std::filesystem;

constexpr int kPennJoints = 13;

absl::Status BadShape(const std::string& path, const std::string& var,
                      const MatArray& a, const std::string& expected) {
  std::string dims;
  for (size_t d : a.dims) absl::StrAppend(&dims, dims.empty() ? "" : "x", d);
  return absl::InvalidArgumentError(
      absl::StrCat("variable '", var, "' of MAT file '", path, "' is ", dims,
                   "; expected ", expected));
}

absl::StatusOr<double> ReadScalar(const MatFile& mat, const std::string& var) {
  MAPN_ASSIGN_OR_RETURN(MatArray a, mat.ReadNumeric(var));
  if (a.numel() != 1) return BadShape(mat.path(), var, a, "a scalar");
  return a.values[0];
}

bool IsFile(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

}  // namespace

absl::StatusOr<PoseSequence> ReadPennActionLabels(const std::string& mat_path,
                                                  const std::string& id) {
  MAPN_ASSIGN_OR_RETURN(MatFile mat, MatFile::Open(mat_path));
  PoseSequence seq;
  seq.dataset = "penn_action";
  seq.id = id;
  seq.num_joints = kPennJoints;

  MAPN_ASSIGN_OR_RETURN(MatArray x, mat.ReadNumeric("x"));
  MAPN_ASSIGN_OR_RETURN(MatArray y, mat.ReadNumeric("y"));
  MAPN_ASSIGN_OR_RETURN(MatArray vis, mat.ReadNumeric("visibility"));
  MAPN_ASSIGN_OR_RETURN(MatArray bbox, mat.ReadNumeric("bbox"));
  MAPN_ASSIGN_OR_RETURN(MatArray dimensions, mat.ReadNumeric("dimensions"));
  MAPN_ASSIGN_OR_RETURN(const double nframes, ReadScalar(mat, "nframes"));
  MAPN_ASSIGN_OR_RETURN(const double train, ReadScalar(mat, "train"));
  MAPN_ASSIGN_OR_RETURN(seq.action, mat.ReadString("action"));

  const size_t t_count = x.rows();
  const std::string joints_shape = absl::StrCat(t_count, "x", kPennJoints);
  if (x.dims.size() != 2 || x.cols() != kPennJoints || t_count == 0) {
    return BadShape(mat_path, "x", x, "nframes x 13");
  }
  if (y.dims != x.dims) return BadShape(mat_path, "y", y, joints_shape);
  if (vis.dims != x.dims) {
    return BadShape(mat_path, "visibility", vis, joints_shape);
  }
  if (nframes != static_cast<double>(t_count)) {
    return absl::InvalidArgumentError(
        absl::StrCat("variable 'nframes' of MAT file '", mat_path, "' is ",
                     nframes, " but 'x' has ", t_count, " rows"));
  }
  // One row short is the known defect of two sequences; anything else is a
  // broken file.
  if (bbox.dims.size() != 2 || bbox.cols() != 4 ||
      (bbox.rows() != t_count && bbox.rows() + 1 != t_count)) {
    return BadShape(mat_path, "bbox", bbox,
                    absl::StrCat(t_count, "x4 (or ", t_count - 1, "x4)"));
  }
  if (dimensions.numel() < 2 || !(dimensions.values[0] >= 1) ||
      !(dimensions.values[1] >= 1)) {
    return BadShape(mat_path, "dimensions", dimensions,
                    "[height width nframes] with positive sizes");
  }
  if (train != 1 && train != -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("variable 'train' of MAT file '", mat_path, "' is ", train,
                     "; expected 1 (train) or -1 (test)"));
  }
  seq.train = train == 1;
  seq.height = static_cast<int>(dimensions.values[0]);
  seq.width = static_cast<int>(dimensions.values[1]);
  seq.num_frames = static_cast<int64_t>(t_count);

  seq.joints.resize(t_count * kPennJoints * 2);
  seq.visible.resize(t_count * kPennJoints);
  for (size_t t = 0; t < t_count; ++t) {
    for (int j = 0; j < kPennJoints; ++j) {
      const double xv = x.at(t, j);
      const double yv = y.at(t, j);
      if (!std::isfinite(xv) || !std::isfinite(yv)) {
        return absl::InvalidArgumentError(
            absl::StrCat("MAT file '", mat_path, "': joint ", j, " of frame ",
                         t, " is not finite in 'x'/'y'"));
      }
      seq.joints[(t * kPennJoints + j) * 2] = static_cast<float>(xv);
      seq.joints[(t * kPennJoints + j) * 2 + 1] = static_cast<float>(yv);
      seq.visible[t * kPennJoints + j] = vis.at(t, j) != 0;
    }
  }
  seq.boxes.resize(t_count);
  std::vector<bool> present(t_count, false);
  for (size_t t = 0; t < bbox.rows(); ++t) {
    Box& b = seq.boxes[t];
    b.x1 = static_cast<float>(bbox.at(t, 0));
    b.y1 = static_cast<float>(bbox.at(t, 1));
    b.x2 = static_cast<float>(bbox.at(t, 2));
    b.y2 = static_cast<float>(bbox.at(t, 3));
    present[t] = std::isfinite(b.x1) && std::isfinite(b.y1) &&
                 std::isfinite(b.x2) && std::isfinite(b.y2);
  }
  absl::StatusOr<int> repaired = RepairBoxes(seq.boxes, present);
  if (!repaired.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("variable 'bbox' of MAT file '", mat_path,
                     "': ", repaired.status().message()));
  }
  seq.repaired_boxes = *repaired;
  MAPN_RETURN_IF_ERROR(seq.Validate());
  return seq;
}

absl::StatusOr<PoseDataset> LoadPennAction(const std::string& root,
                                           const PennActionOptions& options) {
  const std::string labels_dir = root + "/labels";
  std::error_code ec;
  if (!fs::is_directory(labels_dir, ec)) {
    return absl::NotFoundError(absl::StrCat(
        "Penn Action root '", root, "' has no labels/ directory (expected ",
        labels_dir, "/0001.mat ...)"));
  }
  std::vector<int> ids = options.ids;
  if (ids.empty()) {
    for (const fs::directory_entry& entry :
         fs::directory_iterator(labels_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() == 8 && name.substr(4) == ".mat" &&
          std::all_of(name.begin(), name.begin() + 4,
                      [](char c) { return c >= '0' && c <= '9'; })) {
        const int number = std::stoi(name.substr(0, 4));
        ids.push_back(number);
      }
    }
    if (ec) {
      return absl::InternalError(
          absl::StrCat("cannot list '", labels_dir, "': ", ec.message()));
    }
    std::sort(ids.begin(), ids.end());
  }
  if (ids.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no NNNN.mat label files in '", labels_dir, "'"));
  }

  PoseDataset dataset;
  dataset.name = "penn_action";
  dataset.root = root;
  dataset.joints = PennActionJoints();
  for (int number : ids) {
    if (number < 0 || number > 9999) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Penn Action sequence number ", number, " is outside 0..9999"));
    }
    const std::string id = absl::StrFormat("%04d", number);
    MAPN_ASSIGN_OR_RETURN(
        PoseSequence seq,
        ReadPennActionLabels(absl::StrCat(labels_dir, "/", id, ".mat"), id));
    if (options.split == Split::kTrain && !seq.train) continue;
    if (options.split == Split::kTest && seq.train) continue;
    seq.frame_pattern = absl::StrCat(root, "/frames/", id, "/%06d.jpg");
    seq.frame_start_number = 1;
    seq.frame_rate = options.frame_rate;
    if (options.require_frames) {
      const std::string first =
          absl::StrFormat("%s/frames/%s/%06d.jpg", root, id, 1);
      const std::string last =
          absl::StrFormat("%s/frames/%s/%06d.jpg", root, id, seq.num_frames);
      if (!IsFile(first) || !IsFile(last)) {
        return absl::NotFoundError(
            absl::StrCat("Penn Action sequence ", id, " has ", seq.num_frames,
                         " labelled frames but '", IsFile(first) ? last : first,
                         "' does not exist"));
      }
    }
    const std::string prebuilt =
        absl::StrCat(root, "/mpeg4_gop12/", id, ".mp4");
    if (options.use_prebuilt_videos && IsFile(prebuilt)) {
      seq.cached_video = prebuilt;
    }
    dataset.sequences.push_back(std::move(seq));
  }
  return dataset;
}

}  // namespace mapn
