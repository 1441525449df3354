// Data-parallel training over c10d (distributed.h, trainer.h): two
// processes on 127.0.0.1 end stages 1 and 2 at the weights one process
// reaches on the same global batches; a rank that dies mid-training makes
// the other fail with a clear error within the time-out; a world of one
// trains bit for bit as without a communicator; rendezvous with nobody there
// times out; the torchrun-style options resolve from flags and variables.
//
// The second process is this test binary again (/proc/self/exe), run with
// --gtest_filter naming the same test and kRankVariable naming its rank: the
// test body sees the variable and plays that rank.
#include "mapn/train/distributed.h"

#include <ATen/ATen.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/nn/modules/conv.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapn/model/any_pipeline.h"
#include "mapn/model/checkpoint.h"
#include "mapn/model/composition.h"
#include "mapn/model/options.h"
#include "mapn/model/pipeline.h"
#include "mapn/model/policies.h"
#include "mapn/model/propagators.h"
#include "mapn/testing/test_data.h"
#include "mapn/train/pose_windows.h"
#include "mapn/train/trainer.h"
#include "mapn/video/test_clips.h"
#include "mapn/testing/tiny_extractor.h"

extern char** environ;

namespace mapn::train {
namespace {

using mapn::testing::TestPath;
using model::MacCount;

// --- A composition without batch norm ---
//
// Batch norm in training mode normalises by the statistics of each rank's
// own block (as PyTorch's DDP without SyncBatchNorm does), so a model with
// it does not reach one process's weights; these components have none.

using mapn::testing::TinyExtractor;

// J heatmaps at stride 4: a 3 x 3 convolution, upsampled 2 x bilinearly.
struct UpsampleHeadOptions {
  int64_t in_channels = 0;  // 0: wired to the extractor's
  int64_t out_channels = 13;
  static constexpr auto Fields() {
    return std::tuple{
        model::OptionField{"in_channels", &UpsampleHeadOptions::in_channels},
        model::OptionField{"out_channels", &UpsampleHeadOptions::out_channels}};
  }
  absl::Status Validate() const { return absl::OkStatus(); }
};

class UpsampleHeadImpl : public torch::nn::Module {
 public:
  using Options = UpsampleHeadOptions;
  explicit UpsampleHeadImpl(const Options& options) : options_(options) {
    conv_ = register_module(
        "conv",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels,
                                                   options.out_channels, 3)
                              .padding(1)));
  }
  at::Tensor Decode(const at::Tensor& h) {
    return at::upsample_bilinear2d(conv_->forward(h),
                                   {h.size(2) * 2, h.size(3) * 2},
                                   /*align_corners=*/false);
  }
  int64_t in_channels() const { return options_.in_channels; }
  int64_t out_channels() const { return options_.out_channels; }
  int64_t upsampling() const { return 2; }
  MacCount Macs(int64_t h, int64_t w) const {
    return model::ConvMacs(options_.in_channels, options_.out_channels, 3, 3, h,
                           w);
  }
  const Options& options() const { return options_; }

 private:
  Options options_;
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(UpsampleHead);

// A learned gate, so that stage 2 draws random decisions (for the whole
// global batch, sliced by rank).
using NoBatchNorm = model::Composition<"no_batch_norm", TinyExtractor,
                                       model::MotionWarpConvLstm,
                                       model::ResidualGate, UpsampleHead>;

NoBatchNorm MakeNoBatchNorm(uint64_t seed) {
  NoBatchNorm::Options options;
  options.input_size = 64;
  at::manual_seed(seed);
  return model::MakeModel<NoBatchNorm>(options).value();
}

// Every tensor of the model (parameters, then buffers), flattened into one.
at::Tensor Flat(const torch::nn::Module& module) {
  std::vector<at::Tensor> parts;
  for (const auto& [name, t] : model::ModuleTensors(module)) {
    parts.push_back(t.detach().to(at::kDouble).reshape({-1}));
  }
  return at::cat(parts);
}

void WriteFlat(const at::Tensor& flat, const std::string& path) {
  const at::Tensor c = flat.contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(c.data_ptr()),
            static_cast<std::streamsize>(c.numel() * sizeof(double)));
}

at::Tensor ReadFlat(const std::string& path, int64_t n) {
  at::Tensor t = at::zeros({n}, at::kDouble);
  std::ifstream in(path, std::ios::binary);
  in.read(static_cast<char*>(t.data_ptr()),
          static_cast<std::streamsize>(n * sizeof(double)));
  EXPECT_TRUE(in.good()) << "cannot read " << n << " doubles from " << path;
  return t;
}

// --- The second process ---

constexpr char kRankVariable[] = "MAPN_DISTRIBUTED_TEST_RANK";
constexpr char kPortVariable[] = "MAPN_DISTRIBUTED_TEST_PORT";

