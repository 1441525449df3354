// The mapn subcommands end to end, run in-process through RunMain: `synth`
// writes a dataset that `train` trains every stage of a tiny MAPN on;
// `eval` evaluates the model and its training state; `estimate` runs it on a
// clip (and on one the reader refuses, which it transcodes first), writing
// JSON, CSV, an overlay video and overlay PNGs; every bad flag or input is
// refused with a message that names it and no partial output file.
#include <ATen/ATen.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "mapn/cli/context.h"
#include "mapn/cli/subcommand.h"
#include "mapn/core/atomic_file.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "mapn/testing/shared_data.h"
#include "mapn/testing/test_data.h"
#include "mapn/tfjs/model_files.h"
#include "mapn/video/test_clips.h"
#include "mapn/viz/png.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace mapn::cli {

namespace {

using mapn::testing::TestPath;

struct Outcome {
  int code;
  std::string out, err;
};

// Runs the mapn command line in-process, with the default compositions or
// with `table`.
Outcome Mapn(
    std::vector<std::string> args,
    const model::CompositionTable& table = model::DefaultCompositions()) {
  absl::FlagSaver restore_flags;
  args.insert(args.begin(), "mapn");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = RunMain(AllCommands(), ContextFor(table),
                           static_cast<int>(argv.size()), argv.data());
  Outcome r{code, ::testing::internal::GetCapturedStdout(),
            ::testing::internal::GetCapturedStderr()};
  return r;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string& Data() {
  static const std::string root = [] {
    const std::string dir = TestPath("cli_synth");
    EXPECT_TRUE(mapn::testing::MakeTinySynthPose(dir, 2).ok());
    return dir;
  }();
  return root;
}

std::vector<std::string> TinyTrain(const std::string& out) {
  return {"train",
          "--data_root=" + Data(),
          "--subset=all",
          "--model=mapn",
          "--stage=all",
          "--epochs=1",
          "--max_steps=1",
          "--input_size=64",
          "--backbone_width=8",
          "--head_channels=16",
          "--lstm_kernel=1",
          "--windows_per_step=2",
          "--out=" + out};
}

TEST(CliTest, TrainsEveryStageThenEvaluates) {
  const std::string model = TestPath("cli_mapn.ckpt");
  const Outcome trained = Mapn(TinyTrain(model));
  ASSERT_EQ(trained.code, kExitOk) << trained.err;
  for (const char* stage : {"stage 1 (single frame)", "stage 2 (propagation)",
                            "stage 3 (gate)", "stage 4 (joint)"}) {
    EXPECT_TRUE(Has(trained.err, stage)) << trained.err;
  }
  EXPECT_TRUE(Has(trained.err, "ETA")) << trained.err;
  const absl::StatusOr<model::ModelFile> file = model::ReadModelFile(model);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->composition, "mapn");
  const nlohmann::json options = nlohmann::json::parse(file->options_json);
  EXPECT_EQ(options["propagator"]["kernel"], 1);  // --lstm_kernel reaches it
  EXPECT_EQ(options["extractor"]["width"], 8);
  EXPECT_EQ(options["head"]["out_channels"], 13);  // the dataset's joints

  const std::string csv = TestPath("cli.csv"), json = TestPath("cli.json");
  const Outcome evaluated =
      Mapn({"eval", "--checkpoint=" + model, "--data_root=" + Data(),
            "--subset=all", "--label=tiny", "--csv=" + csv, "--json=" + json});
  ASSERT_EQ(evaluated.code, kExitOk) << evaluated.err;
  EXPECT_TRUE(Has(evaluated.out, "Keyframe")) << evaluated.out;
  EXPECT_TRUE(Has(evaluated.out, "tiny")) << evaluated.out;
  EXPECT_TRUE(Has(ReadFile(csv).value(), "tiny,"));
  const nlohmann::json results = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(results["rows"][0]["model_type"],
            "Pipeline<SimpleBaselineEncoder, MotionWarpConvLstm, ResidualGate, "
            "DeconvHead>");
  EXPECT_GT(results["rows"][0]["frames"].get<int>(), 40);

  // The training state evaluates to the same numbers as the model file.
  const Outcome from_state =
      Mapn({"eval", "--checkpoint=" + model + ".state", "--data_root=" + Data(),
            "--subset=all", "--label=tiny"});
  ASSERT_EQ(from_state.code, kExitOk) << from_state.err;
  // The label, the PCK columns and the frame count (not the timings).
  const auto pck_line = [](const std::string& table) {
    return table.substr(table.find("\ntiny"), 60);
  };
  EXPECT_EQ(pck_line(from_state.out), pck_line(evaluated.out));

  // Resuming a finished run trains nothing more and writes the same model.
  std::vector<std::string> again = TinyTrain(TestPath("cli_mapn_again.ckpt"));
  ASSERT_EQ(Mapn(again).code, kExitOk);
  again.push_back("--resume");
  const Outcome resumed = Mapn(again);
  ASSERT_EQ(resumed.code, kExitOk) << resumed.err;
  EXPECT_TRUE(Has(resumed.err, "resuming stage 4")) << resumed.err;
}

TEST(CliTest, BadFlagsAreUsageErrorsNamingThem) {
  std::vector<std::string> args = TinyTrain(TestPath("bad.ckpt"));
  args.push_back("--model=mapnn");
  Outcome r = Mapn(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "mapnn") && Has(r.err, "simple_baseline")) << r.err;

  args = TinyTrain(TestPath("bad.ckpt"));
  args.push_back("--epochs=1,2");
  r = Mapn(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--epochs")) << r.err;

  args = TinyTrain(TestPath("bad.ckpt"));
  args.push_back("--stage=3");
  args.push_back("--model=iframe_warp");
  r = Mapn(args);
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "training-free")) << r.err;

  args = TinyTrain(TestPath("bad.ckpt"));
  args.push_back("--input_size=100");
  r = Mapn(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "input_size")) << r.err;

  r = Mapn({"train", "--data_root=" + Data()});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--out")) << r.err;
  r = Mapn({"train", "--data_root=" + Data(), "--out=x", "--dataset=coco"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "coco")) << r.err;

  r = Mapn({"eval", "--data_root=" + Data()});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--checkpoint")) << r.err;
  r = Mapn({"eval", "--checkpoint=" + TestPath("missing.ckpt"),
            "--data_root=" + Data()});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "missing.ckpt")) << r.err;

  r = Mapn({"estimate", "x.mp4", "--max_people=-1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--max_people")) << r.err;
  r = Mapn({"estimate", "x.mp4", "--max_missed=-1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--max_missed")) << r.err;

  const Outcome help = Mapn({"eval", "--help"});
  EXPECT_TRUE(Has(help.out, "--csv") && Has(help.out, "--json"));
  EXPECT_FALSE(Has(help.out, "--epochs"));
}

