// Admins: the vendor request queue (approve puts the zone into DNS through the database, no
// restart), server and account lists with search, disabling, and country overrides.
#include <algorithm>
#include <cstdio>

#include "core/log.hpp"
#include "web/app.hpp"
#include "web/audit.hpp"
#include "web/html.hpp"
#include "web/validate.hpp"

namespace timepool::web {

namespace {

constexpr int kListLimit = 200;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string search_form(const Ctx& c, const std::string& action, const std::string& hint) {
  return "<form method=\"get\" action=\"" + esc(action) + "\" class=\"card\"><label>Search " +
         esc(hint) + " <input type=\"text\" name=\"q\" value=\"" + esc(c.req.param("q")) +
         "\"></label><button type=\"submit\">Search</button></form>";
}

}  // namespace

std::string admin_nav() {
  return "<p><a href=\"/admin\">Vendor requests</a> · <a href=\"/admin/servers\">Servers</a> · "
         "<a href=\"/admin/accounts\">Accounts</a> · <a href=\"/admin/reports\">Address reports</a> · "
         "<a href=\"/admin/zones\">Zone load</a> · <a href=\"/admin/audit\">Audit log</a></p>";
}

std::string admin_table(std::string_view id, std::initializer_list<std::string_view> headings,
                        const std::string& rows) {
  std::string out = "<div class=\"scroll\"><table id=\"" + esc(id) + "\"><thead><tr>";
  for (std::string_view h : headings) out += "<th>" + esc(h) + "</th>";
  return out + "</tr></thead><tbody>" + rows + "</tbody></table></div>";
}

AdminForm admin_form(Ctx& c, std::string_view field, std::initializer_list<std::string_view> allowed,
                     std::string_view unknown, std::string_view back) {
  AdminForm f;
  if ((f.refusal = require_role(c, {"admin"}))) return f;
  f.id = parse_int(c.req.match(1)).value_or(0);
  f.choice = c.req.param(field);
  if (std::find(allowed.begin(), allowed.end(), f.choice) == allowed.end()) {
    f.refusal = message_page(c, 400, "Nothing changed", unknown, back);
  }
  return f;
}

Response get_admin(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  auto r = c.db.exec(
      "SELECT v.id, v.name, v.organization, v.contact, v.device_description, v.device_count, "
      "v.client_type, v.poll_description, v.open_source, a.email, v.created_at::date::text "
      "FROM vendor_zones v LEFT JOIN accounts a ON a.id = v.account_id "
      "WHERE v.status IN ('new', 'pending') ORDER BY v.created_at");
  std::string queue;
  for (int i = 0; i < r.rows(); ++i) {
    queue += render(R"(<div class="card vendor-request" id="request-{{name}}">
<h3>{{name}}</h3>
<table class="facts">
<tr><th>Organization</th><td>{{org}}</td></tr><tr><th>Contact</th><td>{{contact}}</td></tr>
<tr><th>Account</th><td>{{email}}</td></tr><tr><th>Devices</th><td>{{desc}}</td></tr>
<tr><th>Device count</th><td>{{count}}</td></tr><tr><th>Client</th><td>{{type}}</td></tr>
<tr><th>Polling</th><td>{{poll}}</td></tr><tr><th>Open source</th><td>{{os}}</td></tr>
<tr><th>Requested</th><td>{{created}}</td></tr>
</table>
<form method="post" action="/admin/vendor/{{id}}/approve" class="inline">{{{csrf}}}
<button type="submit">Approve</button></form>
<form method="post" action="/admin/vendor/{{id}}/reject">{{{csrf}}}
<label>Reason for rejecting <input type="text" name="reason" maxlength="2000"></label>
<button type="submit" class="danger">Reject</button></form>
</div>)",
                    {{"id", std::to_string(r.get<int64_t>(i, 0))},
                     {"name", r.get<std::string>(i, 1)},
                     {"org", r.get<std::string>(i, 2)},
                     {"contact", r.get<std::string>(i, 3)},
                     {"desc", r.get<std::string>(i, 4)},
                     {"count", std::to_string(r.get<int64_t>(i, 5))},
                     {"type", r.get<std::string>(i, 6)},
                     {"poll", r.get<std::string>(i, 7)},
                     {"os", r.get<bool>(i, 8) ? "yes" : "no"},
                     {"email", r.get<std::optional<std::string>>(i, 9).value_or("-")},
                     {"created", r.get<std::string>(i, 10)},
                     {"csrf", csrf_field(c)}});
  }
  auto d = c.db.exec(
      "SELECT v.name, v.status, v.decided_at::date::text, coalesce(v.decision_reason, ''), v.id "
      "FROM vendor_zones v WHERE v.status IN ('approved', 'rejected') "
      "ORDER BY v.decided_at DESC LIMIT 20");
  std::string decided;
  for (int i = 0; i < d.rows(); ++i) {
    decided += "<tr><td><a href=\"/vendor/" + std::to_string(d.get<int64_t>(i, 4)) + "\">" +
               esc(d.get<std::string>(i, 0)) + "</a></td><td>" +
               esc(d.get<std::string>(i, 1)) + "</td><td>" + esc(d.get<std::string>(i, 2)) +
               "</td><td>" + esc(d.get<std::string>(i, 3)) + "</td></tr>";
  }
  std::string body = "<h1>Admin</h1>" + admin_nav() + "<h2>Vendor requests waiting</h2>" +
                     (queue.empty() ? "<p id=\"queue-empty\">No requests are waiting.</p>" : queue);
  if (!decided.empty()) {
    body += "<h2>Recently decided</h2><div class=\"scroll\"><table><thead><tr><th>Zone</th>"
            "<th>Decision</th><th>On</th><th>Reason</th></tr></thead><tbody>" + decided +
            "</tbody></table></div>";
  }
  body += admin_burst_section(c);
  return page(c, 200, "Admin", body);
}