// This process's rank when it is the re-executed child; -1 in the parent.
int ChildRank() {
  const char* rank = std::getenv(kRankVariable);
  return rank == nullptr ? -1 : std::atoi(rank);
}

int ChildPort() {
  const char* port = std::getenv(kPortVariable);
  return port == nullptr ? 0 : std::atoi(port);
}

// A port nobody listens on now: the kernel's pick for port 0.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// This binary again, running only the current test as rank `rank`.
pid_t SpawnRank(int rank, int port) {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string filter = absl::StrCat(
      "--gtest_filter=", test->test_suite_name(), ".", test->name());
  std::vector<std::string> env = {absl::StrCat(kRankVariable, "=", rank),
                                  absl::StrCat(kPortVariable, "=", port)};
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::string filter_arg = filter;
  char* argv[] = {exe.data(), filter_arg.data(), nullptr};
  pid_t pid = -1;
  const int error =
      posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, envp.data());
  EXPECT_EQ(error, 0) << "posix_spawn: " << error;
  return pid;
}

// The child's exit code, or -1 (after killing it) when it has not exited
// within `seconds`.
int WaitFor(pid_t pid, double seconds) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

DistributedOptions TwoRanks(int rank, int port, double timeout) {
  DistributedOptions o;
  o.rank = rank;
  o.world_size = 2;
  o.master_addr = "127.0.0.1";
  o.master_port = port;
  o.timeout_seconds = timeout;
  return o;
}

class DistributedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Each process makes its own copy (the same bytes: SynthPose is drawn
    // from a seed), so that parent and child do not write one directory.
    const int rank = std::max(ChildRank(), 0);
    absl::StatusOr<PoseDataset> synth = mapn::testing::MakeTinySynthPose(
        TestPath(absl::StrCat("distributed_synth_", rank)), 3);
    ASSERT_TRUE(synth.ok()) << synth.status();
    absl::StatusOr<PoseWindows> windows =
        PoseWindows::Create(*std::move(synth), {.input_size = 64});
    ASSERT_TRUE(windows.ok()) << windows.status();
    windows_.emplace(*std::move(windows));
  }

  // Stages 1 and 2, two steps each of 3 windows (so the ranks' blocks
  // differ in size: 1 and 2 windows), with augmentation.
  static std::vector<TrainOptions> TwoStages(std::shared_ptr<Communicator> comm,
                                             const std::string& checkpoint) {
    std::vector<TrainOptions> stages;
    for (Stage s : {Stage::kSingleFrame, Stage::kPropagation}) {
      TrainOptions o = StageDefaults(s);
      o.epochs = 1;
      o.batch_size = 3;
      o.max_steps_per_epoch = 2;
      o.quiet = true;
      o.communicator = comm;
      o.checkpoint_path = checkpoint;
      stages.push_back(o);
    }
    return stages;
  }

  std::optional<PoseWindows> windows_;
};

