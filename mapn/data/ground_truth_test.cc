// The labels --ground_truth reads: the real JHMDB .mat, Penn Action .mat
// and PoseTrack18 JSON files in ../shared (skipped with a message when
// absent), and small files written here for the keypoint JSON's rules and
// every refusal.
#include "mapn/data/ground_truth.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/data/keypoint_json.h"
#include "mapn/data/mat_io.h"
#include "mapn/testing/shared_data.h"

namespace mapn {
namespace {

std::string Temp(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return absl::StrCat(base ? base : "/tmp", "/ground_truth_", name);
}

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = Temp(name);
  EXPECT_TRUE(WriteFileAtomically(path, text).ok());
  return path;
}

// COCO's keypoint names, as COCO's own files list them.
const char* kCocoCategory =
    R"({"id": 1, "name": "person", "keypoints": ["nose", "left_eye",
    "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]})";

// 17 keypoints: joint j at (x0 + j, y0), v = 2, except `hidden` (v = 0).
std::string Keypoints(int x0, int y0, int hidden = -1) {
  std::string out = "[";
  for (int j = 0; j < 17; ++j) {
    absl::StrAppend(&out, j ? ", " : "", j == hidden ? 0 : x0 + j, ", ",
                    j == hidden ? 0 : y0, ", ", j == hidden ? 0 : 2);
  }
  return out + "]";
}

TEST(GroundTruthTest, RealJhmdbJointPositions) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const std::string path = dir +
                           "/jhmdb-readannotation/ReadJHMDBAnnotations/data/"
                           "joint_positions.mat";
  const absl::StatusOr<GroundTruth> truth = ReadGroundTruth(path);
  ASSERT_TRUE(truth.ok()) << truth.status();
  EXPECT_EQ(truth->format, "JHMDB joint_positions.mat");
  EXPECT_EQ(truth->joints.name, "jhmdb");
  EXPECT_EQ(truth->labels.dataset, "sub_jhmdb");  // all 15 joints count
  EXPECT_EQ(truth->labels.num_frames, 40);
  EXPECT_EQ(truth->labelled_frames(), 40);
  // 1-based (286.5, 106.5) in the file: the neck of the first frame.
  EXPECT_FLOAT_EQ(truth->labels.x(0, 0), 285.5f);
  EXPECT_FLOAT_EQ(truth->labels.y(0, 0), 105.5f);
  EXPECT_TRUE(truth->person.empty());
  // --person means nothing for a one-person format.
  const absl::Status person = ReadGroundTruth(path, {.person = 0}).status();
  EXPECT_TRUE(Contains(person, "--person") && Contains(person, "JHMDB"))
      << person;
}

TEST(GroundTruthTest, RealPennActionLabels) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const absl::StatusOr<GroundTruth> truth =
      ReadGroundTruth(dir + "/penn-action-labels/labels/0001.mat");
  ASSERT_TRUE(truth.ok()) << truth.status();
  EXPECT_EQ(truth->format, "Penn Action .mat");
  EXPECT_EQ(truth->joints.name, "penn_action");
  EXPECT_EQ(truth->labels.num_frames, 151);
  EXPECT_EQ(truth->labelled_frames(), 151);
}

