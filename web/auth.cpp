// Sessions, CSRF tokens, the page layout and the account pages (sign up, log in, log out,
// change password).
//
// A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie; the database keeps
// only its SHA-256 (password::hash_token), so a leaked sessions table opens no account. Each
// session has its own CSRF token. Visitors without a session (the sign-up and login forms) get
// a random CSRF cookie and the same value in the form (double submit); SameSite=Lax keeps other
// sites from posting with it.
#include <algorithm>
#include <cmath>
#include <optional>

#include "core/address.hpp"
#include "core/password.hpp"
#include "web/account_mail.hpp"
#include "web/app.hpp"
#include "web/audit.hpp"
#include "web/notices.hpp"
#include "web/html.hpp"
#include "web/validate.hpp"

namespace timepool::web {

namespace {

constexpr const char* kSessionCookie = "tp_session";
constexpr const char* kCsrfCookie = "tp_csrf";
// Spent on an unknown e-mail so that a login takes as long whether or not the account exists.
constexpr const char* kDummyPassword = "timing-equalizer-not-a-password";
// The client's network for rate limits, from its address as $1: the IPv4 address itself, an
// IPv6 address's /64 (one customer's usual allocation).
constexpr std::string_view kClientNet =
    "network(set_masklen($1::inet, CASE family($1::inet) WHEN 6 THEN 64 ELSE 32 END))";

bool is_token(std::string_view t) {
  if (t.size() != 64) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<std::string> peer_inet(const Request& req) {
  auto a = address::parse(req.remote_addr);
  if (!a) return std::nullopt;
  return a->to_string();
}

std::string home_of(std::string_view role) {
  if (role == "admin") return "/admin";
  if (role == "vendor") return "/vendor";
  return "/servers";
}

std::vector<std::string> split_roles(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string roles_text(const Session& s) {
  std::string out = s.role;
  for (const auto& e : s.extra_roles) out += " and " + e;
  return out;
}

const std::string& dummy_hash() {
  static const std::string h = password::hash(kDummyPassword);
  return h;
}

// Creates a session for `account_id` and sets its cookie; returns the redirect (with a
// confirmation when `flash` is not empty).
Response start_session(Ctx& c, int64_t account_id, std::string_view role,
                       std::string_view flash = "") {
  std::string token = password::random_token(32);
  std::string csrf = password::random_token(32);
  // Housekeeping on the (rare) login path: expired sessions and old login attempts go.
  c.db.exec("DELETE FROM sessions WHERE expires_at < now()");
  c.db.exec("DELETE FROM login_attempts WHERE at < now() - interval '7 days'");
  c.db.exec(
      "INSERT INTO sessions (token_hash, account_id, csrf_token, expires_at, remote_addr) "
      "VALUES ($1, $2, $3, now() + make_interval(days => $4), $5::inet)",
      password::hash_token(token), account_id, csrf, c.app.cfg.session_days, peer_inet(c.req));
  Response r = flash.empty() ? Response::redirect(home_of(role))
                             : redirect_with_flash(c, home_of(role), flash);
  r.add_header("Set-Cookie", cookie(c.app, kSessionCookie, token,
                                    int64_t{c.app.cfg.session_days} * 86400));
  return r;
}

std::string signup_form(const Ctx& c, std::string_view email, std::string_view role,
                        std::string_view error) {
  return render(R"(<h1>Sign up</h1>
{{{error}}}
<form method="post" action="/signup" class="card">
{{{csrf}}}
<label>E-mail <input type="email" name="email" value="{{email}}" required autocomplete="email"></label>
<label>Password (at least 10 characters)
<input type="password" name="password" required minlength="10" autocomplete="new-password"></label>
<fieldset><legend>I want to</legend>
<label class="inline"><input type="radio" name="role" value="volunteer"{{{vol}}}> add NTP servers to the pool (volunteer)</label>
<label class="inline"><input type="radio" name="role" value="vendor"{{{ven}}}> request a zone for devices I make (vendor)</label>
</fieldset>
<button type="submit">Create account</button>
</form>
<p>Already have an account? <a href="/login">Log in</a>.</p>)",
                {{"error", error.empty() ? "" : "<p class=\"error\">" + esc(error) + "</p>"},
                 {"csrf", csrf_field(c)},
                 {"email", std::string(email)},
                 {"vol", role != "vendor" ? " checked" : ""},
                 {"ven", role == "vendor" ? " checked" : ""}});
}

std::string login_form(const Ctx& c, std::string_view email, std::string_view error) {
  return render(R"(<h1>Log in</h1>
{{{error}}}
<form method="post" action="/login" class="card">
{{{csrf}}}
<label>E-mail <input type="email" name="email" value="{{email}}" required autocomplete="email"></label>
<label>Password <input type="password" name="password" required autocomplete="current-password"></label>
<button type="submit">Log in</button>
</form>
<p>No account yet? <a href="/signup">Sign up</a>. <a href="/password/forgot">Forgot your password?</a></p>)",
                {{"error", error.empty() ? "" : "<p class=\"error\">" + esc(error) + "</p>"},
                 {"csrf", csrf_field(c)},
                 {"email", std::string(email)}});
}

}  // namespace

std::string cookie(const App& app, std::string_view name, std::string_view value,
                   int64_t max_age) {
  std::string s = (app.cfg.secure_cookies ? std::string(kSecureCookiePrefix) : std::string()) +
                  std::string(name) + "=" + std::string(value) +
                  "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age);
  if (app.cfg.secure_cookies) s += "; Secure";
  return s;
}

Ctx make_ctx(const App& app, pg::Connection& db, const Request& req) {
  Ctx c{app, db, req, std::nullopt, "", false, {}, false};
  auto it = req.cookies.find(kSessionCookie);
  if (it != req.cookies.end() && is_token(it->second)) {
    std::string h = password::hash_token(it->second);
    auto r = db.exec(
        "SELECT s.account_id, a.email, a.role, s.csrf_token, "
        "array_to_string(a.extra_roles, ',') FROM sessions s "
        "JOIN accounts a ON a.id = s.account_id "
        "WHERE s.token_hash = $1 AND s.expires_at > now() AND a.disabled_at IS NULL",
        h);
    if (r.rows() == 1) {
      c.session = Session{r.get<int64_t>(0, 0), r.get<std::string>(0, 1),
                          r.get<std::string>(0, 2), split_roles(r.get<std::string>(0, 4)),
                          r.get<std::string>(0, 3), h};
      c.csrf = c.session->csrf;
      return c;
    }
  }
  auto ct = req.cookies.find(kCsrfCookie);
  if (ct != req.cookies.end() && is_token(ct->second)) {
    c.csrf = ct->second;
  } else {
    c.csrf = password::random_token(32);
    c.csrf_cookie_new = true;
  }
  return c;
}

void finish(Ctx& c, Response& r) {
  bool html = r.content_type.rfind("text/html", 0) == 0;
  // Only pages carry forms; the API, CSV and the stylesheet set no cookies.
  if (c.csrf_cookie_new && !c.session && html) {
    r.add_header("Set-Cookie", cookie(c.app, kCsrfCookie, c.csrf, 86400));
  }
  flash_finish(c, r);
  for (const auto& [name, set_cookie] : c.cookies_out) r.add_header("Set-Cookie", set_cookie);
  r.add_header("X-Content-Type-Options", "nosniff");
  r.add_header("X-Frame-Options", "DENY");
  r.add_header("Referrer-Policy", "same-origin");
  if (html) {
    r.add_header("Content-Security-Policy",
                 "default-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "form-action 'self'; frame-ancestors 'none'");
    r.add_header("Cache-Control", "no-store");
  }
}

std::string csrf_field(const Ctx& c) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(c.csrf) + "\">";
}

// Admins see a monitoring outage on every page (schema 0013's monitoring_outage): while no
// monitor reports, DNS serves the pool as it was and nobody is judged, which must not go
// unnoticed.
static std::string outage_banner(pg::Connection& db) {
  try {
    auto r = db.exec(
        "SELECT outage, coalesce(round(seconds_since_report / 60)::text, 'never'), "
        "coalesce(to_char(last_report AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), 'never') "
        "FROM monitoring_outage");
    if (r.rows() != 1 || !r.get<bool>(0, 0)) return "";
    return "<p class=\"error banner\" id=\"outage\" role=\"alert\">Monitoring outage: no monitor "
           "has reported since " + esc(r.get<std::string>(0, 2)) + " UTC (" +
           esc(r.get<std::string>(0, 1)) + " minutes). DNS keeps serving the pool as it was; "
           "no server enters or leaves until monitors report again. Check the monitors and "
           "the monitor API.</p>\n";
  } catch (const pg::Error& e) {
    if (e.is_connection()) throw;
    return "";  // an older schema without the view: nothing to show
  }
}

std::string layout(const Ctx& c, std::string_view title, std::string_view body) {
  std::string nav = "<a href=\"/\">Home</a> <a href=\"/zones\">Zones</a>";
  if (c.session) {
    if (c.is("volunteer") || c.is("admin")) nav += " <a href=\"/servers\">My servers</a>";
    if (c.is("vendor") || c.is("admin")) nav += " <a href=\"/vendor\">Vendor zones</a>";
    if (c.is("admin")) nav += " <a href=\"/admin\">Admin</a>";
    nav += " <a href=\"/account\">" + esc(c.session->email) + "</a>";
    nav += " <form method=\"post\" action=\"/logout\" class=\"inline\">" + csrf_field(c) +
           "<button type=\"submit\" class=\"link\">Log out</button></form>";
  } else {
    nav += " <a href=\"/login\">Log in</a> <a href=\"/signup\">Sign up</a>";
  }
  return render(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} - {{site}}</title>
<link rel="stylesheet" href="/static/style.css">
</head><body>
<header><a class="brand" href="/">{{site}}</a><nav>{{{nav}}}</nav></header>
<main>
{{{outage}}}{{{flash}}}{{{body}}}
</main>
<footer>{{site}}: a pool of NTP servers run by volunteers. <a href="/api" id="api-link">JSON API</a> · <a href="/report">Is a pool server using your address?</a></footer>
</body></html>
)",
                {{"title", std::string(title)},
                 {"outage", c.is("admin") ? outage_banner(c.db) : std::string()},
                 {"site", c.app.cfg.site_name},
                 {"nav", nav},
                 {"flash", flash_html(c)},
                 {"body", std::string(body)}});
}

