// Vendors: request a zone, follow the request, and once approved see what to ship.
#include "web/vendor.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "web/account_mail.hpp"
#include "web/app.hpp"
#include "web/audit.hpp"
#include "web/graph.hpp"
#include "web/html.hpp"
#include "web/validate.hpp"
#include "web/zone_load.hpp"

namespace timepool::web {

std::vector<std::string> vendor_names(const std::string& name, const std::string& client_type,
                                      const std::string& pool_domain) {
  std::vector<std::string> out;
  if (client_type == "ntp" || client_type == "both") {
    for (int n = 0; n < 4; ++n) out.push_back(std::to_string(n) + "." + name + "." + pool_domain);
  }
  if (client_type == "sntp" || client_type == "both") out.push_back(name + "." + pool_domain);
  return out;
}

std::vector<Snippet> vendor_snippets(const std::string& name, const std::string& client_type,
                                     const std::string& pool_domain) {
  std::vector<std::string> numbered;
  for (int n = 0; n < 4; ++n) numbered.push_back(std::to_string(n) + "." + name + "." + pool_domain);
  std::string bare = name + "." + pool_domain;
  // NTP clients use the numbered names when the zone has them (four disjoint server sets).
  std::vector<std::string> ntp_names =
      client_type == "sntp" ? std::vector<std::string>{bare} : numbered;
  std::string sntp_name = client_type == "ntp" ? numbered[0] : bare;

  std::vector<Snippet> out;
  std::string chrony = "# /etc/chrony/chrony.conf\n";
  for (const auto& n : ntp_names) chrony += "pool " + n + " iburst maxsources 2\n";
  chrony +=
      "# chrony backs off by itself when servers do not answer and obeys Kiss-o'-Death.\n"
      "makestep 1 3\nrtcsync\n";
  out.push_back({"chrony", chrony});

  std::string ntpd = "# /etc/ntpsec/ntp.conf or /etc/ntp.conf\n";
  for (const auto& n : ntp_names) ntpd += "pool " + n + " iburst\n";
  ntpd +=
      "# Use 'iburst' (a quick start), never 'burst'; keep the default poll range (64-1024 s).\n"
      "# ntpd backs off on a Kiss-o'-Death RATE and drops a server that sends DENY or RSTR.\n";
  out.push_back({"ntpd / ntpsec", ntpd});

  std::string timesyncd = "# /etc/systemd/timesyncd.conf\n[Time]\nNTP=";
  for (size_t i = 0; i < ntp_names.size(); ++i) timesyncd += (i ? " " : "") + ntp_names[i];
  timesyncd +=
      "\n# Defaults keep polls between 32 s and 34 min and back off on failure.\n"
      "PollIntervalMinSec=64\nPollIntervalMaxSec=2048\n";
  out.push_back({"systemd-timesyncd", timesyncd});

  std::string sntp =
      "# A generic SNTP client (RFC 4330 section 10 'best practices'):\n"
      "server   = \"" + sntp_name + "\"   # resolve again before every poll\n"
      "interval = 3600 s                 # never less than 64 s\n"
      "# The first poll after boot, and every later one, at a random point in the interval:\n"
      "#   next = now + interval * (0.5 + random())   -- never at :00 of the hour\n"
      "on no answer:   interval = min(2 * interval, 86400 s); retry at a random time\n"
      "on KoD RATE:    interval = min(2 * interval, 86400 s)\n"
      "on KoD DENY or RSTR: stop using that server address (resolve the name again later)\n"
      "on stratum 0 (other kiss code) or 16, or leap = 3: ignore the answer, treat as no answer\n"
      "on success:     interval back to 3600 s\n";
  out.push_back({"generic SNTP client", sntp});
  return out;
}

std::vector<Fix> finding_fixes(const std::string& name, const std::string& client_type,
                               const std::string& period, const std::string& pool_domain) {
  std::vector<Fix> out;
  std::string bare = name + "." + pool_domain;
  std::string first = "0." + name + "." + pool_domain;
  // The spread matches the period: a burst every hour needs up to an hour of delay.
  std::string delay_span =
      period == "hourly" ? "an hour" : "the whole poll interval (at least an hour)";
  if (client_type == "sntp" || client_type == "both") {
    out.push_back({"Add a random delay before each query",
                   "Your devices ask at a fixed clock time, as a cron job or timer does. Let each "
                   "device wait a random time, up to " + delay_span +
                       ", before every query, and choose the first one at random after boot.",
                   "# cron: a random delay before the one-shot query\n"
                   "15 * * * *  sleep $(shuf -i 0-3599 -n 1) && sntp -S " + bare +
                       "\n# systemd timer: [Timer] OnCalendar=hourly RandomizedDelaySec=1h"});
  }
  if (client_type == "ntp" || client_type == "both") {
    out.push_back({"Run an NTP daemon instead of one-shot queries",
                   "Run chrony or ntpd continuously with the pool names: they poll at their own, "
                   "spread intervals (64 to 1024 s) and back off by themselves. Do not run "
                   "ntpdate, sntp or chronyd -q from cron.",
                   "# chrony.conf or ntp.conf\npool " + first + " iburst\npool 1." + name + "." +
                       pool_domain + " iburst"});
  }
  out.push_back({"Respect Kiss-o'-Death",
                 "When a server answers with stratum 0 and the code RATE, double the poll "
                 "interval; on DENY or RSTR stop asking that server and resolve the name again "
                 "later. Never retry at once in a loop.",
                 ""});
  return out;
}

namespace {

std::string request_form(const Ctx& c, const Request& in) {
  std::vector<std::pair<std::string, std::string>> types = {
      {"ntp", "NTP (a full NTP client such as chrony, ntpd, timesyncd)"},
      {"sntp", "SNTP (a simple client asking one server now and then)"},
      {"both", "both"}};
  return render(R"(<form method="post" action="/vendor/request" class="card" id="vendor-form">
{{{csrf}}}
<h2>Request a vendor zone</h2>
<label>Zone name (4-40 lower-case letters, digits, hyphens)
<input type="text" name="name" value="{{name}}" required minlength="4" maxlength="40"
 pattern="[a-z0-9][a-z0-9-]{2,38}[a-z0-9]" autocomplete="off"></label>
<label>Organization <input type="text" name="organization" value="{{org}}" required maxlength="200"></label>
<label>Contact (name and e-mail) <input type="text" name="contact" value="{{contact}}" required maxlength="200"></label>
<label>What are the devices? <textarea name="device_description" required maxlength="2000">{{desc}}</textarea></label>
<label>How many devices (500 to 100 million)? <input type="number" name="device_count" value="{{count}}" min="500" max="100000000" required></label>
<label>Client <select name="client_type">{{{types}}}</select></label>
<label>How do they poll (interval, what happens at boot, on errors)?
<textarea name="poll_description" maxlength="2000">{{poll}}</textarea></label>
<label class="inline"><input type="checkbox" name="open_source" value="yes"{{{os}}}> The device software is open source</label>
<button type="submit">Send request</button>
</form>)",
                {{"csrf", csrf_field(c)},
                 {"name", in.param("name")},
                 {"org", in.param("organization")},
                 {"contact", in.param("contact")},
                 {"desc", in.param("device_description")},
                 {"count", in.param("device_count")},
                 {"types", options(types, in.param("client_type"))},
                 {"poll", in.param("poll_description")},
                 {"os", in.param("open_source") == "yes" ? " checked" : ""}});
}

// What the findings job found in the zone (zone_findings), each with the concrete fix for the
// vendor's client type: first on the page, because it is what the vendor must act on.
std::string findings_section(Ctx& c, const std::string& name, const std::string& client_type,
                             const std::vector<StoredFinding>& findings) {
  std::string updated = findings_updated(c.db);
  if (findings.empty()) {
    return "<div class=\"card\" id=\"findings\"><h2>Findings</h2><p id=\"no-findings\">No "
           "synchronized bursts found in the last 28 days." +
           (updated.empty() ? std::string() : " Checked " + esc(updated) + ".") + "</p></div>";
  }
  std::string out = "<div class=\"card\" id=\"findings\"><h2>Findings</h2>";
  bool recurring = false;
  for (const auto& f : findings) recurring = recurring || f.kind == "recurring";
  out += burst_warnings_html(findings, "bursts");
  out += "<h3>How to fix it</h3><ol id=\"fixes\">";
  for (const auto& fix : finding_fixes(name, client_type, findings.front().period,
                                       c.app.cfg.pool_domain)) {
    out += "<li><strong>" + esc(fix.title) + ".</strong> " + esc(fix.text);
    if (!fix.code.empty()) out += "<pre>" + esc(fix.code) + "</pre>";
    out += "</li>";
  }
  out += "</ol>";
  if (!recurring) {
    out += "<p class=\"muted\">A burst seen once is watched: if it comes back at the same time, "
           "it becomes a recurring finding.</p>";
  }
  if (!updated.empty()) out += "<p class=\"muted\">Checked " + esc(updated) + ".</p>";
  return out + "</div>";
}

// The zone's DNS load: queries per minute over the last day and per hour over the last 90
// days (counted by the DNS servers), with the findings' windows marked.
std::string load_section(Ctx& c, int32_t zone_id, const std::vector<StoredFinding>& findings) {
  std::string out = "<h2>Load</h2>";
  double now = now_epoch();
  auto minutes = minute_series(c.db, zone_id, now);
  auto hours = hour_series(c.db, zone_id, now);
  double week = 0, total = 0, day = 0;
  for (const auto& p : hours.points) {
    total += p.v;
    if (p.t >= now - 7 * 86400.0) week += p.v;
  }
  for (const auto& p : minutes.points) day += p.v;
  if (total == 0 && day == 0) {
    return out + "<p id=\"load\">No queries counted for this zone in the last 90 days.</p>";
  }
  out += load_charts(minutes, hours, findings);
  out += "<p id=\"load\">" + std::to_string(static_cast<long long>(week)) +
         " queries in the last 7 days.";
  const Point* busiest = nullptr;
  for (const auto& p : minutes.points) {
    if (p.v > 0 && (!busiest || p.v > busiest->v)) busiest = &p;
  }
  if (busiest) {
    std::time_t t = static_cast<std::time_t>(busiest->t);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%a %Y-%m-%d %H:%M", &tm);
    out += " Busiest minute of the last 24 hours: " + std::string(when) + " UTC with " +
           std::to_string(static_cast<long long>(busiest->v)) + " queries.";
  }
  return out + "</p>";
}

std::string status_text(const std::string& s) {
  if (s == "new" || s == "pending") return "waiting for an administrator";
  return s;
}

}  // namespace

