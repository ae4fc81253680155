// The audit log from the web (schema/0010_audit_log.sql, before and after from 0015): every
// admin and account-changing action records who did it, what, to what, when, and the fields it
// replaced and made. The table is append-only; the row is written in the caller's transaction,
// so a change and its record stand or fall together.
//
// Actors are the account's e-mail address as it was at the time ("admin@pool.example"), or
// "anonymous" for actions without a session (a password reset by mailed link names the account
// in `target`). Actions are <object>.<verb>: account.signup, account.verify, server.add ...
//
// The admin page GET /admin/audit lists the log newest first, filtered by account (what an
// account did or what was done to it), by object and by action, 50 entries a page with a link
// to older ones; `timepoolctl audit list` shows the same entries.
//
// Threads: plain functions on the caller's connection.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/pg.hpp"

namespace timepool::web {

// Appends one row. `before`/`after` null: nothing there (a creation has no before).
void audit(pg::Connection& db, std::string_view actor, std::string_view action,
           std::string_view target, std::string_view detail = "",
           const nlohmann::json& before = nullptr, const nlohmann::json& after = nullptr);

// A text column as JSON: null when SQL NULL (for `before` and `after`).
nlohmann::json text_or_null(const pg::Result& r, int row, int col);

// Every action the web records, for the admin page's filter and the tests.
const std::vector<std::string>& audit_actions();

struct AuditFilter {
  std::string account;  // "": any; else entries whose actor or target is this address
  std::string target;   // "": any; else exactly this object (address, e-mail, zone name)
  std::string action;   // "": any; "server" (every server.*) or "server.disable"
  std::optional<int64_t> before_id;  // entries older than this one (paging)
  int limit = 50;
};

struct AuditEntry {
  int64_t id = 0;
  std::string at;  // "2026-11-30 19:45:02" UTC
  std::string actor, action, target, detail;
  std::optional<std::string> before, after;  // JSON text
};

// The newest entries that match, newest first; at most f.limit + 1 (one more than a page says
// that older ones exist).
std::vector<AuditEntry> load_audit(pg::Connection& db, const AuditFilter& f);

}  // namespace timepool::web