Response post_admin_approve(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  auto id = parse_int(c.req.match(1)).value_or(0);
  pg::Transaction tx(c.db);
  auto v = tx.exec(
      "SELECT name, organization, status FROM vendor_zones WHERE id = $1 "
      "AND status IN ('new', 'pending') FOR UPDATE",
      id);
  if (v.rows() != 1) {
    return message_page(c, 409, "Not approved", "This request is not waiting for a decision.", "/admin");
  }
  std::string name = v.get<std::string>(0, 0);
  if (tx.exec("SELECT 1 FROM zones WHERE name = $1", name).rows() > 0) {
    return message_page(c, 409, "Not approved", "A zone named " + name + " exists already.", "/admin");
  }
  auto z = tx.exec(
      "INSERT INTO zones (name, kind, parent_id, description) "
      "SELECT $1, 'vendor', id, $2 FROM zones WHERE kind = 'global' RETURNING id",
      name, v.get<std::string>(0, 1));
  tx.exec(
      "UPDATE vendor_zones SET status = 'approved', zone_id = $2, decided_by = $3, "
      "decided_at = now() WHERE id = $1",
      id, z.get<int64_t>(0, 0), c.session->account_id);
  audit(c.db, c.session->email, "vendor.approve", name, "",
        {{"request", id}, {"status", v.get<std::string>(0, 2)}},
        {{"request", id}, {"status", "approved"}, {"zone", name}});
  tx.commit();
  log::get("web")->info("vendor zone approved name={} by={}", name, c.session->account_id);
  return redirect_with_flash(c, "/admin", "Approved: the zone " + name + " answers in DNS now.");
}

