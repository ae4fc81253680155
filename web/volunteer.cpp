// Volunteers: their servers, adding one (checked and probed once first), netspeed, scheduled
// deletion and its undo. A volunteer sees and changes only servers they own.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/address.hpp"
#include "core/log.hpp"
#include "web/account_mail.hpp"
#include "web/app.hpp"
#include "web/audit.hpp"
#include "web/check_queue.hpp"
#include "web/country.hpp"
#include "web/html.hpp"
#include "web/netspeed_rates.hpp"
#include "web/queries.hpp"
#include "web/server_status.hpp"
#include "web/validate.hpp"
#include "web/zone_load.hpp"

namespace timepool::web {

namespace {

// The SQLSTATE servers_claims() raises when an account is at its limit (schema/0020_claims.sql).
constexpr const char* kTooManyServers = "TP001";

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::vector<std::pair<std::string, std::string>> netspeed_choices() {
  std::vector<std::pair<std::string, std::string>> out;
  for (int n : kNetspeeds) out.emplace_back(std::to_string(n), netspeed_label(n));
  return out;
}

// The country whose expected load the add form shows: the one chosen, else GeoIP's for the
// address typed, else that of the volunteer's newest server ("" : the pool's average).
std::string rates_country(Ctx& c, std::string_view address, std::string_view country) {
  if (!country.empty()) return std::string(country);
  if (auto a = address::parse(address)) {
    std::string cc = pick_country(c.app.geo.get(), *a, "");
    if (!cc.empty()) return cc;
  }
  if (!c.session) return "";
  auto r = c.db.exec(
      "SELECT country FROM servers WHERE owner_id = $1 AND deleted_at IS NULL "
      "ORDER BY created_at DESC, id DESC LIMIT 1",
      c.session->account_id);
  return r.rows() == 1 ? r.get<std::string>(0, 0) : "";
}

std::string add_form(Ctx& c, std::string_view address, std::string_view netspeed,
                     std::string_view country) {
  auto countries = country_choices(c.db);
  std::string auto_label = c.app.geo ? "Find it from the address (GeoIP)" : "Choose the country";
  countries.insert(countries.begin(), {"", auto_label});
  const std::string speed = netspeed.empty() ? "1500" : std::string(netspeed);
  const NetspeedRates rates =
      netspeed_rates(c.db, c.app.cfg, rates_country(c, address, country));
  return render(R"(<form method="post" action="/servers/add" class="card" id="add-server">
{{{csrf}}}
<h2>Add a server</h2>
<label>IP address (IPv4 or IPv6) <input type="text" name="address" value="{{address}}" required
 inputmode="text" autocomplete="off" spellcheck="false" placeholder="192.0.2.10"></label>
<label>Country <select name="country">{{{countries}}}</select></label>
<label>Netspeed (how much NTP traffic you can take)
<select name="netspeed">{{{speeds}}}</select></label>
{{{rates}}}
<p class="muted">We send the server a few NTP packets first; it must answer with stratum 1 to 5.</p>
<button type="submit" id="add-submit">Check and add</button>
<button type="submit" name="rates" value="1" formnovalidate class="secondary"
 id="show-rates">Show the expected load for this country and netspeed</button>
</form>)",
                {{"csrf", csrf_field(c)},
                 {"address", std::string(address)},
                 {"speeds", options(netspeed_choices(), speed)},
                 {"countries", options(countries, country)},
                 {"rates", netspeed_rates_html(rates, parse_netspeed(speed).value_or(-1), true, true)}});
}

std::string probe_html(const ProbeReport& p, bool good) {
  std::string rows;
  if (p.answered) {
    rows = "<tr><th>Stratum</th><td id=\"probe-stratum\">" + std::to_string(p.stratum) +
           "</td></tr><tr><th>Offset</th><td id=\"probe-offset\">" +
           fmt("%.3f ms", p.offset_s * 1000) + "</td></tr><tr><th>Round trip</th><td>" +
           fmt("%.3f ms", p.rtt_s * 1000) + "</td></tr><tr><th>Leap</th><td>" +
           std::to_string(p.leap) + "</td></tr><tr><th>Reference</th><td>" + esc(p.refid) +
           "</td></tr>";
  } else {
    rows = "<tr><th>Error</th><td id=\"probe-error\">" + esc(p.error.empty() ? "no answer" : p.error) +
           "</td></tr>";
  }
  return std::string("<div class=\"probe ") + (good ? "good" : "bad") +
         "\"><h2>What the check saw</h2><table class=\"facts\">" + rows + "</table></div>";
}

// The server row if it exists and belongs to the visitor; else the refusal.
std::variant<ServerInfo, Response> owned_server(Ctx& c) {
  auto id = parse_int(c.req.match(1));
  auto s = id ? find_server_by_id(c.db, *id) : std::nullopt;
  if (!s || !s->owner_id) {
    return message_page(c, 404, "No such server", "There is no such server.", "/servers");
  }
  if (*s->owner_id != c.session->account_id) {
    return message_page(c, 403, "Not your server",
                        "This server belongs to another account; you can change only your own.",
                        "/servers");
  }
  return *s;
}

// How often the DNS servers handed this server out, per hour over the last day, so the
// volunteer can relate the DNS share to the NTP traffic the server sees.
std::string answers_section(pg::Connection& db, int64_t server_id) {
  auto s = answer_series(db, server_id, now_epoch());
  std::string out = "<h2>DNS answers</h2>";
  if (s.points.empty()) {
    return out + "<p id=\"answers\">Not handed out in any DNS answer in the last 24 hours.</p>";
  }
  double peak = 1, total = 0;
  std::string rows;
  for (const auto& p : s.points) {
    peak = std::max(peak, p.v);
    total += p.v;
    std::time_t t = static_cast<std::time_t>(p.t);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:00", &tm);
    rows += "<tr><td>" + std::string(when) + "</td><td class=\"num\">" +
            std::to_string(static_cast<long long>(p.v)) + "</td></tr>";
  }
  ChartSpec spec;
  spec.title = "DNS answers with this server per hour (last 24 hours)";
  spec.t0 = s.t0;
  spec.t1 = s.t1;
  spec.y_max = std::ceil(peak * 1.1);
  out += "<figure>" + svg_chart(spec, {ChartSeries{"answers", s.points}}) + "</figure>";
  out += "<p>" + std::to_string(static_cast<long long>(total)) +
         " answers in the last 24 hours.</p><details><summary>Per hour (UTC)</summary>"
         "<table id=\"answers\"><thead><tr><th>Hour</th><th>Answers</th></tr></thead><tbody>" +
         rows + "</tbody></table></details>";
  return out;
}

// A re-check: the monitors probe the server at once (monitor/probe_plan.hpp). At most one per
// server every kRecheckServerGap, and kRecheckAccountPerHour per account, whoever asks.
constexpr int kRecheckServerGapS = 600;
constexpr int kRecheckAccountPerHour = 10;

std::string recheck_section(Ctx& c, int64_t server_id) {
  auto last = c.db.exec(
      "SELECT to_char(recheck_requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
      "FROM servers WHERE id = $1 AND recheck_requested_at IS NOT NULL",
      server_id);
  std::string when = last.rows() == 1 ? "Last asked for at " + last.get<std::string>(0, 0) + " UTC." : "";
  return render(R"(<form method="post" action="/servers/{{id}}/recheck" class="card">{{{csrf}}}
<h2>Re-check</h2><p>Fixed something? The monitors probe the server at once instead of waiting
for its next turn (a server that refused or did not answer is otherwise probed only every few
hours). <span id="recheck-last">{{when}}</span></p>
<button type="submit">Re-check now</button></form>)",
                {{"id", std::to_string(server_id)}, {"csrf", csrf_field(c)}, {"when", when}});
}