TEST(GroundTruthTest, RealPoseTrackFileWithSeveralPeople) {
  MAPN_REQUIRE_SHARED_DATA(dir);
  const std::string ann = dir + "/mmpose/tests/data/posetrack18/annotations/";
  const std::string two = ann + "val/009473_mpii_test.json";
  absl::StatusOr<KeypointLabels> file = ReadKeypointJson(two);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->joints.name, "posetrack");
  ASSERT_EQ(file->images.size(), 1u);
  EXPECT_EQ(file->images[0].frame_id, 10094730000);
  EXPECT_EQ(file->images[0].width, 1920);
  ASSERT_EQ(file->people.size(), 2u);
  EXPECT_TRUE(file->has_track_ids);

  // Two people in the frame: the reader will not guess which one.
  const absl::Status which = ReadGroundTruth(two).status();
  EXPECT_TRUE(absl::IsInvalidArgument(which));
  EXPECT_TRUE(Contains(which, "2 people") && Contains(which, "track_id 0, 1") &&
              Contains(which, "--person"))
      << which;
  const absl::StatusOr<GroundTruth> one = ReadGroundTruth(two, {.person = 1});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->format, "PoseTrack keypoint JSON");
  EXPECT_EQ(one->person, "track_id 1");
  EXPECT_EQ(one->labels.num_frames, 1);
  EXPECT_EQ(one->labels.width, 1920);
  // Track 1: bbox [656.45, 127.83, 412.1, 791.49] (rounded) and its first
  // keypoint, the nose, labelled.
  EXPECT_NEAR(one->labels.boxes[0].x1, 656.45, 1e-3);
  EXPECT_NEAR(one->labels.boxes[0].width(), 412.1, 1e-3);
  EXPECT_NEAR(one->labels.boxes[0].y2, 127.83 + 791.49, 0.01);
  EXPECT_TRUE(one->labels.is_visible(0, 0));
  EXPECT_FALSE(one->labels.is_visible(0, 3));  // ears: never labelled
  const absl::Status absent = ReadGroundTruth(two, {.person = 7}).status();
  EXPECT_TRUE(absl::IsNotFound(absent) && Contains(absent, "track_id 7"))
      << absent;

  // All three labelled frames in one file, in frame_id order: track 0 is in
  // each of them.
  file = ReadKeypointJson(ann + "test_posetrack18_val.json");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->images.size(), 3u);
  EXPECT_LT(file->images[0].frame_id, file->images[1].frame_id);
  EXPECT_LT(file->images[1].frame_id, file->images[2].frame_id);
  EXPECT_EQ(file->people.size(), 14u);
  const absl::StatusOr<PersonLabels> track0 = SelectPerson(*file, 0);
  ASSERT_TRUE(track0.ok()) << track0.status();
  EXPECT_EQ(track0->labelled, (std::vector<uint8_t>{1, 1, 1}));
  const absl::StatusOr<PersonLabels> track3 = SelectPerson(*file, 3);
  ASSERT_TRUE(track3.ok()) << track3.status();
  // Only the 11-person frame (012834, the last by frame_id) has track 3;
  // the other frames borrow its box and count nothing.
  EXPECT_EQ(track3->labelled, (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(track3->sequence.repaired_boxes, 2);
  EXPECT_FALSE(track3->sequence.is_visible(0, 5));
}

TEST(GroundTruthTest, CocoFileInFileOrderByAnnotationIndex) {
  // Two images (no frame_id: file order), no track ids; image 20 has two
  // people, image 10 one; a crowd annotation and another category are
  // skipped.
  const std::string path =
      Write("coco.json",
            absl::StrCat(
                R"({"images": [{"id": 20, "file_name": "a.jpg", "width": 640,
              "height": 480}, {"id": 10, "file_name": "b.jpg"}],
              "categories": [)",
                kCocoCategory, R"(],
              "annotations": [
                {"image_id": 10, "category_id": 1, "bbox": [5, 6, 70, 80],
                 "keypoints": )",
                Keypoints(100, 50), R"(},
                {"image_id": 20, "category_id": 1, "bbox": [1, 2, 30, 40],
                 "keypoints": )",
                Keypoints(10, 20, 4), R"(},
                {"image_id": 20, "category_id": 1, "iscrowd": 1,
                 "bbox": [0, 0, 9, 9], "keypoints": )",
                Keypoints(0, 0), R"(},
                {"image_id": 20, "category_id": 2, "bbox": [0, 0, 9, 9]},
                {"image_id": 20, "category_id": 1, "bbox": [300, 200, 50, 60],
                 "keypoints": )",
                Keypoints(300, 210), R"(}]})"));
  const absl::StatusOr<KeypointLabels> file = ReadKeypointJson(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->joints.name, "coco");
  EXPECT_FALSE(file->has_track_ids);
  ASSERT_EQ(file->images.size(), 2u);
  EXPECT_EQ(file->images[0].id, 20);  // file order
  EXPECT_EQ(file->people_of_frame[0].size(), 2u);
  EXPECT_EQ(file->people_of_frame[1].size(), 1u);

  const absl::Status several = ReadGroundTruth(path).status();
  EXPECT_TRUE(Contains(several, "annotations 0, 1") &&
              Contains(several, "frame 0 (a.jpg)"))
      << several;
  const absl::StatusOr<GroundTruth> second =
      ReadGroundTruth(path, {.person = 1});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->format, "COCO keypoint JSON");
  EXPECT_EQ(second->person, "annotation 1 of each image");
  EXPECT_EQ(second->labelled, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(second->labels.x(0, 0), 300);
  EXPECT_EQ(second->labels.y(0, 16), 210);
  EXPECT_EQ(second->labels.boxes[0].x2, 350);
  EXPECT_EQ(second->labels.width, 640);
  const absl::StatusOr<GroundTruth> first =
      ReadGroundTruth(path, {.person = 0});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->labelled, (std::vector<uint8_t>{1, 1}));
  EXPECT_FALSE(first->labels.is_visible(0, 4));  // v = 0
  EXPECT_TRUE(first->labels.is_visible(0, 5));
  EXPECT_EQ(first->labels.x(1, 2), 102);
}

