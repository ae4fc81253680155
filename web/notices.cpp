#include "web/notices.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

#include "core/log.hpp"
#include "web/app.hpp"
#include "web/audit.hpp"
#include "web/html.hpp"
#include "web/mail.hpp"
#include "web/queries.hpp"
#include "web/server_status.hpp"
#include "web/validate.hpp"

namespace timepool::web {

namespace {

// pg_try_advisory_xact_lock key: "tpnotice" as a number.
constexpr int64_t kLockKey = 0x74706e6f74696365;

std::string footer(std::string_view site_url) {
  return "\n\n-- \nYou get this message because of your account at " + std::string(site_url) +
         ". To turn notices like this off, open " + std::string(site_url) + "/account#notices\n";
}

std::string lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += "\n  - " + i;
  return out;
}

// "Not in DNS: no reply from the server" -> "no reply from the server".
std::string reason_of(const std::string& headline) {
  for (std::string_view p : {"Not in DNS yet: ", "Not in DNS: "}) {
    if (headline.rfind(p, 0) == 0) return headline.substr(p.size());
  }
  return headline;
}

// A left-DNS notice: the owner's page's explanation as text. nullopt: it is back in DNS.
struct Letter {
  std::string subject, body;
};
std::optional<Letter> left_dns_letter(pg::Connection& db, std::string_view site_url,
                                      int64_t server_id) {
  auto s = find_server_by_id(db, server_id);
  if (!s) return std::nullopt;
  auto e = explain_status(load_status_facts(db, *s, true));
  if (e.in_dns) return std::nullopt;
  std::string why = reason_of(e.headline);
  std::string body = "Your NTP server " + s->address +
                     " is no longer handed out in DNS: " + why + ".\n\nWhat the monitors saw:" +
                     lines(e.why);
  if (!e.todo.empty()) body += "\n\nWhat to do:" + lines(e.todo);
  body += "\n\nIts page: " + std::string(site_url) + "/servers/" + std::to_string(s->id);
  return Letter{"Your server " + s->address + " left the pool: " + why, body};
}

nlohmann::json parse_or_null(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return nlohmann::json::parse(*text, nullptr, false);
}

std::string field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string speed_text(const std::string& kbits) {
  auto n = parse_int(kbits);
  return n ? netspeed_label(static_cast<int>(*n)) : kbits;
}

// What an admin did to a server, for its owner (nullopt: nothing to tell).
std::optional<Letter> admin_letter(const std::string& action, const std::string& addr,
                                   const std::string& detail, const nlohmann::json& before,
                                   const nlohmann::json& after) {
  const std::string who = "An administrator of the pool";
  if (action == "server.disable") {
    return Letter{"Your server " + addr + " was disabled by an administrator",
                  who + " took your NTP server " + addr +
                      " out of the pool: DNS no longer hands it out and the monitors stop "
                      "probing it.\n\n" +
                      (detail.empty() ? "No reason was recorded." : "Their reason: " + detail) +
                      "\n\nFix what the reason names, then ask the pool's administrators to "
                      "enable the server again."};
  }
  if (action == "server.enable") {
    return Letter{"Your server " + addr + " was enabled again",
                  who + " enabled your NTP server " + addr +
                      " again: the monitors probe it, and DNS hands it out once its score is "
                      "10 or more."};
  }
  if (action == "server.country") {
    std::string was = field(before, "country"), now = field(after, "country");
    if (now.empty()) now = detail;
    return Letter{"Your server " + addr + " was moved to another country",
                  who + " set the country of your NTP server " + addr + " to " + now +
                      (was.empty() ? "" : " (it was " + was + ")") +
                      ": DNS hands it out in that country's zone and its continent's."};
  }
  if (action == "server.netspeed") {
    std::string now = field(after, "netspeed");
    if (now.empty()) now = detail;
    std::string was = field(before, "netspeed");
    return Letter{"The netspeed of your server " + addr + " was changed",
                  who + " set the netspeed of your NTP server " + addr + " to " +
                      speed_text(now) + (was.empty() ? "" : " (it was " + speed_text(was) + ")") +
                      ": DNS hands it out in proportion to it."};
  }
  if (action == "server.trust") {
    std::string now = field(after, "netspeed");
    return Letter{"Your server " + addr + " is trusted with its full netspeed",
                  who + " ended the trial of your new NTP server " + addr +
                      (now.empty() ? std::string(".") : ": its netspeed is " + speed_text(now) +
                                                            " from now on.")};
  }
  if (action == "report.disable") {
    return Letter{"Your server " + addr + " was disabled after a report",
                  "Someone reported that the address " + addr +
                      " is theirs. " + who + " looked at the report and disabled your NTP "
                      "server: DNS no longer hands it out, and the address stays disabled if "
                      "it is added again. If the address is yours, write to the pool's "
                      "administrators."};
  }
  if (action == "report.dismiss") {
    return Letter{"The report about your server " + addr + " was dismissed",
                  "Someone reported that the address " + addr + " is theirs. " + who +
                      " dismissed the report: DNS hands your NTP server out again while its "
                      "score is 10 or more."};
  }
  return std::nullopt;
}

const char* kServerActions[] = {"server.disable", "server.enable",  "server.country",
                                "server.netspeed", "server.trust",  "report.disable",
                                "report.dismiss"};

int scan_servers(pg::Transaction& tx, pg::Connection& db, std::string_view site_url,
                 NoticeScan& scan) {
  // Servers whose state moved since the last scan (new ones are only recorded).
  auto r = tx.exec(
      "WITH cur AS (SELECT s.id, coalesce(s.owner_id, 0) AS owner, host(s.address) AS addr, "
      "  s.netspeed = 0 OR s.deletion_on IS NOT NULL OR s.disabled_at IS NOT NULL "
      "    OR coalesce((SELECT a.disabled_at IS NOT NULL FROM accounts a "
      "                 WHERE a.id = s.owner_id), false) AS own_choice, "
      "  s.deleted_at IS NOT NULL AS deleted, "
      "  EXISTS (SELECT 1 FROM eligible_servers e WHERE e.id = s.id) AS in_dns "
      "  FROM servers s) "
      "SELECT c.id, c.owner, c.addr, c.own_choice, c.deleted, c.in_dns, "
      "  st.server_id IS NOT NULL, coalesce(st.in_dns, false), coalesce(st.deleted, false) "
      "FROM cur c LEFT JOIN notice_server_state st ON st.server_id = c.id "
      "WHERE st.server_id IS NULL OR st.in_dns <> c.in_dns OR st.deleted <> c.deleted");
  for (int i = 0; i < r.rows(); ++i) {
    const int64_t id = r.get<int64_t>(i, 0), owner = r.get<int64_t>(i, 1);
    const std::string addr = r.get<std::string>(i, 2);
    const bool own_choice = r.get<bool>(i, 3), deleted = r.get<bool>(i, 4);
    const bool in_dns = r.get<bool>(i, 5), known = r.get<bool>(i, 6);
    const bool was_in = r.get<bool>(i, 7), was_deleted = r.get<bool>(i, 8);
    const std::string subject = "server:" + std::to_string(id);
    if (known && owner > 0 && was_in && !in_dns && !deleted && !own_choice) {
      if (auto l = left_dns_letter(db, site_url, id);
          l && queue_notice(db, site_url, owner, "server-left-dns", subject, l->subject,
                            l->body)) {
        ++scan.left_dns;
      }
    }
    if (known && owner > 0 && deleted && !was_deleted &&
        queue_notice(db, site_url, owner, "server-deleted", subject,
                     "Your server " + addr + " was deleted",
                     "Your NTP server " + addr +
                         " was deleted from the pool. Its history stays readable at " +
                         std::string(site_url) + "/scores/" + addr +
                         "; the address can be added again at any time.")) {
      ++scan.deleted;
    }
    tx.exec("INSERT INTO notice_server_state (server_id, in_dns, deleted) VALUES ($1, $2, $3) "
            "ON CONFLICT (server_id) DO UPDATE SET in_dns = $2, deleted = $3, changed_at = now()",
            id, in_dns, deleted);
  }
  return r.rows();
}

void scan_audit(pg::Transaction& tx, pg::Connection& db, std::string_view site_url,
                NoticeScan& scan) {
  pg::ArrayBuilder actions;
  for (const char* a : kServerActions) actions.add(std::string(a));
  actions.add(std::string("vendor.approve"));
  actions.add(std::string("vendor.reject"));
  auto r = tx.exec(
      "SELECT l.id, l.actor, l.action, l.target, l.detail, l.before::text, l.after::text "
      "FROM audit_log l WHERE l.at > now() - interval '1 day' AND l.action = ANY ($1::text[]) "
      "AND NOT EXISTS (SELECT 1 FROM notice_audit_done d WHERE d.audit_id = l.id) "
      "ORDER BY l.id",
      actions);
  for (int i = 0; i < r.rows(); ++i) {
    const int64_t id = r.get<int64_t>(i, 0);
    const std::string actor = r.get<std::string>(i, 1), action = r.get<std::string>(i, 2);
    const std::string target = r.get<std::string>(i, 3), detail = r.get<std::string>(i, 4);
    tx.exec("INSERT INTO notice_audit_done (audit_id) VALUES ($1) ON CONFLICT DO NOTHING", id);
    if (action.rfind("vendor.", 0) == 0) {
      const bool approved = action == "vendor.approve";
      auto v = tx.exec(
          "SELECT v.id, coalesce(v.account_id, 0), coalesce(a.email, ''), "
          "  coalesce(v.decision_reason, '') "
          "FROM vendor_zones v LEFT JOIN accounts a ON a.id = v.account_id "
          "WHERE v.name = $1 AND v.status = $2 ORDER BY v.decided_at DESC NULLS LAST, v.id DESC "
          "LIMIT 1",
          target, std::string(approved ? "approved" : "rejected"));
      if (v.rows() != 1 || v.get<int64_t>(0, 1) == 0) continue;
      const std::string link = std::string(site_url) + "/vendor/" +
                               std::to_string(v.get<int64_t>(0, 0));
      Letter l = approved
                     ? Letter{"Your zone " + target + " was approved",
                              "Your request for the zone " + target +
                                  " was approved: it answers in DNS now. Its page, with its "
                                  "queries and API tokens: " + link}
                     : Letter{"Your zone request " + target + " was not approved",
                              "Your request for the zone " + target +
                                  " was not approved. The administrator's reason:\n\n" +
                                  v.get<std::string>(0, 3) +
                                  "\n\nYou may send a new request that answers it: " +
                                  std::string(site_url) + "/vendor"};
      if (queue_notice(db, site_url, v.get<int64_t>(0, 1), "vendor-decision",
                       "request:" + std::to_string(v.get<int64_t>(0, 0)), l.subject, l.body)) {
        ++scan.decisions;
      }
      continue;
    }
    // The server with that address: the live one, else the newest.
    auto s = tx.exec(
        "SELECT s.id, coalesce(s.owner_id, 0), coalesce(a.email, '') FROM servers s "
        "LEFT JOIN accounts a ON a.id = s.owner_id WHERE host(s.address) = $1 "
        "ORDER BY s.deleted_at IS NULL DESC, s.id DESC LIMIT 1",
        target);
    if (s.rows() != 1 || s.get<int64_t>(0, 1) == 0) continue;
    std::string owner_email = s.get<std::string>(0, 2), who = actor;
    std::transform(owner_email.begin(), owner_email.end(), owner_email.begin(), ::tolower);
    std::transform(who.begin(), who.end(), who.begin(), ::tolower);
    if (who == owner_email) continue;  // the owner's own change
    auto l = admin_letter(action, target, detail,
                          parse_or_null(r.get<std::optional<std::string>>(i, 5)),
                          parse_or_null(r.get<std::optional<std::string>>(i, 6)));
    if (l && queue_notice(db, site_url, s.get<int64_t>(0, 1), "server-admin",
                          "server:" + std::to_string(s.get<int64_t>(0, 0)), l->subject,
                          l->body + "\n\nIts page: " + std::string(site_url) + "/servers/" +
                              std::to_string(s.get<int64_t>(0, 0)))) {
      ++scan.admin;
    }
  }
  tx.exec("DELETE FROM notice_audit_done WHERE done_at < now() - interval '2 days'");
}

void scan_zones(pg::Transaction& tx, pg::Connection& db, std::string_view site_url,
                NoticeScan& scan) {
  // Vendor zones with a finding newer than the newest their vendor was told about.
  auto z = tx.exec(
      "SELECT f.zone_id, zn.name, coalesce(vz.account_id, 0), vz.id, "
      "  extract(epoch FROM f.newest)::float8, "
      "  (SELECT string_agg(warning, E'\\n\\n' ORDER BY first_seen) FROM zone_findings x "
      "   WHERE x.zone_id = f.zone_id AND x.first_seen > coalesce(st.newest_finding, "
      "   '-infinity')) "
      "FROM (SELECT zone_id, max(first_seen) AS newest FROM zone_findings GROUP BY zone_id) f "
      "JOIN zones zn ON zn.id = f.zone_id "
      "JOIN vendor_zones vz ON vz.zone_id = f.zone_id AND vz.status = 'approved' "
      "LEFT JOIN notice_zone_state st ON st.zone_id = f.zone_id "
      "WHERE st.zone_id IS NULL OR f.newest > st.newest_finding");
  for (int i = 0; i < z.rows(); ++i) {
    const int32_t zone = z.get<int32_t>(i, 0);
    const std::string name = z.get<std::string>(i, 1);
    const int64_t owner = z.get<int64_t>(i, 2);
    if (owner > 0 &&
        queue_notice(db, site_url, owner, "vendor-burst", "zone:" + std::to_string(zone),
                     "Synchronized clients found in your zone " + name,
                     "The pool found bursts of synchronized queries in your zone " + name +
                         ":\n\n" + z.get<std::optional<std::string>>(i, 5).value_or("") +
                         "\n\nDetails, charts and advice: " + std::string(site_url) +
                         "/vendor/" + std::to_string(z.get<int64_t>(i, 3)))) {
      ++scan.bursts;
    }
    tx.exec("INSERT INTO notice_zone_state (zone_id, newest_finding) "
            "VALUES ($1, to_timestamp($2)) ON CONFLICT (zone_id) DO UPDATE SET "
            "newest_finding = to_timestamp($2)",
            zone, z.get<double>(i, 4));
  }
}

}  // namespace