// The edit form's expected load: the server's country and family; a server in DNS moves its
// own share with the choice instead of being added beside itself.
std::string edit_rates(Ctx& c, const ServerInfo& s, int chosen) {
  const bool v6 = s.ip_version == 6;
  std::optional<EditedServer> edited;
  auto in_dns = c.db.exec("SELECT netspeed FROM eligible_servers WHERE id = $1", s.id);
  if (in_dns.rows() == 1) edited = EditedServer{v6, in_dns.get<int32_t>(0, 0)};
  return netspeed_rates_html(netspeed_rates(c.db, c.app.cfg, s.country, edited), chosen, !v6, v6);
}

}  // namespace

namespace {

// The volunteer's servers and the add form holding `address`, `netspeed` and `country`.
Response servers_page(Ctx& c, std::string_view address, std::string_view netspeed,
                      std::string_view country) {
  auto r = c.db.exec(
      "SELECT s.id, host(s.address), s.netspeed, s.country, s.score, s.deletion_on::text, "
      "server_in_dns(s), (SELECT coalesce(sum(a.count), 0) FROM dns_server_answers a "
      "WHERE a.server_id = s.id AND a.hour >= date_trunc('hour', now()) - interval '24 hours')::bigint "
      "FROM servers s WHERE s.owner_id = $1 AND s.deleted_at IS NULL "
      "ORDER BY s.address",
      c.session->account_id);
  std::string rows;
  for (int i = 0; i < r.rows(); ++i) {
    std::string addr = r.get<std::string>(i, 1);
    auto del = r.get<std::optional<std::string>>(i, 5);
    rows += "<tr><td><a href=\"/scores/" + esc(addr) + "\">" + esc(addr) + "</a></td><td class=\"num\">" +
            fmt("%.1f", r.get<double>(i, 4)) + "</td><td>" +
            esc(netspeed_label(r.get<int32_t>(i, 2))) + "</td><td>" + esc(r.get<std::string>(i, 3)) +
            "</td><td>" + (del ? "deletion on " + esc(*del) : r.get<bool>(i, 6) ? "in DNS" : "not in DNS") +
            "</td><td class=\"num answers\">" + std::to_string(r.get<int64_t>(i, 7)) +
            "</td><td><a href=\"/servers/" + std::to_string(r.get<int64_t>(i, 0)) +
            "\">Manage</a></td></tr>";
  }
  std::string body =
      "<h1>My servers</h1>" +
      std::string(r.rows() == 0 ? "<p>You have no servers yet.</p>"
                                : "<div class=\"scroll\"><table id=\"my-servers\"><thead><tr><th>Address</th>"
                                  "<th>Score</th><th>Netspeed</th><th>Country</th><th>Status</th>"
                                  "<th>DNS answers (24 h)</th>"
                                  "<th></th></tr></thead><tbody>" + rows + "</tbody></table></div>") +
      add_form(c, address, netspeed, country);
  return page(c, 200, "My servers", body);
}

}  // namespace