TEST_F(DistributedTest, TwoProcessesReachTheWeightsOfOne) {
  const int child = ChildRank();
  const std::string weights_of_rank_1 = TestPath("rank1.weights");
  if (child >= 0) {
    // Rank 1: other initial weights (rank 0's are broadcast), its own
    // checkpoint path, which it must leave unwritten.
    const std::string checkpoint = TestPath("rank1.state");
    std::remove(checkpoint.c_str());
    absl::StatusOr<std::shared_ptr<Communicator>> comm =
        ConnectGloo(TwoRanks(child, ChildPort(), 30));
    ASSERT_TRUE(comm.ok()) << comm.status();
    NoBatchNorm model = MakeNoBatchNorm(99);
    const model::AnyPipeline any(model, "test");
    const auto reports =
        TrainStages(any, *windows_, TwoStages(*comm, checkpoint));
    ASSERT_TRUE(reports.ok()) << reports.status();
    WriteFlat(Flat(*model), weights_of_rank_1);
    EXPECT_FALSE(std::ifstream(checkpoint).good())
        << "rank 1 wrote a checkpoint";
    return;
  }

  // One process on the global batches.
  NoBatchNorm single = MakeNoBatchNorm(7);
  const at::Tensor initial = Flat(*single);
  {
    const model::AnyPipeline any(single, "test");
    const auto reports = TrainStages(any, *windows_, TwoStages(nullptr, ""));
    ASSERT_TRUE(reports.ok()) << reports.status();
  }
  const at::Tensor expected = Flat(*single);
  ASSERT_FALSE(at::equal(expected, initial));

  // Two processes: this one is rank 0.
  const int port = FreePort();
  std::remove(weights_of_rank_1.c_str());
  const pid_t pid = SpawnRank(1, port);
  absl::StatusOr<std::shared_ptr<Communicator>> comm =
      ConnectGloo(TwoRanks(0, port, 30));
  ASSERT_TRUE(comm.ok()) << comm.status();
  EXPECT_EQ((*comm)->rank(), 0);
  EXPECT_EQ((*comm)->world_size(), 2);
  EXPECT_EQ((*comm)->backend(), "gloo");
  NoBatchNorm model = MakeNoBatchNorm(7);
  const model::AnyPipeline any(model, "test");
  const std::string checkpoint = TestPath("rank0.state");
  std::remove(checkpoint.c_str());
  const auto reports =
      TrainStages(any, *windows_, TwoStages(*comm, checkpoint));
  ASSERT_TRUE(reports.ok()) << reports.status();
  ASSERT_EQ(WaitFor(pid, 120), 0) << "rank 1 failed";
  EXPECT_TRUE(std::ifstream(checkpoint).good()) << "rank 0 wrote no state";

  const at::Tensor rank0 = Flat(*model);
  const at::Tensor rank1 = ReadFlat(weights_of_rank_1, rank0.numel());
  // The ranks apply the same averaged gradient: the same weights exactly.
  EXPECT_TRUE(at::equal(rank0, rank1))
      << "max |rank 0 - rank 1| " << (rank0 - rank1).abs().max().item<double>();
  // And those of one process, up to the order of float sums.
  const double scale = expected.abs().max().item<double>();
  const double diff = (rank0 - expected).abs().max().item<double>();
  const double moved = (expected - initial).abs().max().item<double>();
  std::cerr << "max |two processes - one process| " << diff
            << ", largest weight " << scale << ", largest change " << moved
            << "\n";
  EXPECT_LE(diff, 1e-5 * scale) << "moved by training: " << moved;
  EXPECT_LT(diff, 1e-3 * moved);
}

TEST_F(DistributedTest, ARankThatDiesMakesTheOtherFailWithinTheTimeOut) {
  const int child = ChildRank();
  std::vector<TrainOptions> stages = TwoStages(nullptr, "");
  stages.resize(1);
  stages[0].max_steps_per_epoch = 6;
  stages[0].batch_size = 2;
  if (child >= 0) {
    absl::StatusOr<std::shared_ptr<Communicator>> comm =
        ConnectGloo(TwoRanks(child, ChildPort(), 10));
    ASSERT_TRUE(comm.ok()) << comm.status();
    stages[0].communicator = *comm;
    // Dies after its first step, without closing anything.
    stages[0].on_step = [](const StepReport&) { _exit(3); };
    NoBatchNorm model = MakeNoBatchNorm(1);
    const auto reports =
        TrainStages(model::AnyPipeline(model, "test"), *windows_, stages);
    ADD_FAILURE() << "rank 1 should have exited: " << reports.status();
    return;
  }
  const int port = FreePort();
  const pid_t pid = SpawnRank(1, port);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<Communicator>> comm =
      ConnectGloo(TwoRanks(0, port, 10));
  ASSERT_TRUE(comm.ok()) << comm.status();
  stages[0].communicator = *comm;
  int steps = 0;
  stages[0].on_step = [&](const StepReport&) { ++steps; };
  NoBatchNorm model = MakeNoBatchNorm(1);
  const auto reports =
      TrainStages(model::AnyPipeline(model, "test"), *windows_, stages);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(WaitFor(pid, 30), 3);
  ASSERT_FALSE(reports.ok());
  EXPECT_LT(seconds, 30);
  EXPECT_LE(steps, 1);
  const std::string message(reports.status().message());
  EXPECT_NE(message.find("rank 0 of 2"), std::string::npos) << message;
  EXPECT_NE(message.find("another rank exited"), std::string::npos) << message;
  std::cerr << "rank 0 failed after " << seconds << " s: " << message << "\n";
}

TEST_F(DistributedTest, AWorldOfOneTrainsExactlyAsOneProcess) {
  if (ChildRank() >= 0) return;
  DistributedOptions one;
  one.master_port = 1;  // never used: a world of one listens on nothing
  absl::StatusOr<std::shared_ptr<Communicator>> comm = ConnectGloo(one);
  ASSERT_TRUE(comm.ok()) << comm.status();
  EXPECT_EQ((*comm)->world_size(), 1);
  std::vector<at::Tensor> tensors = {at::ones({3})};
  ASSERT_TRUE((*comm)->AllReduceSum(tensors).ok());
  EXPECT_TRUE(at::equal(tensors[0], at::ones({3})));

  std::vector<at::Tensor> weights;
  for (std::shared_ptr<Communicator> c :
       {std::shared_ptr<Communicator>(), *comm, SingleProcess()}) {
    NoBatchNorm model = MakeNoBatchNorm(5);
    const auto reports = TrainStages(model::AnyPipeline(model, "test"),
                                     *windows_, TwoStages(c, ""));
    ASSERT_TRUE(reports.ok()) << reports.status();
    weights.push_back(Flat(*model));
  }
  EXPECT_TRUE(at::equal(weights[0], weights[1]));
  EXPECT_TRUE(at::equal(weights[0], weights[2]));
}

