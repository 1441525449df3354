// Tests of the MAT reader/writer, the Penn Action and Sub-JHMDB loaders, the
// box helpers and the loader concept, on files the tests write and on the
// real label files in ../shared/data/real.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/data/dataset_loader.h"
#include "mapn/data/gop_boxes.h"
#include "mapn/data/image_file.h"
#include "mapn/data/jhmdb.h"
#include "mapn/data/joint_set.h"
#include "mapn/data/mat_io.h"
#include "mapn/data/penn_action.h"
#include "mapn/data/pose_sequence.h"
#include "mapn/data/video_cache.h"
#include "mapn/testing/shared_data.h"
#include "mapn/video/ffmpeg_util.h"
#include "mapn/video/transcode.h"

namespace mapn {
namespace {

namespace fs = std::filesystem;

// --- The loader concept -------------------------------------------------

static_assert(PoseDatasetLoader<PennActionLoader>);
static_assert(PoseDatasetLoader<SubJhmdbLoader>);

struct NoName {
  using Options = PennActionOptions;
  explicit NoName(Options) {}
  static const JointSet& Joints() { return PennActionJoints(); }
  absl::StatusOr<PoseDataset> Load(const std::string&) const {
    return PoseDataset{};
  }
};
struct WrongResult {
  using Options = PennActionOptions;
  static constexpr std::string_view kName = "x";
  explicit WrongResult(Options) {}
  static const JointSet& Joints() { return PennActionJoints(); }
  PoseDataset Load(const std::string&) const { return PoseDataset{}; }
};
struct MutableLoad {
  using Options = PennActionOptions;
  static constexpr std::string_view kName = "x";
  explicit MutableLoad(Options) {}
  static const JointSet& Joints() { return PennActionJoints(); }
  absl::StatusOr<PoseDataset> Load(const std::string&) { return PoseDataset{}; }
};
struct JointsByValue {
  using Options = PennActionOptions;
  static constexpr std::string_view kName = "x";
  explicit JointsByValue(Options) {}
  static JointSet Joints() { return PennActionJoints(); }
  absl::StatusOr<PoseDataset> Load(const std::string&) const {
    return PoseDataset{};
  }
};
struct NoOptions {
  static constexpr std::string_view kName = "x";
  static const JointSet& Joints() { return PennActionJoints(); }
  absl::StatusOr<PoseDataset> Load(const std::string&) const {
    return PoseDataset{};
  }
};
static_assert(!PoseDatasetLoader<NoName>);
static_assert(!PoseDatasetLoader<WrongResult>);
static_assert(!PoseDatasetLoader<MutableLoad>);
static_assert(!PoseDatasetLoader<JointsByValue>);
static_assert(!PoseDatasetLoader<NoOptions>);

// --- Helpers --------------------------------------------------------------

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(base ? base : "/tmp", "/", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void Touch(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << "x";
}

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

#define ASSERT_OK(expr)                    \
  do {                                     \
    const absl::Status _s = (expr);        \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (false)

// --- JointSet -------------------------------------------------------------

TEST(JointSetTest, OrdersFlipsAndGroups) {
  const JointSet& penn = PennActionJoints();
  const JointSet& jhmdb = JhmdbJoints();
  ASSERT_EQ(penn.num_joints(), 13);
  ASSERT_EQ(jhmdb.num_joints(), 15);
  EXPECT_EQ(penn.joint_names[0], "head");
  EXPECT_EQ(penn.joint_names[1], "l_shoulder");
  EXPECT_EQ(penn.joint_names[12], "r_ankle");
  EXPECT_EQ(jhmdb.joint_names[0], "neck");
  EXPECT_EQ(jhmdb.joint_names[2], "face");
  EXPECT_EQ(jhmdb.joint_names[3], "r_shoulder");
  EXPECT_EQ(jhmdb.joint_names[14], "l_ankle");
  for (const JointSet* set : AllJointSets()) {
    const std::vector<int> flip = set->FlipPermutation();
    for (int j = 0; j < set->num_joints(); ++j) {
      EXPECT_EQ(flip[flip[j]], j);
      const std::string& name = set->joint_names[j];
      const std::string& other = set->joint_names[flip[j]];
      if (name[1] == '_') {
        // l_x <-> r_x
        EXPECT_NE(name[0], other[0]) << name;
        EXPECT_EQ(name.substr(1), other.substr(1)) << name;
      } else {
        EXPECT_EQ(flip[j], j) << name;
      }
    }
    ASSERT_EQ(set->pck_groups.size(), 7u);
    const char* kColumns[] = {"Head", "Sho.", "Elb.", "Wri.",
                              "Hip",  "Knee", "Ank."};
    for (int g = 0; g < 7; ++g) EXPECT_EQ(set->pck_groups[g].name, kColumns[g]);
    for (const auto& [a, b] : set->skeleton) {
      EXPECT_GE(a, 0);
      EXPECT_LT(b, set->num_joints());
    }
  }
  // Each group pairs the same body part; JHMDB's Head is the face alone.
  for (const JointSet* set : AllJointSets()) {
    for (size_t g = 1; g < 7; ++g) {
      const auto& joints = set->pck_groups[g].joints;
      ASSERT_EQ(joints.size(), 2u);
      EXPECT_EQ(set->joint_names[joints[0]].substr(1),
                set->joint_names[joints[1]].substr(1));
    }
  }
  EXPECT_EQ(jhmdb.pck_groups[0].joints, std::vector<int>{2});
  EXPECT_EQ(penn.IndexOf("r_wrist"), 6);
  EXPECT_EQ(jhmdb.IndexOf("r_wrist"), 11);
  EXPECT_FALSE(penn.IndexOf("tail").has_value());
  EXPECT_EQ(JointSetByName("jhmdb")->num_joints(), 15);
  EXPECT_FALSE(JointSetByName("mpii").has_value());
  // COCO's 17, MoveNet's outputs: the face points make the Head column.
  const JointSet coco = *JointSetByName("coco");
  EXPECT_EQ(coco.num_joints(), 17);
  EXPECT_EQ(coco.IndexOf("r_ankle"), 16);
  EXPECT_EQ(coco.pck_groups[0].joints, (std::vector<int>{0, 1, 2, 3, 4}));
  const std::vector<int> flip = coco.FlipPermutation();
  EXPECT_EQ(flip[0], 0);  // the nose stays
  EXPECT_EQ(flip[1], 2);  // left eye <-> right eye
  EXPECT_EQ(flip[16], 15);
  EXPECT_EQ(JointSetByName("posetrack")->joint_names[1], "head_bottom");
}

// --- MAT files ------------------------------------------------------------

TEST(MatIoTest, RoundTripsEveryStorageType) {
  const std::string dir = TempDir("mat_roundtrip");
  const std::string path = dir + "/a.mat";
  {
    absl::StatusOr<MatWriter> w = MatWriter::Create(path);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_OK(w->WriteDouble("d", {2, 3}, {0.5, -1, 2, 3, 4.25, 1e6}));
    ASSERT_OK(w->WriteDouble("u8", {1, 3}, {0, 7, 255}, MatStorage::kUint8));
    ASSERT_OK(
        w->WriteDouble("u16", {3, 1}, {1, 300, 65535}, MatStorage::kUint16));
    ASSERT_OK(w->WriteLogical("l", {2, 2}, {1, 0, 5, 0}));
    ASSERT_OK(w->WriteInt32("i", {1, 1}, {-1}));
    ASSERT_OK(w->WriteUint8("m", {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}));
    ASSERT_OK(w->WriteString("s", "baseball_pitch"));
    // Not representable in the requested storage: refused, nothing written.
    EXPECT_EQ(w->WriteDouble("bad", {1, 1}, {1.5}, MatStorage::kUint8).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(
        w->WriteDouble("bad", {1, 1}, {70000}, MatStorage::kUint16).code(),
        absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(w->WriteDouble("bad", {2, 2}, {1, 2, 3}).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(fs::exists(path)) << "visible before Close()";
    ASSERT_OK(w->Close());
  }
  absl::StatusOr<MatFile> f = MatFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->Has("bad"));
  absl::StatusOr<MatArray> d = f->ReadNumeric("d");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->dims, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(d->class_name, "double");
  EXPECT_EQ(d->at(1, 2), 1e6);
  EXPECT_EQ(d->at(0, 2), 4.25);
  absl::StatusOr<MatArray> u8 = f->ReadNumeric("u8");
  ASSERT_TRUE(u8.ok());
  EXPECT_EQ(u8->class_name, "double");  // class double, stored as uint8
  EXPECT_EQ(u8->values, (std::vector<double>{0, 7, 255}));
  absl::StatusOr<MatArray> u16 = f->ReadNumeric("u16");
  ASSERT_TRUE(u16.ok());
  EXPECT_EQ(u16->values, (std::vector<double>{1, 300, 65535}));
  absl::StatusOr<MatArray> l = f->ReadNumeric("l");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->class_name, "logical");
  EXPECT_EQ(l->values, (std::vector<double>{1, 0, 1, 0}));
  absl::StatusOr<MatArray> i = f->ReadNumeric("i");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->class_name, "int32");
  EXPECT_EQ(i->values, std::vector<double>{-1});
  absl::StatusOr<MatArray> m = f->ReadNumeric("m");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->dims, (std::vector<size_t>{2, 2, 2}));
  EXPECT_EQ(m->at(1, 0, 1), 5);
  absl::StatusOr<std::string> s = f->ReadString("s");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "baseball_pitch");
}

TEST(MatIoTest, ErrorsNameTheFileAndVariable) {
  const std::string dir = TempDir("mat_errors");
  const std::string path = dir + "/labels.mat";
  {
    absl::StatusOr<MatWriter> w = MatWriter::Create(path);
    ASSERT_TRUE(w.ok());
    ASSERT_OK(w->WriteString("action", "squat"));
    ASSERT_OK(w->WriteDouble("x", {1, 2}, {1, 2}));
    ASSERT_OK(w->Close());
  }
  absl::StatusOr<MatFile> f = MatFile::Open(path);
  ASSERT_TRUE(f.ok());
  absl::Status missing = f->ReadNumeric("bbox").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing, "'bbox'")) << missing;
  EXPECT_TRUE(Contains(missing, path)) << missing;
  absl::Status wrong = f->ReadNumeric("action").status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(wrong, "'action'") && Contains(wrong, "char")) << wrong;
  EXPECT_EQ(f->ReadString("x").status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(MatFile::Open(dir + "/absent.mat").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(MatFile::Open(dir).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string garbage = dir + "/garbage.mat";
  std::ofstream(garbage) << "this is not a MAT file at all, just some text";
  absl::Status bad = MatFile::Open(garbage).status();
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad, garbage)) << bad;

  // A file cut in the middle of its data: reading must fail cleanly.
  absl::StatusOr<std::string> bytes = ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  const std::string cut = dir + "/cut.mat";
  ASSERT_OK(WriteFileAtomically(cut, bytes->substr(0, bytes->size() - 20)));
  absl::StatusOr<MatFile> cut_file = MatFile::Open(cut);
  if (cut_file.ok()) {
    absl::StatusOr<MatArray> x = cut_file->ReadNumeric("x");
    EXPECT_FALSE(x.ok());
    EXPECT_TRUE(Contains(x.status(), "'x'")) << x.status();
  }
}