// The distributed flags and the torchrun variables they default from
// (mapn/train/distributed_test.cc trains two processes).
TEST(CliTest, DistributedFlagsDefaultFromTorchrunVariables) {
  struct Env {  // set for one scope
    Env(const char* name, const char* value) : name(name) {
      setenv(name, value, 1);
    }
    ~Env() { unsetenv(name); }
    const char* name;
  };
  const auto train = [](std::vector<std::string> extra) {
    std::vector<std::string> args = TinyTrain(TestPath("dist.ckpt"));
    args.push_back("--stage=1");
    args.insert(args.end(), extra.begin(), extra.end());
    return Mapn(args);
  };
  Outcome r = train({"--world_size=0"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "world_size must be >= 1")) << r.err;
  r = train({"--rank=first"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--rank has 'first'")) << r.err;
  r = train({"--master_port=70000", "--world_size=2"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "master_port")) << r.err;
  r = train({"--dist_timeout_s=0"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "time-out")) << r.err;
  {
    const Env world("WORLD_SIZE", "2"), rank("RANK", "2");
    r = train({});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_TRUE(Has(r.err, "rank must be in [0, world_size) = [0, 2), got 2"))
        << r.err;
  }
  {
    const Env world("WORLD_SIZE", "two");
    r = train({});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_TRUE(Has(r.err, "WORLD_SIZE")) << r.err;
    // A flag wins over the variable: one process trains.
    r = train({"--world_size=1"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_TRUE(Has(r.err, "wrote")) << r.err;
  }
  {
    // Rank 1 of 2 from the variables, with no rank 0 anywhere: the
    // rendezvous gives up after --dist_timeout_s, naming where it waited.
    const Env world("WORLD_SIZE", "2"), rank("RANK", "1"),
        addr("MASTER_ADDR", "127.0.0.1"), port("MASTER_PORT", "9");
    r = train({"--dist_timeout_s=1"});
    EXPECT_EQ(r.code, kExitFailure);
    EXPECT_TRUE(Has(r.err, "rank 1 of 2: rendezvous at 127.0.0.1:9")) << r.err;
  }
  const Outcome help = Mapn({"train", "--help"});
  EXPECT_TRUE(Has(help.out, "--world_size") && Has(help.out, "MASTER_PORT"));
}

TEST(CliTest, ModelOptionsBySetOrShorthandAndTheirRefusals) {
  // --set reaches any option; the shorthand and --set agree.
  std::vector<std::string> args = TinyTrain(TestPath("set.ckpt"));
  args.push_back("--set=policy.pe_dims=6,propagator.kernel=3");
  args.push_back("--stage=1");
  const Outcome trained = Mapn(args);
  ASSERT_EQ(trained.code, kExitOk) << trained.err;
  const nlohmann::json options = nlohmann::json::parse(
      model::ReadModelFile(TestPath("set.ckpt"))->options_json);
  EXPECT_EQ(options["policy"]["pe_dims"], 6);
  // The shorthand --lstm_kernel=1 comes after --set: it wins.
  EXPECT_EQ(options["propagator"]["kernel"], 1);

  // A shorthand for a component the composition does not have is skipped
  // with a note (a training chain passes the same sizes to every step).
  args = TinyTrain(TestPath("baseline.ckpt"));
  args.push_back("--model=simple_baseline");
  args.push_back("--stage=1");
  Outcome r = Mapn(args);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.err, "--lstm_kernel") && Has(r.err, "PassThrough") &&
              Has(r.err, "ignored"))
      << r.err;
  // An option no component has, and a malformed one.
  args = TinyTrain(TestPath("bad.ckpt"));
  args.push_back("--set=policy.speed=3");
  r = Mapn(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "speed") && Has(r.err, "pe_dims")) << r.err;
  args = TinyTrain(TestPath("bad.ckpt"));
  args.push_back("--set=kernel");
  r = Mapn(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--set")) << r.err;

  // The help lists every composition with its components.
  const Outcome help = Mapn({"train", "--help"});
  EXPECT_TRUE(Has(help.out, "iframe_nowarp") &&
              Has(help.out, "NoWarpConvLstm + NeverExtract"))
      << help.out;
  EXPECT_TRUE(Has(help.out, "--set")) << help.out;
}

// A composition that exists only in this test goes through the same
// command line as the built-in ones once its table is handed to RunMain.
using NoWarpEveryFrame =
    model::Composition<"nowarp_every_frame", model::SimpleBaselineEncoder,
                       model::NoWarpConvLstm, model::AlwaysExtract,
                       model::DeconvHead>;

TEST(CliTest, AUsersCompositionTrainsEvaluatesAndEstimates) {
  model::CompositionTable table = model::DefaultCompositions();
  ASSERT_TRUE(table.Add<NoWarpEveryFrame>().ok());
  const std::string ckpt = TestPath("custom.ckpt");
  std::vector<std::string> args = TinyTrain(ckpt);
  args.push_back("--model=nowarp_every_frame");
  const Outcome trained = Mapn(args, table);
  ASSERT_EQ(trained.code, kExitOk) << trained.err;
  // Its stages follow its parts: a ConvLSTM to train, no gate.
  EXPECT_TRUE(Has(trained.err, "stage 2 (propagation)")) << trained.err;
  EXPECT_FALSE(Has(trained.err, "stage 3 (gate)")) << trained.err;

  const Outcome evaluated = Mapn(
      {"eval", "--checkpoint=" + ckpt, "--data_root=" + Data(), "--subset=all"},
      table);
  ASSERT_EQ(evaluated.code, kExitOk) << evaluated.err;
  EXPECT_TRUE(Has(evaluated.out, "nowarp_every_frame")) << evaluated.out;

  const std::string json = TestPath("custom.poses.json");
  const std::string video = Data() + "/mpeg4_gop12/0001.mp4";
  const Outcome estimated =
      Mapn({"estimate", video, "--checkpoint=" + ckpt, "--out=" + json,
            "--progress=never", "--compare-baseline"},
           table);
  ASSERT_EQ(estimated.code, kExitOk) << estimated.err;
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["info"]["composition"], "nowarp_every_frame");
  EXPECT_EQ(doc["info"]["model_options"]["extractor"]["width"], 8);
  // Every frame extracted, as its policy says.
  EXPECT_EQ(doc["summary"]["keyframes"], doc["summary"]["frames"]);

  // The mapn binary's own table does not know it, and says so.
  const Outcome unknown =
      Mapn({"estimate", video, "--checkpoint=" + ckpt, "--out=" + json});
  EXPECT_EQ(unknown.code, kExitFailure);
  EXPECT_TRUE(Has(unknown.err, "nowarp_every_frame")) << unknown.err;
}

bool Exists(const std::string& path) { return ReadFile(path).ok(); }

TEST(CliTest, SynthWritesALoadableDatasetAndRejectsBadKnobs) {
  const std::string root = TestPath("cli_synth_out");
  const Outcome made =
      Mapn({"synth", root, "--num_clips=2", "--width=96", "--height=64",
            "--min_frames=14", "--max_frames=14", "--seed=5"});
  ASSERT_EQ(made.code, kExitOk) << made.err;
  EXPECT_TRUE(Exists(root + "/labels/0001.mat"));
  EXPECT_TRUE(Exists(root + "/mpeg4_gop12/0002.mp4"));
  Outcome bad = Mapn({"synth", root, "--width=97"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_TRUE(Has(bad.err, "width")) << bad.err;
  bad = Mapn({"synth", root, "--layout=coco"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_TRUE(Has(bad.err, "--layout")) << bad.err;
}

// A tiny trained model and a clip with labels, shared by the estimate tests.
struct EstimateFixture {
  std::string model;
  std::string video;
  std::string labels;
};

const EstimateFixture& Fixture() {
  static const EstimateFixture fixture = [] {
    EstimateFixture f;
    f.model = TestPath("estimate_mapn.ckpt");
    const Outcome trained = Mapn(TinyTrain(f.model));
    EXPECT_EQ(trained.code, kExitOk) << trained.err;
    f.video = Data() + "/mpeg4_gop12/0001.mp4";
    f.labels = Data() + "/labels/0001.mat";
    return f;
  }();
  return fixture;
}

TEST(CliTest, EstimateWritesPosesCsvAndOverlayAndComparesTheBaseline) {
  const EstimateFixture& f = Fixture();
  const std::string json = TestPath("poses.json"), csv = TestPath("poses.csv"),
                    overlay = TestPath("overlay.mp4"),
                    posetrack = TestPath("poses.posetrack.json");
  const Outcome r = Mapn(
      {"estimate", f.video, "--checkpoint=" + f.model, "--out=" + json,
       "--csv=" + csv, "--overlay=" + overlay, "--panels",
       "--posetrack=" + posetrack, "--boxes=" + f.labels,
       "--ground-truth=" + f.labels, "--compare-baseline", "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  // PoseTrack's layout: one image per frame, one person (track 1) each.
  const nlohmann::json pt = nlohmann::json::parse(ReadFile(posetrack).value());
  EXPECT_EQ(pt["images"].size(), pt["annotations"].size());
  EXPECT_EQ(pt["annotations"][0]["track_id"], 1);
  EXPECT_EQ(pt["annotations"][0]["keypoints"].size(), 51u);
  EXPECT_TRUE(Has(r.out, "keyframes:")) << r.out;
  EXPECT_TRUE(Has(r.out, "measured speed-up")) << r.out;
  EXPECT_TRUE(Has(r.out, "PCK@0.2 against ground truth")) << r.out;
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  const int frames = doc["summary"]["frames"].get<int>();
  EXPECT_GE(frames, 24);
  EXPECT_EQ(doc["frames"].size(), static_cast<size_t>(frames));
  EXPECT_EQ(doc["frames"][0]["features_extracted"], true);
  EXPECT_EQ(doc["info"]["transcoded"], false);
  EXPECT_TRUE(doc["summary"].contains("speedup"));
  EXPECT_TRUE(doc["summary"].contains("pck"));
  EXPECT_TRUE(Exists(overlay));
  EXPECT_TRUE(Has(ReadFile(csv).value(), "head_x"));
}

TEST(CliTest, EstimateWritesOverlayFramesWithPanelsWithoutAVideo) {
  const EstimateFixture& f = Fixture();
  const std::string json = TestPath("frames.poses.json");
  const std::string dir = TestPath("cli_frames/nested");  // made, parents too
  const Outcome r =
      Mapn({"estimate", f.video, "--checkpoint=" + f.model, "--out=" + json,
            "--overlay_frames=" + dir, "--panels", "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "PNGs in " + dir)) << r.out;
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  const int frames = doc["summary"]["frames"].get<int>();
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), static_cast<size_t>(frames));
  EXPECT_EQ(names.front(), "000000.png");
  // The overlay picture: the 128 x 96 frame and its two panels, 4 apart.
  for (const std::string& name : {names.front(), names.back()}) {
    absl::StatusOr<at::Tensor> png = ReadPng(dir + "/" + name);
    ASSERT_TRUE(png.ok()) << png.status();
    EXPECT_EQ(png->size(1), 96) << name;
    EXPECT_EQ(png->size(2), 3 * 128 + 2 * 4) << name;
  }
}

TEST(CliTest, EstimateTranscodesAVideoTheReaderRefuses) {
  const EstimateFixture& f = Fixture();
  // H.264 with B-frames: the reader refuses it, estimate re-encodes it.
  at::Tensor frames = at::randint(0, 255, {14, 3, 64, 96}, at::kByte);
  const std::string refused = TestPath("bframes.mp4");
  ASSERT_TRUE(mapn::testing::WriteClip(refused, frames,
                                       mapn::testing::H264Options(12, 2))
                  .ok());
  const std::string json = TestPath("bframes.poses.json");
  Outcome r = Mapn({"estimate", refused, "--checkpoint=" + f.model,
                    "--out=" + json, "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.err, "transcoding")) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["info"]["transcoded"], true);
  EXPECT_EQ(doc["summary"]["frames"], 14);

  // Refusing instead when asked.
  r = Mapn({"estimate", refused, "--checkpoint=" + f.model,
            "--out=" + TestPath("refused.json"), "--noauto-transcode"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "mapn transcode")) << r.err;
  EXPECT_FALSE(Exists(TestPath("refused.json")));
}

// Streams 0: the fixture's MPEG-4 clip (128x96), 1: audio, 2: H.264 with
// B-frames (160x96, which the reader refuses), marked default.
std::string TwoVideoStreams(const EstimateFixture& f) {
  const std::string other = TestPath("cli_stream_b.mp4");
  EXPECT_TRUE(mapn::testing::WriteClip(
                  other, at::randint(0, 255, {14, 3, 96, 160}, at::kByte),
                  mapn::testing::H264Options(12, 2))
                  .ok());
  const std::string audio = TestPath("cli_stream_audio.wav");
  EXPECT_TRUE(mapn::testing::WriteBytes(audio, mapn::testing::MakeWav()).ok());
  const std::string path = TestPath("cli_two_streams.mkv");
  const absl::Status s = mapn::testing::MuxStreams({f.video, audio, other},
                                                   path, /*default_stream=*/2);
  EXPECT_TRUE(s.ok()) << s;
  return path;
}

TEST(CliTest, EstimateReadsTheBestStreamOrTheOneAskedFor) {
  const EstimateFixture& f = Fixture();
  const std::string video = TwoVideoStreams(f);
  const std::string json = TestPath("streams.poses.json");
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"estimate",
                                     video,
                                     "--checkpoint=" + f.model,
                                     "--out=" + json,
                                     "--detector=none",
                                     "--progress=never"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Mapn(args);
  };
  // FFmpeg's pick (the default stream, 2), transcoded for its B-frames:
  // the choice is the input's, reported as such.
  Outcome r = run({});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "video stream 2 of the file's 2 video streams"))
      << r.out;
  nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["info"]["stream_index"], 2);
  EXPECT_EQ(doc["info"]["video_streams"], 2);
  EXPECT_EQ(doc["info"]["width"], 160);
  EXPECT_EQ(doc["info"]["transcoded"], true);
  EXPECT_EQ(doc["summary"]["frames"], 14);

  r = run({"--stream=0"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "video stream 0 of the file's 2")) << r.out;
  doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["info"]["stream_index"], 0);
  EXPECT_EQ(doc["info"]["width"], 128);
  EXPECT_EQ(doc["info"]["transcoded"], false);

  // Not a video stream, no such stream, not an index.
  for (const std::string bad : {"1", "3"}) {
    r = run({"--stream=" + bad});
    EXPECT_EQ(r.code, kExitFailure) << bad;
    EXPECT_TRUE(Has(r.err, "no video stream " + bad)) << r.err;
    EXPECT_TRUE(Has(r.err,
                    "its video streams: 0 (mpeg4, 128x96), 2 (h264, "
                    "160x96)"))
        << r.err;
  }
  EXPECT_TRUE(Has(run({"--stream=1"}).err, "stream 1 is audio (pcm_s16le)"));
  r = run({"--stream=-2"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--stream")) << r.err;

  // inspect reports on the same stream and takes --stream too.
  r = Mapn({"inspect", video, "--noframes"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "stream:      2 (of 2 video streams")) << r.out;
  r = Mapn({"inspect", video, "--stream=0", "--json", "--noframes"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["stream_index"], 0);
  EXPECT_EQ(doc["width"], 128);
}

TEST(CliTest, EstimateConcealsDamagedFramesOrRefusesThem) {
  const EstimateFixture& f = Fixture();
  // Frame 13's payload scrambled (concealed), frame 16's start code
  // destroyed (its packet rejected): deterministic damage in the MP4.
  std::string bytes = mapn::testing::ReadBytes(f.video).value();
  const std::vector<size_t> vops = mapn::testing::FindVopStarts(bytes);
  ASSERT_GE(vops.size(), 24u);
  mapn::testing::Scramble(bytes, vops[13] + 8, 40);
  mapn::testing::Scramble(bytes, vops[16], 4);
  const std::string video = TestPath("cli_damaged.mp4");
  ASSERT_TRUE(mapn::testing::WriteBytes(video, bytes).ok());
  const std::string json = TestPath("damaged.poses.json");
  const std::string csv = TestPath("damaged.poses.csv");
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "estimate",        video,          "--checkpoint=" + f.model,
        "--out=" + json,   "--csv=" + csv, "--detector=none",
        "--progress=never"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Mapn(args);
  };
  // The default reads through, marking and counting.
  Outcome r = run({});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "--on_corrupt=conceal")) << r.out;
  EXPECT_TRUE(Has(r.out, "concealed, 1 lost")) << r.out;
  nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["info"]["on_corrupt"], "conceal");
  // Every frame of the intact video, in place.
  const Outcome intact = Mapn({"inspect", f.video, "--json", "--noframes"});
  ASSERT_EQ(intact.code, kExitOk) << intact.err;
  ASSERT_EQ(doc["frames"].size(),
            nlohmann::json::parse(intact.out)["frames"].get<size_t>());
  for (size_t k = 0; k < doc["frames"].size(); ++k) {
    EXPECT_EQ(doc["frames"][k]["frame_index"].get<size_t>(), k);
  }
  EXPECT_TRUE(doc["frames"][12]["damage"].is_null());
  EXPECT_EQ(doc["frames"][13]["damage"], "concealed");
  EXPECT_EQ(doc["frames"][16]["damage"], "lost");
  EXPECT_EQ(doc["summary"]["frames_lost"], 1);
  EXPECT_GE(doc["summary"]["frames_concealed"].get<int>(), 1);
  EXPECT_TRUE(Has(ReadFile(csv).value(), ",lost,")) << ReadFile(csv).value();

  // fail refuses it, naming the frame and the way through; no output.
  ASSERT_TRUE(std::filesystem::remove(json));
  r = run({"--on_corrupt=fail"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "cli_damaged.mp4")) << r.err;
  EXPECT_TRUE(Has(r.err, "frame 13")) << r.err;
  EXPECT_TRUE(Has(r.err, "--on_corrupt=conceal")) << r.err;
  EXPECT_FALSE(Exists(json));

  r = run({"--on_corrupt=ignore"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--on_corrupt must be conceal or fail")) << r.err;
}

TEST(CliTest, EstimateRefusesBadInputWithoutPartialFiles) {
  const EstimateFixture& f = Fixture();
  const std::string out = TestPath("never.json");
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"estimate", f.video,
                                     "--checkpoint=" + f.model, "--out=" + out};
    args.insert(args.end(), extra.begin(), extra.end());
    return Mapn(args);
  };
  Outcome r = run({"--box=1,2,3"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--box")) << r.err;
  r = run({"--box=5000,10,20,20"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "outside")) << r.err;
  r = run({"--box=1,1,10,10", "--boxes=" + f.labels});
  EXPECT_EQ(r.code, kExitUsage);
  r = run({"--progress=sometimes"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--progress")) << r.err;
  r = run({"--panels"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--overlay") && Has(r.err, "--overlay_frames"))
      << r.err;
  r = run({"--csv=" + TestPath("no/such/dir/x.csv")});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "no/such/dir")) << r.err;
  r = run({"--causal"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "causal")) << r.err;
  EXPECT_FALSE(Exists(out));

  // An --overlay_frames directory that cannot be made (under a regular
  // file) is refused before the model is even read, and nothing is written.
  const std::string blocker = TestPath("blocker");
  ASSERT_TRUE(WriteFileAtomically(blocker, "x").ok());
  const std::string frames = blocker + "/frames";
  r = Mapn({"estimate", f.video, "--checkpoint=" + TestPath("missing.ckpt"),
            "--out=" + out, "--overlay_frames=" + frames, "--panels"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "--overlay_frames") && Has(r.err, frames)) << r.err;
  EXPECT_FALSE(Has(r.err, "missing.ckpt")) << r.err;
  EXPECT_EQ(ReadFile(blocker).value(), "x");
  EXPECT_FALSE(Exists(out));
  // The same for an --overlay video that cannot be written.
  const std::string video = blocker + "/overlay.mp4";
  r = Mapn({"estimate", f.video, "--checkpoint=" + TestPath("missing.ckpt"),
            "--out=" + out, "--overlay=" + video});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, video)) << r.err;
  EXPECT_FALSE(Has(r.err, "missing.ckpt")) << r.err;
  EXPECT_FALSE(Exists(out));

  r = Mapn({"estimate", TestPath("missing.mp4"), "--checkpoint=" + f.model,
            "--out=" + out});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "missing.mp4")) << r.err;
  r = Mapn({"estimate", f.video, "--checkpoint=" + f.labels, "--out=" + out});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "0001.mat")) << r.err;
  // A checkpoint for another joint set cannot be used with --ground_truth
  // of this one; a garbage checkpoint is named.
  ASSERT_TRUE(
      WriteFileAtomically(TestPath("garbage.ckpt"), "not a model").ok());
  r = Mapn({"estimate", f.video, "--checkpoint=" + TestPath("garbage.ckpt"),
            "--out=" + out});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "garbage.ckpt")) << r.err;
  EXPECT_FALSE(Exists(out));

  const Outcome help = Mapn({"estimate", "--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_TRUE(Has(help.out, "--compare_baseline") && Has(help.out, "--out"));
  EXPECT_TRUE(Has(help.out, "--overlay_frames")) << help.out;
  EXPECT_FALSE(Has(help.out, "estimate_out"));
}

// --- Ground truth of other formats and joint sets ---------------------------

std::string JhmdbDir(const std::string& shared) {
  return shared + "/jhmdb-readannotation/ReadJHMDBAnnotations/data/";
}
const char kJhmdbClip[] = "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2.avi";

std::string PoseTrackDir(const std::string& shared) {
  return shared + "/mmpose/tests/data/posetrack18/";
}

// A Penn Action model (13 joints) scored on the real JHMDB clip against its
// official joint_positions.mat: the predictions go through the Penn Action
// -> JHMDB mapping, and --ground_truth_boxes crops around the labels.
TEST(CliTest, EstimateScoresAgainstJhmdbLabelsThroughTheMapping) {
  MAPN_REQUIRE_SHARED_DATA(shared);
  const EstimateFixture& f = Fixture();
  const std::string json = TestPath("jhmdb.poses.json");
  const Outcome r =
      Mapn({"estimate", JhmdbDir(shared) + kJhmdbClip,
            "--checkpoint=" + f.model, "--out=" + json,
            "--ground_truth=" + JhmdbDir(shared) + "joint_positions.mat",
            "--ground_truth_boxes", "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out,
                  "(jhmdb: penn_action predictions mapped to jhmdb, "
                  "all joints;"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "JHMDB joint_positions.mat; 40 of 40 frames"))
      << r.out;
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["summary"]["frames"], 40);
  EXPECT_EQ(doc["summary"]["pck_joint_set"], "jhmdb");
  EXPECT_TRUE(
      Has(doc["info"]["boxes"].get<std::string>(), "--ground_truth_boxes"));
  // The crop follows the labels: frame 0's box is the extent of its joints
  // (x 104.15 .. 310.31 over the clip).
  const auto box = doc["frames"][0]["annotations"][0]["bbox"];
  EXPECT_GT(box[0].get<double>(), 100);
  EXPECT_LT(box[2].get<double>(), 240);
}

