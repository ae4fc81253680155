#include "server/balancer.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "tests/support/seed.hpp"

using namespace timepool::server;

namespace {

enum : int64_t { kEurope = 2, kAsia = 3, kAfrica = 4, kDe = 10, kFr = 11, kLu = 12, kJp = 20,
                 kIn = 21, kSg = 22, kNg = 30 };

BalanceServer server(int64_t country, int64_t continent, double netspeed) {
  return BalanceServer{country, continent, netspeed, 1};
}

// Adds `n` servers of `netspeed` in a country.
void add(BalanceInput& in, int64_t country, int64_t continent, int n, double netspeed) {
  for (int i = 0; i < n; ++i) in.servers.push_back(server(country, continent, netspeed));
}

const Mixture& mix(const BalanceResult& r, int64_t country, int64_t continent) {
  for (const auto& m : r.mixtures) {
    if (m.country == country && m.continent == continent) return m;
  }
  FAIL("no mixture for " << country << "/" << continent);
  return r.mixtures.front();
}

double largest_load(const BalanceInput& in, const BalanceResult& r) {
  double top = 0;
  for (const auto& l : expected_load(in, r)) top = std::max(top, l.load);
  return top;
}

// The median server's load per unit of netspeed (the lower median, each server counted once),
// from the expected loads: the "median" as bench/fairness measures it.
double median_load(const BalanceInput& in, const BalanceResult& r) {
  const auto loads = expected_load(in, r);
  std::vector<double> per;
  for (const auto& s : in.servers) {
    for (const auto& l : loads) {
      if (l.country == s.country && l.continent == s.continent) per.insert(per.end(), s.count, l.load);
    }
  }
  std::sort(per.begin(), per.end());
  return per.empty() ? 0.0 : per[(per.size() - 1) / 2];
}

// The bound as the issue states it: no server above factor times the median, nor above
// factor times the pool's average.
void check_bound(const BalanceInput& in, const BalanceResult& r) {
  const double largest = largest_load(in, r), median = median_load(in, r);
  INFO("largest " << largest << " median " << median << " average " << r.average);
  CHECK(largest <= r.bound * (1 + 1e-9));
  CHECK(largest <= in.factor * median * (1 + 1e-9));
  CHECK(largest <= in.factor * r.average * (1 + 1e-9));
  CHECK(r.median == Approx(median).epsilon(1e-12));
}

void check_mixtures(const BalanceResult& r) {
  for (const auto& m : r.mixtures) {
    CHECK(m.own >= 0);
    CHECK(m.near >= 0);
    CHECK(m.global >= 0);
    CHECK(m.own + m.near + m.global == Approx(1.0));
  }
}

// A world like the pool's: a big European country, a small one, a tiny one with many clients,
// an Asian continent with few servers and a big demand, an African country without servers.
BalanceInput world() {
  BalanceInput in;
  add(in, kDe, kEurope, 40, 100000);
  add(in, kFr, kEurope, 10, 25000);
  add(in, kLu, kEurope, 1, 512);
  add(in, kJp, kAsia, 5, 50000);
  add(in, kSg, kAsia, 3, 100000);
  add(in, kIn, kAsia, 3, 1500);
  in.demand = {{kDe, kEurope, 1000}, {kFr, kEurope, 800}, {kLu, kEurope, 200},
               {kJp, kAsia, 900},    {kSg, kAsia, 100},   {kIn, kAsia, 1500},
               {kNg, kAfrica, 300},  {0, 0, 100}};
  return in;
}

// A random world: 3 continents, up to 12 countries each, some without servers or clients.
BalanceInput random_world(std::mt19937_64& gen) {
  static const double speeds[] = {512, 1500, 3000, 6000, 25000, 100000, 1000000};
  BalanceInput in;
  std::uniform_int_distribution<int> countries(1, 12), servers(0, 12), speed(0, 6);
  std::uniform_real_distribution<double> demand(0, 1000);
  std::bernoulli_distribution no_clients(0.15);
  for (int64_t cont = 1; cont <= 3; ++cont) {
    const int nc = countries(gen);
    for (int c = 0; c < nc; ++c) {
      const int64_t id = cont * 100 + c;
      const int ns = servers(gen);
      for (int s = 0; s < ns; ++s) in.servers.push_back(server(id, cont, speeds[speed(gen)]));
      if (!no_clients(gen)) in.demand.push_back({id, cont, demand(gen) * (c == 0 ? 20 : 1)});
    }
  }
  if (in.servers.empty()) in.servers.push_back(server(101, 1, 1500));
  in.demand.push_back({0, 0, demand(gen)});
  return in;
}

double share(const BalanceResult& r, int64_t country, int64_t continent, bool continent_too) {
  const Mixture& m = mix(r, country, continent);
  return continent_too ? m.own + m.near : m.own;
}

}  // namespace

TEST_CASE("balancer: no server carries more than factor times the average per netspeed") {
  auto in = world();
  for (double factor : {1.0, 1.5, 2.0, 4.0}) {
    in.factor = factor;
    const auto r = balance(in);
    INFO("factor " << factor);
    check_mixtures(r);
    CHECK(r.bound <= factor * r.average * (1 + 1e-12));
    check_bound(in, r);
  }
}