TEST(MatIoTest, SameContentsGiveSameBytes) {
  const std::string dir = TempDir("mat_bytes");
  for (const char* name : {"/a.mat", "/b.mat"}) {
    absl::StatusOr<MatWriter> w = MatWriter::Create(dir + name);
    ASSERT_TRUE(w.ok());
    ASSERT_OK(w->WriteDouble("x", {2, 2}, {1, 2, 3, 4}));
    ASSERT_OK(w->WriteString("action", "bowl"));
    ASSERT_OK(w->Close());
  }
  EXPECT_EQ(*ReadFile(dir + "/a.mat"), *ReadFile(dir + "/b.mat"));
}

// --- Penn Action ------------------------------------------------------------

struct PennFile {
  int frames = 3;
  bool train = true;
  MatStorage xy_storage = MatStorage::kDouble;
  bool visibility_as_double = false;
  int bbox_rows = -1;          // -1: one per frame
  std::vector<size_t> x_dims;  // empty: frames x 13
  double nframes = -1;         // -1: frames
  double train_value = 0;      // 0: from `train`
};

// Joint j of frame t sits at (10 t + j, 100 + j); visible unless j == 12;
// box t = (t, 2 t, 50 + t, 80 + t).
void WritePennLabels(const std::string& path, const PennFile& spec) {
  const size_t n = spec.frames;
  std::vector<double> x(n * 13), y(n * 13), vis(n * 13);
  for (size_t t = 0; t < n; ++t) {
    for (size_t j = 0; j < 13; ++j) {
      x[t + j * n] = 10.0 * t + j;
      y[t + j * n] = 100.0 + j;
      vis[t + j * n] = j != 12;
    }
  }
  const size_t rows = spec.bbox_rows < 0 ? n : spec.bbox_rows;
  std::vector<double> bbox(rows * 4);
  for (size_t t = 0; t < rows; ++t) {
    bbox[t] = t;
    bbox[t + rows] = 2.0 * t;
    bbox[t + 2 * rows] = 50.0 + t;
    bbox[t + 3 * rows] = 80.0 + t;
  }
  absl::StatusOr<MatWriter> w = MatWriter::Create(path);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_OK(w->WriteString("action", "tennis_serve"));
  ASSERT_OK(w->WriteString("pose", "front"));
  const std::vector<size_t> dims =
      spec.x_dims.empty() ? std::vector<size_t>{n, 13} : spec.x_dims;
  ASSERT_OK(w->WriteDouble("x", dims, x, spec.xy_storage));
  ASSERT_OK(w->WriteDouble("y", {n, 13}, y, spec.xy_storage));
  if (spec.visibility_as_double) {
    ASSERT_OK(w->WriteDouble("visibility", {n, 13}, vis));
  } else {
    std::vector<uint8_t> bits(vis.begin(), vis.end());
    ASSERT_OK(w->WriteLogical("visibility", {n, 13}, bits));
  }
  const int32_t train = spec.train_value != 0
                            ? static_cast<int32_t>(spec.train_value)
                            : (spec.train ? 1 : -1);
  ASSERT_OK(w->WriteInt32("train", {1, 1}, {train}));
  ASSERT_OK(w->WriteDouble("bbox", {rows, 4}, bbox));
  ASSERT_OK(w->WriteDouble("dimensions", {1, 3},
                           {270, 480, static_cast<double>(n)},
                           MatStorage::kUint16));
  ASSERT_OK(
      w->WriteDouble("nframes", {1, 1},
                     {spec.nframes < 0 ? static_cast<double>(n) : spec.nframes},
                     MatStorage::kUint8));
  ASSERT_OK(w->Close());
}

