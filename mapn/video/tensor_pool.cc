#include "mapn/video/tensor_pool.h"

#include <ATen/ops/from_blob.h>
#include <c10/core/ScalarType.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

namespace mapn {

struct TensorPool::Shared {
  explicit Shared(size_t max) : max_cached(max) {}
  ~Shared() {
    for (auto& [bytes, ptr] : free) std::free(ptr);
  }

  void Return(void* ptr, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (cached + bytes <= max_cached) {
        free.emplace(bytes, ptr);
        cached += bytes;
        return;
      }
    }
    std::free(ptr);
  }

  std::mutex mu;
  std::multimap<size_t, void*> free;  // size -> buffer
  size_t cached = 0;
  size_t max_cached;
};

TensorPool::TensorPool(size_t max_cached_bytes)
    : shared_(std::make_shared<Shared>(max_cached_bytes)) {}

at::Tensor TensorPool::Empty(const std::vector<int64_t>& sizes,
                             at::ScalarType type) {
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  // At least one byte so every tensor owns a distinct buffer; 64-byte
  // aligned like ATen's own allocator.
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(
      1, numel * static_cast<int64_t>(c10::elementSize(type))));
  void* ptr = nullptr;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    auto it = shared_->free.find(bytes);
    if (it != shared_->free.end()) {
      ptr = it->second;
      shared_->free.erase(it);
      shared_->cached -= bytes;
    }
  }
  if (ptr == nullptr) {
    ptr = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (ptr == nullptr) throw std::bad_alloc();
  }
  std::shared_ptr<Shared> shared = shared_;
  return at::from_blob(
      ptr, sizes, [shared, bytes](void* p) { shared->Return(p, bytes); },
      at::TensorOptions().dtype(type));
}

TensorPool& TensorPool::Default() {
  static TensorPool* pool = new TensorPool(0);  // never destroyed
  return *pool;
}

void TensorPool::Reserve(size_t bytes) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->max_cached = std::max(shared_->max_cached, bytes);
}

size_t TensorPool::max_cached_bytes() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->max_cached;
}

void TensorPool::Release() {
  std::multimap<size_t, void*> free;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    free.swap(shared_->free);
    shared_->cached = 0;
  }
  for (auto& [bytes, ptr] : free) std::free(ptr);
}

size_t TensorPool::cached_bytes() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->cached;
}

}  // namespace mapn
