// Geo-aware answers through the pure answer function: a small range table stands in for the
// tor-geoipdb files, ECS options are written byte by byte, responses parsed with ldns.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>

#include "dns_test_util.hpp"
#include "server/geo_answer.hpp"

using namespace timepool;
using namespace timepool::server;
using namespace timepool::server::test;

namespace {

// 53.0.0.0/8 de, 80.0.0.0/8 fr, 126.0.0.0/8 jp (decimal low,high,CC as in /usr/share/tor/geoip).
constexpr const char* kRanges =
    "889192448,905969663,DE\n1342177280,1358954495,FR\n2113929216,2130706431,JP\n";

// Zones: 1 '@', 2 europe, 3 de (4 servers), 4 fr (1 server), 5 at (none), 6 asia, 7 jp
// (2 servers), 10 acme (vendor, both).
SourceData geo_fixture() {
  SourceData src;
  auto z = [&](int64_t id, const char* name, ZoneKind k, std::optional<int64_t> parent) {
    ZoneRow r = zone_row(id, name, k);
    r.parent_id = parent;
    src.zones.push_back(r);
  };
  z(1, "@", ZoneKind::Global, std::nullopt);
  z(2, "europe", ZoneKind::Continent, 1);
  z(3, "de", ZoneKind::Country, 2);
  z(4, "fr", ZoneKind::Country, 2);
  z(5, "at", ZoneKind::Country, 2);
  z(6, "asia", ZoneKind::Continent, 1);
  z(7, "jp", ZoneKind::Country, 6);
  z(10, "acme", ZoneKind::Vendor, 1);
  for (int i = 0; i < 4; ++i) src.servers.push_back(server::test::server(100 + i, "192.0.2." + std::to_string(1 + i), 1500, {1, 2, 3}));
  src.servers.push_back(server::test::server(200, "198.51.100.1", 1500, {1, 2, 4}));
  for (int i = 0; i < 2; ++i) src.servers.push_back(server::test::server(300 + i, "203.0.113." + std::to_string(1 + i), 1500, {1, 6, 7}));
  return src;
}

// A query with EDNS and one ECS option carrying `ecs` as its data.
std::vector<uint8_t> ecs_query(const std::string& name, ldns_rr_type type, std::vector<uint8_t> ecs) {
  timepool::test::QueryOptions o;
  o.edns_size = 1232;
  o.ecs = std::move(ecs);
  return timepool::test::dns_query(name, static_cast<uint16_t>(type), o);
}

std::set<std::string> a_records(const ldns_pkt* p);

struct GeoFixture {
  std::shared_ptr<const Snapshot> snap = Snapshot::build(geo_fixture(), 1);
  std::shared_ptr<const geo::GeoDb> db = geo::RangeGeoDb::parse(kRanges, "");
  GeoView view{snap, db, GeoSettings{}};
  AnswerConfig cfg = test_config();
  Rng rng{7};
  std::vector<uint8_t> out = std::vector<uint8_t>(4096);

  std::vector<uint8_t> ask(const std::vector<uint8_t>& q, const Client& c = loopback(),
                           bool geo = true) {
    AnswerStats st;
    const size_t n = answer(q, snap.get(), cfg, rng, c, out, st, geo ? &view : nullptr);
    return {out.begin(), out.begin() + static_cast<long>(n)};
  }
  void answer_stats(const std::vector<uint8_t>& q, AnswerStats& st, bool geo = true) {
    answer(q, snap.get(), cfg, rng, loopback(), out, st, geo ? &view : nullptr);
  }
  static Client loopback() {
    Client c;
    c.addr = address::Address::v4(std::array<uint8_t, 4>{127, 0, 0, 1});
    return c;
  }
  std::set<std::string> seen(const std::string& name, const std::vector<uint8_t>& ecs, int n = 30) {
    std::set<std::string> out_set;
    for (int i = 0; i < n; ++i) {
      auto p = parse(ask(ecs_query(name, LDNS_RR_TYPE_A, ecs)));
      REQUIRE(p);
      for (const auto& a : a_records(p.get())) out_set.insert(a);
    }
    return out_set;
  }
};

std::set<std::string> a_records(const ldns_pkt* p) {
  std::set<std::string> out;
  const ldns_rr_list* an = ldns_pkt_answer(p);
  for (size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(an, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A) continue;
    char* a = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    out.insert(a);
    free(a);
  }
  return out;
}

const std::vector<uint8_t> kDe = {0, 1, 24, 0, 53, 1, 2};
const std::vector<uint8_t> kFr = {0, 1, 24, 0, 80, 1, 2};
const std::vector<uint8_t> kJp = {0, 1, 24, 0, 126, 1, 2};
const std::vector<uint8_t> kPrivate = {0, 1, 24, 0, 10, 1, 2};

}  // namespace

