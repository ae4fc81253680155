#include "web/audit.hpp"

#include <algorithm>

#include "web/app.hpp"
#include "web/form.hpp"
#include "web/html.hpp"
#include "web/validate.hpp"

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

constexpr int kPageSize = 50;

// A stored JSON object as "key: value, key: value" for people; the text itself otherwise.
std::string readable(const std::optional<std::string>& text) {
  if (!text) return "";
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return *text;
  std::string out;
  for (const auto& [k, v] : j.items()) {
    if (!out.empty()) out += ", ";
    out += k + ": " + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

std::string query_string(const AuditFilter& f, std::optional<int64_t> before) {
  std::string q;
  auto add = [&q](const char* k, const std::string& v) {
    if (v.empty()) return;
    q += (q.empty() ? "?" : "&") + std::string(k) + "=" + url_encode(v);
  };
  add("account", f.account);
  add("target", f.target);
  add("action", f.action);
  if (before) add("before", std::to_string(*before));
  return q;
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

nlohmann::json text_or_null(const pg::Result& r, int row, int col) {
  if (r.is_null(row, col)) return nullptr;
  return r.get<std::string>(row, col);
}

const std::vector<std::string>& audit_actions() {
  static const std::vector<std::string> actions = {
      "account.signup",  "account.verify",   "account.verify-resend",
      "account.password", "account.password-reset-request", "account.password-reset",
      "account.notices", "account.roles",    "account.disable",
      "account.enable",  "server.add",       "server.netspeed",
      "server.delete",   "server.undelete",  "server.disable",
      "server.enable",   "server.country",   "server.trust",
      "report.dismiss",  "report.disable",   "vendor.request",
      "vendor.approve",  "vendor.reject",    "token.create",
      "token.revoke",
  };
  return actions;
}

std::vector<AuditEntry> load_audit(pg::Connection& db, const AuditFilter& f) {
  // An action filter without a dot is an object kind: "server" matches every server.* action.
  std::string action_prefix = f.action.find('.') == std::string::npos && !f.action.empty()
                                  ? f.action + "."
                                  : "";
  auto r = db.exec(
      "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), actor, action, "
      "target, detail, before::text, after::text FROM audit_log "
      "WHERE ($1 = '' OR lower(actor) = lower($1) OR lower(target) = lower($1)) "
      "  AND ($2 = '' OR target = $2) "
      "  AND ($3 = '' OR action = $3 OR ($4 <> '' AND left(action, length($4)) = $4)) "
      "  AND ($5::bigint IS NULL OR id < $5) "
      "ORDER BY id DESC LIMIT $6",
      f.account, f.target, f.action, action_prefix, f.before_id, f.limit + 1);
  std::vector<AuditEntry> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.get<int64_t>(i, 0), r.get<std::string>(i, 1), r.get<std::string>(i, 2),
                   r.get<std::string>(i, 3), r.get<std::string>(i, 4), r.get<std::string>(i, 5),
                   r.get<std::optional<std::string>>(i, 6),
                   r.get<std::optional<std::string>>(i, 7)});
  }
  return out;
}

namespace {

// The filter from the query string; a message page when it cannot be used.
std::optional<Response> read_filter(Ctx& c, AuditFilter& f) {
  f.account = trim(c.req.param("account"));
  f.target = trim(c.req.param("target"));
  f.action = trim(c.req.param("action"));
  f.limit = kPageSize;
  std::string before_text = c.req.param("before");
  if (!before_text.empty()) {
    auto b = parse_int(before_text);
    if (!b || *b <= 0) {
      return message_page(c, 400, "Audit log", "\"before\" must be an entry number.",
                          "/admin/audit");
    }
    f.before_id = *b;
  }
  if (f.account.size() > 300 || f.target.size() > 300 || f.action.size() > 60) {
    return message_page(c, 400, "Audit log", "A filter is too long.", "/admin/audit");
  }
  return std::nullopt;
}

// The action choices: any, every action of a kind, each known action, and the one asked for.
std::vector<std::pair<std::string, std::string>> action_choices(const std::string& asked) {
  std::vector<std::pair<std::string, std::string>> kinds = {{"", "any action"}};
  for (const char* k : {"account", "server", "vendor", "token", "report", "monitor"}) {
    kinds.emplace_back(k, std::string("every ") + k + ".*");
  }
  for (const auto& a : audit_actions()) kinds.emplace_back(a, a);
  if (!asked.empty() &&
      std::none_of(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == asked; })) {
    kinds.emplace_back(asked, asked);
  }
  return kinds;
}

