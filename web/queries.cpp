#include "web/queries.hpp"

#include <cstdlib>

namespace timepool::web {

namespace {

constexpr const char* kIso = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

std::string iso(const char* col) {
  return std::string("to_char(") + col + " AT TIME ZONE 'UTC', " + kIso + ")";
}

const std::string& server_select() {
  static const std::string q =
      "SELECT s.id, host(s.address), s.ip_version, s.owner_id, s.netspeed, s.mode, s.country, "
      "s.score, " + iso("s.score_updated_at") + ", s.deletion_on::text, " +
      iso("s.disabled_at") + ", " + iso("s.created_at") +
      ", server_in_dns(s) AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.owner_id "
      "AND a.disabled_at IS NOT NULL), "
      "ARRAY(SELECT z.name FROM server_zones sz JOIN zones z ON z.id = sz.zone_id "
      "WHERE sz.server_id = s.id ORDER BY z.kind = 'country', z.kind = 'continent', z.name)::text "
      "FROM servers s ";
  return q;
}

std::vector<std::string> parse_text_array(std::string_view a) {
  // A PostgreSQL text[] of zone names: {"@",europe,de}; zone names never contain , or quotes
  // other than the quoted '@'.
  std::vector<std::string> out;
  if (a.size() < 2) return out;
  a = a.substr(1, a.size() - 2);
  size_t i = 0;
  while (i < a.size()) {
    size_t comma = a.find(',', i);
    if (comma == std::string_view::npos) comma = a.size();
    std::string item(a.substr(i, comma - i));
    if (item.size() >= 2 && item.front() == '"') item = item.substr(1, item.size() - 2);
    if (!item.empty()) out.push_back(item);
    i = comma + 1;
  }
  return out;
}

std::optional<ServerInfo> read_server(const pg::Result& r) {
  if (r.rows() == 0) return std::nullopt;
  ServerInfo s;
  s.id = r.get<int64_t>(0, 0);
  s.address = r.get<std::string>(0, 1);
  s.ip_version = r.get<int32_t>(0, 2);
  s.owner_id = r.get<std::optional<int64_t>>(0, 3);
  s.netspeed = r.get<int32_t>(0, 4);
  s.mode = r.get<std::string>(0, 5);
  s.country = r.get<std::string>(0, 6);
  s.score = r.get<double>(0, 7);
  s.score_updated_at = r.get<std::optional<std::string>>(0, 8);
  s.deletion_on = r.get<std::optional<std::string>>(0, 9);
  s.disabled_at = r.get<std::optional<std::string>>(0, 10);
  s.created_at = r.get<std::string>(0, 11);
  s.in_dns = r.get<bool>(0, 12);
  s.zones = parse_text_array(r.text(0, 13));
  return s;
}

const std::string& zone_select() {
  static const std::string q = R"(
WITH target AS (
  SELECT z.id, CASE WHEN z.kind = 'vendor' THEN (SELECT id FROM zones WHERE kind = 'global')
                    ELSE coalesce(z.alias_of, z.id) END AS tid
  FROM zones z
), act AS (
  SELECT sz.zone_id,
         count(*) FILTER (WHERE e.ip_version = 4) AS v4,
         count(*) FILTER (WHERE e.ip_version = 6) AS v6,
         coalesce(sum(e.netspeed) FILTER (WHERE e.ip_version = 4), 0) AS n4,
         coalesce(sum(e.netspeed) FILTER (WHERE e.ip_version = 6), 0) AS n6
  FROM eligible_servers e JOIN server_zones sz ON sz.server_id = e.id
  GROUP BY sz.zone_id
), reg AS (
  SELECT sz.zone_id, count(*) AS n
  FROM server_zones sz JOIN servers s ON s.id = sz.server_id
  WHERE s.deleted_at IS NULL
  GROUP BY sz.zone_id
)
SELECT z.name, z.kind, z.description, p.name, a.name,
       coalesce(act.v4, 0), coalesce(act.v6, 0), coalesce(act.n4, 0), coalesce(act.n6, 0),
       coalesce(reg.n, 0)
FROM zones z
JOIN target t ON t.id = z.id
LEFT JOIN zones p ON p.id = z.parent_id
LEFT JOIN zones a ON a.id = z.alias_of
LEFT JOIN act ON act.zone_id = t.tid
LEFT JOIN reg ON reg.zone_id = t.tid
)";
  return q;
}

std::vector<ZoneSummary> read_zones(const pg::Result& r) {
  std::vector<ZoneSummary> out;
  for (int i = 0; i < r.rows(); ++i) {
    ZoneSummary z;
    z.name = r.get<std::string>(i, 0);
    z.kind = r.get<std::string>(i, 1);
    z.description = r.get<std::string>(i, 2);
    z.parent = r.get<std::optional<std::string>>(i, 3);
    z.alias_of = r.get<std::optional<std::string>>(i, 4);
    z.active_v4 = r.get<int64_t>(i, 5);
    z.active_v6 = r.get<int64_t>(i, 6);
    z.netspeed_v4 = r.get<int64_t>(i, 7);
    z.netspeed_v6 = r.get<int64_t>(i, 8);
    z.registered = r.get<int64_t>(i, 9);
    out.push_back(std::move(z));
  }
  return out;
}

constexpr const char* kZoneOrder =
    " ORDER BY array_position(ARRAY['global','continent','country','vendor'], z.kind), z.name";

}  // namespace

std::optional<ServerInfo> find_server(pg::Connection& db, const address::Address& a) {
  return read_server(db.exec(server_select() + "WHERE s.address = $1::inet AND s.deleted_at IS NULL",
                             a.to_string()));
}

