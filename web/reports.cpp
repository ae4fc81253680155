// "This address is mine, stop sending traffic": the public report form, the admins' list of
// reports with their decisions, and an admin's trust in a new server's netspeed claim. The
// rules themselves (the hold, the per-network limit, the decision, the trial) live in the
// schema (0020_claims.sql), so timepoolctl obeys them too.
#include <string>

#include "core/address.hpp"
#include "core/log.hpp"
#include "web/app.hpp"
#include "web/audit.hpp"
#include "web/html.hpp"
#include "web/validate.hpp"

namespace timepool::web {

namespace {

constexpr size_t kMaxMessage = 2000;

std::string report_form(const Ctx& c, std::string_view address, std::string_view contact,
                        std::string_view message, std::string_view error) {
  return render(R"(<h1>This address is mine</h1>
<p>If the pool sends NTP traffic to an address of yours that you never offered to it, tell us
here. The server at that address stops getting traffic from the pool at once (our monitors keep
checking it), its registered owner is told, and an administrator decides what happens next.</p>
{{{error}}}<form method="post" action="/report" id="report-form">{{{csrf}}}
<label>The address (IPv4 or IPv6) <input type="text" name="address" value="{{address}}" required
  maxlength="64"></label>
<label>Your e-mail address, so an administrator can reach you <input type="email" name="contact"
  value="{{contact}}" required maxlength="254"></label>
<label>Anything we should know (optional) <textarea name="message" maxlength="2000"
  rows="4">{{message}}</textarea></label>
<button type="submit">Report the address</button>
</form>)",
                {{"csrf", csrf_field(c)},
                 {"address", std::string(address)},
                 {"contact", std::string(contact)},
                 {"message", std::string(message)},
                 {"error", error.empty() ? std::string()
                                     : "<p class=\"error\" id=\"report-error\">" +
                                           esc(error) + "</p>\n"}});
}

}  // namespace

Response get_report(Ctx& c) {
  return page(c, 200, "Report an address", report_form(c, c.req.param("address"), "", "", ""));
}

Response post_report(Ctx& c) {
  const std::string addr_text = trim(c.req.param("address"));
  const std::string contact_text = trim(c.req.param("contact"));
  const std::string message = c.req.param("message");
  auto refuse = [&](std::string_view why) {
    return page(c, 400, "Report an address", report_form(c, addr_text, contact_text, message, why));
  };
  auto addr = address::parse(addr_text);
  if (!addr) return refuse("\"" + addr_text + "\" is not an IPv4 or IPv6 address.");
  auto contact = normalize_email(contact_text);
  if (!contact) return refuse("Please give an e-mail address where an administrator can reach you.");
  if (message.size() > kMaxMessage) return refuse("The message is longer than 2000 characters.");
  auto r = c.db.exec("SELECT report_address($1::inet, $2, $3, $4::inet)", addr->to_string(),
                     *contact, message, c.req.remote_addr);
  if (r.is_null(0, 0)) {
    return message_page(c, 429, "Not reported",
                        "Your network has filed as many reports today as it may. If the pool "
                        "still sends traffic to an address of yours, write to the pool's "
                        "administrators.",
                        "/");
  }
  const int64_t id = r.get<int64_t>(0, 0);
  auto held = c.db.exec("SELECT server_id IS NOT NULL FROM address_reports WHERE id = $1", id);
  const bool in_pool = held.rows() == 1 && held.get<bool>(0, 0);
  log::get("web")->info("address report id={} address={} in_pool={} from={}", id,
                        addr->to_string(), in_pool, c.req.remote_addr);
  std::string text =
      in_pool ? "Thank you. The pool no longer hands out " + addr->to_string() +
                    " to clients; its owner is told, and an administrator will look at your "
                    "report and write to you."
              : addr->to_string() +
                    " is not one of the pool's servers, so the pool sends it no traffic. Your "
                    "report is kept for the administrators all the same.";
  return message_page(c, 200, "Reported", text, "/");
}