TEST_CASE("geo: global names and vendor zones answer from the client's zone with fallback") {
  GeoFixture f;
  const std::set<std::string> de = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
  const std::set<std::string> europe = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4",
                                        "198.51.100.1"};
  for (const char* name : {"pool.example", "2.pool.example", "acme.pool.example", "0.acme.pool.example"}) {
    INFO(name);
    CHECK(f.seen(name, kDe) == de);        // 4 servers >= 3: de
    CHECK(f.seen(name, kFr) == europe);    // 1 server: europe
    CHECK(f.seen(name, kJp).size() == 7);  // jp 2, asia 2: global
  }
  // Explicit names: fr keeps its one server; at (empty) falls back to europe.
  CHECK(f.seen("fr.pool.example", kDe) == std::set<std::string>{"198.51.100.1"});
  CHECK(f.seen("at.pool.example", kJp) == europe);
  // Private ECS is ignored: the loopback resolver is not located either, so global.
  CHECK(f.seen("pool.example", kPrivate).size() == 7);
}

TEST_CASE("geo: the ECS option is echoed with the scope of the range, 0 when unused") {
  GeoFixture f;
  auto tail = [](const std::vector<uint8_t>& r) { return std::vector<uint8_t>(r.end() - 7, r.end()); };
  CHECK(tail(f.ask(ecs_query("pool.example", LDNS_RR_TYPE_A, kDe))) ==
        std::vector<uint8_t>{0, 1, 24, 8, 53, 1, 2});
  CHECK(tail(f.ask(ecs_query("de.pool.example", LDNS_RR_TYPE_A, kDe))) ==
        std::vector<uint8_t>{0, 1, 24, 0, 53, 1, 2});
  CHECK(tail(f.ask(ecs_query("pool.example", LDNS_RR_TYPE_A, kPrivate))) ==
        std::vector<uint8_t>{0, 1, 24, 0, 10, 1, 2});
  // Without geo the option is not echoed: the OPT has no data.
  auto off = f.ask(ecs_query("pool.example", LDNS_RR_TYPE_A, kDe), GeoFixture::loopback(), false);
  CHECK(off[off.size() - 2] == 0);
  CHECK(off[off.size() - 1] == 0);
}

TEST_CASE("geo: a malformed ECS option gets FORMERR, only with geo on") {
  GeoFixture f;
  for (const auto& bad : std::vector<std::vector<uint8_t>>{
           {0, 1, 24, 0, 53, 1, 2, 3}, {0, 1, 24, 8, 53, 1, 2}, {0, 9, 24, 0, 53, 1, 2},
           {0, 1, 33, 0, 53, 1, 2, 3, 4}, {0, 1}, {0, 1, 20, 0, 53, 1, 0xff}}) {
    auto p = parse(f.ask(ecs_query("pool.example", LDNS_RR_TYPE_A, bad)));
    REQUIRE(p);
    CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_FORMERR);
    auto q = parse(f.ask(ecs_query("pool.example", LDNS_RR_TYPE_A, bad), GeoFixture::loopback(), false));
    REQUIRE(q);
    CHECK(ldns_pkt_get_rcode(q.get()) == LDNS_RCODE_NOERROR);
  }
}

