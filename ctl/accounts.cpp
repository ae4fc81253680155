// timepoolctl accounts: list, disable, enable, password reset.
#include <ostream>

#include "core/password.hpp"
#include "ctl/commands.hpp"
#include "ctl/listing.hpp"

namespace timepool::ctl {
namespace {

int64_t account_id(pg::Connection& conn, const std::string& email) {
  auto r = conn.exec("SELECT id FROM accounts WHERE lower(email) = lower($1)", email);
  if (r.rows() == 0) {
    throw Error("no account " + email + " ('timepoolctl accounts list' shows them)");
  }
  return r.get<int64_t>(0, 0);
}

}  // namespace

void accounts_list(pg::Connection& conn, const std::string& role, bool json, std::ostream& out) {
  auto r = conn.exec(
      "SELECT a.id, a.email, a.role, a.display_name, "
      "       to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS created, "
      "       a.disabled_at IS NOT NULL AS disabled, "
      "       (SELECT count(*) FROM servers s WHERE s.owner_id = a.id AND s.deleted_at IS NULL) "
      "         AS servers, "
      "       (SELECT count(*) FROM vendor_zones v WHERE v.account_id = a.id "
      "          AND v.status = 'approved') AS vendor_zones "
      "FROM accounts a WHERE $1 = '' OR a.role = $1 OR $1 = ANY (a.extra_roles) ORDER BY a.id",
      role);
  std::vector<Column> cols = {{"EMAIL", "email"},
                              {"ROLE", "role"},
                              {"CREATED", "created"},
                              {"DISABLED", "disabled", ColumnType::Bool},
                              {"SERVERS", "servers", ColumnType::Int},
                              {"VENDOR ZONES", "vendor_zones", ColumnType::Int}};
  if (json) {
    cols.insert(cols.begin(), {"ID", "id", ColumnType::Int});
    cols.push_back({"NAME", "display_name"});
  }
  print_listing(read_listing(r, cols, "accounts"), json, out);
}

void account_set_disabled(pg::Connection& conn, const std::string& email, bool disabled,
                          const std::string& reason, std::ostream& out) {
  int64_t id = account_id(conn, email);
  pg::Transaction tx(conn);
  if (disabled) {
    tx.exec("UPDATE accounts SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1", id);
    // Logged out everywhere at once.
    tx.exec("DELETE FROM sessions WHERE account_id = $1", id);
  } else {
    tx.exec("UPDATE accounts SET disabled_at = NULL WHERE id = $1", id);
  }
  tx.commit();
  audit(conn, disabled ? "account.disable" : "account.enable", email, reason);
  out << "account " << email
      << (disabled ? " disabled: logged out, may not log in, its servers left DNS\n"
                   : " enabled: may log in again, its servers may enter DNS\n");
}

void account_password_reset(pg::Connection& conn, const std::string& email,
                            const std::optional<std::string>& password, std::ostream& out) {
  std::string pw = password ? *password : password::random_password();
  if (pw.size() < 10 || pw.size() > 1000) {
    throw Error("the password must be 10 to 1000 characters long");
  }
  int64_t id = account_id(conn, email);
  pg::Transaction tx(conn);
  tx.exec("UPDATE accounts SET password_hash = $2 WHERE id = $1", id, password::hash(pw));
  tx.exec("DELETE FROM sessions WHERE account_id = $1", id);
  tx.commit();
  audit(conn, "account.password-reset", email);
  out << "new password set for " << email << " (its sessions were logged out)\n";
  if (!password) {
    out << "password: " << pw << "\n"
        << "(shown only now: give it to the account's owner over a safe channel)\n";
  }
}

}  // namespace timepool::ctl