Response get_admin_reports(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  auto r = c.db.exec(
      "SELECT r.id, host(r.address), r.contact, r.message, host(r.reporter_address), "
      "to_char(r.created_at, 'YYYY-MM-DD HH24:MI'), r.server_id IS NOT NULL, "
      "coalesce(a.email, '-'), r.decision, coalesce(r.decided_by, ''), "
      "coalesce(to_char(r.decided_at, 'YYYY-MM-DD HH24:MI'), '') "
      "FROM address_reports r LEFT JOIN servers s ON s.id = r.server_id "
      "LEFT JOIN accounts a ON a.id = s.owner_id "
      "WHERE r.decided_at IS NULL OR r.decided_at > now() - interval '30 days' "
      "ORDER BY r.decided_at IS NOT NULL, r.created_at DESC LIMIT 200");
  std::string open, decided;
  for (int i = 0; i < r.rows(); ++i) {
    const bool is_open = r.is_null(i, 8);
    Vars v{{"id", std::to_string(r.get<int64_t>(i, 0))},
           {"addr", r.get<std::string>(i, 1)},
           {"contact", r.get<std::string>(i, 2)},
           {"message", r.get<std::string>(i, 3)},
           {"from", r.get<std::string>(i, 4)},
           {"at", r.get<std::string>(i, 5)},
           {"held", r.get<bool>(i, 6) ? "held out of DNS" : "not in the pool"},
           {"owner", r.get<std::string>(i, 7)},
           {"csrf", csrf_field(c)}};
    if (is_open) {
      open += render(R"(<tr id="report-{{id}}"><td><a href="/scores/{{addr}}">{{addr}}</a></td>
<td>{{owner}}</td><td>{{contact}}<br><small>from {{from}}</small></td><td>{{message}}</td>
<td>{{at}}</td><td>{{held}}</td><td>
<form method="post" action="/admin/reports/{{id}}" class="inline">{{{csrf}}}
<input type="hidden" name="decision" value="dismissed"><button type="submit">Dismiss (back in DNS)</button></form>
<form method="post" action="/admin/reports/{{id}}" class="inline">{{{csrf}}}
<input type="hidden" name="decision" value="disabled"><button type="submit" class="danger">Disable the server</button></form>
</td></tr>)",
                     v);
    } else {
      v["decision"] = r.get<std::string>(i, 8);
      v["by"] = r.get<std::string>(i, 9);
      v["on"] = r.get<std::string>(i, 10);
      decided += render(R"(<tr><td>{{addr}}</td><td>{{contact}}</td><td>{{decision}}</td>
<td>{{by}}</td><td>{{on}}</td></tr>)",
                        v);
    }
  }
  std::string body =
      "<h1>Address reports</h1>" + admin_nav() +
      "<p>Someone said the address is theirs. A reported server is out of DNS (still monitored) "
      "until you decide: dismiss the report to put it back, or disable the server, which also "
      "keeps its address disabled if it is added again.</p><h2>Open</h2>" +
      (open.empty() ? std::string("<p id=\"reports-empty\">No open reports.</p>")
                    : admin_table("reports", {"Address", "Owner", "Reporter", "Message", "At",
                                              "State", ""}, open));
  if (!decided.empty()) {
    body += "<h2>Decided in the last 30 days</h2>" +
            admin_table("decided", {"Address", "Reporter", "Decision", "By", "On"}, decided);
  }
  return page(c, 200, "Address reports", body);
}

Response post_admin_report_decide(Ctx& c) {
  auto form = admin_form(c, "decision", {"dismissed", "disabled"}, "Unknown decision.",
                         "/admin/reports");
  if (form.refusal) return *form.refusal;
  auto r = c.db.exec("SELECT decide_address_report($1, $2, $3)", form.id, form.choice,
                     c.session->email);
  if (!r.get<bool>(0, 0)) {
    return message_page(c, 409, "Nothing changed",
                        "This report does not exist or was decided already.", "/admin/reports");
  }
  return Response::redirect("/admin/reports");
}

Response post_admin_server_trust(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  auto id = parse_int(c.req.match(1)).value_or(0);
  pg::Transaction tx(c.db);
  const char* kFacts =
      "SELECT host(address), netspeed, netspeed_claimed, trial_until::text FROM servers "
      "WHERE id = $1";
  auto was = tx.exec(std::string(kFacts) + " FOR UPDATE", id);
  if (was.rows() != 1 || !tx.exec("SELECT trust_server($1)", id).get<bool>(0, 0)) {
    return message_page(c, 404, "Nothing changed", "There is no such server.", "/admin/servers");
  }
  auto now = tx.exec(kFacts, id);
  auto facts = [](const pg::Result& r) {
    return nlohmann::json{
        {"netspeed", r.get<int32_t>(0, 1)},
        {"netspeed_claimed", (r.is_null(0, 2) ? nlohmann::json() : nlohmann::json(r.get<int32_t>(0, 2)))},
        {"trial_until", text_or_null(r, 0, 3)}};
  };
  audit(c.db, c.session->email, "server.trust", was.get<std::string>(0, 0),
        "netspeed " + std::to_string(now.get<int32_t>(0, 1)), facts(was), facts(now));
  tx.commit();
  return Response::redirect("/admin/servers");
}

}  // namespace timepool::web
