// timepoolctl: the operator's command line. Wires CLI11 to the functions of ctl/commands.
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

constexpr const char* kFooter = R"(Configuration: the [database] and [log] sections of the shared TOML file
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "timepoolctl: operate a timepool installation: apply the database schema, create admin "
      "accounts, register monitors, list servers and zones.",
      "timepoolctl"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string(version()));
  app.require_subcommand(1);
  app.fallthrough();  // global flags may also follow the subcommand

  std::string config_path;
  std::vector<std::string> sets;
  app.add_option("-c,--config", config_path, "TOML configuration file (shared by all programs)")
      ->check(CLI::ExistingFile);
  app.add_option("--set", sets, "Override one setting: section.key=value (repeatable)")
      ->allow_extra_args(false)
      ->type_name("SECTION.KEY=VALUE");

  auto* migrate = app.add_subcommand(
      "migrate", "Apply the pending schema migrations (each in its own transaction); running it "
                 "again does nothing.");

  std::string email;
  bool password_stdin = false;
  auto* admin = app.add_subcommand(
      "create-admin", "Create an admin account. Prints a generated strong password once, unless "
                      "--password-stdin gives one.");
  admin->add_option("EMAIL", email, "Email address (the login name)")->required();
  admin->add_flag("--password-stdin", password_stdin,
                  "Read the password from the first line of stdin (10 to 1000 characters)");

  auto* monitor = app.add_subcommand("monitor", "Manage the monitors that probe the servers.");
  monitor->require_subcommand(1);
  std::string monitor_name;
  std::string monitor_status = "pending";
  auto* mon_add = monitor->add_subcommand(
      "add", "Register a monitor; prints its key once (only the key's hash is stored).");
  mon_add->add_option("NAME", monitor_name, "Monitor name (lower-case letters, digits, . _ -)")
      ->required();
  mon_add->add_option("--status", monitor_status, "Initial status")
      ->capture_default_str()
      ->check(CLI::IsMember(ctl::kMonitorStatuses));
  auto* mon_list = monitor->add_subcommand("list", "List monitors with status and last contact.");
  auto* mon_status = monitor->add_subcommand(
      "set-status", "Change a monitor's status: testing (probes, not counted), active (counted), "
                    "paused (may not run), pending.");
  std::string new_status;
  mon_status->add_option("NAME", monitor_name, "Monitor name")->required();
  mon_status->add_option("STATUS", new_status, "New status")
      ->required()
      ->check(CLI::IsMember(ctl::kMonitorStatuses));

  auto* servers = app.add_subcommand("servers", "Inspect the volunteer servers.");
  servers->require_subcommand(1);
  auto* servers_list = servers->add_subcommand(
      "list", "List servers: address, owner, netspeed, country, pool score, whether in DNS.");

  auto* zones = app.add_subcommand("zones", "Inspect the DNS zones.");
  zones->require_subcommand(1);
  std::string zone_kind;
  auto* zones_list = zones->add_subcommand(
      "list", "List zones: name, kind, parent, alias target, servers in DNS.");
  zones_list->add_option("--kind", zone_kind, "Only zones of this kind")
      ->check(CLI::IsMember(ctl::kZoneKinds));

  std::string findings_zone;
  bool findings_json = false;
  auto* findings = app.add_subcommand(
      "findings", "List the synchronized bursts timepool-web found in the zones' DNS load.");
  findings->add_option("--zone", findings_zone, "Only this zone");
  findings->add_flag("--json", findings_json, "JSON instead of a table");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? ctl::kExitOk : ctl::kExitUsage;
  }

  config::DatabaseConfig db_cfg;
  try {
    auto doc = config::Document::load(config_path, sets);
    db_cfg = config::read_database(doc);
    auto log_cfg = config::read_log(doc);
    doc.check_unknown({"database", "log"});
    log::setup(log_cfg);
  } catch (const config::Error& e) {
    std::cerr << "timepoolctl: configuration: " << e.what() << "\n";
    return ctl::kExitConfig;
  }

  try {
    std::optional<std::string> password;
    if (*admin && password_stdin) password = read_password_line();
    auto conn = pg::Connection::open(db_cfg.conninfo);
    if (*migrate) {
      ctl::migrate(conn, schema::embedded_migrations(), std::cout);
    } else if (*admin) {
      ctl::create_admin(conn, email, password, std::cout);
    } else if (*mon_add) {
      ctl::monitor_add(conn, monitor_name, monitor_status, std::cout);
    } else if (*mon_list) {
      ctl::monitor_list(conn, std::cout);
    } else if (*mon_status) {
      ctl::monitor_set_status(conn, monitor_name, new_status, std::cout);
    } else if (*servers_list) {
      ctl::servers_list(conn, std::cout);
    } else if (*zones_list) {
      ctl::zones_list(conn, zone_kind, std::cout);
    } else if (*findings) {
      ctl::findings_list(conn, findings_zone, findings_json, std::cout);
    }
  } catch (const MigrationError& e) {
    std::cerr << "timepoolctl: migration failed, nothing of it was applied: " << e.what() << "\n";
    return ctl::kExitFailed;
  } catch (const pg::Error& e) {
    if (e.is_connection()) {
      std::cerr << "timepoolctl: cannot reach the database: " << e.what()
                << "\n(check database.conninfo or the PG* environment variables)\n";
      return ctl::kExitDatabase;
    }
    std::cerr << "timepoolctl: database error: " << e.what() << "\n";
    return ctl::kExitFailed;
  } catch (const ctl::Error& e) {
    std::cerr << "timepoolctl: " << e.what() << "\n";
    return ctl::kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << "timepoolctl: " << e.what() << "\n";
    return ctl::kExitFailed;
  }
  return ctl::kExitOk;
}