Response page(const Ctx& c, int status, std::string_view title, std::string_view body) {
  return Response::html(status, layout(c, title, body));
}

Response message_page(const Ctx& c, int status, std::string_view title, std::string_view message,
                      std::string_view back) {
  std::string body = "<h1>" + esc(title) + "</h1><p class=\"" +
                     (status >= 400 ? "error" : "ok") + "\">" + esc(message) + "</p>";
  if (!back.empty()) body += "<p><a href=\"" + esc(back) + "\">Back</a></p>";
  return page(c, status, title, body);
}

std::optional<Response> require_role(const Ctx& c, std::initializer_list<std::string_view> roles) {
  if (!c.session) return Response::redirect("/login");
  for (auto r : roles)
    if (c.session->has_role(r)) return std::nullopt;
  return message_page(c, 403, "Not allowed", "Your account may not open this page.", "/");
}

Response get_signup(Ctx& c) { return page(c, 200, "Sign up", signup_form(c, "", "volunteer", "")); }

Response post_signup(Ctx& c) {
  std::string email_in = c.req.param("email");
  std::string role = c.req.param("role");
  std::string pw = c.req.param("password");
  auto refuse = [&](int status, std::string_view msg) {
    return page(c, status, "Sign up", signup_form(c, email_in, role, msg));
  };
  auto email = normalize_email(email_in);
  if (!email) return refuse(400, "That is not an e-mail address.");
  if (role != "volunteer" && role != "vendor") return refuse(400, "Choose volunteer or vendor.");
  if (auto e = check_password(pw); !e.empty()) return refuse(400, e);
  std::string h = password::hash(pw);
  auto peer = peer_inet(c.req);
  int64_t id = 0;
  try {
    // The count and the new account are one transaction under a lock per network, so
    // parallel sign-ups from one address cannot pass the limit together.
    pg::Transaction tx(c.db);
    tx.exec("SELECT pg_advisory_xact_lock(hashtextextended('signup ' || "
            "coalesce(" + std::string(kClientNet) + "::text, ''), 0))",
            peer);
    auto n = tx.exec("SELECT count(*) FROM accounts WHERE signup_addr <<= " +
                         std::string(kClientNet) + " AND created_at > now() - interval '1 day'",
                     peer);
    if (n.get<int64_t>(0, 0) >= c.app.cfg.signup_max_per_day) {
      tx.commit();
      Response r = refuse(429, "Too many accounts were made from your address today. "
                               "Try again tomorrow.");
      r.add_header("Retry-After", "86400");
      return r;
    }
    auto r = tx.exec(
        "INSERT INTO accounts (email, password_hash, role, signup_addr) "
        "VALUES ($1, $2, $3, $4::inet) RETURNING id",
        *email, h, role, peer);
    id = r.get<int64_t>(0, 0);
    start_verification(c.db, c.app, id, *email);
    audit(c.db, *email, "account.signup", *email, "", nullptr,
          {{"email", *email}, {"role", role}});
    tx.commit();
  } catch (const pg::Error& e) {
    if (e.is_unique_violation()) return refuse(409, "There is already an account for this e-mail.");
    throw;
  }
  mail_queued(c.app);
  return start_session(c, id, role,
                       "Welcome: your account " + *email + " was created (" + role +
                           "). You can add the other role on the account page." +
                           (c.app.mail.verify_email
                                ? " Open the link we mailed to you to confirm your address: "
                                  "then you can add servers and request zones."
                                : ""));
}