void WritePennFrames(const std::string& root, int id, int frames) {
  for (int t = 1; t <= frames; ++t) {
    Touch(absl::StrFormat("%s/frames/%04d/%06d.jpg", root, id, t));
  }
}

TEST(PennActionTest, ReadsTheLayoutWithItsStorageTricks) {
  const std::string root = TempDir("penn_layout");
  fs::create_directories(root + "/labels");
  PennFile a;  // plain
  PennFile b;
  b.frames = 4;
  b.train = false;
  b.xy_storage = MatStorage::kUint16;
  b.visibility_as_double = true;
  b.bbox_rows = 3;  // one short, like 1154 and 1865
  PennFile c;
  c.frames = 2;
  c.xy_storage = MatStorage::kUint8;
  WritePennLabels(root + "/labels/0001.mat", a);
  WritePennLabels(root + "/labels/0002.mat", b);
  WritePennLabels(root + "/labels/0010.mat", c);
  Touch(root + "/labels/README.txt");  // not a label file: ignored
  WritePennFrames(root, 1, a.frames);
  WritePennFrames(root, 2, b.frames);
  WritePennFrames(root, 10, c.frames);

  absl::StatusOr<PoseDataset> all = LoadPennAction(root);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->name, "penn_action");
  EXPECT_EQ(all->joints.num_joints(), 13);
  ASSERT_EQ(all->sequences.size(), 3u);
  EXPECT_EQ(all->TotalFrames(), 9);
  const PoseSequence& s1 = all->sequences[0];
  const PoseSequence& s2 = all->sequences[1];
  EXPECT_EQ(s1.id, "0001");
  EXPECT_EQ(s2.id, "0002");
  EXPECT_EQ(all->sequences[2].id, "0010");
  EXPECT_EQ(s1.action, "tennis_serve");
  EXPECT_TRUE(s1.train);
  EXPECT_FALSE(s2.train);
  EXPECT_EQ(s1.width, 480);
  EXPECT_EQ(s1.height, 270);
  EXPECT_EQ(s2.num_frames, 4);
  for (int t = 0; t < 4; ++t) {
    for (int j = 0; j < 13; ++j) {
      EXPECT_EQ(s2.x(t, j), 10.0f * t + j);
      EXPECT_EQ(s2.y(t, j), 100.0f + j);
      EXPECT_EQ(s2.is_visible(t, j), j != 12);
    }
  }
  // The missing last box is the previous frame's.
  EXPECT_EQ(s2.repaired_boxes, 1);
  EXPECT_EQ(s2.boxes[2].x1, 2);
  EXPECT_EQ(s2.boxes[3].x1, 2);
  EXPECT_EQ(s2.boxes[3].y2, 82);
  EXPECT_EQ(s1.repaired_boxes, 0);
  EXPECT_EQ(s1.boxes[1].y1, 2);
  EXPECT_EQ(s1.frame_pattern, root + "/frames/0001/%06d.jpg");
  EXPECT_EQ(s1.frame_start_number, 1);

  PennActionOptions train_only;
  train_only.split = Split::kTrain;
  absl::StatusOr<PoseDataset> train = LoadPennAction(root, train_only);
  ASSERT_TRUE(train.ok());
  ASSERT_EQ(train->sequences.size(), 2u);
  EXPECT_EQ(train->sequences[1].id, "0010");
  PennActionOptions test_only;
  test_only.split = Split::kTest;
  test_only.ids = {2};
  absl::StatusOr<PoseDataset> test = LoadPennAction(root, test_only);
  ASSERT_TRUE(test.ok());
  ASSERT_EQ(test->sequences.size(), 1u);
  EXPECT_EQ(test->sequences[0].id, "0002");
}

TEST(PennActionTest, BrokenFilesGiveClearErrors) {
  const std::string root = TempDir("penn_broken");
  fs::create_directories(root + "/labels");
  auto load_one = [&](const PennFile& spec) {
    WritePennLabels(root + "/labels/0001.mat", spec);
    PennActionOptions o;
    o.require_frames = false;
    return LoadPennAction(root, o).status();
  };
  PennFile wrong_shape;
  wrong_shape.x_dims = {13, 3};
  absl::Status s = load_one(wrong_shape);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "'x'") && Contains(s, "0001.mat")) << s;

  PennFile two_short;
  two_short.frames = 4;
  two_short.bbox_rows = 2;
  s = load_one(two_short);
  EXPECT_TRUE(Contains(s, "'bbox'")) << s;

  PennFile bad_count;
  bad_count.nframes = 7;
  s = load_one(bad_count);
  EXPECT_TRUE(Contains(s, "'nframes'")) << s;

  PennFile bad_train;
  bad_train.train_value = 2;
  s = load_one(bad_train);
  EXPECT_TRUE(Contains(s, "'train'")) << s;

  // A missing variable.
  {
    absl::StatusOr<MatWriter> w = MatWriter::Create(root + "/labels/0001.mat");
    ASSERT_TRUE(w.ok());
    ASSERT_OK(w->WriteDouble("x", {1, 13}, std::vector<double>(13, 1.0)));
    ASSERT_OK(w->Close());
    PennActionOptions o;
    o.require_frames = false;
    s = LoadPennAction(root, o).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_TRUE(Contains(s, "0001.mat")) << s;
  }

  // Frames required but absent.
  WritePennLabels(root + "/labels/0001.mat", PennFile{});
  s = LoadPennAction(root).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s, "frames/0001/000001.jpg")) << s;
  WritePennFrames(root, 1, 2);  // the last of 3 frames is missing
  s = LoadPennAction(root).status();
  EXPECT_TRUE(Contains(s, "000003.jpg")) << s;

  EXPECT_EQ(LoadPennAction(root + "/nowhere").status().code(),
            absl::StatusCode::kNotFound);
  const std::string empty = TempDir("penn_empty");
  fs::create_directories(empty + "/labels");
  EXPECT_EQ(LoadPennAction(empty).status().code(), absl::StatusCode::kNotFound);
}

