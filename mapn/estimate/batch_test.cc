// Batch estimation without a model: listing, sharding, the launchers'
// environment, and RunBatch's skipping, failures and resumption with a
// stand-in for the single-video estimate.
#include "mapn/estimate/batch.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"

namespace mapn {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const fs::path dir = fs::path(base != nullptr ? base : "/tmp") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void Touch(const std::string& path, const std::string& contents = "video") {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << contents;
}

Environment EnvOf(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ShardTest, ParsesAndRefuses) {
  absl::StatusOr<ShardSpec> shard = ParseShard("2/5");
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 5);
  EXPECT_EQ(shard->ToString(), "2/5");
  for (const char* bad : {"5/5", "-1/3", "1", "a/b", "1/0", "1/2/3", ""}) {
    absl::StatusOr<ShardSpec> s = ParseShard(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("i/N"), std::string::npos);
  }
}

TEST(ShardTest, LaunchersEnvironment) {
  // Slurm: --array=3-6 gives ids 3..6, min 3, count 4.
  absl::StatusOr<ShardSpec> slurm =
      ShardFromEnvironment(EnvOf({{"SLURM_ARRAY_TASK_ID", "5"},
                                  {"SLURM_ARRAY_TASK_MIN", "3"},
                                  {"SLURM_ARRAY_TASK_COUNT", "4"}}),
                           -1);
  ASSERT_TRUE(slurm.ok()) << slurm.status();
  EXPECT_EQ(slurm->index, 2);
  EXPECT_EQ(slurm->count, 4);
  // --num_shards overrides the count (an array with gaps).
  slurm = ShardFromEnvironment(
      EnvOf({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_COUNT", "2"}}),
      8);
  ASSERT_TRUE(slurm.ok()) << slurm.status();
  EXPECT_EQ(slurm->index, 5);
  EXPECT_EQ(slurm->count, 8);
  // Kubernetes: the index, and the completions from --num_shards.
  absl::StatusOr<ShardSpec> k8s =
      ShardFromEnvironment(EnvOf({{"JOB_COMPLETION_INDEX", "1"}}), 3);
  ASSERT_TRUE(k8s.ok()) << k8s.status();
  EXPECT_EQ(k8s->index, 1);
  EXPECT_EQ(k8s->count, 3);
  // Nothing set: everything.
  absl::StatusOr<ShardSpec> none = ShardFromEnvironment(EnvOf({}), -1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->count, 1);

  const auto refused = [](const Environment& env, int num_shards,
                          const std::string& says) {
    absl::StatusOr<ShardSpec> s = ShardFromEnvironment(env, num_shards);
    ASSERT_FALSE(s.ok()) << says;
    EXPECT_NE(s.status().message().find(says), std::string::npos) << s.status();
  };
  refused(EnvOf({{"JOB_COMPLETION_INDEX", "1"}}), -1, "--num_shards");
  refused(EnvOf({{"JOB_COMPLETION_INDEX", "3"}}), 3, "out of range");
  refused(EnvOf({{"SLURM_ARRAY_TASK_ID", "0"}}), -1, "SLURM_ARRAY_TASK_COUNT");
  refused(EnvOf({{"SLURM_ARRAY_TASK_ID", "x"}}), -1, "SLURM_ARRAY_TASK_ID='x'");
  refused(EnvOf({}), 4, "needs a shard index");
}

TEST(ShardTest, EveryVideoInExactlyOneShardWhateverTheOrder) {
  std::vector<BatchVideo> videos;
  for (int i = 0; i < 300; ++i) {
    const std::string name = absl::StrCat("dir", i % 7, "/clip", i, ".mp4");
    videos.push_back({"/data/" + name, name});
  }
  std::vector<BatchVideo> shuffled = videos;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  std::multiset<std::string> all;
  for (int i = 0; i < 4; ++i) {
    const std::vector<BatchVideo> mine = VideosOfShard(videos, {i, 4});
    // Roughly balanced, and the same set from another order.
    EXPECT_GT(mine.size(), 45u);
    std::set<std::string> a, b;
    for (const BatchVideo& v : mine) a.insert(v.name);
    for (const BatchVideo& v : VideosOfShard(shuffled, {i, 4})) {
      b.insert(v.name);
    }
    EXPECT_EQ(a, b);
    for (const BatchVideo& v : mine) all.insert(v.name);
  }
  EXPECT_EQ(all.size(), videos.size());
  for (const BatchVideo& v : videos) EXPECT_EQ(all.count(v.name), 1u);
}

TEST(ListTest, ManifestLinesRelativeToTheManifest) {
  const std::string dir = TempDir("manifest");
  Touch(dir + "/list.txt",
        "# my videos\n"
        "a.mp4\n"
        "\n"
        "  sub/b.avi  \n"
        "/abs/c.mkv\n"
        "a.mp4\n");
  absl::StatusOr<std::vector<BatchVideo>> videos =
      ListManifest(dir + "/list.txt");
  ASSERT_TRUE(videos.ok()) << videos.status();
  ASSERT_EQ(videos->size(), 3u);  // a.mp4 once
  EXPECT_EQ((*videos)[0].path, dir + "/a.mp4");
  EXPECT_EQ((*videos)[0].name, "a.mp4");
  EXPECT_EQ((*videos)[1].path, dir + "/sub/b.avi");
  EXPECT_EQ((*videos)[2].path, "/abs/c.mkv");
  EXPECT_EQ(OutputPath("/out", (*videos)[2], ".poses.json"),
            "/out/abs/c.mkv.poses.json");
  EXPECT_EQ(OutputPath("/out", {"x", "../up/d.mp4"}, ".done.json"),
            "/out/up/d.mp4.done.json");

  Touch(dir + "/empty.txt", "# nothing\n\n");
  absl::StatusOr<std::vector<BatchVideo>> empty =
      ListManifest(dir + "/empty.txt");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("lists no video"), std::string::npos);
  Touch(dir + "/clash.txt", "x/a.mp4\n../x/a.mp4\n");
  absl::StatusOr<std::vector<BatchVideo>> clash =
      ListManifest(dir + "/clash.txt");
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("same outputs"), std::string::npos)
      << clash.status();
  absl::StatusOr<std::vector<BatchVideo>> missing =
      ListManifest(dir + "/nope.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.txt"), std::string::npos);
}