std::string audit_table(const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return "<p id=\"audit-empty\">No entries.</p>";
  std::string rows;
  for (const auto& e : entries) {
    rows += render(R"(<tr id="audit-{{id}}"><td class="num">{{id}}</td><td>{{at}}</td>
<td><a href="/admin/audit?account={{actor_q}}">{{actor}}</a></td><td>{{action}}</td>
<td><a href="/admin/audit?target={{target_q}}">{{target}}</a></td><td>{{detail}}</td>
<td class="before">{{before}}</td><td class="after">{{after}}</td></tr>
)",
                   {{"id", std::to_string(e.id)},
                    {"at", e.at},
                    {"actor", e.actor},
                    {"actor_q", url_encode(e.actor)},
                    {"action", e.action},
                    {"target", e.target},
                    {"target_q", url_encode(e.target)},
                    {"detail", e.detail},
                    {"before", readable(e.before)},
                    {"after", readable(e.after)}});
  }
  return "<div class=\"scroll\"><table id=\"audit\"><thead>"
         "<tr><th>#</th><th>When (UTC)</th><th>Who</th>"
         "<th>Action</th><th>Object</th><th>Detail</th>"
         "<th>Before</th><th>After</th></tr></thead><tbody>" +
         rows + "</tbody></table></div>";
}

std::string paging_links(const AuditFilter& f, const std::vector<AuditEntry>& entries,
                         bool older) {
  std::string paging;
  if (f.before_id) paging += "<a href=\"/admin/audit" + esc(query_string(f, std::nullopt)) +
                             "\" id=\"audit-newest\">Newest</a> ";
  if (older) {
    paging += "<a href=\"/admin/audit" + esc(query_string(f, entries.back().id)) +
              "\" id=\"audit-older\">Older entries</a>";
  }
  return paging;
}

}  // namespace

Response get_admin_audit(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  AuditFilter f;
  if (auto refused = read_filter(c, f)) return *refused;
  auto entries = load_audit(c.db, f);
  bool older = entries.size() > static_cast<size_t>(kPageSize);
  if (older) entries.pop_back();
  std::string body = render(R"(<h1>Audit log</h1>
{{{nav}}}
<p>Every change made by admins, by accounts to themselves and their servers and zones, and by
<code>timepoolctl</code>: who, what, when, and what it replaced. Entries are never changed or
removed.</p>
<form method="get" action="/admin/audit" class="card" id="audit-filter">
<label>Account (e-mail: what it did or what was done to it)
  <input type="text" name="account" value="{{account}}" maxlength="300"></label>
<label>Object (address, e-mail or zone) <input type="text" name="target" value="{{target}}"
  maxlength="300"></label>
<label>Action <select name="action">{{{kinds}}}</select></label>
<button type="submit">Show</button> <a href="/admin/audit">Clear</a>
</form>
{{{table}}}
<p class="paging">{{{paging}}}</p>)",
                            {{"nav", admin_nav()},
                             {"account", f.account},
                             {"target", f.target},
                             {"kinds", options(action_choices(f.action), f.action)},
                             {"table", audit_table(entries)},
                             {"paging", paging_links(f, entries, older)}});
  return page(c, 200, "Audit log", body);
}

}  // namespace timepool::web
