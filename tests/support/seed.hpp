// The seed of a randomized test: TIMEPOOL_TEST_SEED from the environment when set (to replay a
// failure exactly), else a fresh one from std::random_device. Print it with INFO so that any
// failure shows it:
//   const uint32_t seed = timepool::test::random_seed();
//   INFO(timepool::test::seed_note(seed));
//   std::mt19937 rng(seed);
#pragma once

#include <cstdint>
#include <string>

namespace timepool::test {

uint32_t random_seed();
// "seed N (replay: TIMEPOOL_TEST_SEED=N)"
std::string seed_note(uint32_t seed);

}  // namespace timepool::test
