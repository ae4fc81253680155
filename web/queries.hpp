// Read-only queries shared by the HTML pages and the JSON API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/pg.hpp"

namespace timepool::web {

struct ServerInfo {
  int64_t id = 0;
  std::string address;  // canonical text
  int ip_version = 4;
  std::optional<int64_t> owner_id;
  int netspeed = 0;
  std::string mode;
  std::string country;
  double score = 0;
  std::optional<std::string> score_updated_at;
  std::optional<std::string> deletion_on;
  std::optional<std::string> disabled_at;
  std::string created_at;
  bool in_dns = false;
  std::vector<std::string> zones;
};
// The live (not deleted) server with this address.
std::optional<ServerInfo> find_server(pg::Connection& db, const address::Address& a);
std::optional<ServerInfo> find_server_by_id(pg::Connection& db, int64_t id);

struct MonitorScore {
  std::string monitor;
  std::string status;
  double score = 0;
  std::optional<double> step, offset_s, rtt_s;
  std::optional<int> stratum, leap;
  std::optional<std::string> error;
  std::string updated_at;
};
std::vector<MonitorScore> monitor_scores(pg::Connection& db, int64_t server_id);

struct LogRow {
  double epoch = 0;       // seconds since 1970
  std::string time;       // ISO 8601 UTC
  std::optional<double> offset_s;
  double step = 0;
  double score = 0;
  std::string monitor;
  std::optional<double> rtt_s;
  std::optional<int> leap;
  std::optional<int> stratum;
  std::optional<std::string> error;
};
// With `since` (epoch seconds): rows at or after it, oldest first. Without: the newest
// `limit` rows, newest first. `monitor` non-empty: that monitor's rows only.
std::vector<LogRow> load_log(pg::Connection& db, int64_t server_id, std::optional<double> since,
                             int limit, const std::string& monitor = "");

// Parses ?since= : epoch seconds ("1700000000", "1700000000.5") or ISO 8601
// ("2026-11-20T10:00:00Z"); nullopt when it is neither.
std::optional<double> parse_since(pg::Connection& db, const std::string& text);

struct ZoneSummary {
  std::string name;
  std::string kind;
  std::string description;
  std::optional<std::string> parent;
  std::optional<std::string> alias_of;
  int64_t active_v4 = 0, active_v6 = 0;  // in DNS now
  int64_t netspeed_v4 = 0, netspeed_v6 = 0;
  int64_t registered = 0;  // live servers in the zone, in DNS or not
};
std::vector<ZoneSummary> list_zones(pg::Connection& db);
std::optional<ZoneSummary> find_zone(pg::Connection& db, const std::string& name);
// Children of a zone (continents of '@', countries of a continent), with their counts.
std::vector<ZoneSummary> sub_zones(pg::Connection& db, const std::string& name);

// Country zones (not aliases) for the country chooser: code -> description.
std::vector<std::pair<std::string, std::string>> country_choices(pg::Connection& db);

}  // namespace timepool::web