Response get_login(Ctx& c) {
  if (c.session) return Response::redirect(home_of(c.session->role));
  return page(c, 200, "Log in", login_form(c, "", ""));
}

Response post_login(Ctx& c) {
  std::string email_in = c.req.param("email");
  std::string pw = c.req.param("password");
  auto refuse = [&](int status, std::string_view msg) {
    return page(c, status, "Log in", login_form(c, email_in, msg));
  };
  auto email = normalize_email(email_in);
  if (!email) return refuse(400, "Wrong e-mail or password.");
  auto peer = peer_inet(c.req);
  const auto& cfg = c.app.cfg;
  // Rate limits: failures in the window from the client's network (an IPv4 address, an IPv6
  // /64), for this account and in all. Never for the account alone: guesses from elsewhere
  // must not lock its owner out. After a few free failures each further one makes the next
  // attempt from there wait longer (1 s, 2 s, 4 s ... after the latest failure); at the
  // limits the network waits out the window. The check and the record of this attempt are
  // one transaction under a lock per network, so parallel guesses get no more checks than
  // the limits allow; the attempt is recorded as failed before the password is checked and
  // marked a success afterwards.
  int64_t attempt = 0;
  {
    pg::Transaction tx(c.db);
    tx.exec("SELECT pg_advisory_xact_lock(hashtextextended('login ' || "
            "coalesce(" + std::string(kClientNet) + "::text, ''), 0))",
            peer);
    auto fails = tx.exec(
        "WITH net AS (SELECT network(set_masklen($2::inet, CASE family($2::inet) WHEN 6 "
        "THEN 64 ELSE 32 END)) AS n) "
        "SELECT count(*) FILTER (WHERE lower(email) = $1), count(*), "
        "coalesce(extract(epoch FROM clock_timestamp() - max(at) FILTER (WHERE lower(email) = $1)), "
        "0)::float8, coalesce(extract(epoch FROM clock_timestamp() - max(at)), 0)::float8 "
        "FROM login_attempts, net WHERE NOT success AND at > now() - make_interval(mins => $3) "
        "AND (remote_addr <<= net.n OR (net.n IS NULL AND remote_addr IS NULL))",
        *email, peer, cfg.login_window_minutes);
    int64_t account_fails = fails.get<int64_t>(0, 0), address_fails = fails.get<int64_t>(0, 1);
    if (account_fails >= cfg.login_max_failures_account ||
        address_fails >= cfg.login_max_failures_address) {
      tx.commit();
      Response r = refuse(429, "Too many failed logins from your address. Wait " +
                                   std::to_string(cfg.login_window_minutes) +
                                   " minutes and try again.");
      r.add_header("Retry-After", std::to_string(cfg.login_window_minutes * 60));
      return r;
    }
    // Below the limits: the delay each count has earned, less the time since its latest failure
    // (clock_timestamp: this transaction may have waited for the lock).
    int64_t window = int64_t{cfg.login_window_minutes} * 60;
    double wait = std::max(
        double(login_delay_seconds(account_fails, cfg.login_free_failures_account,
                                   cfg.login_delay_seconds, window)) - fails.get<double>(0, 2),
        double(login_delay_seconds(address_fails, cfg.login_free_failures_address,
                                   cfg.login_delay_seconds, window)) - fails.get<double>(0, 3));
    if (wait > 0) {
      tx.commit();
      auto seconds = std::to_string(static_cast<int64_t>(std::ceil(wait)));
      Response r = refuse(429, "Too many failed logins from your address. Wait " + seconds +
                                   (seconds == "1" ? " second" : " seconds") +
                                   " and try again.");
      r.add_header("Retry-After", seconds);
      return r;
    }
    attempt = tx.exec("INSERT INTO login_attempts (email, remote_addr, success) "
                      "VALUES ($1, $2::inet, false) RETURNING id",
                      *email, peer)
                  .get<int64_t>(0, 0);
    tx.commit();
  }
  auto acc = c.db.exec(
      "SELECT id, password_hash, role, disabled_at IS NOT NULL FROM accounts "
      "WHERE lower(email) = $1",
      *email);
  bool ok = false;
  if (acc.rows() == 1) {
    ok = password::verify(pw, acc.get<std::string>(0, 1)) && !acc.get<bool>(0, 3);
  } else {
    (void)password::verify(pw, dummy_hash());
  }
  if (ok) c.db.exec("UPDATE login_attempts SET success = true WHERE id = $1", attempt);
  if (!ok) return refuse(401, "Wrong e-mail or password.");
  return start_session(c, acc.get<int64_t>(0, 0), acc.get<std::string>(0, 2));
}

