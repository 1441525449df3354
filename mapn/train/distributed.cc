#include "mapn/train/distributed.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <ATen/cuda/CUDAContext.h>

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <map>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mapn::train {
namespace {

class SingleProcessCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend() const override { return "single process"; }
  absl::Status Broadcast(std::vector<at::Tensor>& /*tensors*/,
                         int root) override {
    if (root != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("broadcast from rank ", root, " in a world of 1"));
    }
    return absl::OkStatus();
  }
  absl::Status AllReduceSum(std::vector<at::Tensor>& /*tensors*/) override {
    return absl::OkStatus();
  }
  absl::Status Barrier() override { return absl::OkStatus(); }
};

std::chrono::milliseconds Milliseconds(double seconds) {
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::llround(seconds * 1000.0)));
}

// The tensors of one dtype, flattened into one buffer on `device`, so that
// a collective sends one message per dtype rather than one per tensor (and
// non-contiguous tensors travel too).
struct Coalesced {
  std::vector<size_t> members;  // indices into the caller's vector
  at::Tensor flat;
};

std::vector<Coalesced> Coalesce(const std::vector<at::Tensor>& tensors,
                                const std::optional<at::Device>& device) {
  std::map<int, Coalesced> by_dtype;
  for (size_t i = 0; i < tensors.size(); ++i) {
    by_dtype[static_cast<int>(tensors[i].scalar_type())].members.push_back(i);
  }
  std::vector<Coalesced> out;
  for (auto& [dtype, group] : by_dtype) {
    std::vector<at::Tensor> parts;
    for (size_t i : group.members) {
      at::Tensor t = tensors[i].detach().reshape({-1});
      if (device) t = t.to(*device);
      parts.push_back(t);
    }
    group.flat = at::cat(parts).contiguous();
    out.push_back(std::move(group));
  }
  return out;
}

// Copies the collective's result back into the caller's tensors.
void Scatter(const Coalesced& group, std::vector<at::Tensor>& tensors) {
  const at::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t i : group.members) {
    at::Tensor& t = tensors[i];
    const int64_t n = t.numel();
    t.copy_(group.flat.slice(0, offset, offset + n).view(t.sizes()));
    offset += n;
  }
}

// A Communicator over a c10d process group (ProcessGroupGloo or
// ProcessGroupNCCL: the calls are the same).
template <typename Group>
class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(std::string backend, c10::intrusive_ptr<c10d::Store> store,
                   c10::intrusive_ptr<Group> group,
                   const DistributedOptions& options,
                   std::optional<at::Device> device)
      : backend_(std::move(backend)),
        store_(std::move(store)),
        group_(std::move(group)),
        options_(options),
        device_(device) {}

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }
  std::string backend() const override { return backend_; }

  absl::Status Broadcast(std::vector<at::Tensor>& tensors, int root) override {
    if (root < 0 || root >= options_.world_size) {
      return absl::InvalidArgumentError(absl::StrCat("broadcast from rank ",
                                                     root, " in a world of ",
                                                     options_.world_size));
    }
    return Collective("broadcast", tensors, [&](std::vector<at::Tensor>& one) {
      c10d::BroadcastOptions o;
      o.rootRank = root;
      o.rootTensor = 0;
      o.timeout = Milliseconds(options_.timeout_seconds);
      return group_->broadcast(one, o);
    });
  }

  absl::Status AllReduceSum(std::vector<at::Tensor>& tensors) override {
    return Collective("all-reduce", tensors, [&](std::vector<at::Tensor>& one) {
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      o.timeout = Milliseconds(options_.timeout_seconds);
      return group_->allreduce(one, o);
    });
  }

  absl::Status Barrier() override {
    return Guard("barrier", [&] {
      c10d::BarrierOptions o;
      o.timeout = Milliseconds(options_.timeout_seconds);
      Wait(group_->barrier(o));
    });
  }

 private:
  template <typename Start>
  absl::Status Collective(const char* what, std::vector<at::Tensor>& tensors,
                          Start start) {
    if (tensors.empty()) return absl::OkStatus();
    return Guard(what, [&] {
      for (Coalesced& group : Coalesce(tensors, device_)) {
        std::vector<at::Tensor> one = {group.flat};
        Wait(start(one));
        Scatter(group, tensors);
      }
    });
  }

  void Wait(const c10::intrusive_ptr<c10d::Work>& work) {
    // wait() throws when the collective fails or passes the time-out; a
    // false return is a time-out too.
    if (!work->wait(Milliseconds(options_.timeout_seconds))) {
      throw std::runtime_error("timed out");
    }
  }

  // Runs `body`, turning what c10d and Gloo throw into a status that says
  // who failed doing what, and the likely reason.
  template <typename Body>
  absl::Status Guard(const char* what, Body body) {
    std::string error;
    try {
      body();
      return absl::OkStatus();
    } catch (const c10::Error& e) {
      error = e.what_without_backtrace();
    } catch (const std::exception& e) {
      error = e.what();
    }
    return absl::UnavailableError(absl::StrCat(
        "rank ", options_.rank, " of ", options_.world_size, " (", backend_,
        ", master ", options_.master_addr, ":", options_.master_port, "): ",
        what, " failed: another rank exited, failed or did not answer within ",
        options_.timeout_seconds, " s (", error, ")"));
  }

  std::string backend_;
  c10::intrusive_ptr<c10d::Store> store_;  // kept alive with the group
  c10::intrusive_ptr<Group> group_;
  DistributedOptions options_;
  std::optional<at::Device> device_;  // where tensors travel; none: in place
};