const std::vector<NoticeKind>& notice_kinds() {
  static const std::vector<NoticeKind> kinds = {
      {"server-left-dns", "a server of mine left DNS (with the reason the monitors saw)",
       "volunteer"},
      {"server-admin", "an administrator disabled, enabled or changed a server of mine",
       "volunteer"},
      {"server-deleted", "a server of mine was deleted", "volunteer"},
      {"vendor-decision", "my zone request was approved or rejected", "vendor"},
      {"vendor-burst", "synchronized bursts were found in my zone", "vendor"},
  };
  return kinds;
}

bool queue_notice(pg::Connection& db, std::string_view site_url, int64_t account_id,
                  std::string_view kind, std::string_view subject, std::string_view mail_subject,
                  std::string_view text) {
  auto r = db.exec(
      "WITH acc AS (SELECT id, email FROM accounts WHERE id = $1 AND disabled_at IS NULL "
      "  AND email_verified_at IS NOT NULL AND NOT ($2 = ANY (notices_off))), "
      "ins AS (INSERT INTO notices_sent (account_id, kind, subject) SELECT id, $2, $3 FROM acc "
      "  ON CONFLICT (account_id, kind, subject) DO UPDATE SET last_at = now() "
      "  WHERE notices_sent.last_at <= now() - interval '1 day' RETURNING account_id) "
      "SELECT acc.email FROM acc JOIN ins ON ins.account_id = acc.id",
      account_id, std::string(kind), std::string(subject));
  if (r.rows() != 1) return false;
  enqueue_mail(db, account_id, r.get<std::string>(0, 0), kind, mail_subject,
               std::string(text) + footer(site_url));
  return true;
}