// Issue 13: "the largest within 2x of the median" load per unit of netspeed. In this world the
// median server (in de) carries less than the average, so a bound of factor times the average
// alone would leave the largest at more than factor times the median.
TEST_CASE("balancer: issue 13, the largest load is within factor times the median") {
  auto in = world();
  for (double factor : {1.5, 2.0, 3.0}) {
    in.factor = factor;
    const auto r = balance(in);
    INFO("factor " << factor);
    REQUIRE(median_load(in, r) < r.average);  // the case this test is about
    check_mixtures(r);
    check_bound(in, r);
    // The bound is the median's: as high as the median allows, to the bisection's precision.
    CHECK(r.bound == Approx(factor * r.median).epsilon(1e-6));
    // Every query is still answered somewhere, and de still answers all of its own clients.
    double carried = 0, demand = 0;
    for (const auto& l : expected_load(in, r)) carried += l.load * l.netspeed;
    for (const auto& d : in.demand) demand += d.queries;
    CHECK(carried == Approx(demand).epsilon(1e-9));
    CHECK(mix(r, kDe, kEurope).own == Approx(1.0));
  }
}

TEST_CASE("balancer: the bound holds in random worlds") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937_64 gen(seed);
  for (int i = 0; i < 120; ++i) {
    auto in = random_world(gen);
    in.factor = 1.0 + static_cast<double>(i % 4) * 0.5;
    in.min_servers = static_cast<uint32_t>(i % 4);
    const auto r = balance(in);
    INFO("world " << i);
    check_mixtures(r);
    check_bound(in, r);
    // Every query is answered somewhere: the loads add up to the demand.
    double carried = 0, demand = 0;
    for (const auto& l : expected_load(in, r)) carried += l.load * l.netspeed;
    for (const auto& d : in.demand) demand += d.queries;
    CHECK(carried == Approx(demand).epsilon(1e-9));
  }
}

TEST_CASE("balancer: countries within the bound answer their own clients") {
  const auto in = world();
  const auto r = balance(in);
  // de: 1000 queries on 4,000,000 kbit/s, far below the bound.
  CHECK(mix(r, kDe, kEurope).own == Approx(1.0));
  // lu: 200 queries on one 512 kbit/s server is far above it: most go to the continent, and
  // Europe has room for all of them, so none go global.
  const auto& lu = mix(r, kLu, kEurope);
  CHECK(lu.own < 0.01);
  CHECK(lu.own + lu.near == Approx(1.0));
  // in: the 5%-of-demand, tiny-capacity country. Asia cannot hold its clients: part global.
  const auto& india = mix(r, kIn, kAsia);
  CHECK(india.global > 0.1);
  // ng: no servers in the country or the continent: all global; unlocated clients: global.
  CHECK(mix(r, kNg, kAfrica).global == Approx(1.0));
  CHECK(mix(r, 0, 0).global == Approx(1.0));
}

TEST_CASE("balancer: a saturated continent answers as many of its clients as it can hold") {
  const auto in = world();
  const auto r = balance(in);
  double asia_netspeed = 0, asia_demand = 0, asia_answered = 0;
  for (const auto& s : in.servers) asia_netspeed += s.continent == kAsia ? s.netspeed : 0;
  for (const auto& m : r.mixtures) {
    if (m.continent != kAsia) continue;
    asia_demand += m.queries;
    asia_answered += m.queries * (m.own + m.near);
  }
  REQUIRE(asia_demand > r.bound * asia_netspeed);  // the case this test is about
  // Its servers are full (up to the global tier's share of the bound).
  CHECK(asia_answered == Approx((r.bound - r.global_level) * asia_netspeed).epsilon(1e-6));
}

TEST_CASE("balancer: min_servers decides which zones are tiers") {
  auto in = world();
  in.min_servers = 4;  // sg and in have 3 servers each
  auto r = balance(in);
  CHECK(mix(r, kSg, kAsia).own == 0);
  CHECK(mix(r, kIn, kAsia).own == 0);
  CHECK(mix(r, kJp, kAsia).own + mix(r, kJp, kAsia).near > 0);  // still answered in asia
  in.min_servers = 12;  // Asia has 11 servers: no continent tier there
  r = balance(in);
  CHECK(mix(r, kJp, kAsia).near == 0);
  CHECK(mix(r, kIn, kAsia).global == Approx(1.0));
  check_bound(in, r);
}

TEST_CASE("balancer: same input in any order gives the same output") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937_64 gen(seed);
  for (int i = 0; i < 50; ++i) {
    auto in = random_world(gen);
    const auto a = balance(in);
    std::shuffle(in.servers.begin(), in.servers.end(), gen);
    std::shuffle(in.demand.begin(), in.demand.end(), gen);
    const auto b = balance(in);
    REQUIRE(a.mixtures.size() == b.mixtures.size());
    for (size_t k = 0; k < a.mixtures.size(); ++k) {
      CHECK(std::memcmp(&a.mixtures[k], &b.mixtures[k], sizeof(Mixture)) == 0);
    }
    CHECK(a.global_level == b.global_level);
  }
}