Response post_logout(Ctx& c) {
  if (c.session) c.db.exec("DELETE FROM sessions WHERE token_hash = $1", c.session->token_hash);
  Response r = redirect_with_flash(c, "/", "You are logged out.");
  r.add_header("Set-Cookie", cookie(c.app, kSessionCookie, "", 0));
  return r;
}

Response get_account(Ctx& c) {
  if (!c.session) return Response::redirect("/login");
  std::string roles;
  if (c.session->role != "admin") {
    roles = render(R"(<form method="post" action="/account/roles" class="card" id="roles-form">
{{{csrf}}}
<h2>Roles</h2>
<p>An account may be a volunteer, a vendor or both.</p>
<label class="inline"><input type="checkbox" name="volunteer" value="yes"{{{vol}}}> volunteer: add NTP servers to the pool</label>
<label class="inline"><input type="checkbox" name="vendor" value="yes"{{{ven}}}> vendor: request zones for devices I make</label>
<button type="submit">Save roles</button>
</form>)",
                   {{"csrf", csrf_field(c)},
                    {"vol", c.is("volunteer") ? " checked" : ""},
                    {"ven", c.is("vendor") ? " checked" : ""}});
  }
  std::string body = render(R"(<h1>Your account</h1>
<p>{{email}}: <span id="roles">{{role}}</span></p>
{{{roles}}}
<form method="post" action="/account/password" class="card">
{{{csrf}}}
<h2>Change password</h2>
<label>Current password <input type="password" name="current" required autocomplete="current-password"></label>
<label>New password (at least 10 characters)
<input type="password" name="password" required minlength="10" autocomplete="new-password"></label>
<button type="submit">Change password</button>
</form>)",
                            {{"email", c.session->email},
                             {"role", roles_text(*c.session)},
                             {"roles", roles},
                             {"csrf", csrf_field(c)}});
  body += account_mail_section(c);
  body += notice_prefs_section(c);
  return page(c, 200, "Account", body);
}

