// timepoolctl claims / reports / accounts limit: the rules that keep volunteers' claims honest
// (schema/0020_claims.sql) and the "this address is mine" reports.
#include <ostream>

#include "ctl/commands.hpp"
#include "ctl/listing.hpp"

namespace timepool::ctl {

void claims_settings(pg::Connection& conn, const ClaimSettings& set, bool json, std::ostream& out) {
  const bool change = set.netspeed_cap || set.trial_days || set.max_servers || set.reports_per_day;
  if (change) {
    if (set.trial_days && *set.trial_days < 0) throw Error("--trial-days must be 0 or more");
    if (set.max_servers && *set.max_servers < 0) throw Error("--max-servers must be 0 or more");
    if (set.reports_per_day && *set.reports_per_day < 0) {
      throw Error("--reports-per-day must be 0 or more");
    }
    try {
      conn.exec(
          "UPDATE claim_settings SET "
          "new_server_netspeed_cap = coalesce($1::integer, new_server_netspeed_cap), "
          "new_server_trial = coalesce(make_interval(days => $2::integer), new_server_trial), "
          "max_servers_per_account = coalesce($3::integer, max_servers_per_account), "
          "reports_per_day = coalesce($4::integer, reports_per_day)",
          set.netspeed_cap, set.trial_days, set.max_servers, set.reports_per_day);
    } catch (const pg::Error& e) {
      if (e.is_check_violation()) {
        throw Error("--netspeed-cap must be one of the offered netspeeds (512, 1500, 3000, ...)");
      }
      throw;
    }
    audit(conn, "claims.set", "claim_settings",
          (set.netspeed_cap ? "netspeed cap " + std::to_string(*set.netspeed_cap) + " " : "") +
              (set.trial_days ? "trial " + std::to_string(*set.trial_days) + " days " : "") +
              (set.max_servers ? "max servers " + std::to_string(*set.max_servers) + " " : "") +
              (set.reports_per_day ? "reports per day " + std::to_string(*set.reports_per_day)
                                   : ""));
  }
  auto r = conn.exec(
      "SELECT new_server_netspeed_cap AS netspeed_cap, "
      "extract(day FROM new_server_trial)::integer AS trial_days, "
      "max_servers_per_account AS max_servers, reports_per_day FROM claim_settings");
  print_listing(read_listing(r,
                             {{"NETSPEED CAP (kbit/s)", "netspeed_cap", ColumnType::Int},
                              {"TRIAL (days)", "trial_days", ColumnType::Int},
                              {"SERVERS PER ACCOUNT", "max_servers", ColumnType::Int},
                              {"REPORTS PER DAY", "reports_per_day", ColumnType::Int}},
                             "settings"),
                json, out);
}

void account_set_limit(pg::Connection& conn, const std::string& email, std::optional<int> limit,
                       std::ostream& out) {
  if (limit && *limit < 0) throw Error("the limit must be 0 (no limit) or more");
  auto r = conn.exec("UPDATE accounts SET max_servers = $2 WHERE lower(email) = lower($1)", email,
                     limit);
  if (r.affected() != 1) throw Error("no account " + email + " ('timepoolctl accounts list' shows them)");
  audit(conn, "account.limit", email, limit ? std::to_string(*limit) : "the pool's setting");
  out << "account " << email << " may have "
      << (limit ? (*limit == 0 ? std::string("any number of") : std::to_string(*limit))
                : std::string("the pool's default number of"))
      << " servers\n";
}

void reports_list(pg::Connection& conn, bool json, std::ostream& out) {
  auto r = conn.exec(
      "SELECT r.id, host(r.address) AS address, r.contact, "
      "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS reported, "
      "CASE WHEN r.decided_at IS NOT NULL THEN r.decision "
      "     WHEN r.server_id IS NULL THEN 'open (not in the pool)' "
      "     ELSE 'open (held out of DNS)' END AS state, "
      "coalesce(r.decided_by, '') AS decided_by, r.message "
      "FROM address_reports r "
      "WHERE r.decided_at IS NULL OR r.decided_at > now() - interval '30 days' "
      "ORDER BY r.decided_at IS NOT NULL, r.id");
  print_listing(read_listing(r,
                             {{"ID", "id", ColumnType::Int},
                              {"ADDRESS", "address"},
                              {"REPORTER", "contact"},
                              {"REPORTED (UTC)", "reported"},
                              {"STATE", "state"},
                              {"DECIDED BY", "decided_by"},
                              {"MESSAGE", "message"}},
                             "reports"),
                json, out);
}

void report_decide(pg::Connection& conn, int64_t id, const std::string& decision, std::ostream& out) {
  if (decision != "dismissed" && decision != "disabled") {
    throw Error("the decision is 'dismissed' (the server returns to DNS) or 'disabled'");
  }
  auto r = conn.exec("SELECT decide_address_report($1, $2, $3)", id, decision, actor());
  if (!r.get<bool>(0, 0)) {
    throw Error("report " + std::to_string(id) +
                " does not exist or was decided already ('timepoolctl reports list')");
  }
  out << "report " << id << " "
      << (decision == "dismissed" ? "dismissed: the server is no longer held out of DNS"
                                  : "decided: the server is disabled and its address blocked")
      << "\n";
}

}  // namespace timepool::ctl