Response post_admin_reject(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  auto id = parse_int(c.req.match(1)).value_or(0);
  std::string reason = trim(c.req.param("reason"));
  if (reason.empty() || reason.size() > 2000) {
    return message_page(c, 400, "Not rejected", "Give the vendor a reason (up to 2000 characters).", "/admin");
  }
  pg::Transaction tx(c.db);
  auto r = c.db.exec(
      "UPDATE vendor_zones v SET status = 'rejected', decided_by = $2, decided_at = now(), "
      "decision_reason = $3 FROM (SELECT status FROM vendor_zones WHERE id = $1 FOR UPDATE) o "
      "WHERE v.id = $1 AND v.status IN ('new', 'pending') RETURNING v.name, o.status",
      id, c.session->account_id, reason);
  if (r.rows() != 1) {
    return message_page(c, 409, "Not rejected", "This request is not waiting for a decision.", "/admin");
  }
  audit(c.db, c.session->email, "vendor.reject", r.get<std::string>(0, 0), reason,
        {{"request", id}, {"status", r.get<std::string>(0, 1)}},
        {{"request", id}, {"status", "rejected"}, {"reason", reason}});
  tx.commit();
  return redirect_with_flash(c, "/admin", "Rejected: the vendor sees your reason on their page.");
}

Response get_admin_servers(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  auto r = c.db.exec(
      "SELECT s.id, host(s.address), coalesce(a.email, '-'), s.country, s.score, s.netspeed, "
      "s.disabled_at IS NOT NULL, s.deletion_on::text, server_in_dns(s), s.held_at IS NOT NULL, "
      "CASE WHEN s.trial_until > now() THEN s.trial_until::date::text END, s.netspeed_claimed "
      "FROM servers s LEFT JOIN accounts a ON a.id = s.owner_id "
      "WHERE s.deleted_at IS NULL AND ($1 = '' OR strpos(host(s.address), $1) > 0 "
      "  OR strpos(lower(coalesce(a.email, '')), lower($1)) > 0 OR s.country = lower($1)) "
      "ORDER BY s.address LIMIT $2",
      trim(c.req.param("q")), kListLimit);
  std::string rows;
  for (int i = 0; i < r.rows(); ++i) {
    std::string id = std::to_string(r.get<int64_t>(i, 0));
    std::string addr = r.get<std::string>(i, 1);
    bool disabled = r.get<bool>(i, 6);
    auto del = r.get<std::optional<std::string>>(i, 7);
    const bool held = r.get<bool>(i, 9);
    auto trial = r.get<std::optional<std::string>>(i, 10);
    auto claimed = r.get<std::optional<int32_t>>(i, 11);
    std::string trial_html;
    if (trial) {
      trial_html = "<br><small>trial until " + esc(*trial) +
                   (claimed ? ", asked for " + esc(netspeed_label(*claimed)) : std::string()) +
                   "</small><form method=\"post\" action=\"/admin/servers/" + id +
                   "/trust\" class=\"inline\">" + csrf_field(c) +
                   "<button type=\"submit\">Trust now</button></form>";
    }
    rows += render(R"(<tr><td><a href="/scores/{{addr}}">{{addr}}</a></td><td>{{owner}}</td>
<td class="num">{{score}}</td><td>{{speed}}{{{trial}}}</td><td>{{status}}</td>
<td><form method="post" action="/admin/servers/{{id}}/country" class="inline">{{{csrf}}}
<input type="text" name="country" value="{{country}}" size="3" maxlength="2" aria-label="country">
<button type="submit">Set</button></form></td>
<td><form method="post" action="/admin/servers/{{id}}/disable" class="inline">{{{csrf}}}
<input type="hidden" name="action" value="{{action}}"><input type="text" name="reason" maxlength="2000"
  size="12" placeholder="reason, told to the owner" aria-label="reason">
<button type="submit">{{label}}</button></form></td></tr>)",
                   {{"addr", addr},
                    {"owner", r.get<std::string>(i, 2)},
                    {"score", fmt("%.1f", r.get<double>(i, 4))},
                    {"speed", netspeed_label(r.get<int32_t>(i, 5))},
                    {"status", disabled ? "disabled" : del ? "deletion " + *del
                                        : held ? "held (address reported)"
                                        : r.get<bool>(i, 8) ? "in DNS" : "not in DNS"},
                    {"trial", trial_html},
                    {"id", id},
                    {"csrf", csrf_field(c)},
                    {"country", r.get<std::string>(i, 3)},
                    {"action", disabled ? "enable" : "disable"},
                    {"label", disabled ? "Enable" : "Disable"}});
  }
  std::string body = "<h1>Servers</h1>" + admin_nav() +
                     search_form(c, "/admin/servers", "(address, owner e-mail or country)") +
                     admin_table("servers", {"Address", "Owner", "Score", "Netspeed", "Status",
                                             "Country", ""}, rows);
  return page(c, 200, "Servers", body);
}