Response get_vendor(Ctx& c) {
  if (auto deny = require_role(c, {"vendor", "admin"})) return *deny;
  auto r = c.db.exec(
      "SELECT v.id, v.name, v.status, v.created_at::date::text, "
      "  (SELECT count(*) FROM zone_findings f WHERE f.zone_id = v.zone_id), "
      "  (SELECT f.warning FROM zone_findings f WHERE f.zone_id = v.zone_id "
      "   ORDER BY f.kind = 'once', f.window_start LIMIT 1) "
      "FROM vendor_zones v WHERE v.account_id = $1 ORDER BY v.created_at DESC",
      c.session->account_id);
  std::string rows;
  for (int i = 0; i < r.rows(); ++i) {
    int64_t n = r.get<int64_t>(i, 4);
    std::string finding =
        n == 0 ? std::string("<td class=\"muted\">none</td>")
               : "<td class=\"error finding-flag\">" + std::to_string(n) +
                     (n == 1 ? " finding: " : " findings, first: ") +
                     esc(r.get<std::optional<std::string>>(i, 5).value_or("")) + "</td>";
    rows += "<tr data-zone=\"" + esc(r.get<std::string>(i, 1)) + "\"><td><a href=\"/vendor/" +
            std::to_string(r.get<int64_t>(i, 0)) + "\">" + esc(r.get<std::string>(i, 1)) +
            "</a></td><td>" + esc(status_text(r.get<std::string>(i, 2))) + "</td><td>" +
            esc(r.get<std::string>(i, 3)) + "</td>" + finding + "</tr>";
  }
  std::string body = "<h1>Vendor zones</h1>";
  if (!rows.empty()) {
    body += "<table id=\"my-requests\"><thead><tr><th>Zone</th><th>Status</th><th>Requested</th>"
            "<th>Findings</th></tr></thead><tbody>" + rows + "</tbody></table>";
  }
  Request empty;
  body += request_form(c, empty);
  return page(c, 200, "Vendor zones", body);
}

