// Public pages: home, zones, a server's score page and its history as CSV/JSON.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/address.hpp"
#include "web/app.hpp"
#include "web/graph.hpp"
#include "web/html.hpp"
#include "web/markdown.hpp"
#include "web/queries.hpp"
#include "web/server_status.hpp"
#include "web/static_files.hpp"
#include "web/validate.hpp"
#include "web/zone_demand.hpp"
#include "web/zone_explain.hpp"

namespace timepool::web {

namespace {

constexpr int kMaxLogRows = 10000;
constexpr int kDefaultLogRows = 1000;
constexpr double kGraphSeconds = 7 * 86400.0;
constexpr double kGraphBuckets = 240;  // about three chart units each

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string opt_ms(const std::optional<double>& s) {
  return s ? fmt("%.3f ms", *s * 1000.0) : std::string("-");
}

std::string zone_link(const std::string& name) {
  return "<a href=\"/zone/" + esc(name) + "\">" + esc(name) + "</a>";
}

std::string dns_name(const Ctx& c, const std::string& zone, int n = -1) {
  std::string prefix = n >= 0 ? std::to_string(n) + "." : "";
  if (zone == "@") return prefix + c.app.cfg.pool_domain;
  return prefix + zone + "." + c.app.cfg.pool_domain;
}

// Rules for device makers, in plain words (also on the vendor page).
constexpr const char* kVendorRules = R"(<ol class="rules">
<li>Never hard-code the address of a server, or a plain pool name such as {{pool}}, into a product.
Addresses change; a plain name gives us no way to see or steer your devices' load.</li>
<li>Ask for a vendor zone (free): your devices then use names like
<code>0.yourcompany.{{pool}}</code> that we can manage for you.</li>
<li>Poll at a random minute and second, never at the top of the hour or all at once after a
power cut: thousands of devices in the same second look like an attack to the volunteers.</li>
<li>When a server does not answer, wait longer before each retry (double the wait each time, up
to a day), and never poll more often than every 64 seconds.</li>
<li>When a server sends a Kiss-o'-Death (stratum 0 with the code DENY or RSTR), stop asking
that server; with RATE, slow down.</li>
</ol>)";

}  // namespace

Response get_style(Ctx&) {
  Response r = Response::text(200, "text/css; charset=utf-8", std::string(style_css()));
  r.add_header("Cache-Control", "public, max-age=3600");
  return r;
}

// The API documentation (web/API.md, compiled in) as a page; the footer links here.
Response get_api_docs(Ctx& c) {
  return page(c, 200, "JSON API", "<article id=\"api-docs\">" + markdown_html(api_md()) + "</article>");
}

std::optional<Response> static_file(const Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return std::nullopt;
  std::optional<Response> r;
  if (req.path == "/static/style.css") {
    r = Response::text(200, "text/css; charset=utf-8", std::string(style_css()));
  } else if (req.path == "/static/netspeed.js") {
    r = Response::text(200, "text/javascript; charset=utf-8", std::string(netspeed_js()));
  } else {
    return std::nullopt;
  }
  r->add_header("Cache-Control", "public, max-age=3600");
  r->add_header("X-Content-Type-Options", "nosniff");
  r->add_header("X-Frame-Options", "DENY");
  r->add_header("Referrer-Policy", "same-origin");
  return r;
}

Response get_home(Ctx& c) {
  auto counts = c.db.exec(
      "SELECT count(*) FILTER (WHERE ip_version = 4), count(*) FILTER (WHERE ip_version = 6) "
      "FROM eligible_servers");
  std::string body = render(R"(<h1>Network time for everyone</h1>
<p>{{site}} is a big virtual cluster of time servers run by volunteers. Computers and devices
ask it for the time over NTP; the pool's DNS hands each of them a few nearby servers that our
monitors have found to keep good time.</p>
<section class="stats">
<div><strong id="active-v4">{{v4}}</strong> IPv4 servers active</div>
<div><strong id="active-v6">{{v6}}</strong> IPv6 servers active</div>
</section>
<h2>How to use it</h2>
<p>Point your NTP client at the pool, for example with chrony:</p>
<pre>pool {{pool}} iburst</pre>
<p>or pick your country's or continent's zone from the <a href="/zones">zone list</a>, such as
<code>0.de.{{pool}}</code> to <code>3.de.{{pool}}</code>.</p>
<h2>Run a server</h2>
<p>Have a server with a static public address and a good clock? <a href="/signup">Sign up</a>
and add it: we check it once, then our monitors score it around the clock and DNS hands it out
while its score is 10 or more.</p>
<h2>Rules for device makers</h2>
{{{rules}}})",
                            {{"site", c.app.cfg.site_name},
                             {"v4", std::to_string(counts.get<int64_t>(0, 0))},
                             {"v6", std::to_string(counts.get<int64_t>(0, 1))},
                             {"pool", c.app.cfg.pool_domain},
                             {"rules", render(kVendorRules, {{"pool", c.app.cfg.pool_domain}})}});
  return page(c, 200, "Home", body);
}

