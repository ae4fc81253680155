// The web application without HTTP: its shared state (App), the per-request context (Ctx) and
// dispatch(), which routes a Request to its handler and returns the Response. routes.cpp feeds
// it from cpp-httplib; tests and benchmarks call it (or the handlers) directly.
//
// Thread safety: App is immutable after start and shared by every worker thread; a Ctx belongs
// to one request and borrows one database connection.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/geo.hpp"
#include "core/pg.hpp"
#include "web/config.hpp"
#include "web/db_pool.hpp"
#include "web/http.hpp"
#include "web/metrics.hpp"
#include "web/mail.hpp"
#include "web/probe.hpp"
#include "web/queries.hpp"

namespace timepool::web {

class CheckQueue;

struct App {
  WebConfig cfg;
  ProbeFn probe;                 // real_probe in the daemon
  std::unique_ptr<geo::GeoDb> geo;  // null: volunteers choose the country
  WebMetrics* metrics = nullptr;    // null: not counted (tests that call dispatch directly)
  MailConfig mail;                  // [mail]
  std::function<void()> wake_mail;  // the mail sender delivers queued mail now (may be null)
  std::shared_ptr<CheckQueue> checks;  // live checks of new servers (check_queue.hpp); null: none
};

struct Session {
  int64_t account_id = 0;
  std::string email;
  std::string role;  // the main role: volunteer, vendor, admin
  std::vector<std::string> extra_roles;  // volunteer or vendor besides the main one
  std::string csrf;
  std::string token_hash;

  bool has_role(std::string_view r) const {
    if (role == r) return true;
    for (const auto& e : extra_roles)
      if (e == r) return true;
    return false;
  }
};

struct Ctx {
  const App& app;
  pg::Connection& db;
  const Request& req;
  std::optional<Session> session;
  std::string csrf;              // what this request's forms carry
  bool csrf_cookie_new = false;  // an anonymous visitor's CSRF cookie must be set
  std::vector<std::pair<std::string, std::string>> cookies_out;  // name -> full Set-Cookie
  mutable bool flash_shown = false;  // the page showed the confirmation (web/flash.cpp)