// All 35 real label files, among them every known trap (SOURCES.md).
TEST(PennActionTest, RealLabelFiles) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  PennActionOptions o;
  o.require_frames = false;
  absl::StatusOr<PoseDataset> data =
      LoadPennAction(dir + "/penn-action-labels", o);
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->sequences.size(), 35u);
  int train = 0;
  int64_t visible = 0;
  for (const PoseSequence& seq : data->sequences) {
    train += seq.train;
    EXPECT_GE(seq.width, 480) << seq.id;
    EXPECT_GE(seq.height, 270) << seq.id;
    for (int64_t t = 0; t < seq.num_frames; ++t) {
      const Box& b = seq.boxes[t];
      EXPECT_GT(b.width(), 0) << seq.id << " frame " << t;
      EXPECT_GT(b.height(), 0) << seq.id << " frame " << t;
      for (int j = 0; j < 13; ++j) {
        if (!seq.is_visible(t, j)) continue;
        ++visible;
        // Visible joints lie in the frame (x2/y2 of a box may reach the edge).
        EXPECT_GE(seq.x(t, j), 0) << seq.id;
        EXPECT_LE(seq.x(t, j), seq.width + 1) << seq.id;
        EXPECT_LE(seq.y(t, j), seq.height + 1) << seq.id;
      }
    }
    EXPECT_EQ(seq.repaired_boxes, seq.id == "1154" ? 1 : 0) << seq.id;
  }
  // Counted independently with a plain MAT parser (streaming zlib).
  EXPECT_EQ(train, 17);
  EXPECT_EQ(data->TotalFrames(), 2903);
  EXPECT_EQ(visible, 27169);

  auto find = [&](const std::string& id) -> const PoseSequence& {
    return *std::find_if(data->sequences.begin(), data->sequences.end(),
                         [&](const PoseSequence& s) { return s.id == id; });
  };
  // 1605: zlib streams without a proper end, read whole. The sums are those
  // of the same parser.
  const PoseSequence& s1605 = find("1605");
  double sum_x = 0, sum_y = 0;
  for (int64_t t = 0; t < s1605.num_frames; ++t) {
    for (int j = 0; j < 13; ++j) {
      sum_x += s1605.x(t, j);
      sum_y += s1605.y(t, j);
    }
  }
  EXPECT_EQ(s1605.num_frames, 157);
  EXPECT_DOUBLE_EQ(sum_x, 377637.0);
  EXPECT_DOUBLE_EQ(sum_y, 345216.0);
  // 1154: 71 boxes for 72 frames; the last is a copy of frame 70's.
  const PoseSequence& s1154 = find("1154");
  EXPECT_EQ(s1154.num_frames, 72);
  EXPECT_FLOAT_EQ(s1154.boxes[71].x1, 152.083333f);
  EXPECT_FLOAT_EQ(s1154.boxes[71].y2, 284.395833f);
  EXPECT_EQ(s1154.width, 481);
  EXPECT_EQ(s1154.height, 365);
  // 1037: x and y stored as uint16.
  const PoseSequence& s1037 = find("1037");
  EXPECT_EQ(s1037.x(0, 0), 231);
  EXPECT_EQ(s1037.x(0, 1), 202);
  EXPECT_EQ(s1037.x(0, 2), 257);
  // 0743: visibility stored as double; 0115: x as uint8; 0013: as uint16.
  EXPECT_EQ(find("0743").num_frames, 259);
  EXPECT_EQ(find("0115").num_frames, 114);
  EXPECT_FALSE(find("0013").train);
  EXPECT_EQ(find("0001").action, "baseball_pitch");
}

// --- Sub-JHMDB ------------------------------------------------------------

// A 20 x 16 clip of `frames` frames: joint j of frame t at 1-based
// (j + 1 + t, 2 j + 1); the mask covers rows 3..9 and columns 4..11 (0-based)
// except frame `empty_frame`, which has none.
void WriteJhmdbClip(const std::string& root, const std::string& clip,
                    int frames, int empty_frame = -1, int mask_frames = -1) {
  const size_t n = frames;
  std::vector<double> pos(2 * 15 * n);
  for (size_t t = 0; t < n; ++t) {
    for (size_t j = 0; j < 15; ++j) {
      pos[0 + 2 * (j + 15 * t)] = j + 1.0 + t;
      pos[1 + 2 * (j + 15 * t)] = 2.0 * j + 1;
    }
  }
  const std::string jp = absl::StrCat(root, "/joint_positions/", clip);
  fs::create_directories(jp);
  {
    absl::StatusOr<MatWriter> w =
        MatWriter::Create(jp + "/joint_positions.mat");
    ASSERT_TRUE(w.ok());
    ASSERT_OK(w->WriteDouble("pos_img", {2, 15, n}, pos));
    ASSERT_OK(w->WriteDouble("pos_world", {2, 15, n}, pos));
    ASSERT_OK(w->Close());
  }
  const size_t h = 16, w = 20;
  const size_t mn = mask_frames < 0 ? n : mask_frames;
  std::vector<uint8_t> mask(h * w * mn, 0);
  for (size_t t = 0; t < mn; ++t) {
    if (static_cast<int>(t) == empty_frame) continue;
    for (size_t x = 4; x <= 11; ++x) {
      for (size_t y = 3; y <= 9; ++y) mask[y + h * (x + w * t)] = 1;
    }
  }
  const std::string pm = absl::StrCat(root, "/puppet_mask/", clip);
  fs::create_directories(pm);
  absl::StatusOr<MatWriter> mw = MatWriter::Create(pm + "/puppet_mask.mat");
  ASSERT_TRUE(mw.ok());
  ASSERT_OK(mw->WriteUint8("part_mask", {h, w, mn}, mask));
  ASSERT_OK(mw->Close());
}