// `mapn distill` on a tiny clip folder (the whole frame, one step per
// stage): the teacher cache is reused, --resume finds the finished state,
// the distilled file is small and `mapn estimate --checkpoint` loads it on
// the pretrained MoveNet; without a model flag estimate runs the bundled
// real-people model. Refusals: a folder with no readable video, a student
// of another joint set.
TEST(CliTest, DistillTrainsResumesAndEstimatesOnMoveNet) {
  if (!tfjs::FindModel("movenet-lightning").ok()) {
    GTEST_SKIP() << "no MoveNet in the model cache (tools/setup.sh)";
  }
  const std::string clips = Data() + "/mpeg4_gop12";
  const std::string out = TestPath("distilled.ckpt");
  const std::string cache = TestPath("distill_cache");
  const std::vector<std::string> distill = {
      "distill",         clips,        "--out=" + out,  "--cache_dir=" + cache,
      "--detector=none", "--epochs=1", "--max_steps=1", "--windows_per_step=2"};
  Outcome r = Mapn(distill);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.err, "[train] stage 2 (propagation) epoch 1/1")) << r.err;
  EXPECT_TRUE(Has(r.err, "[train] stage 4 (joint) epoch 1/1")) << r.err;
  EXPECT_TRUE(Has(r.err, "P-frame keyframe rate")) << r.err;
  ASSERT_TRUE(Exists(out));
  EXPECT_LT(std::filesystem::file_size(out), 1u << 20);
  EXPECT_TRUE(Exists(out + ".state"));

  std::vector<std::string> resume = distill;
  resume.push_back("--resume");
  r = Mapn(resume);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.err, "teacher from the cache")) << r.err;
  EXPECT_TRUE(Has(r.err, "resuming stage 4 (joint) after epoch 1")) << r.err;
  EXPECT_FALSE(Has(r.err, "[train] stage 2")) << r.err;

  const std::string json = TestPath("distilled.poses.json");
  r = Mapn({"estimate", clips + "/0001.mp4", "--checkpoint=" + out,
            "--detector=none", "--out=" + json, "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["info"]["composition"], "movenet_mapn");
  EXPECT_EQ(doc["categories"][0]["joint_set"], "coco");

  // No model flag: the bundled real-people model.
  r = Mapn({"estimate", clips + "/0001.mp4", "--detector=none", "--out=" + json,
            "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["info"]["composition"], "movenet_energy");
  EXPECT_TRUE(Has(doc["info"]["checkpoint"].get<std::string>(),
                  "movenet_lightning_mapn.ckpt"));
  // --model synthpose: the SynthPose model of the paper's experiments.
  r = Mapn({"estimate", clips + "/0001.mp4", "--detector=none",
            "--model=synthpose", "--out=" + json, "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["info"]["composition"], "mapn");

  const std::string junk = TestPath("distill_junk");
  std::filesystem::create_directories(junk);
  std::ofstream(junk + "/broken.mp4") << "not a video";
  r = Mapn({"distill", junk, "--out=" + TestPath("junk.ckpt"),
            "--cache_dir=" + cache, "--detector=none"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "no video could be read")) << r.err;
  EXPECT_TRUE(Has(r.err, "broken.mp4")) << r.err;
  EXPECT_FALSE(Exists(TestPath("junk.ckpt")));

  r = Mapn({"distill", clips, "--out=" + TestPath("mapn.ckpt"), "--model=mapn",
            "--cache_dir=" + cache, "--detector=none"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "MoveNet")) << r.err;
}

// MoveNet (17 COCO keypoints): the JSON, CSV and overlay carry COCO's
// names and skeleton; against JHMDB labels the COCO -> JHMDB mapping gives
// neck, belly and face; on a PoseTrack18 frame with two people, --person
// picks the labelled person and the crop is that person's box.
TEST(CliTest, EstimateMoveNetOnRealPeopleAgainstJhmdbAndPoseTrackLabels) {
  MAPN_REQUIRE_SHARED_DATA(shared);
  const absl::StatusOr<std::string> model =
      tfjs::FindModel("movenet-lightning");
  if (!model.ok()) GTEST_SKIP() << model.status().message();

  const std::string json = TestPath("movenet.poses.json");
  const std::string csv = TestPath("movenet.poses.csv");
  const std::string frames = TestPath("movenet_frames");
  Outcome r = Mapn(
      {"estimate", JhmdbDir(shared) + kJhmdbClip, "--model=movenet_lightning",
       "--out=" + json, "--csv=" + csv, "--overlay_frames=" + frames,
       "--ground_truth=" + JhmdbDir(shared) + "joint_positions.mat",
       "--ground_truth_boxes", "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "(jhmdb: coco predictions mapped to jhmdb")) << r.out;
  nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
  const nlohmann::json& category = doc["categories"][0];
  EXPECT_EQ(category["joint_set"], "coco");
  EXPECT_EQ(category["keypoints"][0], "nose");
  EXPECT_EQ(category["keypoints"][16], "r_ankle");
  EXPECT_EQ(category["skeleton"].size(), 19u);
  EXPECT_EQ(doc["frames"][0]["annotations"][0]["keypoints"].size(), 51u);
  EXPECT_TRUE(Has(ReadFile(csv).value(), ",nose_x,nose_y,nose_conf,"));
  EXPECT_TRUE(Exists(frames + "/000039.png"));
  // A real person in a box: MoveNet finds most joints (measured 90.3 with
  // Lightning, docs/results.md).
  EXPECT_GT(doc["summary"]["pck"].get<double>(), 70) << r.out;

  // A single 1920x1080 JPEG with two labelled people (transcoded on the
  // fly): the estimate is of track 1, in its box.
  const std::string image =
      PoseTrackDir(shared) + "images/val/009473_mpii_test/000000.jpg";
  const std::string labels =
      PoseTrackDir(shared) + "annotations/val/009473_mpii_test.json";
  r = Mapn({"estimate", image, "--model=movenet_lightning", "--out=" + json,
            "--ground_truth=" + labels, "--person=1", "--ground_truth_boxes",
            "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out,
                  "coco predictions and posetrack labels mapped to "
                  "penn_action"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "track_id 1; 1 of 1 frames labelled")) << r.out;
  doc = nlohmann::json::parse(ReadFile(json).value());
  EXPECT_EQ(doc["summary"]["frames"], 1);
  EXPECT_NEAR(doc["frames"][0]["annotations"][0]["bbox"][0].get<double>(),
              656.45, 0.01);
  EXPECT_GT(doc["summary"]["pck"].get<double>(), 70) << r.out;
}

// Refusals of --ground_truth, --person and --ground_truth_boxes, before any
// model is loaded where the flags alone decide.
TEST(CliTest, EstimateRefusesGroundTruthItCannotUse) {
  const EstimateFixture& f = Fixture();
  const std::string out = TestPath("never_gt.json");
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"estimate", f.video,
                                     "--checkpoint=" + f.model, "--out=" + out,
                                     "--progress=never"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Mapn(args);
  };
  Outcome r = run({"--person=1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--person needs --ground_truth")) << r.err;
  r = run({"--ground_truth_boxes"});
  EXPECT_EQ(r.code, kExitUsage);
  r = run({"--ground_truth=" + f.labels, "--ground_truth_boxes",
           "--box=1,1,10,10"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "excludes --box")) << r.err;
  r = run({"--ground_truth=" + f.labels, "--person=-3"});
  EXPECT_EQ(r.code, kExitUsage);
  // A format mapn does not read, and --person for a one-person format.
  ASSERT_TRUE(WriteFileAtomically(TestPath("labels.txt"), "1 2").ok());
  r = run({"--ground_truth=" + TestPath("labels.txt")});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "no label format")) << r.err;
  r = run({"--ground_truth=" + f.labels, "--person=0"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "Penn Action .mat (one person)")) << r.err;
  // Labels of one frame for a clip of many: refused, and no output.
  ASSERT_TRUE(WriteFileAtomically(
                  TestPath("one_frame.json"),
                  R"({"images": [{"id": 1}], "annotations": [{"image_id": 1,
              "bbox": [10, 10, 40, 60], "keypoints": [)" +
                      [] {
                        std::string k;
                        for (int j = 0; j < 17; ++j) {
                          k += (j ? ", " : "") + std::to_string(20 + j) +
                               ", 30, 2";
                        }
                        return k;
                      }() +
                      R"(]}], "categories": [{"id": 1, "keypoints": ["nose",
              "left_eye", "right_eye", "left_ear", "right_ear",
              "left_shoulder", "right_shoulder", "left_elbow",
              "right_elbow", "left_wrist", "right_wrist", "left_hip",
              "right_hip", "left_knee", "right_knee", "left_ankle",
              "right_ankle"]}]})")
                  .ok());
  r = run({"--ground_truth=" + TestPath("one_frame.json")});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "more frames than ground truth") &&
              Has(r.err, "one_frame.json"))
      << r.err;
  EXPECT_FALSE(Exists(out));

  MAPN_REQUIRE_SHARED_DATA(shared);
  // Several people and no --person: the error lists them.
  r = run({"--ground_truth=" + PoseTrackDir(shared) +
           "annotations/val/009473_mpii_test.json"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "2 people") && Has(r.err, "--person")) << r.err;
}

