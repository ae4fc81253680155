// The DNS query path: answer() on any bytes, over UDP and TCP limits, with a snapshot that has
// every kind of name. Every non-empty response must be a packet ldns can parse, be a response
// (QR set) and fit the transport's limit.
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "server/answer.hpp"
#include "server/snapshot.hpp"

#include <ldns/ldns.h>

using namespace timepool::server;

namespace {

ZoneRow zone_row(int64_t id, const std::string& name, ZoneKind kind,
                        std::optional<int64_t> alias_of = std::nullopt,
                        ClientType client_type = ClientType::Both) {
  ZoneRow z;  // by field name, so new ZoneRow fields need no change here
  z.id = id;
  z.name = name;
  z.kind = kind;
  z.alias_of = alias_of;
  z.client_type = client_type;
  return z;
}

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
    src.zones = {zone_row(1, "@", ZoneKind::Global, std::nullopt, ClientType::Both),
                 zone_row(2, "europe", ZoneKind::Continent, std::nullopt, ClientType::Both),
                 zone_row(3, "de", ZoneKind::Country, std::nullopt, ClientType::Both),
                 zone_row(4, "gb", ZoneKind::Country, std::nullopt, ClientType::Both),
                 zone_row(5, "uk", ZoneKind::Country, int64_t{4}, ClientType::Both),
                 zone_row(10, "acme", ZoneKind::Vendor, std::nullopt, ClientType::Ntp),
                 zone_row(11, "sntpco", ZoneKind::Vendor, std::nullopt, ClientType::Sntp)};
    for (int i = 0; i < 40; ++i) {
      ServerRow s;
      s.id = i + 1;
      parse_address(i % 3 ? "192.0.2." + std::to_string(i + 1) : "2001:db8::" + std::to_string(i + 1), s);
      s.netspeed = 512u * static_cast<uint32_t>(i + 1);
      s.zones = {1, 2, i % 2 ? int64_t{3} : int64_t{4}};
      src.servers.push_back(s);
    }
    snap = Snapshot::build(src, 1);
  }
};

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
  Client client;
  client.tcp = mode & 1;
  Rng rng(mode);
  AnswerStats st;
  std::span<const uint8_t> q(data + 1, size - 1);
  const size_t n = answer(q, (mode & 0x80) && (mode & 0x40) ? nullptr : w.snap.get(), cfg, rng,
                          client, out, st);
  if (n == 0) return 0;
  if (n < 12 || !(out[2] & 0x80)) std::abort();
  if (!client.tcp && n > 4096) std::abort();
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, out.data(), n) != LDNS_STATUS_OK) std::abort();
  ldns_pkt_free(pkt);
  return 0;
}