Response post_admin_server_disable(Ctx& c) {
  auto form = admin_form(c, "action", {"disable", "enable"}, "Unknown action.", "/admin/servers");
  if (form.refusal) return *form.refusal;
  const int64_t id = form.id;
  const std::string& action = form.choice;
  std::string reason = trim(c.req.param("reason"));
  if (reason.size() > 2000) {
    return message_page(c, 400, "Nothing changed", "The reason is longer than 2000 characters.",
                        "/admin/servers");
  }
  pg::Transaction tx(c.db);
  auto r = c.db.exec(
      action == "disable"
          ? "UPDATE servers s SET disabled_at = now() FROM (SELECT disabled_at FROM servers "
            "WHERE id = $1 FOR UPDATE) o WHERE s.id = $1 AND s.disabled_at IS NULL "
            "RETURNING host(s.address), o.disabled_at::text"
          : "UPDATE servers s SET disabled_at = NULL FROM (SELECT disabled_at FROM servers "
            "WHERE id = $1 FOR UPDATE) o WHERE s.id = $1 RETURNING host(s.address), "
            "o.disabled_at::text",
      id);
  if (r.rows() == 0 && action == "enable") {
    return message_page(c, 404, "Nothing changed", "There is no such server.", "/admin/servers");
  }
  // Enabling a server that was not disabled changes nothing worth a record.
  if (r.rows() == 1 && (action == "disable" || !r.is_null(0, 1))) {
    audit(c.db, c.session->email, "server." + action, r.get<std::string>(0, 0), reason,
          {{"disabled_at", text_or_null(r, 0, 1)}},
          {{"disabled", action == "disable"}});
  }
  tx.commit();
  return redirect_with_flash(c, "/admin/servers",
                             action == "disable"
                                 ? (r.affected() ? "Disabled: the server left DNS and is no longer probed."
                                                 : "The server was disabled already.")
                                 : "Enabled: the server is probed again and returns to DNS once "
                                   "its score is 10 or more.");
}

Response post_admin_server_country(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  auto id = parse_int(c.req.match(1)).value_or(0);
  std::string cc = trim(c.req.param("country"));
  for (auto& ch : cc) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto z = c.db.exec(
      "SELECT coalesce(a.name, z.name) FROM zones z LEFT JOIN zones a ON a.id = z.alias_of "
      "WHERE z.name = $1 AND z.kind = 'country'",
      cc);
  if (z.rows() != 1) {
    return message_page(c, 400, "Country not changed", "\"" + cc + "\" is not a country code.",
                        "/admin/servers");
  }
  // The trigger servers_sync_zones moves the server's zone memberships.
  pg::Transaction tx(c.db);
  auto r = c.db.exec(
      "UPDATE servers s SET country = $2 FROM (SELECT country FROM servers WHERE id = $1 "
      "FOR UPDATE) o WHERE s.id = $1 AND s.deleted_at IS NULL RETURNING host(s.address), o.country",
      id, z.get<std::string>(0, 0));
  if (r.rows() != 1) {
    return message_page(c, 404, "Country not changed", "There is no such server.", "/admin/servers");
  }
  if (r.get<std::string>(0, 1) != z.get<std::string>(0, 0)) {
    audit(c.db, c.session->email, "server.country", r.get<std::string>(0, 0), "",
          {{"country", r.get<std::string>(0, 1)}}, {{"country", z.get<std::string>(0, 0)}});
  }
  tx.commit();
  return redirect_with_flash(c, "/admin/servers",
                             "Saved: the server's country is now " + z.get<std::string>(0, 0) + ".");
}