TEST(DistributedConnectTest, RendezvousWithNobodyThereTimesOut) {
  if (ChildRank() >= 0) return;
  const auto start = std::chrono::steady_clock::now();
  // Rank 1 waits for a rank 0 that never comes.
  absl::StatusOr<std::shared_ptr<Communicator>> comm =
      ConnectGloo(TwoRanks(1, FreePort(), 1.5));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  ASSERT_FALSE(comm.ok());
  EXPECT_GE(seconds, 1.4);  // it kept trying: rank 0 may start later
  EXPECT_LT(seconds, 20);
  const std::string message(comm.status().message());
  EXPECT_NE(message.find("rank 1 of 2"), std::string::npos) << message;
  EXPECT_NE(message.find("127.0.0.1:"), std::string::npos) << message;
  std::cerr << "after " << seconds << " s: " << message << "\n";
}

// --- Options from flags and torchrun's variables ---

std::function<const char*(const char*)> Env(
    const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(DistributedOptionsTest, DefaultsAreOneProcess) {
  absl::StatusOr<DistributedOptions> o = ResolveDistributedOptions({}, Env({}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rank, 0);
  EXPECT_EQ(o->world_size, 1);
  EXPECT_EQ(o->master_addr, "127.0.0.1");
  EXPECT_EQ(o->master_port, 29500);
}

TEST(DistributedOptionsTest, TorchrunVariablesAreTheDefaults) {
  absl::StatusOr<DistributedOptions> o =
      ResolveDistributedOptions({}, Env({{"RANK", "2"},
                                         {"WORLD_SIZE", "4"},
                                         {"MASTER_ADDR", "10.1.2.3"},
                                         {"MASTER_PORT", "1234"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rank, 2);
  EXPECT_EQ(o->world_size, 4);
  EXPECT_EQ(o->master_addr, "10.1.2.3");
  EXPECT_EQ(o->master_port, 1234);
}

TEST(DistributedOptionsTest, FlagsWin) {
  DistributedFlags flags;
  flags.rank = 0;
  flags.world_size = 2;
  flags.master_addr = "node0";
  flags.master_port = 4321;
  flags.timeout_seconds = 7;
  absl::StatusOr<DistributedOptions> o =
      ResolveDistributedOptions(flags, Env({{"RANK", "2"},
                                            {"WORLD_SIZE", "4"},
                                            {"MASTER_ADDR", "10.1.2.3"},
                                            {"MASTER_PORT", "1234"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rank, 0);
  EXPECT_EQ(o->world_size, 2);
  EXPECT_EQ(o->master_addr, "node0");
  EXPECT_EQ(o->master_port, 4321);
  EXPECT_EQ(o->timeout_seconds, 7);
}

TEST(DistributedOptionsTest, BadValuesAreRefusedByName) {
  auto error = [](const DistributedFlags& flags,
                  const std::map<std::string, std::string>& vars) {
    absl::StatusOr<DistributedOptions> o =
        ResolveDistributedOptions(flags, Env(vars));
    EXPECT_FALSE(o.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(o.status())) << o.status();
    return std::string(o.status().message());
  };
  EXPECT_NE(error({}, {{"WORLD_SIZE", "two"}}).find("WORLD_SIZE"),
            std::string::npos);
  EXPECT_NE(error({}, {{"RANK", "1x"}}).find("RANK"), std::string::npos);
  EXPECT_NE(error({}, {{"WORLD_SIZE", "2"}, {"RANK", "2"}}).find("rank"),
            std::string::npos);
  DistributedFlags zero;
  zero.world_size = 0;
  EXPECT_NE(error(zero, {}).find("world_size"), std::string::npos);
  DistributedFlags port;
  port.master_port = 70000;
  EXPECT_NE(error(port, {}).find("master_port"), std::string::npos);
  DistributedFlags negative_rank;
  negative_rank.rank = -1;
  EXPECT_NE(error(negative_rank, {}).find("rank"), std::string::npos);
  DistributedFlags timeout;
  timeout.timeout_seconds = 0;
  EXPECT_NE(error(timeout, {}).find("time-out"), std::string::npos);
  DistributedFlags empty_addr;
  empty_addr.master_addr = "";
  EXPECT_NE(error(empty_addr, {}).find("master_addr"), std::string::npos);
}

}  // namespace
}  // namespace mapn::train