Response get_zones(Ctx& c) {
  // Most of the ~250 country zones have no servers: they are listed only on request.
  bool all = c.req.param("all") == "1";
  auto zones = list_zones(c.db);
  std::string rows;
  int shown = 0, hidden = 0;
  for (const auto& z : zones) {
    if (z.kind == "vendor") continue;  // vendor zones are listed to their owners
    bool empty = z.kind != "global" && z.registered == 0 && z.active_v4 == 0 && z.active_v6 == 0;
    if (empty && !all) {
      ++hidden;
      continue;
    }
    ++shown;
    rows += "<tr><td>" + zone_link(z.name) + "</td><td>" + esc(z.kind) + "</td><td>" +
            esc(z.description) + "</td><td class=\"num\">" + std::to_string(z.active_v4) +
            "</td><td class=\"num\">" + std::to_string(z.active_v6) + "</td><td class=\"num\">" +
            std::to_string(z.registered) + "</td></tr>";
  }
  std::string toggle =
      all ? "<p id=\"zone-filter\">All " + std::to_string(shown) +
                " zones. <a href=\"/zones\">Hide the zones without servers</a>.</p>"
          : "<p id=\"zone-filter\">" + std::to_string(shown) + " zones with servers; " +
                std::to_string(hidden) +
                " without servers are hidden (their names still answer, from a bigger zone). "
                "<a href=\"/zones?all=1\">Show all zones</a>.</p>";
  std::string body =
      "<h1>Zones</h1>" + toggle +
      "<div class=\"scroll\"><table id=\"zones\"><thead><tr><th>Zone</th><th>Kind</th>"
      "<th>Name</th><th>IPv4 in DNS</th><th>IPv6 in DNS</th><th>Registered</th></tr></thead><tbody>" +
      rows + "</tbody></table></div>";
  return page(c, 200, "Zones", body);
}

