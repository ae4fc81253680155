#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "server/pool.hpp"
#include "tests/support/seed.hpp"

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

// Issue 13: the first record is what an SNTP client uses alone, so it must follow netspeed, not
// be a uniform pick among the drawn records.
namespace {
// Pearson's statistic of counts against probabilities.
double chi_square(const std::vector<int>& count, const std::vector<double>& prob, int n) {
  double chi = 0;
  for (size_t i = 0; i < count.size(); ++i) {
    const double e = n * prob[i];
    chi += (count[i] - e) * (count[i] - e) / e;
  }
  return chi;
}

std::vector<double> shares(const std::vector<uint64_t>& w) {
  double total = 0;
  for (auto x : w) total += static_cast<double>(x);
  std::vector<double> out;
  for (auto x : w) out.push_back(static_cast<double>(x) / total);
  return out;
}

// The first record of n answers of k records, counted per server.
std::vector<int> first_records(const Pool& p, uint64_t seed, size_t k, int n) {
  Rng rng(seed);
  std::vector<int> count(p.size());
  uint32_t out[Pool::kMaxPick];
  for (int i = 0; i < n; ++i) {
    REQUIRE(p.pick(rng, k, out) == std::min(k, p.size()));
    ++count[out[0]];
  }
  return count;
}
}  // namespace

TEST_CASE("issue 13: the first of 4 records from 11 servers is drawn by netspeed") {
  // The 11 servers (one of 250 kbit/s); 10 df, 0.01% critical value 35.56.
  const std::vector<uint64_t> w = {50000, 1500, 3000, 1500, 10000, 1500, 1500, 3000, 1000, 250, 750};
  const uint32_t seed = timepool::test::random_seed();
  std::printf("first record, 11 servers: %s\n", timepool::test::seed_note(seed).c_str());
  INFO(timepool::test::seed_note(seed));
  const int n = 200000;
  const auto count = first_records(make(w), seed, 4, n);
  const double chi = chi_square(count, shares(w), n);
  std::printf("  chi-square %.2f (10 df, 0.01%% critical 35.56); 50000 kbit/s first in %.1f%% "
              "(share %.1f%%)\n", chi, 100.0 * count[0] / n, 100.0 * shares(w)[0]);
  CHECK(chi < 35.56);
}

TEST_CASE("issue 13: an answer holding every server still has a weighted first record and order") {
  // k >= size(): every server goes out; the order is successive weighted sampling. Weights
  // 1, 2, 3: P(order a, b, c) = w_a / 6 * w_b / (6 - w_a). 5 df, 0.01% critical value 25.74.
  const std::vector<uint64_t> w = {1, 2, 3};
  const Pool p = make(w);
  const uint32_t seed = timepool::test::random_seed();
  std::printf("order of a full answer: %s\n", timepool::test::seed_note(seed).c_str());
  INFO(timepool::test::seed_note(seed));
  Rng rng(seed);
  const int n = 120000;
  std::map<std::vector<uint32_t>, int> seen;
  uint32_t out[4];
  for (int i = 0; i < n; ++i) {
    REQUIRE(p.pick(rng, 4, out) == 3);
    ++seen[{out, out + 3}];
  }
  std::vector<uint32_t> order = {0, 1, 2};
  std::vector<int> count;
  std::vector<double> prob;
  do {
    const double a = static_cast<double>(w[order[0]]), b = static_cast<double>(w[order[1]]);
    prob.push_back(a / 6 * b / (6 - a));
    count.push_back(seen[order]);
  } while (std::next_permutation(order.begin(), order.end()));
  const double chi = chi_square(count, prob, n);
  std::printf("  chi-square %.2f (5 df, 0.01%% critical 25.74)\n", chi);
  CHECK(chi < 25.74);

  // A quarter of 4 (every member in every answer): first record by netspeed, 3 df, 21.11.
  const std::vector<uint64_t> q = {250, 1500, 3000, 50000};
  const auto first = first_records(make(q), seed + 1, 4, n);
  const double chi4 = chi_square(first, shares(q), n);
  std::printf("  quarter of 4, first record chi-square %.2f (3 df, 0.01%% critical 21.11); "
              "250 kbit/s first in %.2f%% (share %.2f%%)\n",
              chi4, 100.0 * first[0] / n, 100.0 * shares(q)[0]);
  CHECK(chi4 < 21.11);
}