TEST(GroundTruthTest, RefusalsNameTheFileAndTheProblem) {
  struct Case {
    std::string name, text, expected;
  };
  const std::string cat =
      absl::StrCat(R"("categories": [)", kCocoCategory, "]");
  const std::string image = R"("images": [{"id": 1}])";
  const std::vector<Case> cases = {
      {"not_json.json", "[1, 2", "not a JSON object"},
      {"no_categories.json", R"({"images": [{"id": 1}], "annotations": []})",
       "no \"categories\""},
      {"unknown_names.json",
       R"({"images": [{"id": 1}], "annotations": [], "categories":
           [{"id": 1, "keypoints": ["a", "b"]}]})",
       "keypoints [a, b] are no joint set"},
      {"no_images.json", absl::StrCat("{", cat, R"(, "annotations": []})"),
       "no \"images\""},
      {"short.json",
       absl::StrCat("{", cat, ", ", image,
                    R"(, "annotations": [{"image_id": 1, "bbox": [0, 0, 1, 1],
                       "keypoints": [1, 2, 2]}]})"),
       "must be 51 numbers"},
      {"orphan.json",
       absl::StrCat("{", cat, ", ", image,
                    R"(, "annotations": [{"image_id": 9, "bbox": [0, 0, 1, 1],
                       "keypoints": )",
                    Keypoints(0, 0), "}]}"),
       "belongs to image 9"},
      {"no_bbox.json",
       absl::StrCat("{", cat, ", ", image,
                    R"(, "annotations": [{"image_id": 1, "keypoints": )",
                    Keypoints(0, 0), "}]}"),
       "annotations[0] has no \"bbox\""},
      {"flat_bbox.json",
       absl::StrCat("{", cat, ", ", image,
                    R"(, "annotations": [{"image_id": 1, "bbox": [0, 0, 0, 5],
                       "keypoints": )",
                    Keypoints(0, 0), "}]}"),
       "has no size"},
      {"nobody.json",
       absl::StrCat("{", cat, ", ", image, R"(, "annotations": []})"),
       "labels nobody"},
  };
  for (const Case& c : cases) {
    const std::string path = Write(c.name, c.text);
    const absl::Status s = ReadGroundTruth(path).status();
    EXPECT_FALSE(s.ok()) << c.name;
    EXPECT_TRUE(Contains(s, c.expected) && Contains(s, path))
        << c.name << ": " << s;
  }

  // A .mat with neither layout's variables, another extension, a missing
  // file, and a JHMDB file of the wrong shape.
  {
    absl::StatusOr<MatWriter> w = MatWriter::Create(Temp("other.mat"));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->WriteDouble("pos_world", {2, 1}, {1, 2}).ok());
    ASSERT_TRUE(w->Close().ok());
  }
  absl::Status s = ReadGroundTruth(Temp("other.mat")).status();
  EXPECT_TRUE(Contains(s, "neither 'pos_img'") && Contains(s, "pos_world"))
      << s;
  s = ReadGroundTruth(Write("labels.txt", "1 2 3")).status();
  EXPECT_TRUE(Contains(s, "no label format") && Contains(s, "labels.txt")) << s;
  s = ReadGroundTruth(Temp("missing.json")).status();
  EXPECT_TRUE(Contains(s, "missing.json")) << s;
  {
    absl::StatusOr<MatWriter> w = MatWriter::Create(Temp("jhmdb13.mat"));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(
        w->WriteDouble("pos_img", {2, 13}, std::vector<double>(26, 5)).ok());
    ASSERT_TRUE(w->Close().ok());
  }
  s = ReadGroundTruth(Temp("jhmdb13.mat")).status();
  EXPECT_TRUE(Contains(s, "'pos_img'") && Contains(s, "2x13") &&
              Contains(s, "2x15xT"))
      << s;
}

}  // namespace
}  // namespace mapn
