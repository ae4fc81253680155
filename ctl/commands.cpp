#include "ctl/commands.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include "core/password.hpp"

namespace timepool::ctl {
namespace {

std::string score_text(double score) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", score);
  return buf;
}

std::string or_dash(const std::optional<std::string>& s) { return s && !s->empty() ? *s : "-"; }

}  // namespace

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  };
  emit(header);
  for (const auto& r : rows) emit(r);
  return out;
}

MigrateReport migrate(pg::Connection& conn, const std::vector<Migration>& all, std::ostream& out) {
  auto report = timepool::migrate(conn, all);
  for (const auto& name : report.already) out << "already " << name << "\n";
  for (const auto& name : report.applied) out << "applied " << name << "\n";
  if (report.applied.empty()) {
    out << "schema is up to date (" << report.already.size() << " migrations)\n";
  } else {
    out << "applied " << report.applied.size() << " of " << all.size() << " migrations\n";
  }
  return report;
}

void create_admin(pg::Connection& conn, const std::string& email,
                  const std::optional<std::string>& password, std::ostream& out) {
  std::string pw = password ? *password : password::random_password();
  if (pw.size() < 10 || pw.size() > 1000) {
    throw Error("the password must be 10 to 1000 characters long");
  }
  auto taken = conn.exec("SELECT 1 FROM accounts WHERE lower(email) = lower($1)", email);
  if (taken.rows() > 0) throw Error("an account with the email " + email + " already exists");
  int64_t id = 0;
  try {
    id = conn.exec("INSERT INTO accounts (email, password_hash, role) VALUES ($1, $2, 'admin') "
                   "RETURNING id",
                   email, password::hash(pw))
             .get<int64_t>(0, 0);
  } catch (const pg::Error& e) {
    if (e.is_check_violation()) throw Error("not a valid email address: " + email);
    if (e.is_unique_violation()) throw Error("an account with the email " + email + " already exists");
    throw;
  }
  out << "created admin " << email << " (account " << id << ")\n";
  if (!password) {
    out << "password: " << pw << "\n"
        << "(shown only now: store it in a password manager)\n";
  }
}

void monitor_add(pg::Connection& conn, const std::string& name, const std::string& status,
                 std::ostream& out) {
  if (std::find(kMonitorStatuses.begin(), kMonitorStatuses.end(), status) ==
      kMonitorStatuses.end()) {
    throw Error("unknown monitor status " + status + " (pending, testing, active, paused)");
  }
  std::string key = password::random_token(32);
  int64_t id = 0;
  try {
    id = conn.exec("INSERT INTO monitors (name, key_hash, status) VALUES ($1, $2, $3) "
                   "RETURNING id",
                   name, password::hash_token(key), status)
             .get<int64_t>(0, 0);
  } catch (const pg::Error& e) {
    if (e.is_unique_violation()) throw Error("a monitor named " + name + " already exists");
    if (e.is_check_violation()) {
      throw Error("not a valid monitor name: " + name +
                  " (lower-case letters, digits, '.', '_', '-'; up to 63 characters)");
    }
    throw;
  }
  out << "added monitor " << name << " (id " << id << ", status " << status << ")\n"
      << "key: " << key << "\n"
      << "(shown only now: put it in the monitor's configuration as monitor.key)\n";
}

void monitor_list(pg::Connection& conn, std::ostream& out) {
  auto r = conn.exec(
      "SELECT m.name, m.status, m.location, "
      "       to_char(m.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS last_seen, "
      "       (SELECT count(*) FROM server_scores s WHERE s.monitor_id = m.id) AS servers "
      "FROM monitors m ORDER BY m.name");
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < r.rows(); ++i) {
    rows.push_back({r.get<std::string>(i, "name"), r.get<std::string>(i, "status"),
                    or_dash(r.get<std::optional<std::string>>(i, "location")),
                    or_dash(r.get<std::optional<std::string>>(i, "last_seen")),
                    std::to_string(r.get<int64_t>(i, "servers"))});
  }
  out << format_table({"NAME", "STATUS", "LOCATION", "LAST SEEN (UTC)", "SERVERS"}, rows);
}