// --- Many videos ------------------------------------------------------------

// A manifest over the tiny SynthPose clips: three good videos (one in a
// subdirectory), a file that is not a video and one that does not exist.
struct BatchFixture {
  std::string dir, manifest;
  std::vector<std::string> good = {"a.mp4", "b.mp4", "sub/c.mp4"};
};

BatchFixture MakeBatch(const std::string& name) {
  BatchFixture b;
  b.dir = TestPath(name);
  std::filesystem::remove_all(b.dir);
  std::filesystem::create_directories(b.dir + "/sub");
  const std::string clip = Data() + "/mpeg4_gop12/0001.mp4";
  for (const std::string& v : b.good) {
    std::filesystem::copy_file(clip, b.dir + "/" + v);
  }
  EXPECT_TRUE(WriteFileAtomically(b.dir + "/broken.mp4", "not a video").ok());
  b.manifest = b.dir + "/videos.txt";
  EXPECT_TRUE(WriteFileAtomically(b.manifest,
                                  "# three videos, a broken one and a "
                                  "missing one\na.mp4\nb.mp4\nsub/c.mp4\n"
                                  "broken.mp4\nmissing.mp4\n")
                  .ok());
  return b;
}

std::vector<std::string> Batch(const BatchFixture& b, const std::string& out,
                               std::vector<std::string> extra) {
  std::vector<std::string> args = {
      "estimate",         "--manifest=" + b.manifest,
      "--out_dir=" + out, "--checkpoint=" + Fixture().model,
      "--detector=none",  "--progress=never"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(CliTest, EstimateManyVideosInShardsResumesAndListsFailures) {
  const BatchFixture b = MakeBatch("batch");
  const std::string out = b.dir + "/out";
  // Two shards: together every video once; the failures listed, the rest
  // done, a non-zero exit only for the shard with a failure.
  std::multiset<std::string> failed;
  int done = 0;
  for (const char* shard : {"0/2", "1/2"}) {
    const Outcome r = Mapn(Batch(b, out, {std::string("--shard=") + shard}));
    const std::string failures =
        ReadFile(out + "/failures-" + std::string(1, shard[0]) + "-of-2.tsv")
            .value();
    const bool any = Has(failures, ".mp4\t");
    EXPECT_EQ(r.code, any ? kExitFailure : kExitOk) << r.out << r.err;
    EXPECT_TRUE(Has(r.out, std::string("shard ") + shard)) << r.out;
    for (const char* name : {"broken.mp4", "missing.mp4"}) {
      if (Has(failures, std::string(name) + "\t")) failed.insert(name);
    }
  }
  EXPECT_EQ(failed, (std::multiset<std::string>{"broken.mp4", "missing.mp4"}));
  for (const std::string& v : b.good) {
    const std::string json = out + "/" + v + ".poses.json";
    ASSERT_TRUE(Exists(json)) << json;
    EXPECT_TRUE(Exists(out + "/" + v + ".done.json"));
    const nlohmann::json doc = nlohmann::json::parse(ReadFile(json).value());
    EXPECT_GE(doc["summary"]["frames"].get<int>(), 24);
    ++done;
  }
  EXPECT_EQ(done, 3);
  EXPECT_FALSE(Exists(out + "/broken.mp4.poses.json"));
  // A rerun of everything does nothing but the failures again ...
  Outcome r = Mapn(Batch(b, out, {}));
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.out,
                  "5 of 5 videos: 0 done, 3 already done (skipped), 2 "
                  "failed"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "failed: missing.mp4: ")) << r.out;
  EXPECT_TRUE(Has(r.out, "failed: broken.mp4: ")) << r.out;
  // ... a video whose outputs a killed run never finished is done again,
  // and so is every video under another model setting.
  std::filesystem::remove(out + "/b.mp4.poses.json");
  std::filesystem::remove(out + "/b.mp4.done.json");
  r = Mapn(Batch(b, out, {}));
  EXPECT_TRUE(Has(r.out, "1 done, 2 already done")) << r.out;
  r = Mapn(Batch(b, out, {"--on_corrupt=fail"}));
  EXPECT_TRUE(Has(r.out, "3 done, 0 already done")) << r.out;
  // A directory instead of a manifest: every video file under it.
  std::filesystem::remove(b.dir + "/broken.mp4");
  r = Mapn({"estimate", b.dir, "--out_dir=" + b.dir + "/out_dir",
            "--checkpoint=" + Fixture().model, "--detector=none",
            "--progress=never", "--with_csv"});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "3 of 3 videos: 3 done")) << r.out;
  EXPECT_TRUE(Exists(b.dir + "/out_dir/sub/c.mp4.poses.csv"));
}