Response get_servers(Ctx& c) {
  if (auto deny = require_role(c, {"volunteer", "admin"})) return *deny;
  return servers_page(c, c.req.param("address"), c.req.param("netspeed"), c.req.param("country"));
}

Response post_server_add(Ctx& c) {
  if (auto deny = require_role(c, {"volunteer", "admin"})) return *deny;
  if (auto unverified = require_verified(c)) return *unverified;
  std::string addr_in = trim(c.req.param("address"));
  std::string speed_in = c.req.param("netspeed");
  std::string country_in = c.req.param("country");
  if (c.req.param("rates") == "1") {
    // "Show the expected load": the form again with the figures for what it holds; nothing
    // is checked or added.
    return servers_page(c, addr_in, speed_in, country_in);
  }
  auto refuse = [&](int status, const std::string& msg, const std::string& extra = "") {
    return page(c, status, "Server not added",
                "<h1>Server not added</h1><p class=\"error\" id=\"refusal\">" + esc(msg) + "</p>" +
                    extra + add_form(c, addr_in, speed_in, country_in));
  };
  auto a = address::parse(addr_in);
  if (!a) return refuse(400, "\"" + addr_in + "\" is not an IP address.");
  if (!address::is_public_unicast(*a, c.app.cfg.allow_loopback)) {
    return refuse(400, a->to_string() + " is " + std::string(address::describe(address::classify(*a))) +
                           ": only public unicast addresses can join the pool.");
  }
  auto netspeed = parse_netspeed(speed_in);
  if (!netspeed) return refuse(400, "Choose a netspeed from the list.");
  if (find_server(c.db, *a)) return refuse(409, a->to_string() + " is already in the pool.");

  std::string country = pick_country(c.app.geo.get(), *a, country_in);
  if (country.empty()) return refuse(400, "Choose the server's country.");
  // A country zone, resolving aliases (uk -> gb).
  auto z = c.db.exec(
      "SELECT coalesce(a.name, z.name) FROM zones z LEFT JOIN zones a ON a.id = z.alias_of "
      "WHERE z.name = $1 AND z.kind = 'country'",
      country);
  if (z.rows() != 1) return refuse(400, "\"" + country + "\" is not a country in the list.");
  country = z.get<std::string>(0, 0);

  // The live check runs in the check queue, not here: this worker and its database connection
  // go back at once, and /servers/check/<id> finishes the add when the check is done.
  if (!c.app.checks) return refuse(503, "Server checks are not available right now.");
  std::string id;
  switch (c.app.checks->start(c.session->account_id, client_network(c.req.remote_addr),
                              AddRequest{*a, *netspeed, country}, &id)) {
    case CheckQueue::Start::kStarted:
      break;
    case CheckQueue::Start::kAccountBusy:
      return refuse(429, "The check of another server of yours is still running. Wait until it "
                         "has finished, then add this one.");
    case CheckQueue::Start::kClientBusy:
      return refuse(429, "Too many server checks are running from your address. Wait until they "
                         "have finished, then try again.");
    case CheckQueue::Start::kFull:
      return refuse(503, "Too many server checks are running right now. Try again in a minute.");
  }
  return Response::redirect("/servers/check/" + id);
}

