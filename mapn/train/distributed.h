// File: distributed.h
//
// What the trainer needs from other processes to train data-parallel, and
// how it gets them: a Communicator (rank, world size, broadcast, all-reduce,
// barrier) over PyTorch's c10d. ConnectGloo() meets the other processes
// through a c10d::TCPStore at master_addr:master_port and talks to them
// through c10d::ProcessGroupGloo on the CPU; ConnectNccl() does the same with
// ProcessGroupNCCL where mapn was built against a CUDA LibTorch with
// USE_C10D_NCCL (docs/training.md, "Distributed training"). SingleProcess()
// is the world of one, where every collective is a no-op.
//
// The c10d headers are parsed by distributed.cc alone (they are large); this
// header names no c10d type.
//
// Every failure is an absl::Status naming this rank and the operation: a
// peer that exits or stops answering makes the collectives of the others
// fail within `timeout_seconds` instead of hanging.
//
// Example (torchrun-style variables, flags left unset):
//
//   MAPN_ASSIGN_OR_RETURN(DistributedOptions options,
//                         ResolveDistributedOptions({}, EnvironmentVariable));
//   MAPN_ASSIGN_OR_RETURN(std::shared_ptr<Communicator> comm,
//                         ConnectGloo(options));
//   std::vector<at::Tensor> grads = ...;
//   MAPN_RETURN_IF_ERROR(comm->AllReduceSum(grads));  // summed over ranks
#ifndef MAPN_TRAIN_DISTRIBUTED_H_
#define MAPN_TRAIN_DISTRIBUTED_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn::train {

// The processes of one training run, and this one's place among them.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // "gloo", "nccl" or "single process", for messages.
  virtual std::string backend() const = 0;

  // Every tensor takes the values it has on rank `root`. Tensors of one
  // dtype travel in one message (coalesced), so call this once with all of
  // them rather than once per tensor.
  virtual absl::Status Broadcast(std::vector<at::Tensor>& tensors,
                                 int root) = 0;
  // Every tensor becomes the sum of its values over the ranks; coalesced
  // like Broadcast.
  virtual absl::Status AllReduceSum(std::vector<at::Tensor>& tensors) = 0;
  // Returns when every rank has called it.
  virtual absl::Status Barrier() = 0;
};

// The world of one process: rank 0 of 1, every collective a no-op.
std::shared_ptr<Communicator> SingleProcess();

// Where a run's processes meet and how long they wait for each other.
struct DistributedOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";  // where rank 0's TCPStore listens
  int master_port = 29500;                // torchrun's default
  // How long rendezvous and every collective may wait for the others; a
  // rank that died makes the others fail after at most this long (usually
  // at once: its sockets close).
  double timeout_seconds = 300;
};

// Ranges of every field; the message names the field and the value.
absl::Status ValidateDistributedOptions(const DistributedOptions& options);

// The command line's distributed flags; nullopt: not given.
struct DistributedFlags {
  std::optional<int> rank;
  std::optional<int> world_size;
  std::optional<std::string> master_addr;
  std::optional<int> master_port;
  std::optional<double> timeout_seconds;
};

// The options from the flags where given, else from the variables torchrun
// and most launchers set (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), else
// the defaults above; validated. `getenv` returns a variable's value or
// nullptr. InvalidArgument naming the flag or variable for a value that is
// not a number or out of range.
absl::StatusOr<DistributedOptions> ResolveDistributedOptions(
    const DistributedFlags& flags,
    const std::function<const char*(const char*)>& getenv);

// std::getenv, for ResolveDistributedOptions.
const char* EnvironmentVariable(const char* name);

// Joins the run: rank 0 serves a c10d::TCPStore at master_addr:master_port
// (the others connect to it), then every rank builds a ProcessGroupGloo on
// the CPU over it. Returns once all world_size ranks are there;
// DeadlineExceeded (or Unavailable) naming the address, the rank and the
// time-out when they are not within timeout_seconds. world_size 1 needs no
// other process (and no free port: it returns SingleProcess()).
absl::StatusOr<std::shared_ptr<Communicator>> ConnectGloo(
    const DistributedOptions& options);

// The same with ProcessGroupNCCL on GPU cuda:(rank % GPUs); CPU tensors are
// staged through that GPU. Unimplemented unless mapn was built with
// USE_C10D_NCCL against a CUDA LibTorch.
absl::StatusOr<std::shared_ptr<Communicator>> ConnectNccl(
    const DistributedOptions& options);

}  // namespace mapn::train

#endif  // MAPN_TRAIN_DISTRIBUTED_H_