Response post_vendor_request(Ctx& c) {
  if (auto deny = require_role(c, {"vendor", "admin"})) return *deny;
  if (auto unverified = require_verified(c)) return *unverified;
  const Request& in = c.req;
  auto refuse = [&](int status, const std::string& msg) {
    return page(c, status, "Request not sent",
                "<h1>Request not sent</h1><p class=\"error\" id=\"refusal\">" + esc(msg) + "</p>" +
                    request_form(c, in));
  };
  std::string name = trim(in.param("name"));
  if (auto e = check_vendor_name(name); !e.empty()) return refuse(400, e);
  std::string org = trim(in.param("organization"));
  std::string contact = trim(in.param("contact"));
  std::string desc = trim(in.param("device_description"));
  std::string poll = trim(in.param("poll_description"));
  if (org.empty() || org.size() > 200) return refuse(400, "Give the organization (up to 200 characters).");
  if (contact.empty() || contact.size() > 200) return refuse(400, "Give a contact (up to 200 characters).");
  if (desc.empty() || desc.size() > 2000) return refuse(400, "Describe the devices (up to 2000 characters).");
  if (poll.size() > 2000) return refuse(400, "The polling description may have up to 2000 characters.");
  auto count = parse_int(trim(in.param("device_count")));
  if (!count || *count < kMinDevices || *count > kMaxDevices) {
    return refuse(400, "The device count must be a number from 500 to 100000000.");
  }
  std::string type = in.param("client_type");
  if (type != "ntp" && type != "sntp" && type != "both") return refuse(400, "Choose the client type.");
  auto taken = c.db.exec(
      "SELECT (SELECT kind FROM zones WHERE name = $1), "
      "EXISTS (SELECT 1 FROM vendor_zones WHERE name = $1 AND status <> 'rejected')",
      name);
  auto kind = taken.get<std::optional<std::string>>(0, 0);
  if (kind && *kind != "vendor") {
    return refuse(400, "\"" + name + "\" is the name of a pool zone (a " + *kind + "): choose another.");
  }
  if (kind || taken.get<bool>(0, 1)) return refuse(409, "The zone name \"" + name + "\" is taken.");
  try {
    pg::Transaction tx(c.db);
    auto id = c.db.exec(
        "INSERT INTO vendor_zones (name, account_id, organization, contact, device_description, "
        "device_count, client_type, poll_description, open_source) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        name, c.session->account_id, org, contact, desc, *count, type, poll,
        in.param("open_source") == "yes");
    audit(c.db, c.session->email, "vendor.request", name, "", nullptr,
          {{"request", id.get<int64_t>(0, 0)},
           {"organization", org},
           {"devices", *count},
           {"client", type},
           {"status", "new"}});
    tx.commit();
  } catch (const pg::Error& e) {
    if (e.is_unique_violation()) return refuse(409, "The zone name \"" + name + "\" is taken.");
    throw;
  }
  return redirect_with_flash(c, "/vendor",
                             "Request sent: an admin decides on the zone " + name +
                                 "; this page shows the decision.");
}