namespace {

// Writes the server of a check that passed; the status and the refusal (or, for 200, what the
// trial cap did to the netspeed) the volunteer sees.
std::pair<int, std::string> finish_add(Ctx& c, const CheckJob& job, int64_t* id) {
  const auto& add = job.add;
  if (auto why = judge_probe(job.report); !why.empty()) return {422, why};
  std::string trial;  // what the trial cap did to the asked-for netspeed (schema 0020)
  try {
    pg::Transaction tx(c.db);
    auto r = c.db.exec(
        "INSERT INTO servers (address, owner_id, netspeed, country, trial_until) "
        "VALUES ($1::inet, $2, $3, $4, new_server_trial_end()) "
        "RETURNING id, netspeed, netspeed_claimed, trial_until::date::text, "
        "(SELECT email FROM accounts WHERE id = $2)",
        add.address.to_string(), job.account_id, add.netspeed, add.country);
    *id = r.get<int64_t>(0, 0);
    if (!r.is_null(0, 2)) {
      trial = "New servers start at " + netspeed_label(r.get<int32_t>(0, 1)) + " until " +
              r.get<std::string>(0, 3) + "; then the " +
              netspeed_label(r.get<int32_t>(0, 2)) + " you chose applies.";
    }
    const std::string owner = r.get<std::string>(0, 4);
    nlohmann::json after = {{"owner", owner},
                            {"netspeed", r.get<int32_t>(0, 1)},
                            {"country", add.country}};
    if (!r.is_null(0, 2)) {
      after["netspeed_claimed"] = r.get<int32_t>(0, 2);
      after["trial_until"] = r.get<std::string>(0, 3);
    }
    audit(c.db, owner, "server.add", add.address.to_string(), "", nullptr, after);
    tx.commit();
  } catch (const pg::Error& e) {
    if (e.is_unique_violation()) return {409, add.address.to_string() + " is already in the pool."};
    if (e.sqlstate() == kTooManyServers) {
      return {409, "Your account already has as many servers as it may have. Delete a "
                   "server first, or ask the pool's administrators to raise your limit."};
    }
    throw;
  }
  log::get("web")->info("server added id={} address={} owner={} country={}", *id,
                        add.address.to_string(), job.account_id, add.country);
  return {200, trial};
}

Response check_outcome(Ctx& c, const CheckJob& job) {
  std::string addr = job.add.address.to_string();
  if (job.outcome_status != 200) {
    return page(c, job.outcome_status, "Server not added",
                "<h1>Server not added</h1><p class=\"error\" id=\"refusal\">" +
                    esc(job.outcome_message) + "</p>" +
                    (job.outcome_status == 422 ? probe_html(job.report, false) : "") +
                    add_form(c, addr, std::to_string(job.add.netspeed), job.add.country));
  }
  return Response::redirect("/servers/" + std::to_string(job.server_id));
}

}  // namespace