Response post_password(Ctx& c) {
  if (!c.session) return Response::redirect("/login");
  auto acc = c.db.exec("SELECT password_hash FROM accounts WHERE id = $1", c.session->account_id);
  if (!password::verify(c.req.param("current"), acc.get<std::string>(0, 0))) {
    return message_page(c, 400, "Password not changed", "The current password is wrong.",
                        "/account");
  }
  std::string pw = c.req.param("password");
  if (auto e = check_password(pw); !e.empty()) {
    return message_page(c, 400, "Password not changed", e, "/account");
  }
  pg::Transaction tx(c.db);
  tx.exec("UPDATE accounts SET password_hash = $1 WHERE id = $2", password::hash(pw),
          c.session->account_id);
  // Other sessions (another browser, a thief) end with the old password.
  tx.exec("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2",
          c.session->account_id, c.session->token_hash);
  audit(c.db, c.session->email, "account.password", c.session->email, "other sessions ended");
  tx.commit();
  return redirect_with_flash(c, "/account",
                             "Your password was changed; your other sessions were logged out.");
}

}  // namespace timepool::web

namespace timepool::web {

// The account's roles: volunteer, vendor or both. The main role stays when it is still
// chosen (it decides the page a login lands on). A role is kept while something depends on it:
// live servers for volunteer, a request that was not rejected for vendor.
Response post_account_roles(Ctx& c) {
  if (!c.session) return Response::redirect("/login");
  const Session& s = *c.session;
  if (s.role == "admin") {
    return message_page(c, 400, "Roles not changed", "Admins keep their role.", "/account");
  }
  bool vol = c.req.param("volunteer") == "yes";
  bool ven = c.req.param("vendor") == "yes";
  if (!vol && !ven) {
    return message_page(c, 400, "Roles not changed", "Choose volunteer, vendor or both.", "/account");
  }
  auto deps = c.db.exec(
      "SELECT (SELECT count(*) FROM servers WHERE owner_id = $1 AND deleted_at IS NULL), "
      "(SELECT count(*) FROM vendor_zones WHERE account_id = $1 AND status <> 'rejected')",
      s.account_id);
  if (!vol && s.has_role("volunteer") && deps.get<int64_t>(0, 0) > 0) {
    return message_page(c, 409, "Roles not changed",
                        "You have servers in the pool: delete them first, then drop the "
                        "volunteer role.",
                        "/account");
  }
  if (!ven && s.has_role("vendor") && deps.get<int64_t>(0, 1) > 0) {
    return message_page(c, 409, "Roles not changed",
                        "You have vendor zones or requests: they need the vendor role.", "/account");
  }
  std::vector<std::string> chosen;
  if (vol) chosen.emplace_back("volunteer");
  if (ven) chosen.emplace_back("vendor");
  std::string main = s.role;
  if ((main == "volunteer" && !vol) || (main == "vendor" && !ven)) main = chosen.front();
  std::string extra;
  for (const auto& r : chosen) {
    if (r != main) extra = r;
  }
  pg::Transaction tx(c.db);
  c.db.exec(
      "UPDATE accounts SET role = $2, extra_roles = CASE WHEN $3 = '' THEN '{}'::text[] "
      "ELSE ARRAY[$3] END WHERE id = $1",
      s.account_id, main, extra);
  audit(c.db, s.email, "account.roles", s.email, "", {{"role", s.role}, {"extra_roles", s.extra_roles}},
        {{"role", main}, {"extra_roles", extra.empty() ? std::vector<std::string>{}
                                                       : std::vector<std::string>{extra}}});
  tx.commit();
  std::string now = main + (extra.empty() ? "" : " and " + extra);
  return redirect_with_flash(c, "/account", "Saved: your account is now " + now + ".");
}

}  // namespace timepool::web
