// A small deterministic random source for the virtual cycler. The standard library's
// distributions are implementation-defined (libstdc++ and libc++ give different normals
// from the same engine), so the cycler draws its own: xoshiro256** seeded by SplitMix64,
// normals by Box-Muller. The same seed gives the same cell on every platform.
#ifndef IONLOOP_INSTRUMENTS_CYCLER_RANDOM_H_
#define IONLOOP_INSTRUMENTS_CYCLER_RANDOM_H_

#include <cmath>
#include <cstdint>

namespace ionloop::instruments::cycler {

inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  // `stream` separates independent sequences drawn from one seed.
  explicit Rng(uint64_t seed, uint64_t stream = 0) {
    uint64_t sm = seed ^ (0xD1B54A32D192ED03ull * (stream + 1));
    for (uint64_t& word : s_) word = SplitMix64(&sm);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  // Standard normal (Box-Muller; both values of a pair are not kept, to keep the number
  // of draws per call fixed).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // exp(sigma * N(0,1)): a multiplicative factor with median 1.
  double LogNormalFactor(double sigma) { return std::exp(sigma * Normal()); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace ionloop::instruments::cycler

#endif  // IONLOOP_INSTRUMENTS_CYCLER_RANDOM_H_
