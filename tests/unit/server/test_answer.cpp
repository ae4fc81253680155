#include <catch2/catch.hpp>

#include <cstring>
#include <set>

#include "dns_test_util.hpp"
#include "server/answer.hpp"

using namespace timepool::server;
using namespace timepool::server::test;

namespace {

struct Fixture {
  AnswerConfig cfg = test_config();
  std::shared_ptr<const Snapshot> snap = Snapshot::build(fixture(), 2026112601);
  Rng rng{42};
  std::vector<uint8_t> buf = std::vector<uint8_t>(65535);
  AnswerStats st;

  std::vector<uint8_t> ask(const std::vector<uint8_t>& q, bool tcp = false) {
    Client c;
    c.tcp = tcp;
    const size_t n = answer(q, snap.get(), cfg, rng, c, buf, st);
    return {buf.begin(), buf.begin() + static_cast<long>(n)};
  }
  PktPtr ask_pkt(const std::string& name, ldns_rr_type t, ldns_rr_class cls = LDNS_RR_CLASS_IN,
                 int edns = -1) {
    auto r = ask(make_query(name, t, cls, edns));
    REQUIRE(!r.empty());
    auto p = parse(r);
    REQUIRE(p);
    return p;
  }
};

std::set<std::string> rdatas(const ldns_pkt* p, ldns_rr_type t) {
  std::set<std::string> out;
  ldns_rr_list* an = ldns_pkt_answer(p);
  for (size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(an, i);
    if (ldns_rr_get_type(rr) != t) continue;
    char* s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    out.insert(s);
    free(s);
  }
  return out;
}

ldns_rr* rr_from(const std::string& text) {
  ldns_rr* rr = nullptr;
  REQUIRE(ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) == LDNS_STATUS_OK);
  return rr;
}

// The response ldns would encode for the same query and records: header copied from the query,
// QR/AA set, question as sent, the records given, EDNS as given.
std::vector<uint8_t> ldns_response(const std::vector<uint8_t>& query, ldns_pkt_rcode rc,
                                   const std::vector<std::string>& answer_rrs,
                                   const std::vector<std::string>& authority_rrs, bool aa,
                                   int edns_size = -1,
                                   const std::vector<std::string>& additional_rrs = {}) {
  auto q = parse(query);
  REQUIRE(q);
  ldns_pkt* r = ldns_pkt_new();
  ldns_pkt_set_id(r, ldns_pkt_id(q.get()));
  ldns_pkt_set_qr(r, true);
  ldns_pkt_set_aa(r, aa);
  ldns_pkt_set_rd(r, ldns_pkt_rd(q.get()));
  ldns_pkt_set_rcode(r, rc);
  ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
                   ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q.get()), 0)));
  for (const auto& s : answer_rrs) ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr_from(s));
  for (const auto& s : authority_rrs) ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, rr_from(s));
  for (const auto& s : additional_rrs) ldns_pkt_push_rr(r, LDNS_SECTION_ADDITIONAL, rr_from(s));
  if (edns_size >= 0) ldns_pkt_set_edns_udp_size(r, static_cast<uint16_t>(edns_size));
  auto out = to_wire(r);
  ldns_pkt_free(r);
  return out;
}

const char* kSoaNeg =
    "pool.example. 60 IN SOA ns1.pool.example. hostmaster.pool.example. 2026112601 3600 600 "
    "1209600 60";

}  // namespace

TEST_CASE("A answer: 4 weighted records, byte for byte what ldns encodes") {
  Fixture f;
  for (const char* name : {"2.pool.example", "pool.example", "De.Pool.Example", "europe.pool.example"}) {
    auto q = make_query(name, LDNS_RR_TYPE_A);
    auto r = f.ask(q);
    auto p = parse(r);
    REQUIRE(p);
    CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_NOERROR);
    CHECK(ldns_pkt_aa(p.get()));
    CHECK(ldns_pkt_qr(p.get()));
    REQUIRE(ldns_pkt_ancount(p.get()) == 4);
    std::vector<std::string> rrs;
    for (size_t i = 0; i < 4; ++i) {
      ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(p.get()), i);
      CHECK(ldns_rr_ttl(rr) == 150);
      char* a = ldns_rdf2str(ldns_rr_rdf(rr, 0));
      rrs.push_back(std::string(name) + ". 150 IN A " + a);
      free(a);
    }
    CHECK(rdatas(p.get(), LDNS_RR_TYPE_A).size() == 4);  // without replacement
    CHECK(r == ldns_response(q, LDNS_RCODE_NOERROR, rrs, {}, true));
  }
}

