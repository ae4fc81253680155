#include <catch2/catch.hpp>

#include "dns_test_util.hpp"
#include "server/io/rrl.hpp"

using namespace timepool::server;
using namespace timepool::server::test;
using timepool::server::io::Rrl;
using timepool::server::io::RrlConfig;

namespace {

timepool::address::Address addr(const char* text) { return *timepool::address::parse(text); }

struct Fixture {
  AnswerConfig cfg = test_config();
  std::shared_ptr<const Snapshot> snap = Snapshot::build(fixture(), 2026112601);
  Rng rng{42};
  std::vector<uint8_t> buf = std::vector<uint8_t>(4096);
  AnswerStats st;

  std::vector<uint8_t> reply(const std::string& name, ldns_rr_type t = LDNS_RR_TYPE_A) {
    Client c;
    const size_t n = answer(make_query(name, t), snap.get(), cfg, rng, c, buf, st);
    return {buf.begin(), buf.begin() + static_cast<long>(n)};
  }
};

// How many of `n` responses pass in one second.
int passed(Rrl& rrl, const char* client, const std::vector<uint8_t>& r, int n, uint32_t sec,
           int* slipped = nullptr) {
  uint32_t slip = 0;
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    const auto v = rrl.check(addr(client), r, sec, slip);
    ok += v == Rrl::Verdict::kPass;
    if (slipped) *slipped += v == Rrl::Verdict::kSlip;
  }
  return ok;
}

}  // namespace

TEST_CASE("Issue 14: RRL passes `rate` responses per second per /24 and answer, slips every 2nd") {
  Fixture f;
  RrlConfig c;
  c.rate = 10;
  c.slip = 2;
  Rrl rrl(c);
  const auto r = f.reply("pool.example");
  int slipped = 0;
  CHECK(passed(rrl, "198.51.100.1", r, 30, 100, &slipped) == 10);
  CHECK(slipped == 10);  // 20 over the rate: every second one truncated
  // The same /24 shares the budget; another /24 has its own.
  CHECK(passed(rrl, "198.51.100.200", r, 5, 100) == 0);
  CHECK(passed(rrl, "198.51.101.1", r, 5, 100) == 5);
  // A new second starts afresh.
  CHECK(passed(rrl, "198.51.100.1", r, 30, 101) == 10);
  // Another answer (name or type) from the same block has its own budget.
  CHECK(passed(rrl, "198.51.100.1", f.reply("de.pool.example"), 5, 101) == 5);
  // IPv6 by /56.
  CHECK(passed(rrl, "2001:db8:0:1::1", r, 15, 100) == 10);
  CHECK(passed(rrl, "2001:db8:0:ff::2", r, 5, 100) == 0);
  CHECK(passed(rrl, "2001:db8:0:100::1", r, 5, 100) == 5);
  // Off.
  c.rate = 0;
  Rrl off(c);
  CHECK(passed(off, "198.51.100.1", r, 1000, 100) == 1000);
}

TEST_CASE("Issue 14: RRL counts NXDOMAIN per zone, so random names share one budget") {
  Fixture f;
  RrlConfig c;
  c.rate = 5;
  c.slip = 0;
  Rrl rrl(c);
  uint32_t slip = 0;
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    const auto r = f.reply("rnd" + std::to_string(i) + ".pool.example");
    ok += rrl.check(addr("192.0.2.9"), r, 7, slip) == Rrl::Verdict::kPass;
  }
  CHECK(ok == 5);
  // REFUSED for names outside the zones: one budget per block too.
  ok = 0;
  for (int i = 0; i < 20; ++i) {
    const auto r = f.reply("x" + std::to_string(i) + ".example.com");
    ok += rrl.check(addr("192.0.2.9"), r, 7, slip) == Rrl::Verdict::kPass;
  }
  CHECK(ok == 5);
}

TEST_CASE("Issue 14: a slipped response is the header and question with TC") {
  Fixture f;
  auto r = f.reply("pool.example");
  const size_t n = Rrl::truncate(r);
  r.resize(n);
  auto p = parse(r);
  REQUIRE(p);
  CHECK(ldns_pkt_tc(p.get()));
  CHECK(ldns_pkt_qdcount(p.get()) == 1);
  CHECK(ldns_pkt_ancount(p.get()) == 0);
  CHECK(ldns_pkt_nscount(p.get()) == 0);
  CHECK(ldns_pkt_arcount(p.get()) == 0);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_NOERROR);
  CHECK(n == 12 + 14 + 4);  // "pool.example" is 14 bytes in wire format
}
