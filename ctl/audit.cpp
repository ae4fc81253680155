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

void audit_list(pg::Connection& conn, const AuditQuery& q, bool json, std::ostream& out) {
  std::string prefix =
      !q.action.empty() && q.action.find('.') == std::string::npos ? q.action + "." : "";
  auto r = conn.exec(
      "SELECT * FROM (SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at, "
      "       actor, action, target, detail, before::text AS before, after::text AS after "
      "       FROM audit_log "
      "       WHERE ($1 = '' OR lower(actor) = lower($1) OR lower(target) = lower($1)) "
      "         AND ($2 = '' OR target = $2) "
      "         AND ($3 = '' OR action = $3 OR ($4 <> '' AND left(action, length($4)) = $4)) "
      "         AND ($5 <= 0 OR id < $5) "
      "       ORDER BY id DESC LIMIT $6) newest ORDER BY id",
      q.account, q.target, q.action, prefix, q.before_id, q.limit);
  std::vector<Column> cols = {{"ID", "id", ColumnType::Int},
                              {"AT (UTC)", "at"},
                              {"ACTOR", "actor"},
                              {"ACTION", "action"},
                              {"TARGET", "target"},
                              {"DETAIL", "detail"},
                              {"BEFORE", "before", ColumnType::Json},
                              {"AFTER", "after", ColumnType::Json}};
  print_listing(read_listing(r, cols, "entries"), json, out);
}

}  // namespace timepool::ctl
