// timepoolctl: the operator's command line. Wires CLI11 to the functions of ctl/commands.
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/migrate.hpp"
#include "core/pg.hpp"
#include "core/version.hpp"
#include "ctl/commands.hpp"
#include "ctl/findings.hpp"

namespace {

using namespace timepool;

constexpr const char* kFooter = R"(Every list command takes --json: an array of objects, one per row, for scripts.

Configuration: the [database] and [log] sections of the shared TOML file
(-c), overridden by environment variables TIMEPOOL_<SECTION>_<KEY> (for example
TIMEPOOL_DATABASE_CONNINFO), overridden by --set section.key=value. With no
database.conninfo, libpq's defaults and the PG* environment variables apply.

Exit status: 0 done, 1 refused or failed, 2 bad command line, 3 database
unreachable, 4 bad configuration.)";

// Reads the password given on stdin: the first line, without its line ending.
std::string read_password_line() {
  std::string line;
  if (!std::getline(std::cin, line)) throw ctl::Error("--password-stdin: nothing on stdin");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Everything the command line can set; the actions read it after parsing.
struct Args {
  config::CliSources sources;
  bool json = false;
  std::string name, email, status, vendor_status, kind, reason, address, country, role;
  std::optional<std::string> on;
  bool password_stdin = false, nonempty = false;
  int netspeed = 0, days = 0, limit = 50;
  ctl::ServerAdd server;
  ctl::ZoneAdd zone;
  ctl::ClaimSettings claims;
  std::optional<int> account_limit;
  int64_t report_id = 0;
  std::string decision;
  ctl::AuditQuery audit;
};

using Action = std::function<void(pg::Connection&)>;
using Actions = std::vector<std::pair<CLI::App*, Action>>;

// A subcommand of `parent` whose work, once the command line names it, is `run` on a database
// connection.
CLI::App* command(CLI::App* parent, Actions& acts, const std::string& name, const std::string& help,
                  Action run) {
  auto* cmd = parent->add_subcommand(name, help);
  acts.emplace_back(cmd, std::move(run));
  return cmd;
}

void add_admin_commands(CLI::App& app, Args& a, Actions& acts) {
  command(&app, acts, "migrate",
          "Apply the pending schema migrations (each in its own transaction); running it "
          "again does nothing.",
          [](pg::Connection& c) { ctl::migrate(c, schema::embedded_migrations(), std::cout); });
  auto* admin = command(&app, acts, "create-admin",
                        "Create an admin account. Prints a generated strong password once, unless "
                        "--password-stdin gives one.",
                        [&a](pg::Connection& c) {
                          std::optional<std::string> pw;
                          if (a.password_stdin) pw = read_password_line();
                          ctl::create_admin(c, a.email, pw, std::cout);
                        });
  admin->add_option("EMAIL", a.email, "Email address (the login name)")->required();
  admin->add_flag("--password-stdin", a.password_stdin,
                  "Read the password from the first line of stdin (10 to 1000 characters)");
  auto* prune = app.add_subcommand("probe-log", "The probe log's retention.")
                    ->require_subcommand(1)
                    ->add_subcommand("prune", "Drop the probe log's days older than --days now "
                                              "(timepool-monitor-api does it by itself, see "
                                              "monitor_api.probe_log_retention_days).");
  prune->add_option("--days", a.days, "Keep this many days")->required()->check(CLI::Range(1, 100000));
  acts.emplace_back(prune, [&a](pg::Connection& c) { ctl::probe_log_prune(c, a.days, std::cout); });
}

void add_monitor_commands(CLI::App& app, Args& a, Actions& acts) {
  auto* monitor = app.add_subcommand("monitor", "Manage the monitors that probe the servers.");
  monitor->alias("monitors");
  monitor->require_subcommand(1);
  a.status = "pending";
  auto* add =
      command(monitor, acts, "add",
              "Register a monitor; prints its key once (only the key's hash is stored).",
              [&a](pg::Connection& c) { ctl::monitor_add(c, a.name, a.status, std::cout); });
  add->add_option("NAME", a.name, "Monitor name (lower-case letters, digits, . _ -)")->required();
  add->add_option("--status", a.status, "Initial status")
      ->capture_default_str()
      ->check(CLI::IsMember(ctl::kMonitorStatuses));
  command(monitor, acts, "list", "List monitors with status and last contact.",
          [&a](pg::Connection& c) { ctl::monitor_list(c, a.json, std::cout); });
  auto* set =
      command(monitor, acts, "set-status",
              "Change a monitor's status: testing (probes, not counted), active (counted), "
              "paused (may not run), pending.",
              [&a](pg::Connection& c) { ctl::monitor_set_status(c, a.name, a.reason, std::cout); });
  set->add_option("NAME", a.name, "Monitor name")->required();
  set->add_option("STATUS", a.reason, "New status")
      ->required()
      ->check(CLI::IsMember(ctl::kMonitorStatuses));
  auto* key = command(monitor, acts, "key",
                      "Give a monitor a new key, printed once; the old key stops working at once.",
                      [&a](pg::Connection& c) { ctl::monitor_new_key(c, a.name, std::cout); });
  key->add_option("NAME", a.name, "Monitor name")->required();
  auto* addr = command(
      monitor, acts, "set-address",
      "Record the address a monitor probes from: it is never selected for a server "
      "in that /24 (IPv4) or /48 (IPv6); without one it stays a candidate.",
      [&a](pg::Connection& c) { ctl::monitor_set_address(c, a.name, a.address, std::cout); });
  addr->add_option("NAME", a.name, "Monitor name")->required();
  addr->add_option("ADDRESS", a.address, "IPv4 or IPv6 address")->required();
}

void add_server_commands(CLI::App& app, Args& a, Actions& acts) {
  auto* servers = app.add_subcommand("servers", "Manage the volunteer servers.");
  servers->require_subcommand(1);
  command(servers, acts, "list",
          "List servers: address, owner, netspeed, country, pool score, whether in DNS.",
          [&a](pg::Connection& c) { ctl::servers_list(c, a.json, std::cout); });

  auto* add =
      command(servers, acts, "add",
              "Add a server to the pool (no test probe: the monitors score it from now on).",
              [&a](pg::Connection& c) { ctl::server_add(c, a.server, std::cout); });
  add->add_option("ADDRESS", a.server.address, "IPv4 or IPv6 address")->required();
  add->add_option("--owner", a.server.owner, "Email of the owning account");
  add->add_option("--country", a.server.country, "Country code (default: from the GeoIP ranges)");
  add->add_option("--netspeed", a.server.netspeed, "Weight in DNS answers, kbit/s")->capture_default_str();
  add->add_flag("--allow-loopback", a.server.allow_loopback,
                "Accept 127.0.0.0/8 and ::1 (local runs and tests only)");

  auto* remove =
      command(servers, acts, "remove",
              "Remove a server now (its history stays), or with --on leave DNS now and be "
              "deleted on that date.",
              [&a](pg::Connection& c) { ctl::server_remove(c, a.address, a.on, std::cout); });
  remove->add_option("ADDRESS", a.address, "Server address")->required();
  remove->add_option("--on", a.on, "Deletion date YYYY-MM-DD");

  for (bool disable : {true, false}) {
    auto* cmd =
        command(servers, acts, disable ? "disable" : "enable",
                disable ? "Take a server out of DNS and stop probing it." : "Undo 'disable'.",
                [&a, disable](pg::Connection& c) {
                  ctl::server_set_disabled(c, a.address, disable, a.reason, std::cout);
                });
    cmd->add_option("ADDRESS", a.address, "Server address")->required();
    cmd->add_option("--reason", a.reason, "Why (kept in the audit log; the owner can be told)");
  }
  auto* speed = command(
      servers, acts, "netspeed",
      "Set a server's netspeed (its weight), kbit/s; 0: monitoring only.",
      [&a](pg::Connection& c) { ctl::server_set_netspeed(c, a.address, a.netspeed, std::cout); });
  speed->add_option("ADDRESS", a.address, "Server address")->required();
  speed->add_option("KBITS", a.netspeed, "One of the offered netspeeds")->required();
  auto* trust =
      command(servers, acts, "trust",
              "End a new server's netspeed trial now: the netspeed its owner chose applies.",
              [&a](pg::Connection& c) { ctl::server_trust(c, a.address, std::cout); });
  trust->add_option("ADDRESS", a.address, "Server address")->required();
  auto* country = command(
      servers, acts, "country", "Override a server's country (GeoIP was wrong).",
      [&a](pg::Connection& c) { ctl::server_set_country(c, a.address, a.country, std::cout); });
  country->add_option("ADDRESS", a.address, "Server address")->required();
  country->add_option("CODE", a.country, "ISO 3166 country code")->required();
}

void add_zone_commands(CLI::App& app, Args& a, Actions& acts) {
  auto* zones = app.add_subcommand("zones", "Manage the DNS zones.");
  zones->require_subcommand(1);
  auto* list = command(
      zones, acts, "list",
      "List zones: name, kind, parent, alias target, and the servers each answers with.",
      [&a](pg::Connection& c) { ctl::zones_list(c, a.kind, a.nonempty, a.json, std::cout); });
  list->add_option("--kind", a.kind, "Only zones of this kind")
      ->check(CLI::IsMember(ctl::kZoneKinds));
  list->add_flag("--nonempty", a.nonempty, "Only zones with servers in DNS");
  auto* add =
      command(zones, acts, "add",
              "Add a country zone (--continent), a country alias (--alias-of) or a vendor zone "
              "that is live at once (--kind vendor --organization --contact).",
              [&a](pg::Connection& c) { ctl::zone_add(c, a.zone, std::cout); });
  auto& z = a.zone;
  add->add_option("NAME", z.name, "Zone name (the label under the pool's apex)")->required();
  add->add_option("--kind", z.kind, "country or vendor")->capture_default_str()
      ->check(CLI::IsMember({"country", "vendor"}));
  add->add_option("--continent", z.continent, "country: its continent (europe, asia, ...)");
  add->add_option("--alias-of", z.alias_of, "country: answer with this country's servers");
  add->add_option("--description", z.description, "Description");
  add->add_option("--organization", z.organization, "vendor: the organization");
  add->add_option("--contact", z.contact, "vendor: contact (email)");
  add->add_option("--client", z.client, "vendor: ntp (0-3.NAME), sntp (NAME) or both")
      ->capture_default_str()->check(CLI::IsMember({"ntp", "sntp", "both"}));
  add->add_option("--devices", z.devices, "vendor: number of devices")->capture_default_str()
      ->check(CLI::Range(500, 100000000));
}

void add_vendor_commands(CLI::App& app, Args& a, Actions& acts) {
  auto* vendors = app.add_subcommand("vendors", "Decide vendor zone requests.");
  vendors->require_subcommand(1);
  auto* list = command(
      vendors, acts, "list", "List vendor zone requests (all, or --status).",
      [&a](pg::Connection& c) { ctl::vendors_list(c, a.vendor_status, a.json, std::cout); });
  list->add_option("--status", a.vendor_status, "Only requests in this state")
      ->check(CLI::IsMember(ctl::kVendorStatuses));
  auto* approve =
      command(vendors, acts, "approve", "Approve a request: its zone is live in DNS at once.",
              [&a](pg::Connection& c) { ctl::vendor_approve(c, a.name, std::cout); });
  approve->add_option("NAME", a.name, "The requested zone name")->required();
  auto* reject =
      command(vendors, acts, "reject", "Reject a request, with a reason the vendor sees.",
              [&a](pg::Connection& c) { ctl::vendor_reject(c, a.name, a.reason, std::cout); });
  reject->add_option("NAME", a.name, "The requested zone name")->required();
  reject->add_option("--reason", a.reason, "Why (shown to the vendor)")->required();
}

void add_account_commands(CLI::App& app, Args& a, Actions& acts) {
  auto* accounts = app.add_subcommand("accounts", "Manage the accounts of volunteers, vendors and admins.");
  accounts->require_subcommand(1);
  auto* list =
      command(accounts, acts, "list", "List accounts (all, or --role).",
              [&a](pg::Connection& c) { ctl::accounts_list(c, a.role, a.json, std::cout); });
  list->add_option("--role", a.role, "Only accounts with this role")->check(CLI::IsMember(ctl::kRoles));
  for (bool disable : {true, false}) {
    auto* cmd =
        command(accounts, acts, disable ? "disable" : "enable",
                disable ? "Lock an account: logged out, may not log in, its servers leave DNS."
                        : "Undo 'disable'.",
                [&a, disable](pg::Connection& c) {
                  ctl::account_set_disabled(c, a.email, disable, a.reason, std::cout);
                });
    cmd->add_option("EMAIL", a.email, "The account's email")->required();
    cmd->add_option("--reason", a.reason, "Why (kept in the audit log)");
  }
  auto* limit = command(
      accounts, acts, "limit",
      "Set how many servers an account may have (0: any number); without N, the "
      "pool's setting ('timepoolctl claims') applies again.",
      [&a](pg::Connection& c) { ctl::account_set_limit(c, a.email, a.account_limit, std::cout); });
  limit->add_option("EMAIL", a.email, "The account's email")->required();
  limit->add_option("N", a.account_limit, "Servers the account may have");
  auto* reset = command(accounts, acts, "password-reset",
                        "Set a new password (printed once, or --password-stdin) and log the "
                        "account out everywhere.",
                        [&a](pg::Connection& c) {
                          std::optional<std::string> pw;
                          if (a.password_stdin) pw = read_password_line();
                          ctl::account_password_reset(c, a.email, pw, std::cout);
                        });
  reset->add_option("EMAIL", a.email, "The account's email")->required();
  reset->add_flag("--password-stdin", a.password_stdin, "Read the new password from stdin");
}

void add_audit_command(CLI::App& app, Args& a, Actions& acts) {
  auto* audit = app.add_subcommand("audit", "The audit log: who changed what, when and why.")
                    ->require_subcommand(1)
                    ->add_subcommand("list", "The newest entries, oldest first.");
  audit->add_option("--target", a.audit.target, "Only changes to this address, email or name");
  audit->add_option("--account", a.audit.account,
                    "Only what this account (email) did or what was done to it");
  audit->add_option("--action", a.audit.action,
                    "Only this action (server.disable), or every action on one kind of object "
                    "(server)");
  audit->add_option("--before-id", a.audit.before_id,
                    "Only entries older than this one (the ID column): the next page back")
      ->check(CLI::PositiveNumber);
  audit->add_option("--limit", a.audit.limit, "At most this many entries")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  acts.emplace_back(audit, [&a](pg::Connection& c) {
    ctl::audit_list(c, a.audit, a.json, std::cout);
  });
}

void add_claims_commands(CLI::App& app, Args& a, Actions& acts) {
  auto* claims =
      command(&app, acts, "claims",
              "Show or set the rules for volunteers' claims: new servers' netspeed cap and "
              "trial, servers per account, address reports per reporter network and day.",
              [&a](pg::Connection& c) { ctl::claims_settings(c, a.claims, a.json, std::cout); });
  claims->add_option("--netspeed-cap", a.claims.netspeed_cap,
                     "Highest netspeed (kbit/s) of a server in its trial");
  claims->add_option("--trial-days", a.claims.trial_days, "Length of the trial (0: none)");
  claims->add_option("--max-servers", a.claims.max_servers, "Servers per account (0: no limit)");
  claims->add_option("--reports-per-day", a.claims.reports_per_day,
                     "Address reports one network (/24, /48) may file per day");
  auto* reports = app.add_subcommand(
      "reports",
      "Address reports: someone said a pool server's address is theirs; the server "
      "is held out of DNS until decided.");
  reports->require_subcommand(1);
  command(reports, acts, "list", "Open reports, then those decided in 30 days.",
          [&a](pg::Connection& c) { ctl::reports_list(c, a.json, std::cout); });
  auto* decide = command(
      reports, acts, "decide", "Decide an open report.",
      [&a](pg::Connection& c) { ctl::report_decide(c, a.report_id, a.decision, std::cout); });
  decide->add_option("ID", a.report_id, "The report's id ('reports list')")->required();
  decide
      ->add_option("DECISION", a.decision,
                   "dismissed (the server returns to DNS) or disabled (disable the server and "
                   "block its address)")
      ->required()
      ->check(CLI::IsMember({"dismissed", "disabled"}));
}

void add_findings_command(CLI::App& app, Args& a, Actions& acts) {
  auto* findings =
      command(&app, acts, "findings",
              "List the synchronized bursts timepool-web found in the zones' DNS load.",
              [&a](pg::Connection& c) { ctl::findings_list(c, a.name, a.json, std::cout); });
  findings->add_option("--zone", a.name, "Only this zone");
}

// A monitoring outage (schema 0013's monitoring_outage) is said after every command, on
// stderr: while no monitor reports, DNS serves the pool frozen, which an operator must know.
void warn_if_outage(pg::Connection& conn) {
  try {
    auto r = conn.exec(
        "SELECT outage, coalesce('since ' || to_char(last_report AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD HH24:MI') || ' UTC', 'yet') FROM monitoring_outage");
    if (r.rows() == 1 && r.get<bool>(0, 0)) {
      std::cerr << "timepoolctl: warning: monitoring outage: no monitor has reported "
                << r.get<std::string>(0, 1)
                << "; DNS serves the pool as it was until monitors report again "
                   "('timepoolctl monitor list')\n";
    }
  } catch (const pg::Error&) {
    // No schema yet (before 'migrate') or no rights to the view: nothing to say.
  }
}

// Runs the chosen action; maps failures to the documented exit statuses.
int run(const Action& action, const std::string& conninfo) {
  bool connected = false;
  try {
    auto conn = pg::Connection::open(conninfo);
    connected = true;
    action(conn);
    warn_if_outage(conn);
  } catch (const MigrationError& e) {
    std::cerr << "timepoolctl: migration failed, nothing of it was applied: " << e.what() << "\n";
    return ctl::kExitFailed;
  } catch (const pg::Error& e) {
    if (e.is_connection() && connected) {
      // A failover in the middle of the command: each command writes in one statement or one
      // transaction, so it was applied whole or not at all; the next run reaches the new
      // primary through the multi-host conninfo.
      std::cerr << "timepoolctl: the database connection was lost during the command (" << e.what()
                << "); it was applied whole or not at all: check with the list command and try "
                   "again\n";
      return ctl::kExitDatabase;
    }
    if (e.is_connection()) {
      std::cerr << "timepoolctl: cannot reach the database: " << e.what()
                << "\n(check database.conninfo or the PG* environment variables)\n";
      return ctl::kExitDatabase;
    }
    if (e.sqlstate() == "42P01" || e.sqlstate() == "42883") {
      std::cerr << "timepoolctl: the database has no timepool schema yet: run 'timepoolctl "
                   "migrate' first (" << e.what() << ")\n";
      return ctl::kExitFailed;
    }
    std::cerr << "timepoolctl: database error: " << e.what() << "\n";
    return ctl::kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << "timepoolctl: " << e.what() << "\n";
    return ctl::kExitFailed;
  }
  return ctl::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"timepoolctl: operate a timepool installation: apply the database schema, manage "
               "servers, zones, vendor requests, accounts and monitors.",
               "timepoolctl"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string(version()));
  app.require_subcommand(1);
  app.fallthrough();  // global flags may also follow the subcommand
  Args a;
  config::add_cli_options(app, a.sources);
  app.add_flag("--json", a.json, "List commands: print JSON (an array of objects) instead of a table");
  Actions acts;
  add_admin_commands(app, a, acts);
  add_monitor_commands(app, a, acts);
  add_server_commands(app, a, acts);
  add_zone_commands(app, a, acts);
  add_vendor_commands(app, a, acts);
  add_account_commands(app, a, acts);
  add_claims_commands(app, a, acts);
  add_findings_command(app, a, acts);
  add_audit_command(app, a, acts);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? ctl::kExitOk : ctl::kExitUsage;
  }

  config::DatabaseConfig db_cfg;
  try {
    auto doc = config::Document::load(a.sources.path, a.sources.sets);
    db_cfg = config::read_database(doc);
    auto log_cfg = config::read_log(doc);
    doc.check_unknown({"database", "log"});
    if (a.sources.list_keys) {
      config::print_keys(doc, std::cout);
      return ctl::kExitOk;
    }
    log::setup(log_cfg);
  } catch (const config::Error& e) {
    std::cerr << "timepoolctl: configuration: " << e.what() << "\n";
    return ctl::kExitConfig;
  }
  for (const auto& [cmd, action] : acts) {
    if (cmd->parsed()) return run(action, db_cfg.conninfo);
  }
  return ctl::kExitUsage;
}