TEST(CliTest, EstimateManyVideosRefusesSingleVideoFlags) {
  const BatchFixture b = MakeBatch("batch_refusals");
  const std::string out = b.dir + "/out";
  for (const std::vector<std::string>& extra :
       std::vector<std::vector<std::string>>{{"--out=x.json"},
                                             {"--csv=x.csv"},
                                             {"--overlay=x.mp4"},
                                             {"--shard=2/2"},
                                             {"--shard=x"}}) {
    const Outcome r = Mapn(Batch(b, out, extra));
    EXPECT_EQ(r.code, kExitUsage) << extra[0] << ": " << r.err;
    EXPECT_TRUE(Has(r.err, extra[0].substr(0, extra[0].find('=')))) << r.err;
  }
  Outcome r = Mapn({"estimate", "--manifest=" + b.manifest,
                    "--checkpoint=" + Fixture().model});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "--out_dir")) << r.err;
  r = Mapn({"estimate", Fixture().video, "--out_dir=" + out});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "many videos")) << r.err;
  r = Mapn({"estimate"});
  EXPECT_EQ(r.code, kExitUsage);
  r = Mapn({"estimate", "--manifest=" + b.dir + "/nope.txt", "--out_dir=" + out,
            "--checkpoint=" + Fixture().model, "--detector=none"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "nope.txt")) << r.err;
}

