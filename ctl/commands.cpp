#include "ctl/commands.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include "core/address.hpp"
#include "core/password.hpp"
#include "ctl/listing.hpp"

namespace timepool::ctl {
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
  audit(conn, "account.create-admin", email);
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
  audit(conn, "monitor.add", name, status);
  out << "added monitor " << name << " (id " << id << ", status " << status << ")\n"
      << "key: " << key << "\n"
      << "(shown only now: put it in the monitor's configuration as monitor.key)\n";
}

void monitor_list(pg::Connection& conn, bool json, std::ostream& out) {
  auto r = conn.exec(
      "SELECT m.name, m.status, m.location, "
      "       to_char(m.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS last_seen, "
      "       (SELECT count(*) FROM server_scores s WHERE s.monitor_id = m.id) AS servers, "
      "       CASE WHEN m.clock_ok IS NULL THEN '' WHEN m.clock_ok THEN 'ok' "
      "            ELSE 'not ok: ' || coalesce(m.clock_reason, '?') END AS clock, "
      "       coalesce(m.demoted_reason || ' (' || to_char(m.demoted_at AT TIME ZONE 'UTC', "
      "                'YYYY-MM-DD HH24:MI') || ')', '') AS demoted "
      "FROM monitors m ORDER BY m.name");
  print_listing(read_listing(r,
                             {{"NAME", "name"},
                              {"STATUS", "status"},
                              {"LOCATION", "location"},
                              {"LAST SEEN (UTC)", "last_seen"},
                              {"SERVERS", "servers", ColumnType::Int},
                              {"OWN CLOCK", "clock"},
                              {"MOVED TO TESTING", "demoted"}},
                             "monitors"),
                json, out);
}

void monitor_set_status(pg::Connection& conn, const std::string& name, const std::string& status,
                        std::ostream& out) {
  if (std::find(kMonitorStatuses.begin(), kMonitorStatuses.end(), status) ==
      kMonitorStatuses.end()) {
    throw Error("unknown monitor status " + status + " (pending, testing, active, paused)");
  }
  // Set active again by an admin: the reason it was moved back to testing is history.
  auto r = conn.exec(
      "UPDATE monitors SET status = $2, "
      "demoted_reason = CASE WHEN $2 = 'active' THEN NULL ELSE demoted_reason END, "
      "demoted_at = CASE WHEN $2 = 'active' THEN NULL ELSE demoted_at END WHERE name = $1",
      name, status);
  if (r.affected() == 0) throw Error("no monitor named " + name);
  audit(conn, "monitor.set-status", name, status);
  out << "monitor " << name << " is now " << status << "\n";
}

void monitor_new_key(pg::Connection& conn, const std::string& name, std::ostream& out) {
  const std::string key = password::random_token(32);
  auto r = conn.exec("UPDATE monitors SET key_hash = $2 WHERE name = $1", name,
                     password::hash_token(key));
  if (r.affected() == 0) throw Error("no monitor named " + name);
  audit(conn, "monitor.key", name, "new key; the old one no longer works");
  out << "new key for monitor " << name << " (the old key no longer works)\n"
      << "key: " << key << "\n"
      << "(shown only now: put it in the monitor's key file, monitor.key_file)\n";
}

void monitor_set_address(pg::Connection& conn, const std::string& name,
                         const std::string& address, std::ostream& out) {
  auto a = address::parse(address);
  if (!a) throw Error("not an IP address: " + address);
  auto r = conn.exec("UPDATE monitors SET address = $2::inet WHERE name = $1", name, a->to_string());
  if (r.affected() == 0) throw Error("no monitor named " + name);
  audit(conn, "monitor.set-address", name, a->to_string());
  out << "monitor " << name << " probes from " << a->to_string()
      << " (it never serves a server in that address's /24 or /48)\n";
}

void probe_log_prune(pg::Connection& conn, int days, std::ostream& out) {
  if (days < 1) throw Error("--days must be 1 or more");
  auto n = conn.exec("SELECT probe_log_drop_before(current_date - $1::integer)", days)
               .get<int64_t>(0, 0);
  audit(conn, "probelog.prune", "probe_log", "older than " + std::to_string(days) + " days");
  out << "dropped " << n << " daily probe-log partitions older than " << days << " days\n";
}

}  // namespace timepool::ctl
