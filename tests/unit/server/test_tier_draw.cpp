#include "server/tier_draw.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "tests/support/seed.hpp"

using namespace timepool::server;

namespace {

// A pool of servers with these snapshot indexes and weights.
Pool make(const std::vector<uint32_t>& servers, const std::vector<uint64_t>& weights) {
  Pool p(4);
  for (size_t i = 0; i < servers.size(); ++i) {
    const uint8_t a[4] = {10, 0, 0, static_cast<uint8_t>(servers[i])};
    p.add(a, weights[i], servers[i]);
  }
  p.seal();
  return p;
}

double chi_square(const std::vector<double>& observed, const std::vector<double>& expected) {
  double chi = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    chi += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  }
  return chi;
}

}  // namespace

TEST_CASE("pick_one: proportional to weight among the servers not taken") {
  const Pool p = make({3, 5, 8, 9}, {1, 2, 3, 4});
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  Rng rng(seed);
  const uint32_t taken[] = {8, 42};  // 42 is not in this pool
  std::vector<double> count(4);
  const int n = 40000;
  for (int i = 0; i < n; ++i) ++count[p.pick_one(rng, taken)];
  CHECK(count[2] == 0);
  const std::vector<double> obs = {count[0], count[1], count[3]};
  const std::vector<double> exp = {n / 7.0, 2 * n / 7.0, 4 * n / 7.0};
  CHECK(chi_square(obs, exp) < 13.82);  // 2 df, 0.1%
  const uint32_t all[] = {3, 5, 8, 9};
  CHECK(p.pick_one(rng, all) == p.size());
}

TEST_CASE("pick_one: a dominant server taken does not stall the draw") {
  const Pool p = make({1, 2, 3}, {1000000000, 1, 1});
  Rng rng(11);
  const uint32_t taken[] = {1};
  std::set<uint32_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(p.pick_one(rng, taken));
  CHECK(seen == std::set<uint32_t>{1, 2});
}

TEST_CASE("draw_tiers: the first record follows the mixture, then netspeed within the tier") {
  // Country tier: servers 0-2; continent tier: servers 0-5 (it holds the country's too).
  const Pool country = make({0, 1, 2}, {1, 2, 3});
  const Pool continent = make({0, 1, 2, 3, 4, 5}, {1, 2, 3, 4, 5, 6});
  const Tier tiers[] = {{&country, 10, 700}, {&continent, 11, 300}};
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  Rng rng(seed);
  std::vector<double> first(6);
  std::vector<double> from_pool(2);
  const int n = 60000;
  uint32_t pools[4], entries[4];
  for (int i = 0; i < n; ++i) {
    const size_t k = draw_tiers(rng, tiers, 4, pools, entries);
    REQUIRE(k == 4);
    std::set<uint32_t> servers;
    for (size_t j = 0; j < k; ++j) {
      const Pool& p = pools[j] == 10 ? country : continent;
      servers.insert(p.server(entries[j]));
    }
    CHECK(servers.size() == 4);  // never a server twice, across tiers
    const Pool& p0 = pools[0] == 10 ? country : continent;
    ++first[p0.server(entries[0])];
    ++from_pool[pools[0] == 10 ? 0 : 1];
  }
  std::vector<double> expected(6);
  for (size_t s = 0; s < 6; ++s) {
    expected[s] = n * ((s < 3 ? 0.7 * static_cast<double>(s + 1) / 6.0 : 0.0) +
                       0.3 * static_cast<double>(s + 1) / 21.0);
  }
  CHECK(chi_square(first, expected) < 20.52);  // 5 df, 0.1%
  CHECK(chi_square(from_pool, {0.7 * n, 0.3 * n}) < 10.83);
}

TEST_CASE("draw_tiers: an exhausted tier drops out, a tier without weight gives nothing") {
  const Pool country = make({0}, {1});
  const Pool global = make({0, 1, 2, 3, 4}, {5, 5, 5, 5, 5});
  Rng rng(3);
  uint32_t pools[8], entries[8];
  const Tier mixed[] = {{&country, 0, 900}, {&global, 1, 100}};
  for (int i = 0; i < 200; ++i) {
    REQUIRE(draw_tiers(rng, mixed, 4, pools, entries) == 4);
    std::set<uint32_t> s;
    for (size_t j = 0; j < 4; ++j) s.insert((pools[j] ? global : country).server(entries[j]));
    CHECK(s.size() == 4);
  }
  const Tier only_country[] = {{&country, 0, 1}, {&global, 1, 0}};
  CHECK(draw_tiers(rng, only_country, 4, pools, entries) == 1);
  const Tier none[] = {{nullptr, 0, 5}};
  CHECK(draw_tiers(rng, none, 4, pools, entries) == 0);
  const Tier many[] = {{&global, 1, 1}};
  CHECK(draw_tiers(rng, many, 8, pools, entries) == 5);
}