TEST(ListTest, DirectoryIsListedRecursivelyByExtension) {
  const std::string dir = TempDir("listing");
  Touch(dir + "/b.MP4");
  Touch(dir + "/a/c.avi");
  Touch(dir + "/a/notes.txt");
  Touch(dir + "/poses.json");
  absl::StatusOr<std::vector<BatchVideo>> videos = ListVideoDirectory(dir);
  ASSERT_TRUE(videos.ok()) << videos.status();
  ASSERT_EQ(videos->size(), 2u);
  EXPECT_EQ((*videos)[0].name, "a/c.avi");
  EXPECT_EQ((*videos)[1].name, "b.MP4");
  EXPECT_EQ((*videos)[1].path, dir + "/b.MP4");
  EXPECT_FALSE(ListVideoDirectory(TempDir("nothing")).ok());
  EXPECT_FALSE(ListVideoDirectory(dir + "/b.MP4").ok());
}

BatchOptions Options(const std::string& out_dir, const std::string& run_key,
                     ShardSpec shard = {}) {
  BatchOptions options;
  options.out_dir = out_dir;
  options.shard = shard;
  options.run_key = run_key;
  return options;
}

// A stand-in for the estimate: writes the JSON, fails where told.
struct FakeEstimate {
  std::set<std::string> fail;
  std::vector<std::string> calls;

  RunVideoFn Fn() {
    return [this](const BatchVideo& video,
                  const BatchOutputs& outputs) -> absl::StatusOr<int64_t> {
      calls.push_back(video.name);
      if (fail.count(video.name) > 0) {
        return absl::DataLossError("damaged packet 3\nat frame 2");
      }
      absl::Status written = WriteFileAtomically(outputs.json, "{}");
      if (!written.ok()) return written;
      return 10;
    };
  }
};

TEST(RunBatchTest, FailuresAreRecordedAndTheRestCompletes) {
  const std::string dir = TempDir("run_failures");
  std::vector<BatchVideo> videos;
  for (const char* name : {"a.mp4", "b.mp4", "sub/c.mp4", "bad.mp4"}) {
    Touch(dir + "/in/" + name);
    videos.push_back({dir + "/in/" + name, name});
  }
  videos.push_back({dir + "/in/missing.mp4", "missing.mp4"});
  FakeEstimate estimate;
  estimate.fail = {"bad.mp4"};
  const BatchOptions options = Options(dir + "/out", "model A");
  absl::StatusOr<BatchSummary> summary =
      RunBatch(videos, options, estimate.Fn());
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->listed, 5);
  EXPECT_EQ(summary->in_shard, 5);
  EXPECT_EQ(summary->done, 3);
  EXPECT_EQ(summary->frames, 30);
  ASSERT_EQ(summary->failures.size(), 2u);
  EXPECT_FALSE(summary->ok());
  EXPECT_TRUE(fs::exists(dir + "/out/sub/c.mp4.poses.json"));
  EXPECT_TRUE(fs::exists(dir + "/out/sub/c.mp4.done.json"));
  EXPECT_FALSE(fs::exists(dir + "/out/bad.mp4.poses.json"));
  absl::StatusOr<std::string> failures = ReadFile(summary->failures_path);
  ASSERT_TRUE(failures.ok());
  EXPECT_EQ(summary->failures_path, dir + "/out/failures-0-of-1.tsv");
  EXPECT_NE(failures->find("bad.mp4\t" + dir +
                           "/in/bad.mp4\tdamaged packet 3 at frame 2\n"),
            std::string::npos)
      << *failures;
  EXPECT_NE(failures->find("missing.mp4\t"), std::string::npos);
  EXPECT_NE(failures->find("does not exist"), std::string::npos);
  const std::string text = FormatBatchSummary(*summary, options);
  EXPECT_NE(text.find("5 of 5 videos: 3 done, 0 already done (skipped), 2 "
                      "failed"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("failed: bad.mp4: damaged packet 3 at frame 2"),
            std::string::npos);
}