// The command lines of docs/examples' Slurm script and Kubernetes Job, run
// with the variables their launchers set: the shard each task takes.
std::vector<std::string> ExampleArgs(const std::string& path,
                                     const std::string& marker) {
  const std::string text = ReadFile(path).value();
  std::vector<std::string> args;
  if (marker == "slurm") {
    // The line that runs mapn: "$mapn" estimate --a="$x" ...
    const size_t at = text.find("\"$mapn\" estimate");
    EXPECT_NE(at, std::string::npos) << path;
    const std::string line = text.substr(at, text.find('\n', at) - at);
    std::istringstream words(line);
    for (std::string w; words >> w;) args.push_back(w);
    args.erase(args.begin());  // "$mapn"
  } else {
    // The container's command list: "- mapn", "- estimate", "- --flag".
    const size_t at = text.find("command:");
    EXPECT_NE(at, std::string::npos) << path;
    std::istringstream lines(text.substr(at));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line)) {
      const size_t dash = line.find("- ");
      if (dash == std::string::npos || line.find(':') != std::string::npos) {
        break;
      }
      args.push_back(line.substr(dash + 2));
    }
    args.erase(args.begin());  // mapn
  }
  return args;
}

std::string Replace(std::string s, const std::string& from,
                    const std::string& to) {
  for (size_t at; (at = s.find(from)) != std::string::npos;) {
    s.replace(at, from.size(), to);
  }
  return s;
}

