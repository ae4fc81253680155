// The answer function: one DNS query in wire format in, the response (or nothing) out.
//
// Pure: no I/O, no clock, no globals. The snapshot, the geo view, the RNG and the client's
// address are arguments, so the UDP and TCP loops, the unit tests, the fuzzer and the benchmark
// all call exactly this. It runs in three steps: classify the query (silence, errors, CHAOS,
// which apex), locate the name below the apex (and, with geo, the zone that answers this
// client), and emit the records. The wire format lives in server/query (parser),
// server/wire_writer (writer with name compression) and server/dns_wire (constants).
//
// Behaviour (RFC 1035, RFC 2308, RFC 6891, RFC 7766, RFC 8482, RFC 8906):
//   - fewer than 12 bytes, or QR set: silence (never answer a response);
//   - opcode other than QUERY: NOTIMP; qdcount != 1, a malformed question or additional
//     section, answer/authority records in a query: FORMERR;
//   - EDNS version > 0: BADVERS; the OPT is echoed with our payload size, DO copied;
//   - names outside every apex: REFUSED; AXFR and IXFR: REFUSED (no transfers); class CH:
//     version.bind/version.server/hostname.bind/id.server TXT when configured, else REFUSED;
//     other classes: REFUSED;
//   - below an apex: A/AAAA from the pools, SOA/NS at the apex (NS with the configured
//     addresses of the NS names as glue in the additional section while they fit, without TC),
//     A/AAAA of our own NS names from AnswerConfig::ns_addresses, HINFO "RFC8482" for ANY,
//     NODATA (NOERROR + SOA) for other types and empty non-terminals, NXDOMAIN + SOA;
//   - an answer that does not fit (512 without EDNS, else the client's size capped by
//     AnswerConfig::edns_max; 65535 over TCP) goes out empty with TC set.
// Thread safety: reentrant; `rng` and `out` belong to the calling thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "server/dns_wire.hpp"
#include "server/rng.hpp"
#include "server/snapshot.hpp"

namespace timepool::server {

struct AnswerConfig {
  std::vector<std::vector<uint8_t>> apexes;  // wire format, lower case
  std::vector<std::vector<uint8_t>> ns;      // NS names at every apex; ns[0] is the SOA MNAME
  std::vector<uint8_t> soa_rname;            // wire format
  uint32_t ttl = 150;           // A/AAAA (and the ANY HINFO)
  uint32_t ns_ttl = 86400;
  uint32_t soa_ttl = 3600;
  uint32_t negative_ttl = 60;   // SOA MINIMUM; the SOA in negative answers has min(soa_ttl, this)
  uint32_t soa_refresh = 3600, soa_retry = 600, soa_expire = 1209600;
  size_t max_answers = 4;       // 1..Pool::kMaxPick
  bool aaaa_all_labels = false;  // false: AAAA only on the 2. labels
  uint16_t edns_max = 1232;     // our UDP payload size (RFC 6891 section 6.2.5; DNS flag day 2020)
  // Addresses of our own NS names that lie below an apex (ns1.pool.example): those names
  // answer A/AAAA from here, and NS answers carry them in the additional section (glue).
  struct NsAddress {
    size_t ns = 0;  // index into `ns`
    address::Address addr;
  };
  std::vector<NsAddress> ns_addresses;
  std::string version;          // CHAOS version.bind; empty: REFUSED
  std::string identity;         // CHAOS hostname.bind / id.server; empty: REFUSED
};

struct Client {
  address::Address addr;  // where the query came from
  bool tcp = false;
};

// What happened, for metrics: the zone answered for (its database id, -1 if none), the query
// type and the response code (with EDNS extended bits, e.g. 16 for BADVERS).
struct AnswerStats {
  int64_t zone_id = -1;
  uint16_t qtype = 0;
  uint16_t rcode = 0;
  bool dropped = false;
  int32_t zone_index = -1;        // index into Snapshot::zones() of the name queried
  uint32_t pool = 0xffffffff;     // the pool the first A/AAAA record came from (kNoPool: none)
  uint8_t picked_count = 0;       // how many entries of `picked` hold pool entries
  // The balancer's demand (schema/0016): an A query, or an AAAA query at a label that answers
  // AAAA, with geo on counts for this zone (index into Snapshot::zones(); -1: not counted): the
  // client's country zone for geo-routed names (the global zone when it is not located), the
  // queried zone for explicit country and continent names.
  int32_t demand_zone = -1;
  bool demand_v6 = false;
  // Record i is entry picked[i] of pool picked_pool[i] (a balancer mixture draws the records
  // of one answer from up to three pools). Not cleared: read only below picked_count.
  std::array<uint32_t, Pool::kMaxPick> picked;
  std::array<uint32_t, Pool::kMaxPick> picked_pool;
};

// Writes the response into `out` and returns its length; 0 means send nothing. `snap` may be
// null (no data yet): names below an apex then get SERVFAIL. `out` should hold 65535 bytes for
// TCP; for UDP 4096 is plenty (responses never exceed edns_max).
//
// `geo` (server/geo_answer.hpp; nullptr: geo off) makes answers geo-aware: global names and
// vendor zones answer from the client's zone, the EDNS Client Subnet option is parsed (FORMERR
// when malformed, RFC 7871 section 7.1.2) and echoed with its scope (section 7.2.1), and
// `_country.<apex>` answers a debug TXT to loopback clients (REFUSED to others).
class GeoView;
size_t answer(std::span<const uint8_t> query, const Snapshot* snap, const AnswerConfig& cfg,
              Rng& rng, const Client& client, std::span<uint8_t> out, AnswerStats& stats,
              const GeoView* geo = nullptr);

}  // namespace timepool::server