TEST_CASE("NXDOMAIN and NODATA carry the SOA with the negative TTL, as ldns encodes them") {
  Fixture f;
  auto q = make_query("nosuch.pool.example", LDNS_RR_TYPE_A);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NXDOMAIN, {}, {kSoaNeg}, true));
  q = make_query("de.pool.example", LDNS_RR_TYPE_MX);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR, {}, {kSoaNeg}, true));
  q = make_query("x.0.de.pool.example", LDNS_RR_TYPE_A);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NXDOMAIN, {}, {kSoaNeg}, true));
  // A label with a dot inside it is not "0" + "de".
  auto weird = make_query("0\\.de.pool.example", LDNS_RR_TYPE_A);
  CHECK(ldns_pkt_get_rcode(parse(f.ask(weird)).get()) == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE("SOA and NS at the apex, as ldns encodes them") {
  Fixture f;
  auto q = make_query("pool.example", LDNS_RR_TYPE_SOA);
  CHECK(f.ask(q) ==
        ldns_response(q, LDNS_RCODE_NOERROR,
                      {"pool.example. 3600 IN SOA ns1.pool.example. hostmaster.pool.example. "
                       "2026112601 3600 600 1209600 60"},
                      {}, true));
  q = make_query("pool.example", LDNS_RR_TYPE_NS);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR,
                                  {"pool.example. 86400 IN NS ns1.pool.example.",
                                   "pool.example. 86400 IN NS ns2.example.org."},
                                  {}, true));
  // The second apex answers with its own owner names.
  q = make_query("POOL.example.NET", LDNS_RR_TYPE_NS);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR,
                                  {"pool.example.net. 86400 IN NS ns1.pool.example.",
                                   "pool.example.net. 86400 IN NS ns2.example.org."},
                                  {}, true));
  // SOA at a non-apex name is NODATA.
  auto p = f.ask_pkt("0.pool.example", LDNS_RR_TYPE_SOA);
  CHECK(ldns_pkt_ancount(p.get()) == 0);
  CHECK(ldns_pkt_nscount(p.get()) == 1);
}

TEST_CASE("Names outside the apexes are REFUSED without AA") {
  Fixture f;
  for (const char* name : {"example.com", "example", "xpool.example", "."}) {
    auto p = f.ask_pkt(name, LDNS_RR_TYPE_A);
    CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_REFUSED);
    CHECK(!ldns_pkt_aa(p.get()));
    CHECK(ldns_pkt_ancount(p.get()) == 0);
  }
  auto p = f.ask_pkt("pool.example", LDNS_RR_TYPE_A, LDNS_RR_CLASS_HS);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_REFUSED);
  p = f.ask_pkt("pool.example", LDNS_RR_TYPE_AXFR);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_REFUSED);
}

TEST_CASE("Without a snapshot names below an apex get SERVFAIL") {
  Fixture f;
  f.snap.reset();
  auto p = f.ask_pkt("pool.example", LDNS_RR_TYPE_A);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_SERVFAIL);
}

TEST_CASE("CHAOS identification") {
  Fixture f;
  auto q = make_query("version.bind", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR,
                                  {"version.bind. 0 CH TXT \"timepool-dns test\""}, {}, true));
  for (const char* n : {"hostname.bind", "ID.SERVER"}) {
    auto p = f.ask_pkt(n, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH);
    REQUIRE(ldns_pkt_ancount(p.get()) == 1);
    CHECK(rdatas(p.get(), LDNS_RR_TYPE_TXT) == std::set<std::string>{"\"dns1\""});
  }
  auto p = f.ask_pkt("other.bind", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_REFUSED);
  f.cfg.version.clear();
  p = f.ask_pkt("version.bind", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_REFUSED);
}