void WriteSplits(const std::string& root, const std::string& action,
                 const std::vector<std::string>& videos) {
  fs::create_directories(root + "/sub_splits");
  for (int k = 1; k <= 3; ++k) {
    std::ofstream out(
        absl::StrCat(root, "/sub_splits/", action, "_test_split_", k, ".txt"));
    for (size_t i = 0; i < videos.size(); ++i) {
      // Split k puts video i in the test set when (i + k) is even.
      out << videos[i] << ".avi " << ((i + k) % 2 == 0 ? 2 : 1) << " \r\n";
    }
    out << "\n";
  }
}

TEST(SubJhmdbTest, ReadsTheLayout) {
  const std::string root = TempDir("jhmdb_layout");
  WriteJhmdbClip(root, "catch/clip_a", 3);
  WriteJhmdbClip(root, "catch/clip_b", 2, /*empty_frame=*/0);
  WriteJhmdbClip(root, "swing_baseball/clip_c", 4);
  WriteSplits(root, "catch", {"clip_a", "clip_b"});
  WriteSplits(root, "swing_baseball", {"clip_c"});
  Touch(root + "/Rename_Images/catch/clip_a/00001.png");
  Touch(root + "/ReCompress_Videos/catch/clip_a.avi");
  Touch(root + "/ReCompress_Videos/catch/clip_b.avi");
  Touch(root + "/Rename_Images/swing_baseball/clip_c/00001.png");

  absl::StatusOr<PoseDataset> data = LoadSubJhmdb(root);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->name, "sub_jhmdb");
  EXPECT_EQ(data->joints.num_joints(), 15);
  ASSERT_EQ(data->sequences.size(), 3u);
  const PoseSequence& a = data->sequences[0];
  const PoseSequence& b = data->sequences[1];
  const PoseSequence& c = data->sequences[2];
  EXPECT_EQ(a.id, "catch/clip_a");
  EXPECT_EQ(a.action, "catch");
  EXPECT_EQ(c.action, "swing_baseball");
  // Split 1: video i is a test clip when i + 1 is even.
  EXPECT_TRUE(a.train);
  EXPECT_FALSE(b.train);
  EXPECT_TRUE(c.train);
  EXPECT_EQ(a.width, 20);
  EXPECT_EQ(a.height, 16);
  for (int t = 0; t < 3; ++t) {
    for (int j = 0; j < 15; ++j) {
      EXPECT_EQ(a.x(t, j), j + t);  // 1-based -> 0-based
      EXPECT_EQ(a.y(t, j), 2 * j);
      EXPECT_TRUE(a.is_visible(t, j));
    }
    EXPECT_EQ(a.boxes[t].x1, 4);
    EXPECT_EQ(a.boxes[t].y1, 3);
    EXPECT_EQ(a.boxes[t].x2, 12);
    EXPECT_EQ(a.boxes[t].y2, 10);
  }
  // Frame 0 of clip_b has an empty mask: it takes frame 1's box.
  EXPECT_EQ(b.repaired_boxes, 1);
  EXPECT_EQ(b.boxes[0].x2, 12);
  // Frames: images where present, else the video.
  EXPECT_EQ(a.frame_pattern, root + "/Rename_Images/catch/clip_a/%05d.png");
  EXPECT_TRUE(a.source_video.empty());
  EXPECT_EQ(b.source_video, root + "/ReCompress_Videos/catch/clip_b.avi");
  EXPECT_TRUE(b.frame_pattern.empty());

  SubJhmdbOptions videos;
  videos.frames = JhmdbFrameSource::kVideos;
  videos.require_frames = false;
  absl::StatusOr<PoseDataset> v = LoadSubJhmdb(root, videos);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->sequences[0].source_video,
            root + "/ReCompress_Videos/catch/clip_a.avi");
  EXPECT_TRUE(v->sequences[2].source_video.empty());

  SubJhmdbOptions split2;
  split2.split = 2;
  split2.subset = Split::kTest;
  absl::StatusOr<PoseDataset> test2 = LoadSubJhmdb(root, split2);
  ASSERT_TRUE(test2.ok());
  // Split 2: video i is a test clip when i is even: clip_a and clip_c.
  ASSERT_EQ(test2->sequences.size(), 2u);
  EXPECT_EQ(test2->sequences[0].id, "catch/clip_a");
  EXPECT_EQ(test2->sequences[1].id, "swing_baseball/clip_c");
  SubJhmdbOptions split3;
  split3.split = 3;
  split3.subset = Split::kTrain;
  absl::StatusOr<PoseDataset> train3 = LoadSubJhmdb(root, split3);
  ASSERT_TRUE(train3.ok());
  // Split 3 is split 1 again: clip_a and clip_c train.
  ASSERT_EQ(train3->sequences.size(), 2u);
  EXPECT_EQ(train3->sequences[0].id, "catch/clip_a");
  EXPECT_EQ(train3->sequences[1].id, "swing_baseball/clip_c");
}

TEST(SubJhmdbTest, BrokenFilesGiveClearErrors) {
  const std::string root = TempDir("jhmdb_broken");
  SubJhmdbOptions o;
  o.require_frames = false;
  EXPECT_EQ(LoadSubJhmdb(root, o).status().code(), absl::StatusCode::kNotFound);
  o.split = 4;
  EXPECT_EQ(LoadSubJhmdb(root, o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.split = 1;

  WriteJhmdbClip(root, "pick/p1", 3, -1, /*mask_frames=*/2);
  WriteSplits(root, "pick", {"p1"});
  absl::Status s = LoadSubJhmdb(root, o).status();
  EXPECT_TRUE(Contains(s, "puppet_mask.mat") && Contains(s, "2 frames")) << s;

  WriteJhmdbClip(root, "pick/p1", 3);
  EXPECT_TRUE(LoadSubJhmdb(root, o).ok());
  // Frames required: neither images nor video.
  SubJhmdbOptions strict;
  s = LoadSubJhmdb(root, strict).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s, "pick/p1")) << s;

  // A clip listed in a split without labels.
  WriteSplits(root, "pick", {"p1", "p2"});
  s = LoadSubJhmdb(root, o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s, "pick/p2/joint_positions.mat")) << s;

  // A malformed split line.
  {
    std::ofstream out(root + "/sub_splits/pick_test_split_1.txt");
    out << "p1.avi 1\np2.avi three\n";
  }
  s = LoadSubJhmdb(root, o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "line 2")) << s;

  // pos_img of the wrong shape.
  const std::string bad = TempDir("jhmdb_bad_pos") + "/joint_positions.mat";
  {
    absl::StatusOr<MatWriter> w = MatWriter::Create(bad);
    ASSERT_TRUE(w.ok());
    ASSERT_OK(
        w->WriteDouble("pos_img", {2, 13, 1}, std::vector<double>(26, 1)));
    ASSERT_OK(w->Close());
  }
  s = ReadJhmdbLabels(bad, "", "x/y").status();
  EXPECT_TRUE(Contains(s, "'pos_img'") && Contains(s, "2x13x1")) << s;
}

