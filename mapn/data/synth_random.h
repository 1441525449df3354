// File: synth_random.h
//
// The random numbers behind SynthPose. Output must be byte-identical for a
// seed on every build, so nothing here uses the standard library's
// distributions (their algorithms are implementation-defined): a SplitMix64
// generator with its own uniform and normal draws, and a stateless hash for
// per-pixel noise and value-noise lattices.
//
// Example:
//
//   SynthRandom rng(MixSeed(options.seed, clip_index));
//   double speed = rng.Uniform(0.5, 1.5);
//   if (rng.Bernoulli(0.3)) { ... }
#ifndef MAPN_DATA_SYNTH_RANDOM_H_
#define MAPN_DATA_SYNTH_RANDOM_H_

#include <cmath>
#include <cstdint>

namespace mapn {

// SplitMix64's finaliser: a good 64-bit mix of a 64-bit value.
constexpr uint64_t Mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Independent streams from one seed: MixSeed(seed, 1), MixSeed(seed, 2), ...
constexpr uint64_t MixSeed(uint64_t seed, uint64_t stream) {
  return Mix64(seed ^ Mix64(stream + 0x632BE59BD9B4E019ULL));
}

// A value in [0, 1) from three integers (a lattice point, a pixel, ...).
inline double HashUnit(uint64_t seed, int64_t a, int64_t b, int64_t c = 0) {
  uint64_t h = Mix64(seed ^ Mix64(static_cast<uint64_t>(a) * 0x9E3779B1ULL +
                                  Mix64(static_cast<uint64_t>(b) +
                                        Mix64(static_cast<uint64_t>(c)))));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

class SynthRandom {
 public:
  explicit SynthRandom(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // [0, 1)
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Unit(); }
  // An integer in [lo, hi].
  int UniformInt(int lo, int hi) {
    return lo + static_cast<int>(Unit() * (hi - lo + 1));
  }
  bool Bernoulli(double p) { return Unit() < p; }
  // Box-Muller; one value per call.
  double Normal(double mean = 0, double sigma = 1) {
    const double u1 = 1.0 - Unit();  // (0, 1]
    const double u2 = Unit();
    return mean + sigma * std::sqrt(-2.0 * std::log(u1)) *
                      std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace mapn

#endif  // MAPN_DATA_SYNTH_RANDOM_H_
