// The random source of the answer path: xoshiro256++ (Blackman & Vigna), one per worker thread,
// seeded from getrandom(2). Not cryptographic; it only has to spread load evenly and be fast.
// Thread safety: none; each thread owns its own Rng.
#pragma once

#include <cstdint>

namespace timepool::server {

class Rng {
 public:
  // Seeds from the kernel's random source (getrandom); falls back to the clock if that fails.
  Rng();
  // Deterministic sequence for tests and fuzzing.
  explicit Rng(uint64_t seed) { reseed(seed); }

  void reseed(uint64_t seed);

  uint64_t operator()() {
    const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound) for bound > 0 (Lemire's multiply-shift; the bias is below 2^-64 *
  // bound, far under anything a statistical test of weights could see).
  uint64_t below(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>((*this)()) * bound) >> 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace timepool::server
