#include "web/audit.hpp"

#include <optional>

namespace timepool::web {

namespace {

std::optional<std::string> json_or_null(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.dump();
}

std::string clip(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  // Cut on a UTF-8 boundary.
  size_t end = n;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

}  // namespace

void audit(pg::Connection& db, std::string_view actor, std::string_view action,
           std::string_view target, std::string_view detail, const nlohmann::json& before,
           const nlohmann::json& after) {
  db.exec("INSERT INTO audit_log (actor, action, target, detail, before, after) "
          "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
          clip(actor.empty() ? "anonymous" : actor, 300), std::string(action),
          clip(target.empty() ? "-" : target, 300), clip(detail, 2000), json_or_null(before),
          json_or_null(after));
}

const std::vector<std::string>& audit_actions() {
  static const std::vector<std::string> actions = {
      "account.signup",         "account.verify",        "account.verify-resend",
      "account.password",       "account.password-reset-request", "account.password-reset",
      "account.notices",        "account.disable",       "server.add",
      "server.netspeed",        "server.delete",         "server.undelete",
      "server.disable",         "server.country",        "vendor.request",
      "vendor.approve",         "vendor.reject",         "token.create",
      "token.revoke",
  };
  return actions;
}

}  // namespace timepool::web
