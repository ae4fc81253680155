// The shared query builder (tests/support/dns_query.hpp) against ldns: every test, fuzzer and
// benchmark that builds queries with it sends what a real stub resolver library sends.
#include "tests/support/dns_query.hpp"

#include <catch2/catch.hpp>

#include "dns_test_util.hpp"
#include "server/query.hpp"

using namespace timepool::server;
using namespace timepool::server::test;

TEST_CASE("dns_query gives the bytes ldns gives") {
  const char* names[] = {"pool.example", "0.pool.example.", "2.De.Pool.Example", "_country.pool.example",
                         "a.b.c.d.e.f.pool.example.net"};
  const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_TXT,
                                LDNS_RR_TYPE_ANY};
  for (const char* name : names) {
    for (ldns_rr_type t : types) {
      for (ldns_rr_class cls : {LDNS_RR_CLASS_IN, LDNS_RR_CLASS_CH}) {
        for (int edns : {-1, 512, 1232, 4096}) {
          INFO(name << " type " << t << " class " << cls << " edns " << edns);
          auto ours = make_query(name, t, cls, edns);
          auto theirs = to_wire(make_query_pkt(name, t, cls, edns).get());
          CHECK(ours == theirs);
        }
      }
    }
  }
}

TEST_CASE("dns_query with an ECS option parses back to the option's data") {
  timepool::test::QueryOptions o;
  o.edns_size = 1232;
  o.edns_do = true;
  o.ecs = timepool::test::ecs_v4({53, 1, 2, 0}, 24);
  const auto q = timepool::test::dns_query("pool.example", 1, o);
  auto pkt = parse(q);
  REQUIRE(pkt);
  CHECK(ldns_pkt_edns_udp_size(pkt.get()) == 1232);
  CHECK(ldns_pkt_edns_do(pkt.get()));
  ParsedQuery p;
  REQUIRE(parse_query(q, p) == ParseResult::Ok);
  REQUIRE(p.ecs);
  CHECK(std::vector<uint8_t>(p.ecs->begin(), p.ecs->end()) ==
        std::vector<uint8_t>{0, 1, 24, 0, 53, 1, 2});
}