TEST(RunBatchTest, ARerunDoesOnlyWhatIsLeftOrChanged) {
  const std::string dir = TempDir("run_resume");
  std::vector<BatchVideo> videos;
  for (int i = 0; i < 6; ++i) {
    const std::string name = absl::StrCat("v", i, ".mp4");
    Touch(dir + "/in/" + name);
    videos.push_back({dir + "/in/" + name, name});
  }
  const BatchOptions options = Options(dir + "/out", "model A");
  // First run: as if killed after three videos (the others never ran, so
  // they have no outputs; here they fail instead).
  FakeEstimate first;
  first.fail = {"v3.mp4", "v4.mp4", "v5.mp4"};
  ASSERT_TRUE(RunBatch(videos, options, first.Fn()).ok());
  FakeEstimate second;
  absl::StatusOr<BatchSummary> rerun = RunBatch(videos, options, second.Fn());
  ASSERT_TRUE(rerun.ok());
  EXPECT_EQ(second.calls,
            (std::vector<std::string>{"v3.mp4", "v4.mp4", "v5.mp4"}));
  EXPECT_EQ(rerun->skipped, 3);
  EXPECT_EQ(rerun->done, 3);
  EXPECT_TRUE(rerun->ok());
  // The failures file of the shard is rewritten: none now.
  EXPECT_EQ(*ReadFile(rerun->failures_path), "name\tpath\terror\n");

  // A changed input, a lost output and another run key are done again.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Touch(dir + "/in/v1.mp4", "a longer video");
  fs::remove(dir + "/out/v2.mp4.poses.json");
  FakeEstimate third;
  ASSERT_TRUE(RunBatch(videos, options, third.Fn()).ok());
  EXPECT_EQ(third.calls, (std::vector<std::string>{"v1.mp4", "v2.mp4"}));
  FakeEstimate fourth;
  BatchOptions other = options;
  other.run_key = "model B";
  ASSERT_TRUE(RunBatch(videos, other, fourth.Fn()).ok());
  EXPECT_EQ(fourth.calls.size(), 6u);
}

TEST(RunBatchTest, TwoShardsMakeExactlyTheUnion) {
  const std::string dir = TempDir("run_shards");
  std::vector<BatchVideo> videos;
  for (int i = 0; i < 20; ++i) {
    const std::string name = absl::StrCat("v", i, ".mp4");
    Touch(dir + "/in/" + name);
    videos.push_back({dir + "/in/" + name, name});
  }
  std::multiset<std::string> ran;
  for (int i = 0; i < 2; ++i) {
    FakeEstimate estimate;
    absl::StatusOr<BatchSummary> s =
        RunBatch(videos, Options(dir + "/out", "k", {i, 2}), estimate.Fn());
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->done, s->in_shard);
    EXPECT_TRUE(
        fs::exists(dir + absl::StrCat("/out/failures-", i, "-of-2.tsv")));
    ran.insert(estimate.calls.begin(), estimate.calls.end());
  }
  EXPECT_EQ(ran.size(), 20u);
  for (const BatchVideo& v : videos) EXPECT_EQ(ran.count(v.name), 1u);
}

TEST(RunBatchTest, AnOutDirThatCannotBeMadeIsAnError) {
  const std::string dir = TempDir("run_bad_out");
  Touch(dir + "/file");
  FakeEstimate estimate;
  absl::StatusOr<BatchSummary> s =
      RunBatch({{dir + "/file", "file"}}, Options(dir + "/file/out", "k"),
               estimate.Fn());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("--out_dir"), std::string::npos);
  EXPECT_TRUE(estimate.calls.empty());
}

}  // namespace
}  // namespace mapn