  bool is(std::string_view role) const { return session && session->has_role(role); }
  bool logged_in() const { return session.has_value(); }
};

// Routes one request: loads the session, checks the CSRF token of every POST, calls the
// handler, turns database failures into a 500 page (or JSON error under /api/).
Response dispatch(const App& app, DbPool& pool, const Request& req);
// The same on a connection the caller holds (tests, benchmarks).
Response dispatch(const App& app, pg::Connection& db, const Request& req);

// The route table dispatch() matches, in order: method and path pattern (a regex that must
// match the whole path). `timepool-web --routes` prints it; the tests take every route from it.
struct RouteInfo {
  std::string method;
  std::string pattern;
};
std::vector<RouteInfo> route_table();
// The pattern of the route that answers `req` (method and path), "" when none: for /metrics
// when a handler failed before it returned a Response.
std::string route_of(const Request& req);

// --- shared by the handlers (auth.cpp) -----------------------------------------------------
Ctx make_ctx(const App& app, pg::Connection& db, const Request& req);
void finish(Ctx& ctx, Response& r);
// A hidden input with the CSRF token, for every form.
std::string csrf_field(const Ctx& ctx);
// The page around `body`: head, navigation for the visitor's role, footer.
std::string layout(const Ctx& ctx, std::string_view title, std::string_view body);
Response page(const Ctx& ctx, int status, std::string_view title, std::string_view body);
// A page with one message (`message` is plain text, escaped) and a link back.
Response message_page(const Ctx& ctx, int status, std::string_view title,
                      std::string_view message, std::string_view back = "");
// nullopt when the visitor may go on; else the response (redirect to /login or 403).
std::optional<Response> require_role(const Ctx& ctx, std::initializer_list<std::string_view> roles);
std::string cookie(const App& app, std::string_view name, std::string_view value, int64_t max_age);
// flash.cpp: a 303 to `location` whose page then shows `message` (plain text) once.
Response redirect_with_flash(const Ctx& c, std::string location, std::string_view message);
// The confirmation waiting for this page (HTML, "" when none); marks it shown.
std::string flash_html(const Ctx& c);
// Clears a confirmation the page showed (called by finish()).
void flash_finish(const Ctx& c, Response& r);

// --- handlers --------------------------------------------------------------------------------
// auth.cpp
Response get_signup(Ctx& c);
Response post_signup(Ctx& c);
Response get_login(Ctx& c);
Response post_login(Ctx& c);
Response post_logout(Ctx& c);
Response get_account(Ctx& c);
Response post_password(Ctx& c);
Response post_account_roles(Ctx& c);
// public.cpp
Response get_home(Ctx& c);
Response get_zones(Ctx& c);
Response get_zone(Ctx& c);
Response get_score_page(Ctx& c);
Response get_score_log(Ctx& c);
Response get_style(Ctx& c);
Response get_api_docs(Ctx& c);
// The static files, served with no session and no database connection; nullopt for any other
// request.
std::optional<Response> static_file(const Request& req);
// volunteer.cpp
Response get_servers(Ctx& c);
Response post_server_add(Ctx& c);
Response get_server_check(Ctx& c);
Response get_server_manage(Ctx& c);
Response post_server_netspeed(Ctx& c);
Response post_server_recheck(Ctx& c);
Response post_server_delete(Ctx& c);
Response post_server_undelete(Ctx& c);
// vendor.cpp
Response get_vendor(Ctx& c);
Response post_vendor_request(Ctx& c);
Response get_vendor_zone(Ctx& c);
// api_tokens.cpp
Response post_vendor_token_create(Ctx& c);
Response post_vendor_token_revoke(Ctx& c);
// The vendor page's token list and form for the zone (zone_id) of request vendor_zone_id.
std::string tokens_section(Ctx& c, int64_t vendor_zone_id, int32_t zone_id);
// Who may read /api/zone/<name>/...: a valid API token for that zone (Authorization: Bearer),
// or a session of the zone's vendor or of an admin. The zone's id, or the error response
// (401 without credentials or with an unknown or revoked token, 403 for another zone, 404 for
// an unknown zone to admins only, so others cannot probe which zones exist).
std::variant<int32_t, Response> api_zone_access(Ctx& c);
// admin.cpp
Response get_admin(Ctx& c);
Response post_admin_approve(Ctx& c);
Response post_admin_reject(Ctx& c);
Response get_admin_servers(Ctx& c);
Response post_admin_server_disable(Ctx& c);
Response post_admin_server_country(Ctx& c);
Response get_admin_accounts(Ctx& c);
Response post_admin_account_disable(Ctx& c);
// audit.cpp: the audit log, newest first, with filters and paging.
Response get_admin_audit(Ctx& c);
// The admin pages' navigation line.
std::string admin_nav();
// An admin list: <table id=`id`> in a scrolling box, a heading cell per `headings` (text, escaped;
// "" for an empty one), then `rows` (markup of <tr> elements, already escaped).
std::string admin_table(std::string_view id, std::initializer_list<std::string_view> headings,
                        const std::string& rows);
// The opening of an admin form that acts on one object: the admin role, the object's id from
// the path (0 when it is not a number), and the form field `field`, one of `allowed`. Otherwise
// `refusal` holds the answer: the role refusal, or 400 "Nothing changed" with `unknown` and a
// link to `back`.
struct AdminForm {
  int64_t id = 0;
  std::string choice;
  std::optional<Response> refusal;
};
AdminForm admin_form(Ctx& c, std::string_view field, std::initializer_list<std::string_view> allowed,
                     std::string_view unknown, std::string_view back);
// reports.cpp
Response get_report(Ctx& c);
Response post_report(Ctx& c);
Response get_admin_reports(Ctx& c);
Response post_admin_report_decide(Ctx& c);
Response post_admin_server_trust(Ctx& c);
// zone_pages.cpp
Response get_admin_zones(Ctx& c);
Response get_admin_mixtures(Ctx& c);  // web/admin_mixtures.cpp
Response get_admin_zone_lookup(Ctx& c);
Response get_admin_zone_load(Ctx& c);
Response api_zone_queries(Ctx& c);
Response api_zone_findings(Ctx& c);
// The admin queue's list of vendor zones with recurring bursts (warning sentences, links, advice).
std::string admin_burst_section(Ctx& c);
// Shared by /scores/<addr>/log and /api/server/<addr>/log (public.cpp): the history rows the
// request asks for (?since=, ?limit=, ?monitor=), or the error response.
std::variant<std::vector<LogRow>, Response> log_rows(Ctx& c, bool json_errors);
nlohmann::json log_json(const std::vector<LogRow>& rows);
// api.cpp
Response api_zones(Ctx& c);
Response api_zone(Ctx& c);
Response api_server(Ctx& c);
Response api_server_log(Ctx& c);

}  // namespace timepool::web
