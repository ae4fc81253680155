// timepoolctl's commands as plain functions: each takes an open connection and the parsed
// arguments, writes its human-readable result to `out` and throws ctl::Error (exit status 1)
// for a refused operation, pg::Error for database failures. main.cpp only wires CLI11 to them.
#pragma once

#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/migrate.hpp"
#include "core/pg.hpp"
#include "ctl/listing.hpp"  // format_table, for the list commands

namespace timepool::ctl {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Exit statuses, documented in --help.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;     // the operation was refused or failed
inline constexpr int kExitUsage = 2;      // bad command line
inline constexpr int kExitDatabase = 3;   // the database is unreachable
inline constexpr int kExitConfig = 4;     // bad configuration

inline const std::vector<std::string> kMonitorStatuses = {"pending", "testing", "active",
                                                          "paused"};
inline const std::vector<std::string> kZoneKinds = {"global", "continent", "country", "vendor"};
inline const std::vector<std::string> kRoles = {"volunteer", "vendor", "admin"};
inline const std::vector<std::string> kVendorStatuses = {"new", "pending", "approved", "rejected"};

// Applies pending migrations; prints one line per migration ("applied X" / "already X").
MigrateReport migrate(pg::Connection& conn, const std::vector<Migration>& all, std::ostream& out);

// Creates an admin account. Without `password` a strong one is generated and printed once.
// A given password must be 10..1000 characters. Refuses an existing email (any case).
void create_admin(pg::Connection& conn, const std::string& email,
                  const std::optional<std::string>& password, std::ostream& out);

// Registers a monitor and prints its key once (only the key's SHA-256 is stored).
void monitor_add(pg::Connection& conn, const std::string& name, const std::string& status,
                 std::ostream& out);
void monitor_list(pg::Connection& conn, bool json, std::ostream& out);
// Gives a monitor a new key and prints it once; the old key stops working at once.
void monitor_new_key(pg::Connection& conn, const std::string& name, std::ostream& out);
// Records where a monitor probes from (the selection never gives it servers of that /24 or /48).
void monitor_set_address(pg::Connection& conn, const std::string& name,
                         const std::string& address, std::ostream& out);
void monitor_set_status(pg::Connection& conn, const std::string& name, const std::string& status,
                        std::ostream& out);

// --- servers (ctl/servers.cpp) --------------------------------------------------------------
struct ServerAdd {
  std::string address;
  std::string owner;    // email; "" for none
  std::string country;  // ISO code; "" looks it up in the GeoIP ranges
  int netspeed = 1500;
  bool allow_loopback = false;  // for local runs and tests on 127.0.0.x
};
// Every server not yet deleted: address, owner, netspeed, country, score, in DNS or not.
void servers_list(pg::Connection& conn, bool json, std::ostream& out);
void server_add(pg::Connection& conn, const ServerAdd& a, std::ostream& out);
// Without `on`: deleted now (history kept). With a date: leaves DNS now, deleted on that date.
void server_remove(pg::Connection& conn, const std::string& address,
                   const std::optional<std::string>& on, std::ostream& out);
// `reason` goes to the audit log (the owner's "why").
void server_set_disabled(pg::Connection& conn, const std::string& address, bool disabled,
                         const std::string& reason, std::ostream& out);
void server_set_netspeed(pg::Connection& conn, const std::string& address, int kbits,
                         std::ostream& out);
void server_set_country(pg::Connection& conn, const std::string& address, const std::string& code,
                        std::ostream& out);
// Ends a new server's netspeed trial now: the netspeed its owner chose applies.
void server_trust(pg::Connection& conn, const std::string& address, std::ostream& out);

// --- claims (ctl/claims.cpp, schema/0020_claims.sql) -----------------------------------------
struct ClaimSettings {
  std::optional<int> netspeed_cap;     // kbit/s
  std::optional<int> trial_days;
  std::optional<int> max_servers;      // per account; 0: no limit
  std::optional<int> reports_per_day;  // per reporter network
};
// Without any value: prints the settings. Else sets the given ones and prints them.
void claims_settings(pg::Connection& conn, const ClaimSettings& set, bool json, std::ostream& out);
// An account's own server limit (overrides max_servers); nullopt: back to the setting.
void account_set_limit(pg::Connection& conn, const std::string& email, std::optional<int> limit,
                       std::ostream& out);
// Address reports ("this address is mine"): open ones first, then those decided in 30 days.
void reports_list(pg::Connection& conn, bool json, std::ostream& out);
// `decision`: dismissed (the server returns to DNS) or disabled.
void report_decide(pg::Connection& conn, int64_t id, const std::string& decision, std::ostream& out);

// --- zones (ctl/zones.cpp) ------------------------------------------------------------------
struct ZoneAdd {
  std::string name;
  std::string kind = "country";  // country or vendor
  std::string continent;         // country: its continent
  std::string alias_of;          // country: answer with this country's servers
  std::string description;
  std::string organization, contact;  // vendor
  std::string client = "both";        // vendor: ntp, sntp, both
  int devices = 500;                  // vendor: how many devices (500 .. 100000000)
};
// Every zone (or those of one kind, or only those with servers): name, kind, parent, alias and
// the servers it answers with (a vendor zone: the global zone's).
void zones_list(pg::Connection& conn, const std::string& kind, bool nonempty, bool json,
                std::ostream& out);
void zone_add(pg::Connection& conn, const ZoneAdd& z, std::ostream& out);

// --- vendor requests (ctl/vendors.cpp) ------------------------------------------------------
void vendors_list(pg::Connection& conn, const std::string& status, bool json, std::ostream& out);
void vendor_approve(pg::Connection& conn, const std::string& name, std::ostream& out);
void vendor_reject(pg::Connection& conn, const std::string& name, const std::string& reason,
                   std::ostream& out);

// --- accounts (ctl/accounts.cpp) ------------------------------------------------------------
void accounts_list(pg::Connection& conn, const std::string& role, bool json, std::ostream& out);
// Disabling logs the account out everywhere; its servers leave DNS (eligible_servers).
void account_set_disabled(pg::Connection& conn, const std::string& email, bool disabled,
                          const std::string& reason, std::ostream& out);
// Without `password` a strong one is generated and printed once. Logs out every session.
void account_password_reset(pg::Connection& conn, const std::string& email,
                            const std::optional<std::string>& password, std::ostream& out);

// --- the audit log (ctl/audit.cpp) ---------------------------------------------------------
// "timepoolctl:<unix user>": who timepoolctl's changes are recorded as.
std::string actor();
// Records one change: action "<object>.<verb>", target (address, email, name), detail.
void audit(pg::Connection& conn, const std::string& action, const std::string& target,
           const std::string& detail = "");
// The filters of `audit list`, the same as the web's audit page (web/audit.hpp).
struct AuditQuery {
  std::string account;  // entries whose actor or target is this e-mail address
  std::string target;   // exactly this object
  std::string action;   // "server.disable", or "server" for every server.* action
  int64_t before_id = 0;  // > 0: only entries older than this one (paging back)
  int limit = 50;
};
// The newest `limit` entries that match, oldest first, with what each change replaced and
// made (before, after).
void audit_list(pg::Connection& conn, const AuditQuery& q, bool json, std::ostream& out);

// --- probe log (ctl/commands.cpp) -----------------------------------------------------------
// Drops the probe log's daily partitions older than `days` days; prints how many.
void probe_log_prune(pg::Connection& conn, int days, std::ostream& out);

}  // namespace timepool::ctl
