// The audit log (schema/0010_audit_log.sql): timepoolctl records each change it makes.
#include <pwd.h>
#include <unistd.h>

#include <ostream>

#include "ctl/commands.hpp"
#include "ctl/listing.hpp"

namespace timepool::ctl {

std::string actor() {
  const passwd* pw = getpwuid(geteuid());
  return std::string("timepoolctl:") + (pw && pw->pw_name ? pw->pw_name : std::to_string(geteuid()));
}

void audit(pg::Connection& conn, const std::string& action, const std::string& target,
           const std::string& detail) {
  conn.exec("INSERT INTO audit_log (actor, action, target, detail) VALUES ($1, $2, $3, $4)",
            actor(), action, target, detail.substr(0, 2000));
}

void audit_list(pg::Connection& conn, const std::string& target, int limit, bool json,
                std::ostream& out) {
  auto r = conn.exec(
      "SELECT * FROM (SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at, "
      "       actor, action, target, detail FROM audit_log "
      "       WHERE $1 = '' OR target = $1 ORDER BY id DESC LIMIT $2) newest ORDER BY id",
      target, limit);
  std::vector<Column> cols = {{"AT (UTC)", "at"},
                              {"ACTOR", "actor"},
                              {"ACTION", "action"},
                              {"TARGET", "target"},
                              {"DETAIL", "detail"}};
  if (json) cols.insert(cols.begin(), {"ID", "id", ColumnType::Int});
  print_listing(read_listing(r, cols, "entries"), json, out);
}

}  // namespace timepool::ctl