// The official label file of one real JHMDB clip (SOURCES.md, section 2):
// pos_img only, no scale or viewpoint, 1-based pixels.
TEST(SubJhmdbTest, RealJointPositions) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const std::string path =
      dir +
      "/jhmdb-readannotation/ReadJHMDBAnnotations/data/joint_positions.mat";
  absl::StatusOr<PoseSequence> seq = ReadJhmdbLabels(
      path, "", "catch/Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2");
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(seq->num_frames, 40);
  EXPECT_EQ(seq->num_joints, 15);
  EXPECT_EQ(seq->action, "catch");
  EXPECT_EQ(seq->width, 320);
  EXPECT_EQ(seq->height, 240);
  float x_min = 1e9, x_max = -1e9, y_min = 1e9, y_max = -1e9;
  double sum = 0;
  for (int64_t t = 0; t < 40; ++t) {
    for (int j = 0; j < 15; ++j) {
      x_min = std::min(x_min, seq->x(t, j));
      x_max = std::max(x_max, seq->x(t, j));
      y_min = std::min(y_min, seq->y(t, j));
      y_max = std::max(y_max, seq->y(t, j));
      sum += seq->x(t, j) + seq->y(t, j);
    }
  }
  // The stored values (1-based) span x 105.15..311.31 and y 48.58..225.57
  // and sum to 192261.9356 (counted with a plain MAT parser).
  EXPECT_NEAR(x_min, 104.1518, 1e-3);
  EXPECT_NEAR(x_max, 310.3143, 1e-3);
  EXPECT_NEAR(y_min, 47.5833, 1e-3);
  EXPECT_NEAR(y_max, 224.5724, 1e-3);
  EXPECT_NEAR(sum, 192261.9356 - 2 * 15 * 40, 1e-2);
  // Frame 0, joint 0 (the neck) is at 1-based (286.5, 106.5).
  EXPECT_FLOAT_EQ(seq->x(0, 0), 285.5f);
  EXPECT_FLOAT_EQ(seq->y(0, 0), 105.5f);
  // Without a puppet mask the box spans the joints of its frame.
  float fx_min = 1e9, fx_max = -1e9;
  for (int j = 0; j < 15; ++j) {
    fx_min = std::min(fx_min, seq->x(0, j));
    fx_max = std::max(fx_max, seq->x(0, j));
  }
  EXPECT_FLOAT_EQ(seq->boxes[0].x1, fx_min);
  EXPECT_FLOAT_EQ(seq->boxes[0].x2, fx_max + 1);
}

// --- Boxes ------------------------------------------------------------------

TEST(GopBoxesTest, MeanOfThisAndNextIFrame) {
  // 30 frames; box t = (t, 2 t, 10 + t, 20 + 2 t). GOPs start at 0, 12 and
  // 20 (an extra I-frame at a scene cut).
  std::vector<Box> boxes;
  for (int t = 0; t < 30; ++t) {
    boxes.push_back(
        Box{float(t), float(2 * t), float(10 + t), float(20 + 2 * t)});
  }
  const std::vector<int64_t> starts = {0, 12, 20};
  CropBoxOptions bare;
  bare.aspect = 0;
  bare.scale = 1;
  absl::StatusOr<std::vector<Box>> gop = GopBoxes(boxes, starts, bare);
  ASSERT_TRUE(gop.ok()) << gop.status();
  ASSERT_EQ(gop->size(), 3u);
  // GOP 0: mean of frames 0 and 12.
  EXPECT_FLOAT_EQ((*gop)[0].x1, 6);
  EXPECT_FLOAT_EQ((*gop)[0].y1, 12);
  EXPECT_FLOAT_EQ((*gop)[0].x2, 16);
  EXPECT_FLOAT_EQ((*gop)[0].y2, 32);
  // GOP 1: frames 12 and 20.
  EXPECT_FLOAT_EQ((*gop)[1].x1, 16);
  // The last GOP: its I-frame (20) and the last frame (29).
  EXPECT_FLOAT_EQ((*gop)[2].x1, 24.5f);
  EXPECT_FLOAT_EQ((*gop)[2].y2, 69);

  // Default: square around the centre, 1.25 times the longer side.
  absl::StatusOr<std::vector<Box>> square = GopBoxes(boxes, starts);
  ASSERT_TRUE(square.ok());
  const Box& s0 =
      (*square)[0];  // from (6, 12, 16, 32): centre (11, 22), 10 x 20
  EXPECT_FLOAT_EQ(s0.width(), 25);
  EXPECT_FLOAT_EQ(s0.height(), 25);
  EXPECT_FLOAT_EQ(0.5f * (s0.x1 + s0.x2), 11);
  EXPECT_FLOAT_EQ(0.5f * (s0.y1 + s0.y2), 22);

  absl::StatusOr<std::vector<Box>> per_frame =
      FrameCropBoxes(boxes, starts, bare);
  ASSERT_TRUE(per_frame.ok());
  ASSERT_EQ(per_frame->size(), 30u);
  EXPECT_FLOAT_EQ((*per_frame)[11].x1, 6);
  EXPECT_FLOAT_EQ((*per_frame)[12].x1, 16);
  EXPECT_FLOAT_EQ((*per_frame)[19].x1, 16);
  EXPECT_FLOAT_EQ((*per_frame)[29].x1, 24.5f);

  EXPECT_FALSE(GopBoxes(boxes, std::vector<int64_t>{}).ok());
  EXPECT_FALSE(GopBoxes(boxes, std::vector<int64_t>{1, 12}).ok());
  EXPECT_FALSE(GopBoxes(boxes, std::vector<int64_t>{0, 12, 12}).ok());
  EXPECT_FALSE(GopBoxes(boxes, std::vector<int64_t>{0, 30}).ok());
  CropBoxOptions zero;
  zero.scale = 0;
  EXPECT_FALSE(GopBoxes(boxes, starts, zero).ok());
  // One GOP of one frame: the box itself.
  absl::StatusOr<std::vector<Box>> one =
      GopBoxes(std::vector<Box>{boxes[3]}, std::vector<int64_t>{0}, bare);
  ASSERT_TRUE(one.ok());
  EXPECT_FLOAT_EQ((*one)[0].x1, 3);
}