// Rank 0 serves the store, the others connect; returns when all are there.
absl::StatusOr<c10::intrusive_ptr<c10d::Store>> Rendezvous(
    const DistributedOptions& options) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      Clock::now() + Milliseconds(options.timeout_seconds);
  std::string error;
  // A rank that starts before rank 0 listens is refused at once (c10d does
  // not retry that); launchers start ranks in any order, so try again until
  // the deadline.
  do {
    try {
      c10d::TCPStoreOptions store_options;
      store_options.port = static_cast<uint16_t>(options.master_port);
      store_options.isServer = options.rank == 0;
      store_options.numWorkers = static_cast<size_t>(options.world_size);
      store_options.waitWorkers = true;
      store_options.timeout = Milliseconds(options.timeout_seconds);
      return c10::intrusive_ptr<c10d::Store>(
          c10::make_intrusive<c10d::TCPStore>(options.master_addr,
                                              store_options));
    } catch (const c10::Error& e) {
      error = e.what_without_backtrace();
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (options.rank == 0) break;  // the server waited the whole time-out
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  } while (Clock::now() < deadline);
  return absl::DeadlineExceededError(absl::StrCat(
      "rank ", options.rank, " of ", options.world_size, ": rendezvous at ",
      options.master_addr, ":", options.master_port,
      options.rank == 0 ? " (this rank serves it)" : "",
      " failed: not every rank arrived within ", options.timeout_seconds,
      " s, or the address or port is wrong or taken (", error, ")"));
}

}  // namespace

std::shared_ptr<Communicator> SingleProcess() {
  return std::make_shared<SingleProcessCommunicator>();
}

absl::Status ValidateDistributedOptions(const DistributedOptions& o) {
  if (o.world_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("world_size must be >= 1, got ", o.world_size));
  }
  if (o.rank < 0 || o.rank >= o.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank must be in [0, world_size) = [0, ", o.world_size,
                     "), got ", o.rank));
  }
  if (o.master_port < 1 || o.master_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("master_port must be in [1, 65535], got ", o.master_port));
  }
  if (o.master_addr.empty()) {
    return absl::InvalidArgumentError("master_addr is empty");
  }
  if (!(o.timeout_seconds > 0) || !std::isfinite(o.timeout_seconds)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the time-out must be a positive number of seconds, got ",
                     o.timeout_seconds));
  }
  return absl::OkStatus();
}

const char* EnvironmentVariable(const char* name) { return std::getenv(name); }

