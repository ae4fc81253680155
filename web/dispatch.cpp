// The route table and the per-request boundary: session, CSRF check for every POST, errors.
#include <optional>
#include <regex>

#include "core/log.hpp"
#include "core/password.hpp"
#include "web/account_mail.hpp"
#include "web/app.hpp"
#include "web/form.hpp"
#include "web/notices.hpp"

namespace timepool::web {

namespace {

using Handler = Response (*)(Ctx&);

struct Route {
  Route(const char* m, std::string p, Handler h)
      : method(m), path(std::move(p)), pattern(path), handler(h) {}
  const char* method;
  std::string path;  // the pattern's text, for route_table()
  std::regex pattern;
  Handler handler;
};

const std::vector<Route>& routes() {
  // Addresses in paths: hex digits, ':' and '.' only; the handler parses them strictly.
  static const std::string addr = "([^/]{1,64})";
  static const std::vector<Route> table = {
      {"GET", "/", get_home},
      {"GET", "/static/style\\.css", get_style},
      {"GET", "/zones", get_zones},
      {"GET", "/zone/([a-z0-9@-]{1,63})", get_zone},
      {"GET", "/scores/" + addr, get_score_page},
      {"GET", "/scores/" + addr + "/log", get_score_log},
      {"GET", "/signup", get_signup},
      {"POST", "/signup", post_signup},
      {"GET", "/login", get_login},
      {"POST", "/login", post_login},
      {"POST", "/logout", post_logout},
      {"GET", "/account", get_account},
      {"POST", "/account/password", post_password},
      {"POST", "/account/roles", post_account_roles},
      {"GET", "/account/verify", get_verify},
      {"POST", "/account/verify", post_verify},
      {"POST", "/account/verify/resend", post_verify_resend},
      {"POST", "/account/notices", post_account_notices},
      {"GET", "/password/forgot", get_forgot},
      {"POST", "/password/forgot", post_forgot},
      {"GET", "/password/reset", get_reset},
      {"POST", "/password/reset", post_reset},
      {"GET", "/servers", get_servers},
      {"POST", "/servers/add", post_server_add},
      {"GET", "/servers/check/([0-9a-f]{32})", get_server_check},
      {"GET", "/servers/([0-9]{1,18})", get_server_manage},
      {"POST", "/servers/([0-9]{1,18})/netspeed", post_server_netspeed},
      {"POST", "/servers/([0-9]{1,18})/recheck", post_server_recheck},
      {"POST", "/servers/([0-9]{1,18})/delete", post_server_delete},
      {"POST", "/servers/([0-9]{1,18})/undelete", post_server_undelete},
      {"GET", "/vendor", get_vendor},
      {"POST", "/vendor/request", post_vendor_request},
      {"GET", "/vendor/([0-9]{1,18})", get_vendor_zone},
      {"POST", "/vendor/([0-9]{1,18})/tokens", post_vendor_token_create},
      {"POST", "/vendor/([0-9]{1,18})/tokens/([0-9]{1,18})/revoke", post_vendor_token_revoke},
      {"GET", "/admin", get_admin},
      {"POST", "/admin/vendor/([0-9]{1,18})/approve", post_admin_approve},
      {"POST", "/admin/vendor/([0-9]{1,18})/reject", post_admin_reject},
      {"GET", "/admin/servers", get_admin_servers},
      {"POST", "/admin/servers/([0-9]{1,18})/disable", post_admin_server_disable},
      {"POST", "/admin/servers/([0-9]{1,18})/country", post_admin_server_country},
      {"POST", "/admin/servers/([0-9]{1,18})/trust", post_admin_server_trust},
      {"GET", "/admin/reports", get_admin_reports},
      {"POST", "/admin/reports/([0-9]{1,18})", post_admin_report_decide},
      {"GET", "/report", get_report},
      {"POST", "/report", post_report},
      {"GET", "/admin/accounts", get_admin_accounts},
      {"POST", "/admin/accounts/([0-9]{1,18})/disable", post_admin_account_disable},
      {"GET", "/admin/audit", get_admin_audit},
      {"GET", "/admin/zones", get_admin_zones},
      {"GET", "/admin/mixtures", get_admin_mixtures},
      {"GET", "/admin/zone", get_admin_zone_lookup},
      {"GET", "/admin/zones/([a-z0-9@-]{1,63})", get_admin_zone_load},
      {"GET", "/api", get_api_docs},
      {"GET", "/api/zones", api_zones},
      {"GET", "/api/zone/([a-z0-9@-]{1,63})/queries", api_zone_queries},
      {"GET", "/api/zone/([a-z0-9@-]{1,63})/findings", api_zone_findings},
      {"GET", "/api/zone/([a-z0-9@-]{1,63})", api_zone},
      {"GET", "/api/server/" + addr, api_server},
      {"GET", "/api/server/" + addr + "/log", api_server_log},
  };
  return table;
}

bool is_api(const Request& req) { return req.path.rfind("/api/", 0) == 0; }

// What is wrong with the request's form fields or query parameters as text, in words naming
// the field; nullopt when nothing is. Checked before any handler sees them.
std::optional<std::string> input_problem(const Request& req) {
  auto check = [](const std::multimap<std::string, std::string>& fields,
                  const char* kind) -> std::optional<std::string> {
    for (const auto& [name, value] : fields) {
      const TextProblem in_name = check_text(name);
      const TextProblem in_value = check_text(value);
      if (in_name == TextProblem::kNone && in_value == TextProblem::kNone) continue;
      // The name is shown only when it is itself good text.
      std::string what = in_name == TextProblem::kNone
                             ? std::string(kind) + " \"" + name + "\""
                             : std::string("a ") + kind + " name";
      const TextProblem p = in_name != TextProblem::kNone ? in_name : in_value;
      if (p == TextProblem::kInvalidUtf8) {
        return "The " + what + " is not valid UTF-8 text (the page must be sent as UTF-8).";
      }
      return "The " + what + " contains a NUL character (a zero byte), which text may not hold.";
    }
    return std::nullopt;
  };
  if (auto p = check(req.form, "field")) return p;
  return check(req.query, "parameter");
}

Response not_found(const App& app, pg::Connection& db, const Request& req, bool wrong_method) {
  int status = wrong_method ? 405 : 404;
  if (is_api(req)) return Response::json_error(status, wrong_method ? "method not allowed" : "not found");
  Ctx c = make_ctx(app, db, req);
  Response r = message_page(c, status, wrong_method ? "Method not allowed" : "Not found",
                            "There is no such page.", "/");
  finish(c, r);
  return r;
}

}  // namespace

std::vector<RouteInfo> route_table() {
  std::vector<RouteInfo> out;
  for (const auto& r : routes()) out.push_back({r.method, r.path});
  return out;
}

std::string route_of(const Request& req) {
  for (const auto& r : routes()) {
    if (!std::regex_match(req.path, r.pattern)) continue;
    if (req.method == r.method || (req.method == "HEAD" && std::string_view(r.method) == "GET")) {
      return r.path;
    }
  }
  return "";
}

Response dispatch(const App& app, pg::Connection& db, const Request& req) {
  const Route* found = nullptr;
  bool path_known = false;
  std::smatch m;
  for (const auto& r : routes()) {
    if (!std::regex_match(req.path, m, r.pattern)) continue;
    path_known = true;
    if (req.method == r.method || (req.method == "HEAD" && std::string_view(r.method) == "GET")) {
      found = &r;
      break;
    }
  }
  if (!found) return not_found(app, db, req, path_known);
  Request routed = req;
  routed.matches.assign(m.begin(), m.end());
  Ctx c = make_ctx(app, db, routed);
  Response r;
  // Every form carries the CSRF token of the session (or of the anonymous visitor's cookie),
  // in its body only: a token in the query string leaks into logs and Referer headers.
  // A POST without the right one changes nothing.
  auto token = req.form.find("csrf");
  const std::string sent = token == req.form.end() ? std::string() : token->second;
  auto bad = input_problem(req);
  if (bad) {
    r = is_api(req) ? Response::json_error(400, *bad)
                    : message_page(c, 400, "Not sent: the form has a problem",
                                   *bad + " Correct it and send the form again.");
  } else if (req.method == "POST" && !req.origin.empty() &&
             req.origin != origin_of(app.mail.site_url)) {
    // A browser names the page's site in Origin: a form posted from any other site is refused
    // even with a valid token. Without the header (older browsers, some privacy settings) the
    // token alone decides.
    r = message_page(c, 403, "Form refused",
                     "This form was sent from another site, not from " +
                         origin_of(app.mail.site_url) +
                         ". Open the page on this site and send the form from there.",
                     "/");
  } else if (req.method == "POST" &&
             (c.csrf_cookie_new || !password::equal_constant_time(sent, c.csrf) ||
              c.csrf.empty())) {
    r = message_page(c, 403, "Form expired",
                     "This form was not sent by this site or has expired. Go back, reload the "
                     "page and send it again.",
                     "/");
  } else {
    r = found->handler(c);
  }
  finish(c, r);
  r.route = found->path;
  return r;
}

namespace {

// A request that meets a lost database link (a failover: the primary died or was demoted)
// closes the pool's connections to it. A GET runs once more on a fresh connection, which
// reaches the new primary if one is up already. A POST is not repeated: its change was either
// committed whole or not at all (each handler writes with one statement or one
// pg::Transaction), and the visitor is told to check and send it again.
Response unavailable(const Request& req, bool link_lost) {
  Response r;
  if (is_api(req)) {
    r = Response::json_error(503, link_lost ? "the database is switching over: try again"
                                            : "the database is not available");
  } else if (link_lost && req.method == "POST") {
    r = Response::html(503,
                       "<!DOCTYPE html><title>Try again</title><h1>Please try again</h1>"
                       "<p>The database switched over while your change was being saved. "
                       "Nothing was half-saved: reload the page in a few seconds to see whether "
                       "your change is there, and send it again if it is not.</p>");
  } else {
    r = Response::html(503,
                       "<!DOCTYPE html><title>Unavailable</title><h1>Service unavailable</h1>"
                       "<p>The database is not available. Try again in a few seconds.</p>");
  }
  r.add_header("Retry-After", "5");
  return r;
}

}  // namespace

Response dispatch(const App& app, DbPool& pool, const Request& req) {
  // Static files never wait for (or take) one of the pool's connections.
  if (auto r = static_file(req)) return std::move(*r);
  const int attempts = req.method == "GET" ? 2 : 1;
  for (int attempt = 1;; ++attempt) {
    std::optional<DbPool::Lease> lease;
    try {
      lease.emplace(pool.acquire());
    } catch (const pg::Error& e) {
      // No node accepts writes right now (none reachable, or the standby not promoted yet).
      log::get("web")->error("{} {}: database: {}", req.method, req.path, e.what());
      return unavailable(req, false);
    }
    try {
      return dispatch(app, **lease, req);
    } catch (const pg::Error& e) {
      const bool link_lost = e.is_connection();
      if (link_lost) {
        lease.reset();
        pool.lost();
      }
      if (link_lost && attempt < attempts) {
        log::get("web")->warn("{} {}: database link lost ({}); trying a fresh connection",
                              req.method, req.path, e.what());
        continue;
      }
      log::get("web")->error("{} {}: database: {}", req.method, req.path, e.what());
      return unavailable(req, link_lost);
    }
  }
}

}  // namespace timepool::web
