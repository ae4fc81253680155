#include "server/rng.hpp"

#include <sys/random.h>

#include <chrono>

namespace timepool::server {

namespace {
// splitmix64: expands one 64-bit seed into the four state words, as the xoshiro authors advise.
uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

Rng::Rng() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  reseed(seed);
}

void Rng::reseed(uint64_t seed) {
  for (auto& w : s_) w = splitmix(seed);
}

}  // namespace timepool::server