absl::StatusOr<DistributedOptions> ResolveDistributedOptions(
    const DistributedFlags& flags,
    const std::function<const char*(const char*)>& getenv) {
  DistributedOptions o;
  // A flag wins; else the variable; else the default already in `o`.
  auto integer = [&](const std::optional<int>& flag, const char* flag_name,
                     const char* variable, int* out) -> absl::Status {
    if (flag) {
      *out = *flag;
      return absl::OkStatus();
    }
    const char* value = getenv(variable);
    if (value == nullptr || *value == '\0') return absl::OkStatus();
    if (!absl::SimpleAtoi(value, out)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the environment variable ", variable, " (read because --", flag_name,
          " is not given) is '", value, "', which is not an integer"));
    }
    return absl::OkStatus();
  };
  absl::Status s =
      integer(flags.world_size, "world_size", "WORLD_SIZE", &o.world_size);
  if (!s.ok()) return s;
  s = integer(flags.rank, "rank", "RANK", &o.rank);
  if (!s.ok()) return s;
  s = integer(flags.master_port, "master_port", "MASTER_PORT", &o.master_port);
  if (!s.ok()) return s;
  if (flags.master_addr) {
    o.master_addr = *flags.master_addr;
  } else if (const char* addr = getenv("MASTER_ADDR");
             addr != nullptr && *addr != '\0') {
    o.master_addr = addr;
  }
  if (flags.timeout_seconds) o.timeout_seconds = *flags.timeout_seconds;
  s = ValidateDistributedOptions(o);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(s.message(),
                     " (from the flags, or from RANK, WORLD_SIZE, "
                     "MASTER_ADDR, MASTER_PORT where a flag is not given)"));
  }
  return o;
}

absl::StatusOr<std::shared_ptr<Communicator>> ConnectGloo(
    const DistributedOptions& options) {
  if (absl::Status s = ValidateDistributedOptions(options); !s.ok()) return s;
  if (options.world_size == 1) return SingleProcess();
#ifdef USE_C10D_GLOO
  absl::StatusOr<c10::intrusive_ptr<c10d::Store>> store = Rendezvous(options);
  if (!store.ok()) return store.status();
  try {
    auto group_options = c10d::ProcessGroupGloo::Options::create(
        Milliseconds(options.timeout_seconds));
    // The interface the master address resolves to carries the traffic
    // (loopback for 127.0.0.1; the cluster network otherwise).
    group_options->devices.push_back(
        c10d::ProcessGroupGloo::createDeviceForHostname(options.master_addr));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        *store, options.rank, options.world_size, group_options);
    return std::shared_ptr<Communicator>(
        std::make_shared<C10dCommunicator<c10d::ProcessGroupGloo>>(
            "gloo", *store, group, options, std::nullopt));
  } catch (const std::exception& e) {
    std::string error = e.what();
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) {
      error = c10->what_without_backtrace();
    }
    return absl::UnavailableError(
        absl::StrCat("rank ", options.rank, " of ", options.world_size,
                     ": connecting Gloo through ", options.master_addr, ":",
                     options.master_port, " failed within ",
                     options.timeout_seconds, " s (", error, ")"));
  }
#else
  return absl::UnimplementedError(
      "mapn was built without Gloo (USE_C10D_GLOO); distributed training "
      "on the CPU needs it");
#endif
}

absl::StatusOr<std::shared_ptr<Communicator>> ConnectNccl(
    const DistributedOptions& options) {
  if (absl::Status s = ValidateDistributedOptions(options); !s.ok()) return s;
  if (options.world_size == 1) return SingleProcess();
#ifdef USE_C10D_NCCL
  absl::StatusOr<c10::intrusive_ptr<c10d::Store>> store = Rendezvous(options);
  if (!store.ok()) return store.status();
  try {
    const int64_t gpus = at::cuda::getNumGPUs();
    if (gpus < 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "rank ", options.rank, ": NCCL needs a GPU and this one sees none"));
    }
    const at::Device device(at::kCUDA,
                            static_cast<c10::DeviceIndex>(options.rank % gpus));
    auto group_options = c10d::ProcessGroupNCCL::Options::create();
    group_options->timeout = Milliseconds(options.timeout_seconds);
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        *store, options.rank, options.world_size, group_options);
    return std::shared_ptr<Communicator>(
        std::make_shared<C10dCommunicator<c10d::ProcessGroupNCCL>>(
            "nccl", *store, group, options, device));
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("rank ", options.rank, " of ", options.world_size,
                     ": connecting NCCL through ", options.master_addr, ":",
                     options.master_port, " failed (", e.what(), ")"));
  }
#else
  return absl::UnimplementedError(
      "mapn was built without NCCL: build against a CUDA LibTorch with "
      "USE_C10D_NCCL defined for mapn/train:distributed (docs/training.md, "
      "\"Distributed training\")");
#endif
}

}  // namespace mapn::train