// Adds a server to the country of one of the world's origins (not the unlocated one) and
// checks that the share of that country's clients answered in the country, and in the
// continent, did not fall. `check` false: only draws the world (to replay one world of a seed).
void check_added_capacity(std::mt19937_64& gen, int world_no, bool check) {
  static const double speeds[] = {512, 3000, 25000, 100000};
  auto in = random_world(gen);
  in.min_servers = 1;
  const auto& d = in.demand[gen() % (in.demand.size() - 1)];  // not the unlocated origin
  const int64_t country = d.country, continent = d.continent;
  const double netspeed = speeds[gen() % 4];
  if (!check) return;
  const auto before = balance(in);
  in.servers.push_back(server(country, continent, netspeed));
  const auto after = balance(in);
  INFO("world " << world_no << " country " << country);
  CHECK(share(after, country, continent, false) >= share(before, country, continent, false) - 1e-9);
  CHECK(share(after, country, continent, true) >= share(before, country, continent, true) - 1e-9);
}

TEST_CASE("balancer: capacity added to a country never lowers its locality") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937_64 gen(seed);
  for (int i = 0; i < 100; ++i) check_added_capacity(gen, i, true);
}

// Issue 13: worlds where a country's demand per netspeed crossed the room below the bound when
// a server was added, and the continent tier's protecting level jumped (up to 7 points less
// locality): seed 117 world 41, 144/44, 305/86, 3320048222/31.
TEST_CASE("balancer: issue 13, locality across a country crossing the bound") {
  const std::pair<uint32_t, int> cases[] = {{117, 41}, {144, 44}, {305, 86}, {3320048222u, 31}};
  for (const auto& [seed, world_no] : cases) {
    INFO("seed " << seed);
    std::mt19937_64 gen(seed);
    for (int i = 0; i <= world_no; ++i) check_added_capacity(gen, i, i == world_no);
  }
}

TEST_CASE("balancer: edge cases") {
  SECTION("no demand: the plain geo rule, nothing divided by zero") {
    auto in = world();
    for (auto& d : in.demand) d.queries = 0;
    const auto r = balance(in);
    CHECK(r.average == 0);
    CHECK(mix(r, kDe, kEurope).own == 1);
    CHECK(mix(r, kNg, kAfrica).global == 1);
    check_mixtures(r);
  }
  SECTION("no demand input at all") {
    BalanceInput in;
    add(in, kDe, kEurope, 3, 1000);
    CHECK(balance(in).mixtures.empty());
  }
  SECTION("no servers at all: everything global") {
    BalanceInput in;
    in.demand = {{kDe, kEurope, 10}, {0, 0, 5}};
    const auto r = balance(in);
    CHECK(mix(r, kDe, kEurope).global == 1);
    CHECK(mix(r, 0, 0).global == 1);
  }
  SECTION("a country without servers goes to its continent when that has room") {
    BalanceInput in;
    add(in, kDe, kEurope, 10, 100000);
    in.demand = {{kDe, kEurope, 100}, {kLu, kEurope, 100}};
    const auto r = balance(in);
    CHECK(mix(r, kLu, kEurope).near == Approx(1.0));
    CHECK(mix(r, kDe, kEurope).own == Approx(1.0));
  }
  SECTION("a continent without servers goes global") {
    auto in = world();
    const auto r = balance(in);
    CHECK(mix(r, kNg, kAfrica).global == Approx(1.0));
  }
  SECTION("one huge server carries no more than the bound") {
    BalanceInput in;
    add(in, kDe, kEurope, 1, 3000000);
    add(in, kFr, kEurope, 20, 512);
    add(in, kJp, kAsia, 5, 512);
    in.demand = {{kDe, kEurope, 10}, {kFr, kEurope, 1000}, {kJp, kAsia, 1000}};
    const auto r = balance(in);
    check_mixtures(r);
    check_bound(in, r);
    // fr's servers are tiny: its clients mostly go to de's huge server, in the continent.
    CHECK(mix(r, kFr, kEurope).own + mix(r, kFr, kEurope).near == Approx(1.0));
  }
  SECTION("demand given twice for one origin is added up") {
    BalanceInput in;
    add(in, kDe, kEurope, 3, 1000);
    in.demand = {{kDe, kEurope, 10}, {kDe, kEurope, 5}};
    const auto r = balance(in);
    REQUIRE(r.mixtures.size() == 1);
    CHECK(r.mixtures[0].queries == 15);
  }
  SECTION("bad input is refused") {
    BalanceInput in;
    in.factor = 0.5;
    CHECK_THROWS_AS(balance(in), std::invalid_argument);
    in.factor = 2;
    in.servers.push_back(server(kDe, kEurope, 0));
    CHECK_THROWS_AS(balance(in), std::invalid_argument);
  }
}
