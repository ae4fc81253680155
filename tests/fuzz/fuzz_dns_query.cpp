// The DNS query path: answer() on any bytes, over UDP and TCP limits, with a snapshot that has
// every kind of name and, for half the inputs, a geo view over a small fixed range table (so
// EDNS Client Subnet options are parsed, looked up and echoed, and `_country` answers).
// Every non-empty response must be a packet ldns can parse and be a response (QR set); over
// UDP it must fit 512 bytes without EDNS and min(client's size, our size) with it (sizes below
// 512 count as 512, RFC 6891 section 6.2.5); over TCP 65535.
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "core/geo.hpp"
#include "server/answer.hpp"
#include "server/geo_answer.hpp"
#include "server/query.hpp"
#include "server/snapshot.hpp"

#include <ldns/ldns.h>

using namespace timepool;
using namespace timepool::server;

namespace {

ZoneRow zone_row(int64_t id, const std::string& name, ZoneKind kind, std::optional<int64_t> parent,
                 std::optional<int64_t> alias_of = std::nullopt,
                 ClientType client_type = ClientType::Both) {
  ZoneRow z;  // by field name, so new ZoneRow fields need no change here
  z.id = id;
  z.name = name;
  z.kind = kind;
  z.parent_id = parent;
  z.alias_of = alias_of;
  z.client_type = client_type;
  return z;
}

// 53.0.0.0/8 de, 81.0.0.0/8 gb, 126.0.0.0/8 jp (no zone) in the tor-geoipdb range format.
constexpr const char* kRanges =
    "889192448,905969663,DE\n1358954496,1375731711,GB\n2113929216,2130706431,JP\n";

struct World {
  AnswerConfig cfg;
  std::shared_ptr<const Snapshot> snap;
  World() {
    cfg.apexes = {name_to_wire("pool.example"), name_to_wire("pool.example.net")};
    cfg.ns = {name_to_wire("ns1.pool.example"), name_to_wire("ns2.example.org")};
    cfg.soa_rname = name_to_wire("hostmaster.pool.example");
    cfg.version = "fuzz";
    cfg.identity = "fuzz";
    SourceData src;
    src.zones = {zone_row(1, "@", ZoneKind::Global, std::nullopt),
                 zone_row(2, "europe", ZoneKind::Continent, 1),
                 zone_row(3, "de", ZoneKind::Country, 2),
                 zone_row(4, "gb", ZoneKind::Country, 2),
                 zone_row(5, "uk", ZoneKind::Country, 2, int64_t{4}),
                 zone_row(6, "fr", ZoneKind::Country, 2),
                 zone_row(10, "acme", ZoneKind::Vendor, 1, std::nullopt, ClientType::Ntp),
                 zone_row(11, "sntpco", ZoneKind::Vendor, 1, std::nullopt, ClientType::Sntp)};
    for (int i = 0; i < 120; ++i) {  // 40 IPv6: AAAA answers up to 40 x 28 bytes
      ServerRow s;
      s.id = i + 1;
      parse_address(i % 3 ? "192.0.2." + std::to_string(i + 1) : "2001:db8::" + std::to_string(i + 1), s);
      s.netspeed = 512u * static_cast<uint32_t>(i + 1);
      s.zones = {1, 2, i % 2 ? int64_t{3} : int64_t{4}};
      src.servers.push_back(s);
    }
    snap = Snapshot::build(src, 1);
    GeoSettings settings;
    settings.min_servers = 3;
    geo = std::make_unique<GeoView>(snap, geo::RangeGeoDb::parse(kRanges, ""), settings);
  }
  std::unique_ptr<GeoView> geo;
};

// The most a UDP answer to this query may hold.
size_t udp_limit(std::span<const uint8_t> q, const AnswerConfig& cfg) {
  ParsedQuery p;
  if (q.size() < kHeaderSize || parse_query(q, p) == ParseResult::FormErrNoQuestion || !p.edns) {
    return kUdpPlainMax;
  }
  return std::min<size_t>(std::max<size_t>(p.edns_size, kUdpPlainMax),
                          std::max<size_t>(cfg.edns_max, kUdpPlainMax));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  static std::vector<uint8_t> out(65535);
  if (size == 0) return 0;
  // The first byte picks the transport and the settings; the rest is the query.
  const uint8_t mode = data[0];
  AnswerConfig cfg = w.cfg;
  cfg.max_answers = 1 + (mode >> 2) % 40;
  cfg.aaaa_all_labels = mode & 2;
  static constexpr uint16_t kEdnsMax[] = {1232, 512, 4096, 1400};
  cfg.edns_max = kEdnsMax[(mode >> 3) & 3];
  const bool no_snapshot = (mode & 0x80) && (mode & 0x40);
  const GeoView* geo = (mode & 0x10) && !no_snapshot ? w.geo.get() : nullptr;
  Client client;
  client.tcp = mode & 1;
  // Loopback (may see `_country`) or a public address in de (located without ECS).
  client.addr = address::Address::v4(mode & 0x20 ? std::array<uint8_t, 4>{53, 9, 9, 9}
                                                  : std::array<uint8_t, 4>{127, 0, 0, 1});
  Rng rng(mode);
  AnswerStats st;
  std::span<const uint8_t> q(data + 1, size - 1);
  const size_t n = answer(q, no_snapshot ? nullptr : w.snap.get(), cfg, rng, client, out, st, geo);
  if (n == 0) return 0;
  if (n < kHeaderSize || !(out[2] & flags::kQR)) std::abort();
  if (!client.tcp && n > udp_limit(q, cfg)) std::abort();
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, out.data(), n) != LDNS_STATUS_OK) std::abort();
  ldns_pkt_free(pkt);
  return 0;
}