Response get_server_check(Ctx& c) {
  if (auto deny = require_role(c, {"volunteer", "admin"})) return *deny;
  std::string id = c.req.match(1);
  auto job = c.app.checks ? c.app.checks->find(id, c.session->account_id) : std::nullopt;
  if (!job) {
    return message_page(c, 404, "No such check",
                        "This check is unknown or too old. Add the server again.", "/servers");
  }
  if (job->done && !job->claimed && c.app.checks->claim(id)) {
    int64_t server_id = 0;
    auto [status, message] = finish_add(c, *job, &server_id);
    c.app.checks->record(id, status, message, server_id);
    if (status == 200) {
      // The page of the new server says what happened, once (a reload adds nothing).
      const auto& p = job->report;
      return redirect_with_flash(
          c, "/servers/" + std::to_string(server_id),
          "Server added: " + job->add.address.to_string() + " joined the pool in " +
              job->add.country + ". The check saw stratum " + std::to_string(p.stratum) +
              ", offset " + fmt("%.3f ms", p.offset_s * 1000) + ". Our monitors now score it; " +
              "DNS hands it out once its score reaches 10 (about 14 good probes, 2 hours)." +
              (message.empty() ? std::string() : " " + message));
    }
    job = c.app.checks->find(id, c.session->account_id);
    if (!job) return Response::redirect("/servers");
  }
  if (job->finished) return check_outcome(c, *job);
  // Still probing (or another view is writing): this page reloads itself every second.
  std::string addr = job->add.address.to_string();
  Response r = page(c, 200, "Checking " + addr,
                    "<meta http-equiv=\"refresh\" content=\"1\"><h1>Checking " + esc(addr) +
                        "</h1><p id=\"checking\">We are sending the server a few NTP packets; "
                        "this takes up to 10 seconds. This page updates by itself.</p>");
  r.add_header("Refresh", "1");
  return r;
}

Response get_server_manage(Ctx& c) {
  if (auto deny = require_role(c, {"volunteer", "admin"})) return *deny;
  auto owned = owned_server(c);
  if (auto* r = std::get_if<Response>(&owned)) return std::move(*r);
  const auto& s = std::get<ServerInfo>(owned);
  std::vector<std::pair<std::string, std::string>> days;
  for (int d = kMinDeletionDays; d <= kMaxDeletionDays; ++d) {
    days.emplace_back(std::to_string(d), std::to_string(d) + " days");
  }
  std::string id = std::to_string(s.id);
  std::string deletion;
  if (s.deletion_on) {
    deletion = render(R"(<form method="post" action="/servers/{{id}}/undelete" class="card">{{{csrf}}}
<h2>Deletion scheduled</h2><p id="deletion">This server left DNS and will be deleted on {{date}}.
Its history stays.</p><button type="submit">Keep the server (undo)</button></form>)",
                      {{"id", id}, {"csrf", csrf_field(c)}, {"date", *s.deletion_on}});
  } else {
    deletion = render(R"(<form method="post" action="/servers/{{id}}/delete" class="card">{{{csrf}}}
<h2>Delete</h2><p>The server leaves DNS at once and is deleted after the days you choose; you
can undo it until then. Its history stays.</p>
<label>Delete in <select name="days">{{{days}}}</select></label>
<button type="submit" class="danger">Schedule deletion</button></form>)",
                      {{"id", id}, {"csrf", csrf_field(c)}, {"days", options(days, "7")}});
  }
  // The trial cap and an address report (schema 0020_claims.sql).
  auto claims = c.db.exec(
      "SELECT CASE WHEN trial_until > now() THEN trial_until::date::text END, netspeed_claimed, "
      "held_at IS NOT NULL FROM servers WHERE id = $1",
      s.id);
  std::string claims_html;
  int shown_netspeed = s.netspeed;
  if (claims.rows() == 1) {
    if (!claims.is_null(0, 0)) {
      std::string text = "This server is new: until " + claims.get<std::string>(0, 0) +
                         " the pool gives it at most " + netspeed_label(s.netspeed) + ".";
      if (!claims.is_null(0, 1)) {
        shown_netspeed = claims.get<int32_t>(0, 1);
        text += " Then the " + netspeed_label(shown_netspeed) + " you chose applies.";
      }
      claims_html += "<p id=\"trial\">" + esc(text) + "</p>";
    }
    if (claims.get<bool>(0, 2)) {
      claims_html +=
          "<p class=\"error\" id=\"held\">Someone reported this address as theirs, so the "
          "pool hands it out to nobody until an administrator has looked at the report. Our "
          "monitors keep checking it. If the server is yours, nothing needs doing: the "
          "administrators will contact you.</p>";
    }
  }
  std::string body = render(R"(<h1>Manage {{addr}}</h1>
<p><a href="/scores/{{addr}}" id="score-link">Score page</a> · score {{score}} · {{country}}</p>
{{{why}}}
{{{claims}}}
<form method="post" action="/servers/{{id}}/netspeed" class="card" id="netspeed-form">{{{csrf}}}
<h2>Netspeed</h2><label>Netspeed <select name="netspeed">{{{speeds}}}</select></label>
{{{rates}}}
<button type="submit">Save</button></form>
{{{answers}}}
{{{recheck}}}
{{{deletion}}})",
                            {{"addr", s.address},
                             {"score", fmt("%.1f", s.score)},
                             {"country", s.country},
                             {"id", id},
                             {"csrf", csrf_field(c)},
                             {"claims", claims_html},
                             {"speeds", options(netspeed_choices(), std::to_string(shown_netspeed))},
                             {"rates", edit_rates(c, s, shown_netspeed)},
                             {"deletion", deletion},
                             {"answers", answers_section(c.db, s.id)},
                             {"recheck", recheck_section(c, s.id)},
                             {"why", status_html(explain_status(load_status_facts(c.db, s, true)))}});
  return page(c, 200, "Manage " + s.address, body);
}