TEST_CASE("geo: _country TXT for loopback clients, REFUSED for others") {
  GeoFixture f;
  auto p = parse(f.ask(ecs_query("_country.pool.example", LDNS_RR_TYPE_TXT, kFr)));
  REQUIRE(p);
  CHECK(ldns_pkt_get_rcode(p.get()) == LDNS_RCODE_NOERROR);
  REQUIRE(ldns_pkt_ancount(p.get()) == 1);
  char* text = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0));
  const std::string s = text;
  free(text);
  CHECK(s.find("country=fr") != std::string::npos);
  CHECK(s.find("zone=europe") != std::string::npos);
  Client remote;
  remote.addr = address::Address::v4(std::array<uint8_t, 4>{198, 51, 100, 7});
  auto r = parse(f.ask(ecs_query("_country.pool.example", LDNS_RR_TYPE_TXT, kFr), remote));
  REQUIRE(r);
  CHECK(ldns_pkt_get_rcode(r.get()) == LDNS_RCODE_REFUSED);
  CHECK_FALSE(ldns_pkt_aa(r.get()));
}

TEST_CASE("geo: the zone parent survives the snapshot's text form") {
  uint32_t serial = 0;
  const auto src = parse_source(format_source(geo_fixture(), 5), &serial);
  REQUIRE(src.zones.size() == 8);
  CHECK(src.zones[2].parent_id == std::optional<int64_t>(2));
  CHECK_FALSE(src.zones[0].parent_id);
}

namespace {

std::shared_ptr<const Mixtures> mixtures(std::vector<MixtureRow> rows) {
  return std::make_shared<const Mixtures>(rows);
}

// The first A record of n answers, counted by address.
std::map<std::string, int> first_records(GeoFixture& f, const GeoView& view, const std::string& name,
                                         const std::vector<uint8_t>& ecs, int n) {
  std::map<std::string, int> out;
  for (int i = 0; i < n; ++i) {
    AnswerStats st;
    const size_t len = answer(ecs_query(name, LDNS_RR_TYPE_A, ecs), f.snap.get(), f.cfg, f.rng,
                              GeoFixture::loopback(), f.out, st, &view);
    auto p = parse({f.out.begin(), f.out.begin() + static_cast<long>(len)});
    REQUIRE(p);
    const ldns_rr_list* an = ldns_pkt_answer(p.get());
    REQUIRE(ldns_rr_list_rr_count(an) == 4);
    std::set<std::string> distinct;
    for (size_t k = 0; k < 4; ++k) {
      char* a = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(an, k), 0));
      distinct.insert(a);
      if (k == 0) ++out[a];
      free(a);
    }
    CHECK(distinct.size() == 4);
    CHECK(st.picked_count == 4);
  }
  return out;
}

std::set<std::string> seen_with(GeoFixture& f, const GeoView& view, const std::string& name,
                                const std::vector<uint8_t>& ecs, int n = 60) {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i) {
    AnswerStats st;
    const size_t len = answer(ecs_query(name, LDNS_RR_TYPE_A, ecs), f.snap.get(), f.cfg, f.rng,
                              GeoFixture::loopback(), f.out, st, &view);
    auto p = parse({f.out.begin(), f.out.begin() + static_cast<long>(len)});
    REQUIRE(p);
    for (const auto& a : a_records(p.get())) out.insert(a);
  }
  return out;
}

}  // namespace

