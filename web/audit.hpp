// The audit log from the web (schema/0010_audit_log.sql, before and after from 0015): every
// admin and account-changing action records who did it, what, to what, when, and the fields it
// replaced and made. The table is append-only; the row is written in the caller's transaction,
// so a change and its record stand or fall together.
//
// Actors are the account's e-mail address as it was at the time ("admin@pool.example"), or
// "anonymous" for actions without a session (a password reset by mailed link names the account
// in `target`). Actions are <object>.<verb>: account.signup, account.verify, server.add ...
//
// Threads: plain functions on the caller's connection.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/pg.hpp"

namespace timepool::web {

// Appends one row. `before`/`after` null: nothing there (a creation has no before).
void audit(pg::Connection& db, std::string_view actor, std::string_view action,
           std::string_view target, std::string_view detail = "",
           const nlohmann::json& before = nullptr, const nlohmann::json& after = nullptr);

// Every action the web records, for the admin page's filter and the tests.
const std::vector<std::string>& audit_actions();

}  // namespace timepool::web
