// `mapn train` and `mapn eval` end to end on a tiny SynthPose set, run
// in-process through RunMain: train every stage of a tiny MAPN, evaluate the
// model and its training state, resume, and reject bad flags with messages
// that name them.
#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "gtest/gtest.h"
#include "mapn/cli/subcommand.h"
#include "mapn/core/atomic_file.h"
#include "mapn/train/test_data.h"
#include "mapn/video/test_clips.h"
#include "nlohmann/json.hpp"

namespace mapn::cli {
extern const Subcommand kTrainCommand;
extern const Subcommand kEvalCommand;

namespace {

using mapn::testing::TestPath;

struct Outcome {
  int code;
  std::string out, err;
};

Outcome Mapn(std::vector<std::string> args) {
  absl::FlagSaver restore_flags;
  args.insert(args.begin(), "mapn");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = RunMain({kTrainCommand, kEvalCommand},
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
    EXPECT_TRUE(train::testing::MakeTinySynthPose(dir, 2).ok());
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
          "--windows_per_step=2",
          "--out=" + out};
}

TEST(TrainEvalCliTest, TrainsEveryStageThenEvaluates) {
  const std::string model = TestPath("cli_mapn.ckpt");
  const Outcome trained = Mapn(TinyTrain(model));
  ASSERT_EQ(trained.code, kExitOk) << trained.err;
  for (const char* stage : {"stage 1 (single frame)", "stage 2 (propagation)",
                            "stage 3 (gate)", "stage 4 (joint)"}) {
    EXPECT_TRUE(Has(trained.err, stage)) << trained.err;
  }
  EXPECT_TRUE(Has(trained.err, "ETA")) << trained.err;

  const std::string csv = TestPath("cli.csv"), json = TestPath("cli.json");
  const Outcome evaluated =
      Mapn({"eval", "--checkpoint=" + model, "--data_root=" + Data(),
            "--subset=all", "--label=tiny", "--csv=" + csv,
            "--json=" + json});
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

TEST(TrainEvalCliTest, BadFlagsAreUsageErrorsNamingThem) {
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

}  // namespace
}  // namespace mapn::cli