Response get_vendor_zone(Ctx& c) {
  if (auto deny = require_role(c, {"vendor", "admin"})) return *deny;
  auto id = parse_int(c.req.match(1));
  auto r = c.db.exec(
      "SELECT name, account_id, organization, contact, device_description, device_count, "
      "client_type, poll_description, open_source, status, decision_reason, "
      "created_at::date::text FROM vendor_zones WHERE id = $1",
      id.value_or(0));
  if (r.rows() != 1) return message_page(c, 404, "No such request", "There is no such request.", "/vendor");
  if (r.get<std::optional<int64_t>>(0, 1) != c.session->account_id && !c.is("admin")) {
    return message_page(c, 403, "Not your request", "This request belongs to another account.", "/vendor");
  }
  std::string name = r.get<std::string>(0, 0);
  std::string type = r.get<std::string>(0, 6);
  std::string status = r.get<std::string>(0, 9);
  std::string result;
  if (status == "approved") {
    auto zone_id = zone_id_by_name(c.db, name);
    std::vector<StoredFinding> findings;
    if (zone_id) {
      findings = zone_findings(c.db, *zone_id);
      result += findings_section(c, name, type, findings);
      result += load_section(c, *zone_id, findings);
    }
    std::string names;
    for (const auto& n : vendor_names(name, type, c.app.cfg.pool_domain)) {
      names += "<li><code>" + esc(n) + "</code></li>";
    }
    result += "<h2>Names to ship</h2><p>Your zone is live. Put exactly these names into your "
              "devices:</p><ul id=\"names\">" + names + "</ul><h2>Configuration</h2>";
    for (const auto& s : vendor_snippets(name, type, c.app.cfg.pool_domain)) {
      result += "<h3>" + esc(s.title) + "</h3><pre>" + esc(s.text) + "</pre>";
    }
    bool owner = r.get<std::optional<int64_t>>(0, 1) == c.session->account_id;
    if (zone_id && owner) result += tokens_section(c, id.value_or(0), *zone_id);
  } else if (status == "rejected") {
    result = "<p class=\"error\">The request was rejected: <span id=\"reason\">" +
             esc(r.get<std::optional<std::string>>(0, 10).value_or("")) + "</span></p>";
  } else {
    result = "<p>An administrator will look at your request soon.</p>";
  }
  std::string body = render(R"(<h1>Vendor zone {{name}}</h1>
<p>Status: <strong id="status">{{status}}</strong></p>
{{{result}}}
<h2>Your request</h2>
<table class="facts">
<tr><th>Organization</th><td>{{org}}</td></tr>
<tr><th>Contact</th><td>{{contact}}</td></tr>
<tr><th>Devices</th><td>{{desc}}</td></tr>
<tr><th>Device count</th><td>{{count}}</td></tr>
<tr><th>Client</th><td>{{type}}</td></tr>
<tr><th>Polling</th><td>{{poll}}</td></tr>
<tr><th>Open source</th><td>{{os}}</td></tr>
<tr><th>Requested</th><td>{{created}}</td></tr>
</table>)",
                            {{"name", name},
                             {"status", status_text(status)},
                             {"result", result},
                             {"org", r.get<std::string>(0, 2)},
                             {"contact", r.get<std::string>(0, 3)},
                             {"desc", r.get<std::string>(0, 4)},
                             {"count", std::to_string(r.get<int64_t>(0, 5))},
                             {"type", type},
                             {"poll", r.get<std::string>(0, 7)},
                             {"os", r.get<bool>(0, 8) ? "yes" : "no"},
                             {"created", r.get<std::string>(0, 11)}});
  return page(c, 200, "Vendor zone " + name, body);
}

}  // namespace timepool::web