TEST_CASE("ANY gets one synthesized HINFO (RFC 8482)") {
  Fixture f;
  auto q = make_query("pool.example", LDNS_RR_TYPE_ANY);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR,
                                  {"pool.example. 150 IN HINFO \"RFC8482\" \"\""}, {}, true));
}

TEST_CASE("AAAA only on the 2. labels unless configured for all") {
  Fixture f;
  auto p = f.ask_pkt("2.pool.example", LDNS_RR_TYPE_AAAA);
  CHECK(ldns_pkt_ancount(p.get()) >= 2);  // 9 IPv6 servers, quarters of 2-3
  for (const char* n : {"pool.example", "0.pool.example", "de.pool.example", "1.de.pool.example"}) {
    p = f.ask_pkt(n, LDNS_RR_TYPE_AAAA);
    CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_NOERROR);
    CHECK(ldns_pkt_ancount(p.get()) == 0);
    CHECK(ldns_pkt_nscount(p.get()) == 1);
  }
  f.cfg.aaaa_all_labels = true;
  p = f.ask_pkt("de.pool.example", LDNS_RR_TYPE_AAAA);
  CHECK(ldns_pkt_ancount(p.get()) == 4);
  // gb has no IPv6 servers at all.
  p = f.ask_pkt("2.gb.pool.example", LDNS_RR_TYPE_AAAA);
  CHECK(ldns_pkt_ancount(p.get()) == 0);
}

TEST_CASE("Numbered labels hold disjoint quarters - small zones answer everything everywhere") {
  Fixture f;
  std::set<std::string> all, quarters[4];
  for (int i = 0; i < 200; ++i) {
    for (auto& a : rdatas(f.ask_pkt("de.pool.example", LDNS_RR_TYPE_A).get(), LDNS_RR_TYPE_A)) all.insert(a);
    for (int q = 0; q < 4; ++q) {
      auto p = f.ask_pkt(std::to_string(q) + ".de.pool.example", LDNS_RR_TYPE_A);
      for (auto& a : rdatas(p.get(), LDNS_RR_TYPE_A)) quarters[q].insert(a);
    }
  }
  CHECK(all.size() == 12);
  size_t sum = 0;
  for (int q = 0; q < 4; ++q) {
    CHECK(quarters[q].size() == 3);
    sum += quarters[q].size();
    for (int r = q + 1; r < 4; ++r) {
      for (auto& a : quarters[q]) CHECK(quarters[r].count(a) == 0);
    }
  }
  CHECK(sum == 12);
  // gb has 2 servers: every label answers both; uk is its alias.
  for (const char* n : {"gb.pool.example", "3.gb.pool.example", "uk.pool.example", "0.uk.pool.example"}) {
    CHECK(rdatas(f.ask_pkt(n, LDNS_RR_TYPE_A).get(), LDNS_RR_TYPE_A) ==
          std::set<std::string>{"198.51.100.1", "198.51.100.2"});
  }
  // Zones without servers exist (NODATA), unknown countries do not.
  auto p = f.ask_pkt("asia.pool.example", LDNS_RR_TYPE_A);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_NOERROR);
  CHECK(ldns_pkt_ancount(p.get()) == 0);
  p = f.ask_pkt("zz.pool.example", LDNS_RR_TYPE_A);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE("Vendor zones publish the labels of their client type") {
  Fixture f;
  auto rc_an = [&](const std::string& n) {
    auto p = f.ask_pkt(n + ".pool.example", LDNS_RR_TYPE_A);
    return std::pair<int, size_t>(ldns_pkt_get_rcode(p.get()), ldns_pkt_ancount(p.get()));
  };
  using R = std::pair<int, size_t>;
  CHECK(rc_an("3.acme") == R{LDNS_RCODE_NOERROR, 4});
  CHECK(rc_an("0.acme") == R{LDNS_RCODE_NOERROR, 3});  // 14 global servers by netspeed: 3,3,4,4
  CHECK(rc_an("acme") == R{LDNS_RCODE_NOERROR, 0});  // has children: NODATA
  CHECK(rc_an("sntpco") == R{LDNS_RCODE_NOERROR, 4});
  CHECK(rc_an("0.sntpco") == R{LDNS_RCODE_NXDOMAIN, 0});
  CHECK(rc_an("bothco") == R{LDNS_RCODE_NOERROR, 4});
  CHECK(rc_an("2.bothco") == R{LDNS_RCODE_NOERROR, 4});
  CHECK(f.st.zone_id == 12);
}

