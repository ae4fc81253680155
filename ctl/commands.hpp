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

// Applies pending migrations; prints one line per migration ("applied X" / "already X").
MigrateReport migrate(pg::Connection& conn, const std::vector<Migration>& all, std::ostream& out);

// Creates an admin account. Without `password` a strong one is generated and printed once.
// A given password must be 10..1000 characters. Refuses an existing email (any case).
void create_admin(pg::Connection& conn, const std::string& email,
                  const std::optional<std::string>& password, std::ostream& out);

// Registers a monitor and prints its key once (only the key's SHA-256 is stored).
void monitor_add(pg::Connection& conn, const std::string& name, const std::string& status,
                 std::ostream& out);
void monitor_list(pg::Connection& conn, std::ostream& out);
void monitor_set_status(pg::Connection& conn, const std::string& name, const std::string& status,
                        std::ostream& out);

// Every server not yet deleted: address, owner, netspeed, country, score, in DNS or not.
void servers_list(pg::Connection& conn, std::ostream& out);
// Every zone (or those of one kind): name, kind, parent, alias, servers in DNS.
void zones_list(pg::Connection& conn, const std::string& kind, std::ostream& out);

// Left-aligned columns separated by two spaces, with a header row; for the list commands.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace timepool::ctl
