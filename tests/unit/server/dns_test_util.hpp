// Helpers for the server unit tests: queries from the shared builder (and from ldns, to check
// it), responses parsed with ldns, and a small snapshot fixture.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/answer.hpp"
#include "server/snapshot.hpp"
#include "tests/support/dns_query.hpp"

// After the standard headers: ldns's common.h may define `bool`/`false` macros that break
// <optional>'s comparison operators.
#include <ldns/ldns.h>

namespace timepool::server::test {

struct PktFree {
  void operator()(ldns_pkt* p) const noexcept { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

inline std::vector<uint8_t> to_wire(const ldns_pkt* pkt) {
  uint8_t* buf = nullptr;
  size_t len = 0;
  if (ldns_pkt2wire(&buf, pkt, &len) != LDNS_STATUS_OK) return {};
  std::vector<uint8_t> out(buf, buf + len);
  free(buf);
  return out;
}

// A query as a stub resolver sends it: RD set, optional EDNS with the given payload size.
inline PktPtr make_query_pkt(const std::string& name, ldns_rr_type type,
                             ldns_rr_class cls = LDNS_RR_CLASS_IN, int edns_size = -1,
                             uint16_t id = 0x1234) {
  ldns_pkt* pkt = nullptr;
  ldns_pkt_query_new_frm_str(&pkt, name.c_str(), type, cls, LDNS_RD);
  ldns_pkt_set_id(pkt, id);
  if (edns_size >= 0) ldns_pkt_set_edns_udp_size(pkt, static_cast<uint16_t>(edns_size));
  return PktPtr(pkt);
}

// The same query from the shared builder (tests/support/dns_query.hpp); test_dns_query checks
// that both give the same bytes.
inline std::vector<uint8_t> make_query(const std::string& name, ldns_rr_type type,
                                       ldns_rr_class cls = LDNS_RR_CLASS_IN, int edns_size = -1) {
  timepool::test::QueryOptions o;
  o.qclass = static_cast<uint16_t>(cls);
  o.edns_size = edns_size;
  return timepool::test::dns_query(name, static_cast<uint16_t>(type), o);
}

inline PktPtr parse(const std::vector<uint8_t>& wire) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
  return PktPtr(pkt);
}

inline AnswerConfig test_config() {
  AnswerConfig cfg;
  cfg.apexes = {name_to_wire("pool.example"), name_to_wire("pool.example.net")};
  cfg.ns = {name_to_wire("ns1.pool.example"), name_to_wire("ns2.example.org")};
  cfg.soa_rname = name_to_wire("hostmaster.pool.example");
  cfg.version = "timepool-dns test";
  cfg.identity = "dns1";
  return cfg;
}

inline ZoneRow zone_row(int64_t id, const std::string& name, ZoneKind kind,
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

inline ServerRow server(int64_t id, const std::string& addr, uint32_t netspeed,
                        std::vector<int64_t> zones) {
  ServerRow s;
  s.id = id;
  parse_address(addr, s);
  s.netspeed = netspeed;
  s.zones = std::move(zones);
  return s;
}

// Zones: 1 '@', 2 europe, 3 de, 4 gb, 5 uk (alias of gb), 6 asia, 10 acme (ntp),
// 11 sntpco (sntp), 12 bothco (both).
// Servers: 12 IPv4 + 9 IPv6 in de (so de, europe and @ split into quarters), 2 IPv4 in gb.
inline SourceData fixture() {
  SourceData src;
  src.zones = {
      zone_row(1, "@", ZoneKind::Global, std::nullopt, ClientType::Both),
      zone_row(2, "europe", ZoneKind::Continent, std::nullopt, ClientType::Both),
      zone_row(3, "de", ZoneKind::Country, std::nullopt, ClientType::Both),
      zone_row(4, "gb", ZoneKind::Country, std::nullopt, ClientType::Both),
      zone_row(5, "uk", ZoneKind::Country, int64_t{4}, ClientType::Both),
      zone_row(6, "asia", ZoneKind::Continent, std::nullopt, ClientType::Both),
      zone_row(10, "acme", ZoneKind::Vendor, std::nullopt, ClientType::Ntp),
      zone_row(11, "sntpco", ZoneKind::Vendor, std::nullopt, ClientType::Sntp),
      zone_row(12, "bothco", ZoneKind::Vendor, std::nullopt, ClientType::Both),
  };
  for (int i = 0; i < 12; ++i) {
    src.servers.push_back(server(100 + i, "192.0.2." + std::to_string(10 + i),
                                 static_cast<uint32_t>(1000 * (i + 1)), {1, 2, 3}));
  }
  for (int i = 0; i < 9; ++i) {
    src.servers.push_back(server(200 + i, "2001:db8::" + std::to_string(10 + i), 1500, {1, 2, 3}));
  }
  src.servers.push_back(server(300, "198.51.100.1", 1000, {1, 2, 4}));
  src.servers.push_back(server(301, "198.51.100.2", 1000, {1, 2, 4}));
  return src;
}

}  // namespace timepool::server::test