TEST_CASE("geo: a published mixture splits answers between the client's tiers") {
  GeoFixture f;
  // de clients: half from de (4 servers), half global (7); jp clients: jp has 2 servers
  // (< min_servers 3), so its share goes to the others: asia also has 2, all global.
  GeoView view(f.snap, f.db, GeoSettings{},
               mixtures({{false, 3, 2, 0.5, 0.0, 0.5}, {false, 7, 6, 0.6, 0.3, 0.1},
                         {false, 4, 2, 0.0, 1.0, 0.0}}));
  const int n = 7000;
  auto first = first_records(f, view, "pool.example", kDe, n);
  // A de server is first with 0.5/4 + 0.5/7 of the answers, the others with 0.5/7.
  int de_first = 0;
  for (const auto& [addr, c] : first) de_first += addr.rfind("192.0.2.", 0) == 0 ? c : 0;
  const double want = n * (0.5 + 0.5 * 4 / 7.0);
  CHECK(std::abs(de_first - want) < 4 * std::sqrt(want * (1 - want / n)));
  CHECK(first.size() == 7);
  CHECK(seen_with(f, view, "pool.example", kJp).size() == 7);
  // Explicit fr (1 server) by its mixture: all from europe's 5.
  CHECK(seen_with(f, view, "fr.pool.example", kDe).size() == 5);
  // Numbered labels draw from the tiers' quarters: still 4 distinct records.
  first_records(f, view, "1.pool.example", kDe, 50);
  // The debug record names the mixture.
  ecs::ClientLocation loc;
  loc.country = geo::CountryCode::parse("de");
  CHECK(view.debug(loc, false).find("mixture de 0.5000, @ 0.5000") != std::string::npos);
}

TEST_CASE("geo: no mixture for an origin, or none published: the plain rule") {
  GeoFixture f;
  GeoView view(f.snap, f.db, GeoSettings{}, mixtures({{true, 3, 2, 0.0, 0.0, 1.0}}));
  CHECK(seen_with(f, view, "pool.example", kDe) ==
        std::set<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"});
}

TEST_CASE("geo: every address query notes the zone it counts for as the balancer's demand") {
  GeoFixture f;
  auto demand = [&](const std::string& name, ldns_rr_type type, const std::vector<uint8_t>& ecs,
                    bool geo = true) {
    AnswerStats st;
    f.answer_stats(ecs_query(name, type, ecs), st, geo);
    return st.demand_zone < 0 ? std::string("-")
                              : f.snap->zones()[static_cast<size_t>(st.demand_zone)].name +
                                    (st.demand_v6 ? "/6" : "/4");
  };
  // Geo-routed names: the client's country, whether or not that country has servers.
  CHECK(demand("pool.example", LDNS_RR_TYPE_A, kDe) == "de/4");
  CHECK(demand("1.pool.example", LDNS_RR_TYPE_A, kFr) == "fr/4");
  CHECK(demand("acme.pool.example", LDNS_RR_TYPE_A, kJp) == "jp/4");
  CHECK(demand("2.pool.example", LDNS_RR_TYPE_AAAA, kDe) == "de/6");
  // A client that is not located counts for the global zone.
  CHECK(demand("pool.example", LDNS_RR_TYPE_A, kPrivate) == "@/4");
  // Explicit names count for themselves, wherever the client is.
  CHECK(demand("fr.pool.example", LDNS_RR_TYPE_A, kDe) == "fr/4");
  CHECK(demand("0.europe.pool.example", LDNS_RR_TYPE_A, kJp) == "europe/4");
  CHECK(demand("at.pool.example", LDNS_RR_TYPE_A, kJp) == "at/4");
  // Not demand: AAAA where the label gives none, other types, names without servers, no geo.
  CHECK(demand("1.pool.example", LDNS_RR_TYPE_AAAA, kDe) == "-");
  CHECK(demand("pool.example", LDNS_RR_TYPE_TXT, kDe) == "-");
  CHECK(demand("pool.example", LDNS_RR_TYPE_SOA, kDe) == "-");
  CHECK(demand("nothere.pool.example", LDNS_RR_TYPE_A, kDe) == "-");
  CHECK(demand("pool.example", LDNS_RR_TYPE_A, kDe, false) == "-");
}