TEST_CASE("EDNS: OPT echoed with our size and DO copied - BADVERS - TC when it does not fit") {
  Fixture f;
  auto qp = make_query_pkt("2.pool.example", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 4096);
  ldns_pkt_set_edns_do(qp.get(), true);
  auto p = parse(f.ask(to_wire(qp.get())));
  REQUIRE(p);
  CHECK(ldns_pkt_edns(p.get()));
  CHECK(ldns_pkt_edns_udp_size(p.get()) == 1232);
  CHECK(ldns_pkt_edns_do(p.get()));
  CHECK(ldns_pkt_ancount(p.get()) == 4);

  ldns_pkt_set_edns_version(qp.get(), 1);
  auto r = f.ask(to_wire(qp.get()));
  p = parse(r);
  REQUIRE(p);
  CHECK(ldns_pkt_edns_extended_rcode(p.get()) == 1);  // 16 = BADVERS
  CHECK(ldns_pkt_ancount(p.get()) == 0);
  CHECK(f.st.rcode == rcode::kBadVers);

  // 40 servers and 32 answers: 12 + 20 + 32 * 16 bytes is more than 512.
  SourceData src;
  src.zones = {zone_row(1, "@", ZoneKind::Global)};
  for (int i = 0; i < 40; ++i) src.servers.push_back(server(i + 1, "10.0.0." + std::to_string(i + 1), 1000, {1}));
  f.snap = Snapshot::build(src, 1);
  f.cfg.max_answers = 32;
  p = parse(f.ask(make_query("pool.example", LDNS_RR_TYPE_A)));
  CHECK(ldns_pkt_tc(p.get()));
  CHECK(ldns_pkt_ancount(p.get()) == 0);
  p = parse(f.ask(make_query("pool.example", LDNS_RR_TYPE_A), true));
  CHECK(!ldns_pkt_tc(p.get()));
  CHECK(ldns_pkt_ancount(p.get()) == 32);
  // A client asking for 1232 bytes gets all 32; one asking for less than 512 gets 512.
  p = parse(f.ask(make_query("pool.example", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1232)));
  CHECK(ldns_pkt_ancount(p.get()) == 32);
  auto small = f.ask(make_query("pool.example", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 100));
  p = parse(small);
  CHECK(ldns_pkt_tc(p.get()));
  CHECK(ldns_pkt_edns(p.get()));  // the OPT survives truncation
  CHECK(small.size() <= 512);
}

