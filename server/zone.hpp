// The zone model of timepool-dns: one row of the zones table as the server uses it everywhere
// (the snapshot, its on-disk copy, the geo fallback tree, the statistics slots).
//
// The text forms are those of the database columns (zones.kind, vendor_zones.client_type) and
// of the snapshot file. Parsing refuses anything else: a kind this server does not know is not
// guessed at, since guessing would answer for a zone by the wrong rules.
//
// Pure values and functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace timepool::server {

enum class ZoneKind : uint8_t { Global, Continent, Country, Vendor };
// Which labels a vendor zone publishes (pool convention: ntpd uses 0-3.<vendor>, SNTP clients
// use one bare name).
enum class ClientType : uint8_t { Ntp, Sntp, Both };

// "global" | "continent" | "country" | "vendor"; nullopt for anything else (case matters).
std::optional<ZoneKind> parse_zone_kind(std::string_view text);
std::string_view zone_kind_name(ZoneKind k);
// "ntp" | "sntp" | "both"; nullopt otherwise.
std::optional<ClientType> parse_client_type(std::string_view text);
std::string_view client_type_name(ClientType c);

struct ZoneRow {
  int64_t id = 0;
  std::string name;  // '@' for the global zone
  ZoneKind kind = ZoneKind::Global;
  std::optional<int64_t> parent_id;  // a country's continent, a continent's global zone
  std::optional<int64_t> alias_of;   // zone id this one answers for (uk -> gb)
  ClientType client_type = ClientType::Both;  // vendor zones only
};

}  // namespace timepool::server
