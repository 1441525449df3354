// The `mapn` dispatcher and the inspect / transcode subcommands, run
// in-process through RunMain with the same list main.cc uses.
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "gtest/gtest.h"
#include "mapn/cli/subcommand.h"
#include "mapn/video/test_clips.h"
#include "mapn/viz/png.h"
#include "nlohmann/json.hpp"

namespace mapn::cli {
extern const Subcommand kInspectCommand;
extern const Subcommand kTranscodeCommand;

namespace {

struct Outcome {
  int code;
  std::string out, err;
};

Outcome Mapn(std::vector<std::string> args) {
  absl::FlagSaver restore_flags;  // every run starts from the defaults
  args.insert(args.begin(), "mapn");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code =
      RunMain({kInspectCommand, kTranscodeCommand}, CommandContext{},
              static_cast<int>(argv.size()), argv.data());
  Outcome r{code, ::testing::internal::GetCapturedStdout(),
            ::testing::internal::GetCapturedStderr()};
  return r;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string Clip() {
  static const std::string path = [] {
    const std::string p = mapn::testing::TestPath("cli_clip.mp4");
    mapn::testing::ClipSpec spec;
    spec.width = 64;
    spec.height = 48;
    spec.frames = 14;
    spec.dx = 1;
    EXPECT_TRUE(mapn::testing::WriteClip(p, mapn::testing::MakeFrames(spec),
                                         mapn::testing::Mpeg4Options())
                    .ok());
    return p;
  }();
  return path;
}

TEST(DispatchTest, HelpListsSubcommandsAndTheirOwnFlags) {
  const Outcome overview = Mapn({"--help"});
  EXPECT_EQ(overview.code, kExitOk);
  EXPECT_TRUE(Has(overview.out, "inspect") && Has(overview.out, "transcode"));
  EXPECT_EQ(Mapn({}).code, kExitUsage);
  const Outcome unknown = Mapn({"frobnicate"});
  EXPECT_EQ(unknown.code, kExitUsage);
  EXPECT_TRUE(Has(unknown.err, "frobnicate"));

  const Outcome inspect = Mapn({"inspect", "--help"});
  EXPECT_EQ(inspect.code, kExitOk);
  EXPECT_TRUE(Has(inspect.out, "Usage: mapn inspect"));
  EXPECT_TRUE(Has(inspect.out, "--dump"));
  EXPECT_FALSE(Has(inspect.out, "--gop"));  // transcode's, not inspect's
  const Outcome transcode = Mapn({"help", "transcode"});
  EXPECT_TRUE(Has(transcode.out, "--gop") &&
              Has(transcode.out, "--input_frame_rate"));
  EXPECT_FALSE(Has(transcode.out, "--dump"));
}

TEST(DispatchTest, UsageErrorsExitTwoWithOneLineNamingTheFlag) {
  const std::string clip = Clip();
  for (const auto& [args, flag] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"inspect", clip, "--window_length=0"}, "--window_length"},
           {{"inspect", clip, "--window_length", "abc"}, "--window_length"},
           {{"inspect", clip, "--gop=3"}, "--gop"},
           {{"inspect", clip, "--dump"}, "--dump"},
           {{"inspect", clip, "--residual_gain=-1"}, "--residual_gain"},
           {{"transcode", clip, "out.mp4", "--qscale=40"}, "--qscale"},
           {{"transcode", clip, "out.mp4", "--max_width=1"}, "--max_width"},
       }) {
    const Outcome r = Mapn(args);
    EXPECT_EQ(r.code, kExitUsage) << args.back();
    EXPECT_TRUE(Has(r.err, flag)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  const Outcome no_video = Mapn({"inspect"});
  EXPECT_EQ(no_video.code, kExitUsage);
  EXPECT_TRUE(Has(no_video.err, "mapn inspect VIDEO"));
  EXPECT_EQ(Mapn({"transcode", clip}).code, kExitUsage);
}

TEST(InspectTest, ReportsTheStream) {
  const Outcome r = Mapn({"inspect", Clip()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.out, "codec:       mpeg4"));
  EXPECT_TRUE(Has(r.out, "resolution:  64x48"));
  EXPECT_TRUE(Has(r.out, "frames:      14 decoded"));
  EXPECT_TRUE(Has(r.out, "frame types: I 2, P 12, B 0"));
  EXPECT_TRUE(Has(r.out, "GOPs:        2 (lengths 12, 2)"));
  EXPECT_TRUE(Has(r.out, "reader:      ok"));
  EXPECT_TRUE(Has(r.out, "mean|mv|"));
}

TEST(InspectTest, JsonCarriesTheSameReport) {
  const Outcome r = Mapn({"inspect", Clip(), "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["codec"], "mpeg4");
  EXPECT_EQ(j["frames"], 14);
  EXPECT_EQ(j["frame_types"]["P"], 12);
  EXPECT_EQ(j["gop_lengths"], nlohmann::json({12, 2}));
  ASSERT_EQ(j["per_frame"].size(), 14u);
  EXPECT_EQ(j["per_frame"][3]["type"], "P");
  EXPECT_GT(j["per_frame"][3]["vectors"].get<int>(), 0);
  EXPECT_NEAR(j["per_frame"][3]["mean_magnitude"].get<double>(), 1.0, 0.3);
}

TEST(InspectTest, DumpWritesFigureRows) {
  const std::string dir = mapn::testing::TestPath("dump/nested");
  const Outcome r =
      Mapn({"inspect", Clip(), "--dump", dir, "--dump_frames=5", "--noframes"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Has(r.err, "wrote 5 frame PNGs"));
  absl::StatusOr<at::Tensor> legend = ReadPng(dir + "/legend.png");
  ASSERT_TRUE(legend.ok()) << legend.status();
  absl::StatusOr<at::Tensor> row = ReadPng(dir + "/frame_000003_P.png");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->size(1), 48);
  EXPECT_EQ(row->size(2), 3 * 64 + 2 * 4);  // three panels, two gaps
  struct stat st;
  EXPECT_NE(::stat((dir + "/frame_000005_P.png").c_str(), &st),
            0);  // the limit
}

TEST(InspectTest, FailuresExitOneNamingTheFile) {
  const Outcome r = Mapn({"inspect", mapn::testing::TestPath("absent.mp4")});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(Has(r.err, "absent.mp4"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(TranscodeCommandTest, WritesTheRequestedGop) {
  const std::string out = mapn::testing::TestPath("cli_out.mkv");
  const Outcome r = Mapn({"transcode", Clip(), out, "--gop", "5"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const Outcome check = Mapn({"inspect", out, "--noframes"});
  EXPECT_TRUE(Has(check.out, "GOPs:        3 (lengths 5 x 2, 4)")) << check.out;
  const Outcome bad =
      Mapn({"transcode", mapn::testing::TestPath("absent.mp4"), out});
  EXPECT_EQ(bad.code, kExitFailure);
}

}  // namespace
}  // namespace mapn::cli