TEST(GopBoxesTest, StartsComeFromFrameTypes) {
  std::vector<FrameMeta> frames(5);
  for (int i = 0; i < 5; ++i) {
    frames[i].index = i;
    frames[i].type = (i == 0 || i == 3) ? FrameType::kI : FrameType::kP;
    frames[i].starts_gop = i == 0 || i == 3;
  }
  frames.push_back(FrameMeta{});  // padding: index -1
  frames.back().starts_gop = true;
  EXPECT_EQ(GopStarts(frames), (std::vector<int64_t>{0, 3}));
}

TEST(RepairBoxesTest, CopiesTheNearestValidBox) {
  std::vector<Box> boxes = {Box{0, 0, 0, 0}, Box{1, 1, 5, 5}, Box{2, 2, 1, 9},
                            Box{3, 3, 8, 8}, Box{4, 4, 9, 9}};
  absl::StatusOr<int> n = RepairBoxes(boxes, {true, true, true, true, false});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(boxes[0].x1, 1);  // leading run: the first valid box
  EXPECT_EQ(boxes[2].x1, 1);  // degenerate: the previous box
  EXPECT_EQ(boxes[4].x1, 3);  // marked missing
  std::vector<Box> none = {Box{}, Box{}};
  EXPECT_FALSE(RepairBoxes(none, {}).ok());
}

// --- The video cache ------------------------------------------------------

// `frames` JPEG frames of a moving gradient at `root`/frames/NNNN/.
void WriteJpegFrames(const std::string& root, int id, int frames) {
  const int w = 64, h = 48;
  absl::StatusOr<ImageEncoder> jpeg =
      ImageEncoder::Create(ImageCodec::kJpeg, w, h);
  ASSERT_TRUE(jpeg.ok()) << jpeg.status();
  std::vector<uint8_t> rgb(w * h * 3);
  const std::string dir = absl::StrFormat("%s/frames/%04d", root, id);
  fs::create_directories(dir);
  for (int t = 0; t < frames; ++t) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        uint8_t* p = &rgb[(y * w + x) * 3];
        p[0] = static_cast<uint8_t>(4 * (x + t));
        p[1] = static_cast<uint8_t>(5 * y);
        p[2] = static_cast<uint8_t>(((x + 2 * t) / 8 + y / 8) % 2 * 200);
      }
    }
    ASSERT_OK(
        jpeg->Write(absl::StrFormat("%s/%06d.jpg", dir, t + 1), rgb.data()));
  }
}

// Packet key flags of a video.
std::vector<bool> KeyFrames(const std::string& path);

TEST(VideoCacheTest, ConvertsOnceAndReuses) {
  const std::string root = TempDir("cache_penn");
  const std::string cache = TempDir("cache_dir");
  fs::create_directories(root + "/labels");
  PennFile spec;
  spec.frames = 14;
  WritePennLabels(root + "/labels/0001.mat", spec);
  WriteJpegFrames(root, 1, 14);
  absl::StatusOr<PoseDataset> data = LoadPennAction(root);
  ASSERT_TRUE(data.ok()) << data.status();
  PoseSequence& seq = data->sequences[0];
  EXPECT_TRUE(seq.cached_video.empty());

  VideoCacheOptions read_only{.cache_dir = cache, .read_only = true};
  EXPECT_EQ(EnsureCachedVideo(*data, seq, read_only).code(),
            absl::StatusCode::kNotFound);
  ASSERT_OK(CacheVideos(*data, {.cache_dir = cache}));
  const std::string path = CachedVideoPath(cache, *data, seq);
  EXPECT_EQ(seq.cached_video, path);
  EXPECT_EQ(path.rfind(cache + "/penn_action-", 0), 0u) << path;
  EXPECT_EQ(path.substr(path.size() - 9), "/0001.mp4");
  absl::StatusOr<int64_t> frames = CountVideoFrames(path);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ(*frames, 14);
  const std::vector<bool> keys = KeyFrames(path);
  ASSERT_EQ(keys.size(), 14u);
  for (size_t t = 0; t < keys.size(); ++t) EXPECT_EQ(keys[t], t % 12 == 0) << t;

  // Up to date: reused as it is, also read-only.
  const auto written = fs::last_write_time(path);
  seq.cached_video.clear();
  ASSERT_OK(EnsureCachedVideo(*data, seq, read_only));
  EXPECT_EQ(seq.cached_video, path);
  EXPECT_EQ(fs::last_write_time(path), written);
  // A frame newer than the video: converted again.
  fs::last_write_time(root + "/frames/0001/000003.jpg",
                      written + std::chrono::seconds(5));
  seq.cached_video.clear();
  EXPECT_EQ(EnsureCachedVideo(*data, seq, read_only).code(),
            absl::StatusCode::kNotFound);
  ASSERT_OK(EnsureCachedVideo(*data, seq, {.cache_dir = cache}));
  EXPECT_GT(fs::last_write_time(path), written);

  // Another copy of the dataset gets its own entries.
  PoseDataset copy = *data;
  copy.root = root + "/../cache_penn_copy";
  EXPECT_NE(CachedVideoPath(cache, copy, seq), path);
  // Without a cache directory only an existing conversion will do.
  ASSERT_OK(EnsureCachedVideo(*data, seq, {}));
  seq.cached_video.clear();
  EXPECT_EQ(EnsureCachedVideo(*data, seq, {}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VideoCacheTest, FrameCountMustMatchTheLabels) {
  const std::string root = TempDir("cache_short");
  const std::string cache = TempDir("cache_short_dir");
  fs::create_directories(root + "/labels");
  PennFile spec;
  spec.frames = 6;
  WritePennLabels(root + "/labels/0001.mat", spec);
  WriteJpegFrames(root, 1, 6);
  // A seventh frame the labels do not cover (frames 1 and 6 exist, so the
  // loader is satisfied).
  fs::copy_file(root + "/frames/0001/000006.jpg",
                root + "/frames/0001/000007.jpg");
  absl::StatusOr<PoseDataset> data = LoadPennAction(root);
  ASSERT_TRUE(data.ok());
  absl::Status s = CacheVideos(*data, {.cache_dir = cache});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s, "'0001'") && Contains(s, "7 frames")) << s;
  EXPECT_FALSE(fs::exists(CachedVideoPath(cache, *data, data->sequences[0])));
}