std::optional<ServerInfo> find_server_by_id(pg::Connection& db, int64_t id) {
  return read_server(db.exec(server_select() + "WHERE s.id = $1", id));
}

std::vector<MonitorScore> monitor_scores(pg::Connection& db, int64_t server_id) {
  auto r = db.exec(
      "SELECT m.name, m.status, ss.score, ss.step, ss.offset_s, ss.rtt_s, ss.stratum, ss.leap, "
      "ss.error, " + iso("ss.updated_at") +
          " FROM server_scores ss JOIN monitors m ON m.id = ss.monitor_id "
          "WHERE ss.server_id = $1 ORDER BY m.status = 'active' DESC, m.name",
      server_id);
  std::vector<MonitorScore> out;
  for (int i = 0; i < r.rows(); ++i) {
    MonitorScore m;
    m.monitor = r.get<std::string>(i, 0);
    m.status = r.get<std::string>(i, 1);
    m.score = r.get<double>(i, 2);
    m.step = r.get<std::optional<double>>(i, 3);
    m.offset_s = r.get<std::optional<double>>(i, 4);
    m.rtt_s = r.get<std::optional<double>>(i, 5);
    m.stratum = r.get<std::optional<int32_t>>(i, 6);
    m.leap = r.get<std::optional<int32_t>>(i, 7);
    m.error = r.get<std::optional<std::string>>(i, 8);
    m.updated_at = r.get<std::string>(i, 9);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<LogRow> load_log(pg::Connection& db, int64_t server_id, std::optional<double> since,
                             int limit, const std::string& monitor) {
  std::string q = "SELECT extract(epoch FROM p.ts)::float8, " + iso("p.ts") +
                  ", p.offset_s, p.step, p.score, m.name, p.rtt_s, p.leap, p.stratum, p.error "
                  "FROM probe_log p JOIN monitors m ON m.id = p.monitor_id "
                  "WHERE p.server_id = $1 AND ($2::text = '' OR m.name = $2) ";
  pg::Result r;
  if (since) {
    r = db.exec(q + "AND p.ts >= to_timestamp($3) ORDER BY p.ts, m.name LIMIT $4", server_id,
                monitor, *since, limit);
  } else {
    r = db.exec(q + "ORDER BY p.ts DESC, m.name LIMIT $3", server_id, monitor, limit);
  }
  std::vector<LogRow> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    LogRow l;
    l.epoch = r.get<double>(i, 0);
    l.time = r.get<std::string>(i, 1);
    l.offset_s = r.get<std::optional<double>>(i, 2);
    l.step = r.get<double>(i, 3);
    l.score = r.get<double>(i, 4);
    l.monitor = r.get<std::string>(i, 5);
    l.rtt_s = r.get<std::optional<double>>(i, 6);
    l.leap = r.get<std::optional<int32_t>>(i, 7);
    l.stratum = r.get<std::optional<int32_t>>(i, 8);
    l.error = r.get<std::optional<std::string>>(i, 9);
    out.push_back(std::move(l));
  }
  return out;
}

namespace {
constexpr double kMaxSinceEpoch = 253402300799;  // 9999-12-31T23:59:59Z
}  // namespace

std::optional<double> parse_since(pg::Connection& db, const std::string& text) {
  if (text.empty() || text.size() > 40) return std::nullopt;
  bool numeric = true;
  int dots = 0;
  for (char c : text) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') numeric = false;
  }
  if (numeric && dots <= 1 && text != ".") {
    // Epoch seconds up to the end of 9999, the last year ISO 8601's four digits can write
    // (far beyond it PostgreSQL's to_timestamp overflows: a database error, not a 400).
    double v = std::strtod(text.c_str(), nullptr);
    if (!(v <= kMaxSinceEpoch)) return std::nullopt;
    return v;
  }
  // ISO 8601 only: digits, '-', ':', 'T', 'Z', '+', '.' ; PostgreSQL does the calendar.
  for (char c : text) {
    bool ok = (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z' ||
              c == '+' || c == '.' || c == ' ';
    if (!ok) return std::nullopt;
  }
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  try {
    auto r = db.exec("SELECT extract(epoch FROM $1::timestamptz)::float8", text);
    return r.get<double>(0, 0);
  } catch (const pg::Error& e) {
    if (e.sqlstate().rfind("22", 0) == 0) return std::nullopt;  // data exception: bad date
    throw;
  }
}

std::vector<ZoneSummary> list_zones(pg::Connection& db) {
  return read_zones(db.exec(zone_select() + kZoneOrder));
}

std::optional<ZoneSummary> find_zone(pg::Connection& db, const std::string& name) {
  auto z = read_zones(db.exec(zone_select() + " WHERE z.name = $1", name));
  if (z.empty()) return std::nullopt;
  return z.front();
}

std::vector<ZoneSummary> sub_zones(pg::Connection& db, const std::string& name) {
  return read_zones(db.exec(zone_select() + " WHERE p.name = $1" + kZoneOrder, name));
}

std::vector<std::pair<std::string, std::string>> country_choices(pg::Connection& db) {
  auto r = db.exec(
      "SELECT name, description FROM zones WHERE kind = 'country' AND alias_of IS NULL "
      "ORDER BY description");
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.emplace_back(r.get<std::string>(i, 0),
                     r.get<std::string>(i, 1) + " (" + r.get<std::string>(i, 0) + ")");
  }
  return out;
}

}  // namespace timepool::web
