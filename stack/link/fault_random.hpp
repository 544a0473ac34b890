// The fault injector's own random numbers: xoshiro256** seeded through splitmix64, so a run
// with the same --seed and the same packets makes the same decisions on any machine (the
// standard library's distributions are not specified bit-for-bit across implementations).
#pragma once
#include <array>
#include <cstdint>

namespace tcplab::link {

class FaultRandom {
 public:
  explicit FaultRandom(uint64_t seed) {
    // splitmix64 spreads any seed (0, 1, 2, ...) over the whole 256-bit state, which must
    // not be all zero.
    for (auto& word : state_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      word = z ^ (z >> 31);
    }
  }

  // xoshiro256** (Blackman and Vigna).
  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1): the top 53 bits as a double's mantissa.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability p (never for p = 0, always for p = 1).
  bool chance(double p) { return p > 0 && uniform() < p; }
  // Uniform in [0, n) for n > 0 (the modulo bias is below 2^-40 for the sizes used here).
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> state_{};
};

}  // namespace tcplab::link
