#include <catch2/catch.hpp>

#include "web/netspeed_rates.hpp"

using namespace timepool;
using namespace timepool::web;

namespace {
// Country 1 (continent 10) with 10 servers of 25,000 kbit/s, country 2 (continent 20) with 12
// of 100,000; demand per hour: 7,200 from country 1, 36,000 from country 2.
server::BalanceInput world() {
  server::BalanceInput in;
  in.demand = {{1, 10, 7200}, {2, 20, 36000}};
  in.servers = {{1, 10, 250000, 10}, {2, 20, 1200000, 12}};
  return in;
}
}  // namespace

TEST_CASE("a new server gets its country's demand shared by netspeed", "[web][rates]") {
  const auto in = world();
  for (double n : {512.0, 1500.0, 25000.0, 100000.0, 1000000.0}) {
    CHECK(expected_rate(in, 1, 10, n, 0, 3600) == Approx(7200 * n / (250000 + n) / 3600));
  }
  CHECK(expected_rate(in, 2, 20, 1500, 0, 3600) == Approx(36000 * 1500 / 1201500.0 / 3600));
  // Per second over the window: the same counts over half an hour are twice the rate.
  CHECK(expected_rate(in, 1, 10, 1500, 0, 1800) == Approx(2 * expected_rate(in, 1, 10, 1500, 0, 3600)));
}

TEST_CASE("an edited server's own netspeed is replaced, not added to", "[web][rates]") {
  const auto in = world();
  CHECK(expected_rate(in, 1, 10, 25000, 25000, 3600) == Approx(7200 * 25000 / 250000.0 / 3600));
  CHECK(expected_rate(in, 1, 10, 50000, 25000, 3600) == Approx(7200 * 50000 / 275000.0 / 3600));
  // The only server of its group: the group goes and the server stands alone.
  server::BalanceInput lone;
  lone.demand = {{1, 10, 3600}};
  lone.servers = {{1, 10, 1500, 1}};
  CHECK(expected_rate(lone, 1, 10, 3000, 1500, 3600) == Approx(1.0));
}

TEST_CASE("an overloaded country sends its servers only their bounded share", "[web][rates]") {
  // Country 3 has 3 small servers and most of the demand: its servers carry at most twice
  // the pool's average per netspeed, never all of its clients.
  server::BalanceInput in = world();
  in.demand.push_back({3, 10, 60000});
  in.servers.push_back({3, 10, 1536, 3});
  const double n = 512, total = 250000 + 1200000 + 1536 + n, demand = 7200 + 36000 + 60000;
  const double rate = expected_rate(in, 3, 10, n, 0, 3600);
  CHECK(rate > 0);
  CHECK(rate <= 2 * demand / total * n / 3600 * (1 + 1e-9));
  CHECK(rate < 60000 * n / (1536 + n) / 3600);
}

TEST_CASE("no demand, netspeed 0 and no country", "[web][rates]") {
  const auto in = world();
  CHECK(expected_rate(in, 1, 10, 0, 0, 3600) == 0);
  server::BalanceInput quiet = in;
  quiet.demand.clear();
  CHECK(expected_rate(quiet, 1, 10, 1500, 0, 3600) == 0);
  // No country: the pool's average share.
  CHECK(expected_rate(in, 0, 0, 1500, 0, 3600) == Approx(43200 * 1500 / 1451500.0 / 3600));
}