TEST_CASE("Malformed queries: silence or FORMERR/NOTIMP, never a crash") {
  Fixture f;
  const auto good = make_query("0.pool.example", LDNS_RR_TYPE_A);
  // Every truncated header length: silence.
  for (size_t n = 0; n < 12; ++n) {
    CHECK(f.ask(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(n))).empty());
  }
  // Every truncated question: FORMERR with the header only.
  for (size_t n = 12; n < good.size(); ++n) {
    auto r = f.ask(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(n)));
    REQUIRE(r.size() == 12);
    CHECK((r[3] & 0x0F) == 1);
    CHECK((r[2] & 0x80) != 0);
  }
  // A response is never answered.
  auto resp = good;
  resp[2] |= 0x80;
  CHECK(f.ask(resp).empty());
  // qdcount 0 and 2.
  for (uint8_t qd : {0, 2}) {
    auto q = good;
    q[5] = qd;
    auto r = f.ask(q);
    REQUIRE(r.size() == 12);
    CHECK((r[3] & 0x0F) == 1);
  }
  // Opcode NOTIFY (4) and UPDATE (5): NOTIMP.
  for (uint8_t op : {1, 4, 5}) {
    auto q = good;
    q[2] = static_cast<uint8_t>((q[2] & 0x87) | (op << 3));
    auto r = f.ask(q);
    REQUIRE(r.size() == 12);
    CHECK((r[3] & 0x0F) == 4);
  }
  // A compression pointer in the question (to itself: a loop): FORMERR.
  std::vector<uint8_t> loop(good.begin(), good.begin() + 12);
  loop.insert(loop.end(), {0xC0, 0x0C, 0, 1, 0, 1});
  CHECK(f.ask(loop).size() == 12);
  // An additional record with a pointer past the end, and a label loop: FORMERR with question.
  auto q = good;
  q[11] = 1;
  q.insert(q.end(), {0xC0, 0xFF});  // pointer, then nothing: truncated RR
  auto r = f.ask(q);
  REQUIRE(r.size() > 12);
  CHECK((r[3] & 0x0F) == 1);
  // Two OPT records: FORMERR.
  auto two = make_query("0.pool.example", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1232);
  const std::vector<uint8_t> opt(two.end() - 11, two.end());
  two.insert(two.end(), opt.begin(), opt.end());
  two[11] = 2;
  r = f.ask(two);
  CHECK((r[3] & 0x0F) == 1);
  // Huge EDNS sizes are capped at ours.
  auto p = parse(f.ask(make_query("0.pool.example", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 65535)));
  REQUIRE(p);
  CHECK(ldns_pkt_edns_udp_size(p.get()) == 1232);
  // An answer record in a query: FORMERR.
  q = good;
  q[7] = 1;
  r = f.ask(q);
  CHECK((r[3] & 0x0F) == 1);
  // Random bytes: whatever comes out is at most the buffer and parses if it is not empty.
  const uint64_t seed = 20261126;
  INFO("seed " << seed);
  Rng gen(seed);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> junk(gen.below(80));
    for (auto& b : junk) b = static_cast<uint8_t>(gen());
    if (i % 2 && junk.size() >= 12) std::copy(good.begin(), good.begin() + 12, junk.begin());
    auto out = f.ask(junk);
    if (!out.empty()) {
      CHECK(out.size() >= 12);
      CHECK((out[2] & 0x80) != 0);
    }
  }
  // And it still answers.
  CHECK(ldns_pkt_ancount(f.ask_pkt("2.pool.example", LDNS_RR_TYPE_A).get()) == 4);
}

TEST_CASE("name_to_wire") {
  CHECK(name_to_wire("Pool.Example.") == std::vector<uint8_t>{4, 'p', 'o', 'o', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0});
  CHECK(name_to_wire("") == std::vector<uint8_t>{0});
  CHECK_THROWS(name_to_wire("a..b"));
  CHECK_THROWS(name_to_wire(std::string(64, 'a')));
  CHECK(wire_to_name(name_to_wire("pool.example")) == "pool.example.");
}

namespace {

AnswerConfig::NsAddress ns_addr(size_t ns, const char* text) {
  return AnswerConfig::NsAddress{ns, *timepool::address::parse(text)};
}

}  // namespace

TEST_CASE("Issue 14: NS answers carry the NS names' addresses as glue, as ldns encodes them") {
  Fixture f;
  f.cfg.ns_addresses = {ns_addr(0, "2001:db8::53"), ns_addr(0, "192.0.2.53")};
  auto q = make_query("pool.example", LDNS_RR_TYPE_NS);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR,
                                  {"pool.example. 86400 IN NS ns1.pool.example.",
                                   "pool.example. 86400 IN NS ns2.example.org."},
                                  {}, true, -1,
                                  {"ns1.pool.example. 86400 IN A 192.0.2.53",
                                   "ns1.pool.example. 86400 IN AAAA 2001:db8::53"}));
  q = make_query("pool.example", LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, 1232);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR,
                                  {"pool.example. 86400 IN NS ns1.pool.example.",
                                   "pool.example. 86400 IN NS ns2.example.org."},
                                  {}, true, 1232,
                                  {"ns1.pool.example. 86400 IN A 192.0.2.53",
                                   "ns1.pool.example. 86400 IN AAAA 2001:db8::53"}));
  // Without configured addresses: no additional records (today's answer).
  f.cfg.ns_addresses.clear();
  auto p = f.ask_pkt("pool.example", LDNS_RR_TYPE_NS);
  CHECK(ldns_pkt_arcount(p.get()) == 0);
}