TEST(CliTest, SlurmAndKubernetesExamplesPickTheirShard) {
  const BatchFixture b = MakeBatch("batch_examples");
  const auto run =
      [&](std::vector<std::string> args,
          const std::vector<std::pair<std::string, std::string>>& env) {
        for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
        args.push_back("--checkpoint=" + Fixture().model);
        args.push_back("--detector=none");
        const Outcome r = Mapn(args);
        for (const auto& [k, v] : env) ::unsetenv(k.c_str());
        return r;
      };
  // Slurm: --array=0-7 gives 8 tasks; task 5 is shard 5/8.
  std::vector<std::string> slurm =
      ExampleArgs("docs/examples/slurm_estimate.sh", "slurm");
  ASSERT_GE(slurm.size(), 3u);
  EXPECT_EQ(slurm[0], "estimate");
  for (std::string& a : slurm) {
    a = Replace(Replace(Replace(a, "\"$manifest\"", b.manifest), "\"$out_dir\"",
                        b.dir + "/slurm"),
                "\"", "");
  }
  const std::string script =
      ReadFile("docs/examples/slurm_estimate.sh").value();
  EXPECT_TRUE(Has(script, "#SBATCH --array=0-7")) << script;
  Outcome r = run(slurm, {{"SLURM_ARRAY_TASK_ID", "5"},
                          {"SLURM_ARRAY_TASK_MIN", "0"},
                          {"SLURM_ARRAY_TASK_COUNT", "8"}});
  EXPECT_TRUE(Has(r.out, "shard 5/8:")) << r.out << r.err;
  // Kubernetes: completions 8 = --num_shards=8; index 3 is shard 3/8.
  const std::string job =
      ReadFile("docs/examples/k8s_estimate_job.yaml").value();
  EXPECT_TRUE(Has(job, "completionMode: Indexed")) << job;
  EXPECT_TRUE(Has(job, "completions: 8")) << job;
  std::vector<std::string> k8s =
      ExampleArgs("docs/examples/k8s_estimate_job.yaml", "k8s");
  ASSERT_GE(k8s.size(), 3u);
  EXPECT_EQ(k8s[0], "estimate");
  EXPECT_NE(std::find(k8s.begin(), k8s.end(), "--num_shards=8"), k8s.end());
  for (std::string& a : k8s) {
    a = Replace(Replace(a, "/data/videos.txt", b.manifest), "/data/poses",
                b.dir + "/k8s");
  }
  r = run(k8s, {{"JOB_COMPLETION_INDEX", "3"}});
  EXPECT_TRUE(Has(r.out, "shard 3/8:")) << r.out << r.err;
  // Without the index variable, --num_shards alone is refused.
  r = run(k8s, {});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Has(r.err, "needs a shard index")) << r.err;
}