NoticeScan run_notice_scan(pg::Connection& db, std::string_view site_url) {
  NoticeScan scan;
  pg::Transaction tx(db);
  if (!tx.exec("SELECT pg_try_advisory_xact_lock($1)", kLockKey).get<bool>(0, 0)) {
    tx.commit();
    return scan;
  }
  scan.ran = true;
  scan_servers(tx, db, site_url, scan);
  scan_audit(tx, db, site_url, scan);
  scan_zones(tx, db, site_url, scan);
  tx.commit();
  if (scan.queued() > 0) {
    log::get("web")->info(
        "notices queued: {} left DNS, {} deleted, {} admin changes, {} decisions, {} bursts",
        scan.left_dns, scan.deleted, scan.admin, scan.decisions, scan.bursts);
  }
  return scan;
}

std::string notice_prefs_section(Ctx& c) {
  if (!c.session) return "";
  auto r = c.db.exec("SELECT notices_off::text[] FROM accounts WHERE id = $1",
                     c.session->account_id);
  auto off = r.rows() == 1 ? r.get<std::string>(0, 0) : std::string("{}");
  std::string boxes;
  for (const auto& k : notice_kinds()) {
    if (!c.session->has_role(k.role) && !c.session->has_role("admin")) continue;
    // notices_off's text form is {a,b}: the kinds have no characters that need quoting.
    const std::string kind = k.kind;
    bool is_off = off.find("{" + kind + ",") != std::string::npos ||
                  off.find("," + kind + ",") != std::string::npos ||
                  off.find("," + kind + "}") != std::string::npos || off == "{" + kind + "}";
    boxes += render(R"(<label class="inline"><input type="checkbox" name="on" value="{{kind}}"{{{checked}}}> {{label}}</label>
)",
                    {{"kind", kind}, {"label", k.label}, {"checked", is_off ? "" : " checked"}});
  }
  if (boxes.empty()) return "";
  return render(R"(<form method="post" action="/account/notices" class="card" id="notices">
{{{csrf}}}
<h2>Mail about your servers and zones</h2>
<p>Each kind comes at most once a day per server or zone. Send me mail when</p>
{{{boxes}}}
<button type="submit">Save</button>
</form>)",
                {{"csrf", csrf_field(c)}, {"boxes", boxes}});
}