TEST_CASE("Issue 14: our own NS names answer their configured addresses") {
  Fixture f;
  f.cfg.ns_addresses = {ns_addr(0, "192.0.2.53"), ns_addr(0, "2001:db8::53"),
                        ns_addr(0, "192.0.2.54")};
  auto q = make_query("NS1.pool.example", LDNS_RR_TYPE_A);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR,
                                  {"ns1.pool.example. 86400 IN A 192.0.2.53",
                                   "ns1.pool.example. 86400 IN A 192.0.2.54"},
                                  {}, true));
  q = make_query("ns1.pool.example", LDNS_RR_TYPE_AAAA);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR,
                                  {"ns1.pool.example. 86400 IN AAAA 2001:db8::53"}, {}, true));
  q = make_query("ns1.pool.example", LDNS_RR_TYPE_MX);
  CHECK(f.ask(q) == ldns_response(q, LDNS_RCODE_NOERROR, {}, {kSoaNeg}, true));
  // Without addresses the name does not exist, as before.
  f.cfg.ns_addresses.clear();
  auto p = f.ask_pkt("ns1.pool.example", LDNS_RR_TYPE_A);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE("Issue 14: glue that does not fit in 512 bytes is left out, without TC") {
  Fixture f;
  for (int i = 1; i <= 40; ++i) {
    f.cfg.ns_addresses.push_back(ns_addr(0, ("2001:db8::" + std::to_string(i)).c_str()));
  }
  const auto r = f.ask(make_query("pool.example", LDNS_RR_TYPE_NS));
  CHECK(r.size() <= 512);
  auto p = parse(r);
  REQUIRE(p);
  CHECK(!ldns_pkt_tc(p.get()));
  CHECK(ldns_pkt_ancount(p.get()) == 2);
  CHECK(ldns_pkt_arcount(p.get()) > 5);
  CHECK(ldns_pkt_arcount(p.get()) < 40);
  // With EDNS 1232 more of it fits; over TCP all of it.
  p = f.ask_pkt("pool.example", LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, 1232);
  CHECK(ldns_pkt_arcount(p.get()) > 20);
  p = parse(f.ask(make_query("pool.example", LDNS_RR_TYPE_NS), true));
  REQUIRE(p);
  CHECK(ldns_pkt_arcount(p.get()) == 40);
}

TEST_CASE("Issue 14: IXFR (with the client's SOA in the authority section) is REFUSED like AXFR") {
  Fixture f;
  auto q = make_query_pkt("pool.example", LDNS_RR_TYPE_IXFR);
  ldns_pkt_push_rr(q.get(), LDNS_SECTION_AUTHORITY,
                   rr_from("pool.example. 3600 IN SOA ns1.pool.example. hostmaster.pool.example. "
                           "2026112600 3600 600 1209600 60"));
  auto p = parse(f.ask(to_wire(q.get())));
  REQUIRE(p);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_REFUSED);
  for (auto t : {LDNS_RR_TYPE_IXFR, LDNS_RR_TYPE_AXFR}) {
    p = parse(f.ask(make_query("pool.example", t), true));
    REQUIRE(p);
    CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_REFUSED);
  }
  // Any other query with an authority record stays FORMERR.
  q = make_query_pkt("pool.example", LDNS_RR_TYPE_A);
  ldns_pkt_push_rr(q.get(), LDNS_SECTION_AUTHORITY,
                   rr_from("pool.example. 3600 IN NS ns1.pool.example."));
  p = parse(f.ask(to_wire(q.get())));
  REQUIRE(p);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_FORMERR);
}
