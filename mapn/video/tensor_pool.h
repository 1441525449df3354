// File: tensor_pool.h
//
// Recycles the large CPU buffers behind window tensors. A 720p window is
// about 260 MB; allocating it fresh for every window means the kernel maps
// and zeroes every page on first touch, which on the machines measured
// costs more than decoding (page faults ran at 1.5 GB/s against 12 GB/s for
// writes to memory already mapped). Tensors made here return their buffer
// to the pool when their last reference goes, so a reader whose consumer
// drops each window before asking for the next reuses the same memory.
// The pool keeps at most max_cached_bytes() of free buffers; it stays alive
// as long as any of its tensors does. Readers share one process-wide pool
// (Default()), so that a training run over thousands of short clips does not
// pay the first-touch cost again for every clip.
//
// Example:
//
//   TensorPool& pool = TensorPool::Default();
//   pool.Reserve(2 * window_bytes);  // keep up to two windows for reuse
//   at::Tensor rgb = pool.Empty({12, 3, 720, 1280}, at::kByte);
#ifndef MAPN_VIDEO_TENSOR_POOL_H_
#define MAPN_VIDEO_TENSOR_POOL_H_

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mapn {

class TensorPool {
 public:
  explicit TensorPool(size_t max_cached_bytes);

  // The process-wide pool the readers use; it starts with no room and grows
  // through Reserve().
  static TensorPool& Default();

  // Raises the limit on cached free buffers to at least `bytes`.
  void Reserve(size_t bytes);
  size_t max_cached_bytes() const;

  // Frees every cached buffer (memory in use is not affected).
  void Release();

  // An uninitialised contiguous CPU tensor.
  at::Tensor Empty(const std::vector<int64_t>& sizes, at::ScalarType type);

  // Bytes of free buffers held for reuse.
  size_t cached_bytes() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace mapn

#endif  // MAPN_VIDEO_TENSOR_POOL_H_