Response post_account_notices(Ctx& c) {
  if (!c.session) return Response::redirect("/login");
  // The boxes ticked are on; every kind of the account's roles that is not ticked is off, and
  // kinds of other roles keep their setting.
  std::vector<std::string> on;
  for (const auto& [k, v] : c.req.form) {
    if (k == "on") on.push_back(v);
  }
  pg::Transaction tx(c.db);
  auto was = tx.exec("SELECT array_to_json(notices_off)::text FROM accounts WHERE id = $1 "
                     "FOR UPDATE",
                     c.session->account_id);
  if (was.rows() != 1) return Response::redirect("/login");
  pg::ArrayBuilder offer, off;
  for (const auto& k : notice_kinds()) {
    if (!c.session->has_role(k.role) && !c.session->has_role("admin")) continue;
    offer.add(std::string(k.kind));
    if (std::find(on.begin(), on.end(), k.kind) != on.end()) continue;
    off.add(std::string(k.kind));
  }
  auto r = tx.exec(
      "UPDATE accounts a SET notices_off = ARRAY(SELECT x FROM unnest(a.notices_off) x "
      "  WHERE x <> ALL ($2::text[]) UNION SELECT unnest($3::text[]) ORDER BY 1) "
      "WHERE id = $1 RETURNING array_to_json(notices_off)::text",
      c.session->account_id, offer, off);
  auto before = nlohmann::json::parse(was.get<std::string>(0, 0));
  auto after = nlohmann::json::parse(r.get<std::string>(0, 0));
  if (before != after) {
    audit(c.db, c.session->email, "account.notices", c.session->email, "",
          {{"notices_off", before}}, {{"notices_off", after}});
  }
  tx.commit();
  return redirect_with_flash(c, "/account#notices", "Saved: your mail settings.");
}

}  // namespace timepool::web