TEST(VideoCacheTest, PrebuiltConversionsAreKept) {
  const std::string root = TempDir("cache_prebuilt");
  const std::string cache = TempDir("cache_prebuilt_dir");
  fs::create_directories(root + "/labels");
  PennFile spec;
  spec.frames = 5;
  WritePennLabels(root + "/labels/0001.mat", spec);
  WritePennLabels(root + "/labels/0002.mat", spec);
  WriteJpegFrames(root, 1, 5);
  WriteJpegFrames(root, 2, 5);
  // 0001 comes with a conversion of its own; 0002's has too few frames.
  fs::create_directories(root + "/mpeg4_gop12");
  ASSERT_OK(Transcode(root + "/frames/0001/%06d.jpg",
                      root + "/mpeg4_gop12/0001.mp4"));
  fs::remove(root + "/frames/0002/000005.jpg");
  ASSERT_OK(Transcode(root + "/frames/0002/%06d.jpg",
                      root + "/mpeg4_gop12/0002.mp4"));
  WriteJpegFrames(root, 2, 5);
  PennActionOptions o;
  absl::StatusOr<PoseDataset> data = LoadPennAction(root, o);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->sequences[0].cached_video, root + "/mpeg4_gop12/0001.mp4");
  ASSERT_OK(CacheVideos(*data, {.cache_dir = cache}));
  EXPECT_EQ(data->sequences[0].cached_video, root + "/mpeg4_gop12/0001.mp4");
  EXPECT_EQ(data->sequences[1].cached_video,
            CachedVideoPath(cache, *data, data->sequences[1]));
  o.use_prebuilt_videos = false;
  absl::StatusOr<PoseDataset> plain = LoadPennAction(root, o);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->sequences[0].cached_video.empty());
}

TEST(VideoCacheTest, JhmdbImagesAndVideos) {
  const std::string root = TempDir("cache_jhmdb");
  const std::string cache = TempDir("cache_jhmdb_dir");
  WriteJhmdbClip(root, "run/r1", 13);
  WriteJhmdbClip(root, "run/r2", 13);
  WriteSplits(root, "run", {"r1", "r2"});
  // r1 as PNG frames, r2 as a video.
  WriteJpegFrames(root + "/tmp", 1, 13);
  absl::StatusOr<ImageEncoder> png =
      ImageEncoder::Create(ImageCodec::kPng, 64, 48);
  ASSERT_TRUE(png.ok());
  fs::create_directories(root + "/Rename_Images/run/r1");
  for (int t = 1; t <= 13; ++t) {
    absl::StatusOr<RgbImage> img =
        ReadImageFile(absl::StrFormat("%s/tmp/frames/0001/%06d.jpg", root, t));
    ASSERT_TRUE(img.ok());
    ASSERT_OK(
        png->Write(absl::StrFormat("%s/Rename_Images/run/r1/%05d.png", root, t),
                   img->rgb.data()));
  }
  fs::create_directories(root + "/ReCompress_Videos/run");
  ASSERT_OK(Transcode(root + "/tmp/frames/0001/%06d.jpg",
                      root + "/ReCompress_Videos/run/r2.avi"));
  absl::StatusOr<PoseDataset> data = LoadSubJhmdb(root);
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_OK(CacheVideos(*data, {.cache_dir = cache}));
  for (const PoseSequence& seq : data->sequences) {
    absl::StatusOr<int64_t> n = CountVideoFrames(seq.cached_video);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, 13) << seq.id;
    EXPECT_NE(seq.cached_video.find("/sub_jhmdb-"), std::string::npos);
    EXPECT_NE(seq.cached_video.find(seq.id + ".mp4"), std::string::npos);
  }
}

// The real JHMDB clip (SOURCES.md, section 2) in a Sub-JHMDB root made of
// links: its AVI has 40 coded frames in 48 time slots, its PNG folder 40
// frames; both must convert to exactly the 40 labelled frames. The puppet
// mask is not published with it, so the test writes a plain one.
TEST(VideoCacheTest, RealJhmdbClip) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const std::string data_dir =
      dir + "/jhmdb-readannotation/ReadJHMDBAnnotations/data";
  const std::string video = "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2";
  const std::string cache = TempDir("cache_real_dir");
  for (JhmdbFrameSource source :
       {JhmdbFrameSource::kImages, JhmdbFrameSource::kVideos}) {
    const std::string root = TempDir("cache_real_jhmdb");
    fs::create_directories(root + "/joint_positions/catch/" + video);
    fs::create_symlink(
        data_dir + "/joint_positions.mat",
        root + "/joint_positions/catch/" + video + "/joint_positions.mat");
    fs::create_directories(root + "/Rename_Images/catch");
    fs::create_directory_symlink(data_dir + "/" + video,
                                 root + "/Rename_Images/catch/" + video);
    fs::create_directories(root + "/ReCompress_Videos/catch");
    fs::create_symlink(data_dir + "/" + video + ".avi",
                       root + "/ReCompress_Videos/catch/" + video + ".avi");
    fs::create_directories(root + "/puppet_mask/catch/" + video);
    {
      std::vector<uint8_t> mask(240 * 320 * 40, 0);
      for (size_t t = 0; t < 40; ++t) {
        for (size_t x = 100; x < 312; ++x) {
          for (size_t y = 45; y < 230; ++y) mask[y + 240 * (x + 320 * t)] = 1;
        }
      }
      absl::StatusOr<MatWriter> w = MatWriter::Create(
          root + "/puppet_mask/catch/" + video + "/puppet_mask.mat");
      ASSERT_TRUE(w.ok());
      ASSERT_OK(w->WriteUint8("part_mask", {240, 320, 40}, mask));
      ASSERT_OK(w->Close());
    }
    fs::create_directories(root + "/sub_splits");
    std::ofstream(root + "/sub_splits/catch_test_split_1.txt")
        << video << ".avi 2\n";
    SubJhmdbOptions o;
    o.frames = source;
    absl::StatusOr<PoseDataset> data = LoadSubJhmdb(root, o);
    ASSERT_TRUE(data.ok()) << data.status();
    ASSERT_EQ(data->sequences.size(), 1u);
    PoseSequence& seq = data->sequences[0];
    EXPECT_FALSE(seq.train);
    EXPECT_EQ(seq.width, 320);
    EXPECT_EQ(seq.boxes[0].x1, 100);
    EXPECT_EQ(seq.boxes[0].y2, 230);
    ASSERT_OK(EnsureCachedVideo(*data, seq, {.cache_dir = cache}));
    absl::StatusOr<int64_t> n = CountVideoFrames(seq.cached_video);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 40);
    fs::remove(seq.cached_video);
  }
}

std::vector<bool> KeyFrames(const std::string& path) {
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0) return {};
  UniqueInputFormatContext format(raw);
  UniqueAVPacket packet(av_packet_alloc());
  std::vector<bool> keys;
  while (av_read_frame(format.get(), packet.get()) >= 0) {
    keys.push_back(packet->flags & AV_PKT_FLAG_KEY);
    av_packet_unref(packet.get());
  }
  return keys;
}

}  // namespace
}  // namespace mapn