// A shard killed mid-way (SIGKILL: no chance to clean up) and rerun does
// only the videos it had not finished; every output it left is whole.
TEST(CliTest, AKilledShardRerunFinishesOnlyWhatWasLeft) {
  const std::string dir = TestPath("batch_killed");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string list;
  constexpr int kVideos = 8;
  for (int i = 0; i < kVideos; ++i) {
    const std::string name = "v" + std::to_string(i) + ".mp4";
    std::filesystem::copy_file(Data() + "/mpeg4_gop12/0001.mp4",
                               dir + "/" + name);
    list += name + "\n";
  }
  ASSERT_TRUE(WriteFileAtomically(dir + "/videos.txt", list).ok());
  const std::string out = dir + "/out";
  const std::vector<std::string> flags = {
      "--manifest=" + dir + "/videos.txt", "--out_dir=" + out,
      "--checkpoint=" + Fixture().model, "--detector=none", "--progress=never"};
  // The mapn binary in a process of its own.
  std::vector<std::string> args = {"mapn/cli/mapn", "estimate"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(
      ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  const auto done_records = [&] {
    int n = 0;
    std::error_code error;
    for (const auto& e : std::filesystem::directory_iterator(out, error)) {
      n += absl::EndsWith(e.path().string(), ".done.json");
    }
    return n;
  };
  // Killed once the first video is done.
  for (int i = 0; i < 1200 && done_records() == 0; ++i) ::usleep(100000);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const int finished = done_records();
  ASSERT_GE(finished, 1);
  if (finished == kVideos) GTEST_SKIP() << "the shard ended before the kill";
  // What it left is whole: every poses file parses.
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    if (absl::EndsWith(e.path().string(), ".poses.json")) {
      EXPECT_FALSE(
          nlohmann::json::parse(ReadFile(e.path()).value(), nullptr, false)
              .is_discarded())
          << e.path();
    }
  }
  std::vector<std::string> rerun = {"estimate"};
  rerun.insert(rerun.end(), flags.begin(), flags.end());
  const Outcome r = Mapn(rerun);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, std::to_string(kVideos - finished) + " done, " +
                             std::to_string(finished) + " already done"))
      << r.out;
}

}  // namespace
}  // namespace mapn::cli
