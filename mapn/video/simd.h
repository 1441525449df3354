// File: simd.h
//
// MAPN_VECTOR_CLONES marks a hot, auto-vectorised loop function to be
// compiled twice, for the x86-64 baseline (SSE2) and for AVX2, with the
// version matching the CPU picked once at load time (GCC and Clang
// target_clones). Builds stay portable while the machines measured run the
// wide version.
//
// Example:
//
//   MAPN_VECTOR_CLONES
//   void AddRows(const float* a, const float* b, int n, float* out);
#ifndef MAPN_VIDEO_SIMD_H_
#define MAPN_VIDEO_SIMD_H_

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define MAPN_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define MAPN_SANITIZED 1
#endif

// Sanitized builds (--config=asan, the fuzzer) get one plain version: the
// clones' ifunc resolver runs before the sanitizer runtime is set up.
#if defined(__x86_64__) && defined(__linux__) && !defined(MAPN_SANITIZED)
#define MAPN_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MAPN_VECTOR_CLONES
#endif

#endif  // MAPN_VIDEO_SIMD_H_
