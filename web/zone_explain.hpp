// What a zone page explains beyond its counts: where the zone's answers come from when the DNS
// server falls back to a bigger zone (the same functions the DNS server runs,
// server/zone_fallback.hpp, on the same eligible servers), and how many servers the zone had
// in DNS over time (zone_servers_hourly, schema/0018).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/pg.hpp"
#include "server/zone_fallback.hpp"

namespace timepool::web {

// Sentences (plain text) saying where the answers for `zone` come from, when that is not the
// zone itself; empty when it answers from its own servers. `pool_domain` names the DNS names.
// IPv4 and IPv6 are judged apart (the DNS server keeps a selector per family).
std::vector<std::string> zone_fallback_notes(const server::ZoneTree& tree,
                                             const server::ServerCounts& v4,
                                             const server::ServerCounts& v6,
                                             const std::string& zone, uint64_t min_servers,
                                             const std::string& pool_domain);

// The tree and the per-family counts of eligible servers as the DNS server's snapshot has them.
struct ZoneCounts {
  server::ServerCounts v4, v6;
};
ZoneCounts load_zone_counts(pg::Connection& db);

// The zone page's chart of servers in DNS per hour (IPv4 and IPv6) over the last 14 days, or
// a sentence when there is no history yet. HTML.
std::string zone_history_html(pg::Connection& db, const std::string& zone, double now);

}  // namespace timepool::web
