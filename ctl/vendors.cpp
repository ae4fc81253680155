// timepoolctl vendors: the vendor zone requests (list, approve, reject), as an admin decides
// them on the web site.
#include <ostream>

#include "ctl/commands.hpp"
#include "ctl/listing.hpp"

namespace timepool::ctl {
namespace {

// The request called `name` that waits for a decision (new or pending), locked.
int64_t waiting_request(pg::Transaction& tx, const std::string& name) {
  auto r = tx.exec(
      "SELECT id FROM vendor_zones WHERE name = $1 AND status IN ('new', 'pending') FOR UPDATE",
      name);
  if (r.rows() == 0) {
    auto any = tx.exec("SELECT status FROM vendor_zones WHERE name = $1 ORDER BY id DESC", name);
    if (any.rows() > 0) {
      throw Error("the request for " + name + " is already " + any.get<std::string>(0, 0) +
                  "; only new or pending requests can be decided");
    }
    throw Error("no vendor request named " + name + " ('timepoolctl vendors list' shows them)");
  }
  return r.get<int64_t>(0, 0);
}

}  // namespace

void vendors_list(pg::Connection& conn, const std::string& status, bool json, std::ostream& out) {
  auto r = conn.exec(
      "SELECT v.id, v.name, v.status, v.organization, v.contact, a.email AS account, "
      "       v.device_count, v.client_type, v.poll_description, v.open_source, "
      "       to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS requested, "
      "       to_char(v.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS decided, "
      "       v.decision_reason "
      "FROM vendor_zones v LEFT JOIN accounts a ON a.id = v.account_id "
      "WHERE $1 = '' OR v.status = $1 ORDER BY v.created_at, v.id",
      status);
  std::vector<Column> cols = {{"NAME", "name"},
                              {"STATUS", "status"},
                              {"ORGANIZATION", "organization"},
                              {"ACCOUNT", "account"},
                              {"DEVICES", "device_count", ColumnType::Int},
                              {"CLIENT", "client_type"},
                              {"REQUESTED (UTC)", "requested"}};
  if (json) {
    cols.insert(cols.begin(), {"ID", "id", ColumnType::Int});
    for (Column c : {Column{"", "contact"}, Column{"", "poll_description"},
                     Column{"", "open_source", ColumnType::Bool}, Column{"", "decided"},
                     Column{"", "decision_reason"}}) {
      cols.push_back(c);
    }
  }
  print_listing(read_listing(r, cols, "vendor requests"), json, out);
}

void vendor_approve(pg::Connection& conn, const std::string& name, std::ostream& out) {
  pg::Transaction tx(conn);
  int64_t id = waiting_request(tx, name);
  if (tx.exec("SELECT 1 FROM zones WHERE name = $1", name).rows() > 0) {
    throw Error("a zone named " + name + " exists already; reject this request with a reason");
  }
  auto z = tx.exec(
      "INSERT INTO zones (name, kind, parent_id, description) "
      "SELECT $1, 'vendor', g.id, v.organization FROM zones g, vendor_zones v "
      "WHERE g.kind = 'global' AND v.id = $2 RETURNING id",
      name, id);
  tx.exec("UPDATE vendor_zones SET status = 'approved', zone_id = $2, decided_at = now() "
          "WHERE id = $1",
          id, z.get<int64_t>(0, 0));
  tx.commit();
  audit(conn, "vendor.approve", name);
  out << "approved vendor zone " << name << ": live in DNS now\n";
}

void vendor_reject(pg::Connection& conn, const std::string& name, const std::string& reason,
                   std::ostream& out) {
  if (reason.empty() || reason.size() > 2000) {
    throw Error("give the vendor a reason with --reason TEXT (1 to 2000 characters)");
  }
  pg::Transaction tx(conn);
  int64_t id = waiting_request(tx, name);
  tx.exec("UPDATE vendor_zones SET status = 'rejected', decided_at = now(), decision_reason = $2 "
          "WHERE id = $1",
          id, reason);
  tx.commit();
  audit(conn, "vendor.reject", name, reason);
  out << "rejected vendor request " << name << "\n";
}

}  // namespace timepool::ctl