Response post_server_netspeed(Ctx& c) {
  if (auto deny = require_role(c, {"volunteer", "admin"})) return *deny;
  auto owned = owned_server(c);
  if (auto* r = std::get_if<Response>(&owned)) return std::move(*r);
  const auto& s = std::get<ServerInfo>(owned);
  auto n = parse_netspeed(c.req.param("netspeed"));
  if (!n) {
    return message_page(c, 400, "Netspeed not changed", "Choose a netspeed from the list.",
                        "/servers/" + std::to_string(s.id));
  }
  {
    pg::Transaction tx(c.db);
    auto was = c.db.exec(
        "UPDATE servers s SET netspeed = $1 FROM (SELECT netspeed FROM servers WHERE id = $2 "
        "FOR UPDATE) o WHERE s.id = $2 AND s.owner_id = $3 RETURNING o.netspeed, s.netspeed",
        *n, s.id, c.session->account_id);
    if (was.rows() == 1 && was.get<int32_t>(0, 0) != was.get<int32_t>(0, 1)) {
      audit(c.db, c.session->email, "server.netspeed", s.address, "",
            {{"netspeed", was.get<int32_t>(0, 0)}}, {{"netspeed", was.get<int32_t>(0, 1)}});
    }
    tx.commit();
  }
  return redirect_with_flash(c, "/servers/" + std::to_string(s.id),
                             "Saved: the netspeed of " + s.address + " is now " +
                                 netspeed_label(static_cast<int>(*n)) +
                                 (*n == 0 ? " (monitoring only: DNS does not hand it out)." : "."));
}