Response get_zone(Ctx& c) {
  auto z = find_zone(c.db, c.req.match(1));
  if (!z) return message_page(c, 404, "No such zone", "There is no zone " + c.req.match(1) + ".", "/zones");
  std::string subs;
  for (const auto& s : sub_zones(c.db, z->name)) {
    if (s.kind == "vendor") continue;
    subs += "<li>" + zone_link(s.name) + " " + esc(s.description) + " (" +
            std::to_string(s.active_v4) + " IPv4, " + std::to_string(s.active_v6) + " IPv6)</li>";
  }
  std::string names;
  for (int n = 0; n < 4; ++n) names += "<code>" + esc(dns_name(c, z->name, n)) + "</code> ";
  // Where the answers come from, by the DNS server's own rule (server/zone_fallback).
  auto tree = server::load_zone_tree(c.db);
  auto counts = load_zone_counts(c.db);
  std::string fallback;
  for (const auto& n : zone_fallback_notes(tree, counts.v4, counts.v6, z->name,
                                           c.app.cfg.geo_min_servers, c.app.cfg.pool_domain)) {
    fallback += "<li>" + esc(n) + "</li>";
  }
  if (!fallback.empty()) {
    fallback = "<h2>Where the answers come from</h2><ul id=\"fallback\">" + fallback + "</ul>";
  }
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string body = render(R"(<h1>Zone {{name}}</h1>
<p>{{description}}{{{alias}}}{{{parent}}}</p>
<table class="facts">
<tr><th>Servers active (IPv4)</th><td id="zone-v4">{{v4}}</td></tr>
<tr><th>Servers active (IPv6)</th><td id="zone-v6">{{v6}}</td></tr>
<tr><th>Total netspeed (IPv4)</th><td>{{n4}}</td></tr>
<tr><th>Total netspeed (IPv6)</th><td>{{n6}}</td></tr>
<tr><th>Registered servers</th><td>{{reg}}</td></tr>
</table>
<p>Names: <code>{{bare}}</code> {{{names}}}</p>
{{{fallback}}}
{{{demand}}}
<h2>Servers over time</h2>
{{{history}}}
{{{subs}}})",
                            {{"name", z->name},
                             {"description", z->description},
                             {"alias", z->alias_of ? " (alias of " + zone_link(*z->alias_of) + ")" : ""},
                             {"parent", z->parent ? ". Part of " + zone_link(*z->parent) + "." : ""},
                             {"v4", std::to_string(z->active_v4)},
                             {"v6", std::to_string(z->active_v6)},
                             {"n4", netspeed_label(static_cast<int>(std::min<int64_t>(z->netspeed_v4, 2'000'000'000)))},
                             {"n6", netspeed_label(static_cast<int>(std::min<int64_t>(z->netspeed_v6, 2'000'000'000)))},
                             {"reg", std::to_string(z->registered)},
                             {"bare", dns_name(c, z->name)},
                             {"names", names},
                             {"fallback", fallback},
                             {"history", zone_history_html(c.db, z->name, now)},
                             {"demand", zone_demand_html(c.db, z->name, c.app.cfg.balancer_factor, now)},
                             {"subs", subs.empty() ? "" : "<h2>Zones below</h2><ul>" + subs + "</ul>"}});
  return page(c, 200, "Zone " + z->name, body);
}

namespace {

// A week's history as chart series per monitor. A week holds thousands of probes, but a chart
// is only a few hundred units wide: the database reduces each monitor's probes to the lowest
// and highest score and offset per time bucket (kGraphBuckets across the shown range), so the
// page reads a few rows per bucket instead of every probe.
struct History {
  double t0 = 0;  // the start of the charts: the first probe in the week, less 10 minutes
  std::vector<ChartSeries> score, offset;
  double min_score = 0, max_abs_offset_ms = 0;
};

History load_history(pg::Connection& db, int64_t server_id, double now) {
  History out;
  double t_first = db.exec(
      "SELECT coalesce(extract(epoch FROM min(ts))::float8, $3) FROM probe_log "
      "WHERE server_id = $1 AND ts >= to_timestamp($2)",
      server_id, now - kGraphSeconds, now).get<double>(0, 0);
  out.t0 = std::max(now - kGraphSeconds, t_first - 600);
  double bucket = std::max(1.0, (now - out.t0) / kGraphBuckets);
  auto h = db.exec(
      "SELECT m.name, extract(epoch FROM x.b)::float8, x.lo, x.hi, x.olo, x.ohi FROM ("
      "  SELECT monitor_id, date_bin(make_interval(secs => $3), ts, 'epoch'::timestamptz) AS b,"
      "         min(score) AS lo, max(score) AS hi, min(offset_s) AS olo, max(offset_s) AS ohi"
      "  FROM probe_log WHERE server_id = $1 AND ts >= to_timestamp($2) GROUP BY 1, 2) x "
      "JOIN monitors m ON m.id = x.monitor_id ORDER BY 2",
      server_id, out.t0, bucket);
  std::map<std::string, ChartSeries> score_by_mon, offset_by_mon;
  for (int i = 0; i < h.rows(); ++i) {
    std::string mon(h.text(i, 0));
    double t = h.get<double>(i, 1);
    double lo = h.get<double>(i, 2), hi = h.get<double>(i, 3);
    out.min_score = std::min(out.min_score, lo);
    auto& ss = score_by_mon[mon];
    ss.name = mon;
    ss.points.push_back({t, lo});
    if (hi != lo) ss.points.push_back({t + bucket / 2, hi});
    if (!h.is_null(i, 4)) {
      double olo = h.get<double>(i, 4) * 1000.0, ohi = h.get<double>(i, 5) * 1000.0;
      out.max_abs_offset_ms = std::max({out.max_abs_offset_ms, std::fabs(olo), std::fabs(ohi)});
      auto& os = offset_by_mon[mon];
      os.name = mon;
      os.points.push_back({t, olo});
      if (ohi != olo) os.points.push_back({t + bucket / 2, ohi});
    }
  }
  for (auto& [_, v] : score_by_mon) out.score.push_back(std::move(v));
  for (auto& [_, v] : offset_by_mon) out.offset.push_back(std::move(v));
  return out;
}

std::string score_chart(const History& h, double now) {
  ChartSpec sc;
  sc.title = "Score (" + range_label(now - h.t0) + ")";
  sc.t0 = h.t0;
  sc.t1 = now;
  sc.y_min = std::max(-100.0, std::floor(std::min(h.min_score, -5.0) / 5) * 5);
  sc.y_max = 20;
  sc.guides = {10, 0};
  return svg_chart(sc, h.score);
}

std::string offset_chart(const History& h, double now) {
  ChartSpec oc;
  oc.title = "Offset (ms, " + range_label(now - h.t0) + ")";
  oc.unit = "ms";
  oc.t0 = h.t0;
  oc.t1 = now;
  double lim = std::clamp(h.max_abs_offset_ms * 1.1, 10.0, 1000.0);
  oc.y_min = -lim;
  oc.y_max = lim;
  oc.guides = {0};
  oc.dots = true;
  return svg_chart(oc, h.offset);
}

std::string monitor_rows(pg::Connection& db, int64_t server_id) {
  std::string mons;
  for (const auto& m : monitor_scores(db, server_id)) {
    mons += "<tr><td>" + esc(m.monitor) + "</td><td>" + esc(m.status) + "</td><td class=\"num\">" +
            fmt("%.1f", m.score) + "</td><td class=\"num\">" + opt_ms(m.offset_s) +
            "</td><td class=\"num\">" + opt_ms(m.rtt_s) + "</td><td>" +
            (m.stratum ? std::to_string(*m.stratum) : "-") + "</td><td>" +
            esc(m.error.value_or("")) + "</td><td>" + esc(m.updated_at) + "</td></tr>";
  }
  if (mons.empty()) return "<tr><td colspan=\"8\">No monitor has scored this server yet.</td></tr>";
  return mons;
}

// The newest probes, grouped by monitor.
std::string recent_probes(pg::Connection& db, int64_t server_id) {
  std::map<std::string, std::string> recent;
  for (const auto& l : load_log(db, server_id, std::nullopt, 60)) {
    auto& rows = recent[l.monitor];
    if (std::count(rows.begin(), rows.end(), '\n') >= 10) continue;
    rows += "<tr><td>" + esc(l.time) + "</td><td class=\"num\">" + fmt("%.2f", l.step) +
            "</td><td class=\"num\">" + fmt("%.1f", l.score) + "</td><td class=\"num\">" +
            opt_ms(l.offset_s) + "</td><td class=\"num\">" + opt_ms(l.rtt_s) + "</td><td>" +
            esc(l.error.value_or("")) + "</td></tr>\n";
  }
  std::string recent_html;
  for (const auto& [mon, rows] : recent) {
    recent_html += "<h3>" + esc(mon) + "</h3><div class=\"scroll\"><table><thead><tr><th>Time (UTC)"
                   "</th><th>Step</th><th>Score</th><th>Offset</th><th>RTT</th><th>Error</th>"
                   "</tr></thead><tbody>" + rows + "</tbody></table></div>";
  }
  return recent_html.empty() ? "<p>No probes yet.</p>" : recent_html;
}

}  // namespace

std::string score_page_body(Ctx& c, const ServerInfo& s) {
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const History history = load_history(c.db, s.id, now);
  std::string zones;
  for (const auto& z : s.zones) zones += zone_link(z) + " ";
  // The admin's reason for disabling concerns the owner: shown to them and to admins only.
  bool owner_or_admin =
      c.is("admin") || (c.session && s.owner_id && *s.owner_id == c.session->account_id);
  StatusExplanation why = explain_status(load_status_facts(c.db, s, owner_or_admin));
  std::string addr_url = "/scores/" + s.address + "/log";
  return render(R"(<h1>{{addr}}</h1>
<table class="facts">
<tr><th>Score</th><td id="score">{{score}}</td></tr>
<tr><th>Status</th><td id="status">{{status}}</td></tr>
<tr><th>Netspeed</th><td>{{netspeed}}</td></tr>
<tr><th>Country</th><td>{{country}}</td></tr>
<tr><th>Zones</th><td>{{{zones}}}</td></tr>
<tr><th>Added</th><td>{{created}}</td></tr>
</table>
{{{why}}}
<figure>{{{score_chart}}}</figure>
<figure>{{{offset_chart}}}</figure>
<p>History: <a href="{{log}}?format=csv">CSV</a> <a href="{{log}}?format=json">JSON</a>
(<code>?since=</code> epoch seconds or ISO 8601, <code>&amp;limit=</code> up to {{max}} rows).</p>
<h2>Monitors</h2>
<div class="scroll"><table><thead><tr><th>Monitor</th><th>Status</th><th>Score</th><th>Offset</th>
<th>RTT</th><th>Stratum</th><th>Error</th><th>Updated (UTC)</th></tr></thead><tbody>{{{mons}}}</tbody></table></div>
<h2>Recent probes</h2>
{{{recent}}})",
                {{"addr", s.address},
                 {"score", fmt("%.1f", s.score)},
                 {"status", why.headline},
                 {"why", status_html(why)},
                 {"netspeed", netspeed_label(s.netspeed)},
                 {"country", s.country},
                 {"zones", zones},
                 {"created", s.created_at},
                 {"score_chart", score_chart(history, now)},
                 {"offset_chart", offset_chart(history, now)},
                 {"log", addr_url},
                 {"max", std::to_string(kMaxLogRows)},
                 {"mons", monitor_rows(c.db, s.id)},
                 {"recent", recent_probes(c.db, s.id)}});
}

Response get_score_page(Ctx& c) {
  auto a = address::parse(c.req.match(1));
  if (!a) return message_page(c, 400, "Bad address", "That is not an IP address.", "/");
  auto s = find_server(c.db, *a);
  if (!s) return message_page(c, 404, "Unknown server", "No server with this address is in the pool.", "/");
  return page(c, 200, s->address, score_page_body(c, *s));
}

// Shared by /scores/<addr>/log and /api/server/<addr>/log: the rows, or an error response.
std::variant<std::vector<LogRow>, Response> log_rows(Ctx& c, bool json_errors) {
  auto fail = [&](int status, const std::string& msg) -> Response {
    if (json_errors) return Response::json_error(status, msg);
    return Response::text(status, "text/plain; charset=utf-8", msg + "\n");
  };
  auto a = address::parse(c.req.match(1));
  if (!a) return fail(400, "not an IP address");
  auto s = find_server(c.db, *a);
  if (!s) return fail(404, "no server with this address");
  int limit = kDefaultLogRows;
  if (auto l = c.req.param("limit"); !l.empty()) {
    auto v = parse_int(l);
    if (!v || *v < 1 || *v > kMaxLogRows) {
      return fail(400, "limit must be 1.." + std::to_string(kMaxLogRows));
    }
    limit = static_cast<int>(*v);
  }
  std::optional<double> since;
  if (auto t = c.req.param("since"); !t.empty()) {
    since = parse_since(c.db, t);
    if (!since) return fail(400, "since must be epoch seconds or an ISO 8601 time");
  }
  return load_log(c.db, s->id, since, limit, c.req.param("monitor"));
}

nlohmann::json log_json(const std::vector<LogRow>& rows) {
  auto arr = nlohmann::json::array();
  for (const auto& l : rows) {
    nlohmann::json j = {{"time", l.time},
                        {"ts", l.epoch},
                        {"offset", l.offset_s ? nlohmann::json(*l.offset_s) : nlohmann::json()},
                        {"step", l.step},
                        {"score", l.score},
                        {"monitor", l.monitor},
                        {"rtt", l.rtt_s ? nlohmann::json(*l.rtt_s) : nlohmann::json()},
                        {"leap", l.leap ? nlohmann::json(*l.leap) : nlohmann::json()},
                        {"error", l.error ? nlohmann::json(*l.error) : nlohmann::json()}};
    arr.push_back(std::move(j));
  }
  return arr;
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string csv_num(const std::optional<double>& v, const char* f) {
  return v ? fmt(f, *v) : std::string();
}

}  // namespace

Response get_score_log(Ctx& c) {
  std::string format = c.req.param("format");
  if (format.empty()) format = "csv";
  if (format != "csv" && format != "json") {
    return Response::text(400, "text/plain; charset=utf-8", "format must be csv or json\n");
  }
  auto rows = log_rows(c, format == "json");
  if (auto* r = std::get_if<Response>(&rows)) return std::move(*r);
  const auto& log = std::get<std::vector<LogRow>>(rows);
  if (format == "json") return Response::json(200, {{"history", log_json(log)}});
  std::string out = "time,offset,step,score,monitor,rtt,leap,error\n";
  for (const auto& l : log) {
    out += l.time + "," + csv_num(l.offset_s, "%.9f") + "," + fmt("%.3f", l.step) + "," +
           fmt("%.3f", l.score) + "," + csv_field(l.monitor) + "," + csv_num(l.rtt_s, "%.6f") +
           "," + (l.leap ? std::to_string(*l.leap) : "") + "," + csv_field(l.error.value_or("")) +
           "\n";
  }
  Response r = Response::text(200, "text/csv; charset=utf-8", std::move(out));
  return r;
}

}  // namespace timepool::web