void monitor_set_status(pg::Connection& conn, const std::string& name, const std::string& status,
                        std::ostream& out) {
  if (std::find(kMonitorStatuses.begin(), kMonitorStatuses.end(), status) ==
      kMonitorStatuses.end()) {
    throw Error("unknown monitor status " + status + " (pending, testing, active, paused)");
  }
  auto r = conn.exec("UPDATE monitors SET status = $2 WHERE name = $1", name, status);
  if (r.affected() == 0) throw Error("no monitor named " + name);
  out << "monitor " << name << " is now " << status << "\n";
}

void servers_list(pg::Connection& conn, std::ostream& out) {
  auto r = conn.exec(
      "SELECT host(s.address) AS address, a.email AS owner, s.netspeed, s.country, s.score, "
      "       EXISTS (SELECT 1 FROM eligible_servers e WHERE e.id = s.id) AS in_dns, "
      "       s.deletion_on::text AS deletion_on, s.disabled_at IS NOT NULL AS disabled "
      "FROM servers s LEFT JOIN accounts a ON a.id = s.owner_id "
      "WHERE s.deleted_at IS NULL ORDER BY family(s.address), s.address");
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < r.rows(); ++i) {
    std::string note;
    if (r.get<bool>(i, "disabled")) note = "disabled";
    if (auto d = r.get<std::optional<std::string>>(i, "deletion_on")) note = "deleted on " + *d;
    rows.push_back({r.get<std::string>(i, "address"),
                    or_dash(r.get<std::optional<std::string>>(i, "owner")),
                    std::to_string(r.get<int64_t>(i, "netspeed")),
                    r.get<std::string>(i, "country"), score_text(r.get<double>(i, "score")),
                    r.get<bool>(i, "in_dns") ? "yes" : "no", note.empty() ? "-" : note});
  }
  out << format_table({"ADDRESS", "OWNER", "NETSPEED", "COUNTRY", "SCORE", "IN DNS", "NOTE"},
                      rows);
  out << r.rows() << " servers\n";
}

void zones_list(pg::Connection& conn, const std::string& kind, std::ostream& out) {
  if (!kind.empty() &&
      std::find(kZoneKinds.begin(), kZoneKinds.end(), kind) == kZoneKinds.end()) {
    throw Error("unknown zone kind " + kind + " (global, continent, country, vendor)");
  }
  // An alias (uk) answers with its target's servers (gb), so it counts those.
  auto r = conn.exec(
      "SELECT z.name, z.kind, p.name AS parent, t.name AS alias_of, "
      "       (SELECT count(*) FROM server_zones sz JOIN eligible_servers e "
      "          ON e.id = sz.server_id WHERE sz.zone_id = coalesce(z.alias_of, z.id)) AS servers "
      "FROM zones z LEFT JOIN zones p ON p.id = z.parent_id LEFT JOIN zones t ON t.id = z.alias_of "
      "WHERE $1 = '' OR z.kind = $1 "
      "ORDER BY array_position(ARRAY['global','continent','country','vendor'], z.kind), z.name",
      kind);
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < r.rows(); ++i) {
    rows.push_back({r.get<std::string>(i, "name"), r.get<std::string>(i, "kind"),
                    or_dash(r.get<std::optional<std::string>>(i, "parent")),
                    or_dash(r.get<std::optional<std::string>>(i, "alias_of")),
                    std::to_string(r.get<int64_t>(i, "servers"))});
  }
  out << format_table({"ZONE", "KIND", "PARENT", "ALIAS OF", "SERVERS IN DNS"}, rows);
  out << r.rows() << " zones\n";
}

}  // namespace timepool::ctl
