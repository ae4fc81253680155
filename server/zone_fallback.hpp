// Which zone answers a client: the geo selection rule of the pool, as pure functions.
//
// Global names (`@`, `0-3.`) and vendor zones answer from the client's country zone when it
// has at least `min_servers` eligible servers, else from the country's continent when that
// has at least `min_servers`, else from the global zone. (The public pool falls back only when
// a zone is empty, which overloads the one or two servers of a small country.)
// Explicit country and continent names answer from that zone; only when it is empty does a
// country fall back to its continent (and an empty continent to the global zone, so a name
// the pool publishes never answers with nothing while the pool has servers).
//
// Counts are per address family: a DNS server builds one GeoSelector from its IPv4 counts for
// A queries and one from its IPv6 counts for AAAA queries, next to each snapshot.
//
// ZoneTree and GeoSelector are immutable after construction: every const method may be called
// from any number of threads at once. Constructors throw std::invalid_argument for rows that
// do not form the tree the schema enforces (exactly one global zone, parents that exist).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/geo.hpp"
#include "core/pg.hpp"
#include "server/zone.hpp"

namespace timepool::server {

class ZoneTree {
 public:
  explicit ZoneTree(std::vector<ZoneRow> rows);

  const ZoneRow* find(int64_t id) const;  // nullptr when absent
  const ZoneRow* find_name(std::string_view name) const;
  const ZoneRow& global() const { return rows_[global_index_]; }
  // The zone whose servers a zone answers with: alias_of followed once (uk -> gb), else itself.
  const ZoneRow& resolve(const ZoneRow& z) const;
  // The country zone for a client's country code, alias resolved; nullptr when the pool has
  // no zone for that code (geo databases also return codes such as "eu" or "ap").
  const ZoneRow* country(const geo::CountryCode& cc) const;
  // The continent a country zone hangs below; nullptr for other kinds.
  const ZoneRow* continent_of(const ZoneRow& country) const;
  const std::vector<ZoneRow>& rows() const { return rows_; }

 private:
  std::vector<ZoneRow> rows_;
  std::unordered_map<int64_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_name_;
  size_t global_index_ = 0;
};

// Reads every row of the zones table. Throws pg::Error, or std::invalid_argument when the rows
// do not form a tree.
ZoneTree load_zone_tree(pg::Connection& conn);

// Eligible servers per zone id; a zone that is absent has none.
using ServerCounts = std::unordered_map<int64_t, uint64_t>;

inline constexpr uint64_t kDefaultMinServers = 3;

struct ZoneChoice {
  int64_t zone_id = 0;
  std::string zone_name;
  // Why, in one line for the `_country.<apex>` debug TXT record and logs, e.g.
  // "country lu has 1 server (< 3); continent europe has 40 (>= 3)".
  std::string reason;
};

// The rule for global names and vendor zones. `client` is nullopt when the address could not
// be located.
ZoneChoice choose_geo_zone(const ZoneTree& tree, const std::optional<geo::CountryCode>& client,
                           const ServerCounts& counts, uint64_t min_servers = kDefaultMinServers);

// The rule for an explicitly named zone (a country or continent label; other kinds answer
// from themselves). Throws std::invalid_argument for an id that is not in the tree.
ZoneChoice choose_explicit_zone(const ZoneTree& tree, int64_t requested_zone,
                                const ServerCounts& counts);

// Both rules precomputed for one snapshot and one address family, so the per-query cost is
// an array index (country code) or a hash lookup (explicit zone). References returned stay
// valid for the selector's lifetime.
class GeoSelector {
 public:
  GeoSelector(const ZoneTree& tree, const ServerCounts& counts,
              uint64_t min_servers = kDefaultMinServers);
  const ZoneChoice& for_client(const std::optional<geo::CountryCode>& client) const;
  // nullptr for a zone id that was not in the tree.
  const ZoneChoice* for_explicit(int64_t zone_id) const;

 private:
  std::vector<ZoneChoice> by_code_;  // 26*26 two-letter codes; the last entry: unknown
  std::unordered_map<int64_t, ZoneChoice> explicit_;
};

}  // namespace timepool::server
