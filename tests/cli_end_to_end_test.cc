// The mapn subcommands end to end, run in-process through RunMain: `synth`
// writes a dataset that `train` trains every stage of a tiny MAPN on;
// `eval` evaluates the model and its training state; `estimate` runs it on a
// clip (and on one the reader refuses, which it transcodes first), writing
// JSON, CSV, an overlay video and overlay PNGs; every bad flag or input is
// refused with a message that names it and no partial output file.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/reflection.h"
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
                    overlay = TestPath("overlay.mp4");
  const Outcome r =
      Mapn({"estimate", f.video, "--checkpoint=" + f.model, "--out=" + json,
            "--csv=" + csv, "--overlay=" + overlay, "--panels",
            "--boxes=" + f.labels, "--ground-truth=" + f.labels,
            "--compare-baseline", "--progress=never"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
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

}  // namespace
}  // namespace mapn::cli
