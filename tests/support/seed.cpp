#include "tests/support/seed.hpp"

#include <cstdlib>
#include <random>
#include <stdexcept>

namespace timepool::test {

uint32_t random_seed() {
  if (const char* env = std::getenv("TIMEPOOL_TEST_SEED"); env && *env) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (*end != '\0' || v > UINT32_MAX) throw std::invalid_argument("TIMEPOOL_TEST_SEED: not a 32-bit number");
    return static_cast<uint32_t>(v);
  }
  return std::random_device{}();
}

std::string seed_note(uint32_t seed) {
  return "seed " + std::to_string(seed) + " (replay: TIMEPOOL_TEST_SEED=" + std::to_string(seed) + ")";
}

}  // namespace timepool::test