Response post_server_recheck(Ctx& c) {
  if (auto deny = require_role(c, {"volunteer", "admin"})) return *deny;
  auto owned = owned_server(c);
  if (auto* r = std::get_if<Response>(&owned)) return std::move(*r);
  const auto& s = std::get<ServerInfo>(owned);
  const std::string back = "/servers/" + std::to_string(s.id);
  pg::Transaction tx(c.db);
  // The server's row lock orders two requests for one server.
  auto recent = tx.exec(
      "SELECT recheck_requested_at > now() - make_interval(secs => $2) FROM servers "
      "WHERE id = $1 FOR UPDATE",
      s.id, static_cast<int64_t>(kRecheckServerGapS));
  if (recent.rows() == 1 && !recent.is_null(0, 0) && recent.get<bool>(0, 0)) {
    return message_page(c, 429, "Re-check not started",
                        "This server was re-checked less than " +
                            std::to_string(kRecheckServerGapS / 60) +
                            " minutes ago; its results are on their way. Try again later.",
                        back);
  }
  auto mine = tx.exec(
      "SELECT count(*) FROM server_rechecks WHERE account_id = $1 "
      "AND requested_at > now() - interval '1 hour'",
      c.session->account_id);
  if (mine.get<int64_t>(0, 0) >= kRecheckAccountPerHour) {
    return message_page(c, 429, "Re-check not started",
                        "You asked for " + std::to_string(kRecheckAccountPerHour) +
                            " re-checks in the last hour, the most there can be. Try again later.",
                        back);
  }
  tx.exec("INSERT INTO server_rechecks (server_id, account_id) VALUES ($1, $2)", s.id,
          c.session->account_id);
  tx.exec("UPDATE servers SET recheck_requested_at = now() WHERE id = $1", s.id);
  tx.commit();
  return redirect_with_flash(c, back,
                             "Re-check started: the monitors probe " + s.address +
                                 " now; the score follows over the next minutes.");
}

Response post_server_delete(Ctx& c) {
  if (auto deny = require_role(c, {"volunteer", "admin"})) return *deny;
  auto owned = owned_server(c);
  if (auto* r = std::get_if<Response>(&owned)) return std::move(*r);
  const auto& s = std::get<ServerInfo>(owned);
  auto days = parse_int(c.req.param("days"));
  if (!days || *days < kMinDeletionDays || *days > kMaxDeletionDays) {
    return message_page(c, 400, "Deletion not scheduled",
                        "Choose " + std::to_string(kMinDeletionDays) + " to " +
                            std::to_string(kMaxDeletionDays) + " days.",
                        "/servers/" + std::to_string(s.id));
  }
  pg::Transaction tx(c.db);
  auto on = c.db.exec(
      "UPDATE servers s SET deletion_on = current_date + $1::integer FROM (SELECT deletion_on "
      "FROM servers WHERE id = $2 FOR UPDATE) o "
      "WHERE s.id = $2 AND s.owner_id = $3 AND s.deleted_at IS NULL "
      "RETURNING s.deletion_on::text, o.deletion_on::text",
      *days, s.id, c.session->account_id);
  if (on.rows() != 1) return Response::redirect("/servers/" + std::to_string(s.id));
  audit(c.db, c.session->email, "server.delete", s.address, "deletion scheduled",
        {{"deletion_on", text_or_null(on, 0, 1)}},
        {{"deletion_on", on.get<std::string>(0, 0)}});
  tx.commit();
  return redirect_with_flash(c, "/servers/" + std::to_string(s.id),
                             "Deletion scheduled: " + s.address + " left DNS now and will be "
                             "deleted on " + on.get<std::string>(0, 0) +
                                 ". You can undo it until then.");
}

Response post_server_undelete(Ctx& c) {
  if (auto deny = require_role(c, {"volunteer", "admin"})) return *deny;
  auto owned = owned_server(c);
  if (auto* r = std::get_if<Response>(&owned)) return std::move(*r);
  const auto& s = std::get<ServerInfo>(owned);
  pg::Transaction tx(c.db);
  auto undone = c.db.exec(
      "UPDATE servers s SET deletion_on = NULL FROM (SELECT deletion_on FROM servers "
      "WHERE id = $1 FOR UPDATE) o WHERE s.id = $1 AND s.owner_id = $2 AND s.deleted_at IS NULL "
      "AND o.deletion_on IS NOT NULL RETURNING o.deletion_on::text",
      s.id, c.session->account_id);
  if (undone.rows() == 1) {
    audit(c.db, c.session->email, "server.undelete", s.address, "deletion cancelled",
          {{"deletion_on", undone.get<std::string>(0, 0)}}, {{"deletion_on", nullptr}});
  }
  tx.commit();
  return redirect_with_flash(c, "/servers/" + std::to_string(s.id),
                             "Deletion cancelled: " + s.address +
                                 " stays in the pool and returns to DNS while its score is 10 or more.");
}

}  // namespace timepool::web