Response get_admin_accounts(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  auto r = c.db.exec(
      "SELECT a.id, a.email, array_to_string(ARRAY[a.role] || a.extra_roles, ' and '), "
      "a.created_at::date::text, a.disabled_at IS NOT NULL, "
      "(SELECT count(*) FROM servers s WHERE s.owner_id = a.id AND s.deleted_at IS NULL) "
      "FROM accounts a WHERE $1 = '' OR strpos(lower(a.email), lower($1)) > 0 OR a.role = $1 "
      "OR $1 = ANY (a.extra_roles) "
      "ORDER BY a.email LIMIT $2",
      trim(c.req.param("q")), kListLimit);
  std::string rows;
  for (int i = 0; i < r.rows(); ++i) {
    bool disabled = r.get<bool>(i, 4);
    rows += render(R"(<tr><td>{{email}}</td><td>{{role}}</td><td>{{created}}</td><td class="num">{{servers}}</td>
<td>{{state}}</td><td><form method="post" action="/admin/accounts/{{id}}/disable" class="inline">{{{csrf}}}
<input type="hidden" name="action" value="{{action}}"><button type="submit">{{label}}</button></form></td></tr>)",
                   {{"email", r.get<std::string>(i, 1)},
                    {"role", r.get<std::string>(i, 2)},
                    {"created", r.get<std::string>(i, 3)},
                    {"servers", std::to_string(r.get<int64_t>(i, 5))},
                    {"state", disabled ? "disabled" : "active"},
                    {"id", std::to_string(r.get<int64_t>(i, 0))},
                    {"csrf", csrf_field(c)},
                    {"action", disabled ? "enable" : "disable"},
                    {"label", disabled ? "Enable" : "Disable"}});
  }
  std::string body = "<h1>Accounts</h1>" + admin_nav() +
                     search_form(c, "/admin/accounts", "(e-mail or role)") +
                     admin_table("accounts", {"E-mail", "Role", "Created", "Servers", "State", ""},
                                 rows);
  return page(c, 200, "Accounts", body);
}

Response post_admin_account_disable(Ctx& c) {
  auto form = admin_form(c, "action", {"disable", "enable"}, "Unknown action.", "/admin/accounts");
  if (form.refusal) return *form.refusal;
  const int64_t id = form.id;
  const std::string& action = form.choice;
  if (id == c.session->account_id) {
    return message_page(c, 400, "Nothing changed", "You cannot disable your own account.", "/admin/accounts");
  }
  pg::Transaction tx(c.db);
  auto r = tx.exec(action == "disable"
                       ? "UPDATE accounts SET disabled_at = now() WHERE id = $1 "
                         "AND disabled_at IS NULL RETURNING email"
                       : "UPDATE accounts SET disabled_at = NULL WHERE id = $1 "
                         "AND disabled_at IS NOT NULL RETURNING email",
                   id);
  // A disabled account is logged out everywhere at once.
  if (action == "disable") tx.exec("DELETE FROM sessions WHERE account_id = $1", id);
  if (r.rows() == 1) {
    audit(c.db, c.session->email, "account." + action, r.get<std::string>(0, 0), "",
          {{"disabled", action != "disable"}}, {{"disabled", action == "disable"}});
  }
  tx.commit();
  if (r.affected() == 0) {
    return redirect_with_flash(c, "/admin/accounts", "Nothing changed: no such account, or it "
                                                     "was " + action + "d already.");
  }
  return redirect_with_flash(c, "/admin/accounts",
                             action == "disable"
                                 ? "Disabled: the account was logged out, may not log in, and "
                                   "its servers left DNS."
                                 : "Enabled: the account may log in again.");
}

}  // namespace timepool::web
