#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "server/pool.hpp"

using timepool::server::Pool;
using timepool::server::Rng;

namespace {
Pool make(const std::vector<uint64_t>& weights) {
  Pool p(4);
  for (size_t i = 0; i < weights.size(); ++i) {
    const uint8_t a[4] = {10, 0, 0, static_cast<uint8_t>(i)};
    p.add(a, weights[i], static_cast<uint32_t>(i));
  }
  p.seal();
  return p;
}
}  // namespace

TEST_CASE("One pick is proportional to weight (chi-square, 5 df, 0.1% critical 20.52)") {
  const std::vector<uint64_t> w = {512, 1500, 3000, 25000, 100000, 3000000};
  Pool p = make(w);
  const uint64_t seed = 7;
  INFO("seed " << seed);
  Rng rng(seed);
  const int n = 200000;
  std::vector<int> count(w.size());
  uint32_t out[1];
  for (int i = 0; i < n; ++i) {
    REQUIRE(p.pick(rng, 1, out) == 1);
    ++count[out[0]];
  }
  double total = 0, chi = 0;
  for (auto x : w) total += static_cast<double>(x);
  for (size_t i = 0; i < w.size(); ++i) {
    const double e = n * static_cast<double>(w[i]) / total;
    chi += (count[i] - e) * (count[i] - e) / e;
  }
  CHECK(chi < 20.52);
}

TEST_CASE("Two picks without replacement follow successive sampling exactly") {
  // Weights 1, 2, 3: P(ordered pair i,j) = w_i/6 * w_j/(6 - w_i).
  Pool p = make({1, 2, 3});
  Rng rng(11);
  std::map<std::pair<uint32_t, uint32_t>, int> seen;
  const int n = 120000;
  uint32_t out[2];
  for (int i = 0; i < n; ++i) {
    REQUIRE(p.pick(rng, 2, out) == 2);
    REQUIRE(out[0] != out[1]);
    ++seen[{std::min(out[0], out[1]), std::max(out[0], out[1])}];
  }
  const double w[3] = {1, 2, 3};
  auto pair_p = [&](int i, int j) { return w[i] / 6 * w[j] / (6 - w[i]) + w[j] / 6 * w[i] / (6 - w[j]); };
  double chi = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = i + 1; j < 3; ++j) {
      const double e = n * pair_p(i, j);
      const double o = seen[{static_cast<uint32_t>(i), static_cast<uint32_t>(j)}];
      chi += (o - e) * (o - e) / e;
    }
  }
  CHECK(chi < 13.82);  // 2 df, 0.1%
}

TEST_CASE("A dominant weight does not stall the draw and picks stay distinct") {
  std::vector<uint64_t> w(100, 512);
  w[42] = 3000000000ULL;
  Pool p = make(w);
  Rng rng(3);
  uint32_t out[4];
  for (int i = 0; i < 10000; ++i) {
    REQUIRE(p.pick(rng, 4, out) == 4);
    std::set<uint32_t> s(out, out + 4);
    CHECK(s.size() == 4);
    CHECK(s.count(42) == 1);
  }
}

TEST_CASE("Fewer servers than answers: all of them, in varying order") {
  Pool p = make({5, 5, 5});
  Rng rng(5);
  uint32_t out[4];
  std::set<std::vector<uint32_t>> orders;
  for (int i = 0; i < 200; ++i) {
    REQUIRE(p.pick(rng, 4, out) == 3);
    orders.insert({out, out + 3});
    CHECK(std::set<uint32_t>(out, out + 3).size() == 3);
  }
  CHECK(orders.size() == 6);
  Pool empty(4);
  CHECK(empty.pick(rng, 4, out) == 0);
}
