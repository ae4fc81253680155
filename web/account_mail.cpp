// Accounts by mail: verifying the e-mail address of a new account, and resetting a forgotten
// password. Both send a link with a random 256-bit token; the database keeps only its SHA-256
// (account_tokens, schema/0015_mail.sql). A token is used once, expires (mail.verify_hours,
// mail.reset_minutes), and a new one of the same purpose replaces the unused old ones.
//
// Following a link only shows a page with a button: the change happens on its POST (with the
// page's CSRF token), so a mail scanner that fetches links uses up nothing. The answer to
// "forgot password" is the same whether or not the address has an account.
#include "web/account_mail.hpp"

#include "core/log.hpp"
#include "core/password.hpp"
#include "web/audit.hpp"
#include "web/html.hpp"
#include "web/validate.hpp"

namespace timepool::web {

namespace {

// Reset mails to one account per hour at most; more requests are answered alike and dropped.
constexpr int kResetsPerHour = 3;
// A new verification mail at most this often (seconds) per account.
constexpr int kResendSeconds = 60;

bool is_token(std::string_view t) {
  if (t.size() != 64) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A new token for `purpose`; unused older ones of the account for it are removed.
std::string new_token(pg::Connection& db, int64_t account_id, std::string_view purpose,
                      std::string_view email, int lifetime_minutes) {
  std::string token = password::random_token(32);
  db.exec("DELETE FROM account_tokens WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL",
          account_id, std::string(purpose));
  db.exec("DELETE FROM account_tokens WHERE expires_at < now() - interval '7 days'");
  db.exec("INSERT INTO account_tokens (token_hash, account_id, purpose, email, expires_at) "
          "VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))",
          password::hash_token(token), account_id, std::string(purpose), std::string(email),
          lifetime_minutes);
  return token;
}

struct TokenRow {
  int64_t account_id = 0;
  std::string email;          // the address the link went to
  std::string account_email;  // the account's address now
};

// The valid (unused, unexpired) token of `purpose`, locked for this transaction.
std::optional<TokenRow> take_token(pg::Connection& db, std::string_view token,
                                   std::string_view purpose) {
  if (!is_token(token)) return std::nullopt;
  auto r = db.exec(
      "SELECT t.account_id, t.email, a.email FROM account_tokens t "
      "JOIN accounts a ON a.id = t.account_id "
      "WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL "
      "AND t.expires_at > now() AND a.disabled_at IS NULL FOR UPDATE OF t",
      password::hash_token(token), std::string(purpose));
  if (r.rows() != 1) return std::nullopt;
  return TokenRow{r.get<int64_t>(0, 0), r.get<std::string>(0, 1), r.get<std::string>(0, 2)};
}

std::string lower_ascii(std::string s) {
  for (auto& ch : s)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return s;
}

void use_token(pg::Connection& db, std::string_view token) {
  db.exec("UPDATE account_tokens SET used_at = now() WHERE token_hash = $1",
          password::hash_token(token));
}

void wake(const App& app) {
  if (app.wake_mail) app.wake_mail();
}

std::string verify_body(const App& app, std::string_view token) {
  return "Someone, hopefully you, signed up at " + app.cfg.site_name +
         " with this e-mail address.\n\nTo confirm the address, open this link within " +
         std::to_string(app.mail.verify_hours) + " hours:\n\n" + app.mail.site_url +
         "/account/verify?token=" + std::string(token) +
         "\n\nUntil then the account cannot add servers or request zones. If you did not sign "
         "up, ignore this message: nothing else will be sent.\n";
}

std::string forgot_form(const Ctx& c, std::string_view email) {
  return render(R"(<h1>Forgot your password?</h1>
<p>Enter the e-mail address of your account. If there is an account for it, we send a link to
set a new password; the link works for {{minutes}} minutes and once.</p>
<form method="post" action="/password/forgot" class="card">
{{{csrf}}}
<label>E-mail <input type="email" name="email" value="{{email}}" required autocomplete="email"></label>
<button type="submit">Send the link</button>
</form>)",
                {{"minutes", std::to_string(c.app.mail.reset_minutes)},
                 {"csrf", csrf_field(c)},
                 {"email", std::string(email)}});
}

Response bad_link(const Ctx& c, std::string_view what, std::string_view again) {
  return message_page(c, 400, "Link not valid",
                      "This " + std::string(what) +
                          " link has expired, was used already or is not complete. " +
                          std::string(again),
                      "/");
}

}  // namespace

void start_verification(pg::Connection& db, const App& app, int64_t account_id,
                        std::string_view email) {
  if (!app.mail.verify_email) {
    db.exec("UPDATE accounts SET email_verified_at = now() WHERE id = $1", account_id);
    return;
  }
  std::string token = new_token(db, account_id, "verify", email, app.mail.verify_hours * 60);
  enqueue_mail(db, account_id, email, "verify",
               "Confirm your e-mail address for " + app.cfg.site_name, verify_body(app, token));
}

void mail_queued(const App& app) { wake(app); }

std::optional<Response> require_verified(Ctx& c) {
  if (!c.session) return Response::redirect("/login");
  if (c.session->role == "admin") return std::nullopt;
  auto r = c.db.exec("SELECT email_verified_at IS NOT NULL FROM accounts WHERE id = $1",
                     c.session->account_id);
  if (r.rows() == 1 && r.get<bool>(0, 0)) return std::nullopt;
  std::string body = render(R"(<h1>Confirm your e-mail address first</h1>
<p class="error">We sent a link to {{email}}. Open it to confirm the address; then you can add
servers and request zones.</p>
<form method="post" action="/account/verify/resend" class="inline">{{{csrf}}}
<button type="submit">Send the link again</button></form>)",
                            {{"email", c.session->email}, {"csrf", csrf_field(c)}});
  return page(c, 403, "Confirm your e-mail address", body);
}

std::string account_mail_section(Ctx& c) {
  if (!c.session) return "";
  auto r = c.db.exec("SELECT email_verified_at IS NOT NULL FROM accounts WHERE id = $1",
                     c.session->account_id);
  bool verified = r.rows() == 1 && r.get<bool>(0, 0);
  std::string msg;
  if (c.req.param("ok") == "verified") msg = "<p class=\"ok\">Your address is confirmed.</p>";
  if (c.req.param("ok") == "resent") {
    msg = "<p class=\"ok\">A new link is on its way to " + esc(c.session->email) + ".</p>";
  }
  if (verified) return msg + "<p>Your e-mail address is confirmed.</p>";
  return msg + render(R"(<div class="card"><h2>E-mail address not confirmed</h2>
<p>Open the link we sent to {{email}} to confirm it. Until then the account cannot add servers
or request zones.</p>
<form method="post" action="/account/verify/resend">{{{csrf}}}
<button type="submit">Send the link again</button></form></div>)",
                      {{"email", c.session->email}, {"csrf", csrf_field(c)}});
}

Response get_verify(Ctx& c) {
  std::string token = c.req.param("token");
  if (!is_token(token)) return bad_link(c, "confirmation", "Log in and ask for a new one.");
  std::string body = render(R"(<h1>Confirm your e-mail address</h1>
<form method="post" action="/account/verify" class="card">
{{{csrf}}}
<input type="hidden" name="token" value="{{token}}">
<button type="submit">Confirm my address</button>
</form>)",
                            {{"csrf", csrf_field(c)}, {"token", token}});
  return page(c, 200, "Confirm your e-mail address", body);
}

Response post_verify(Ctx& c) {
  std::string token = c.req.param("token");
  pg::Transaction tx(c.db);
  auto t = take_token(c.db, token, "verify");
  // The link confirms the address it was sent to, not one the account changed to since.
  if (!t || lower_ascii(t->email) != lower_ascii(t->account_email)) {
    return bad_link(c, "confirmation", "Log in and ask for a new one on your account page.");
  }
  use_token(c.db, token);
  c.db.exec("UPDATE accounts SET email_verified_at = coalesce(email_verified_at, now()) "
            "WHERE id = $1",
            t->account_id);
  audit(c.db, c.session ? c.session->email : t->account_email, "account.verify",
        t->account_email, "", {{"email_verified", false}}, {{"email_verified", true}});
  tx.commit();
  if (c.session && c.session->account_id == t->account_id) {
    return Response::redirect("/account?ok=verified");
  }
  return message_page(c, 200, "Address confirmed",
                      "Your e-mail address is confirmed. Log in to add servers or request zones.",
                      "/login");
}

Response post_verify_resend(Ctx& c) {
  if (!c.session) return Response::redirect("/login");
  pg::Transaction tx(c.db);
  auto r = c.db.exec(
      "SELECT email_verified_at IS NOT NULL, email, "
      "coalesce((SELECT max(created_at) > now() - make_interval(secs => $2) FROM account_tokens "
      "WHERE account_id = $1 AND purpose = 'verify'), false) "
      "FROM accounts WHERE id = $1 FOR UPDATE",
      c.session->account_id, static_cast<double>(kResendSeconds));
  if (r.get<bool>(0, 0)) return Response::redirect("/account?ok=verified");
  if (r.get<bool>(0, 2)) {
    tx.commit();
    return message_page(c, 429, "Link sent already",
                        "A link was sent less than a minute ago. Wait for it, or try again in a "
                        "minute.",
                        "/account");
  }
  std::string email = r.get<std::string>(0, 1);
  start_verification(c.db, c.app, c.session->account_id, email);
  audit(c.db, c.session->email, "account.verify-resend", email);
  tx.commit();
  wake(c.app);
  return Response::redirect("/account?ok=resent");
}

Response get_forgot(Ctx& c) { return page(c, 200, "Forgot password", forgot_form(c, "")); }

Response post_forgot(Ctx& c) {
  std::string email_in = c.req.param("email");
  auto email = normalize_email(email_in);
  if (!email) {
    return page(c, 400, "Forgot password",
                "<p class=\"error\">That is not an e-mail address.</p>" + forgot_form(c, email_in));
  }
  bool queued = false;
  {
    pg::Transaction tx(c.db);
    auto acc = c.db.exec(
        "SELECT id, email, (SELECT count(*) FROM account_tokens t WHERE t.account_id = a.id "
        "AND t.purpose = 'reset' AND t.created_at > now() - interval '1 hour') "
        "FROM accounts a WHERE lower(email) = $1 AND disabled_at IS NULL FOR UPDATE",
        *email);
    if (acc.rows() == 1 && acc.get<int64_t>(0, 2) < kResetsPerHour) {
      int64_t id = acc.get<int64_t>(0, 0);
      std::string to = acc.get<std::string>(0, 1);
      // The older links of the hour stay counted: keep their rows (used up) for the limit.
      c.db.exec("UPDATE account_tokens SET used_at = now() WHERE account_id = $1 AND "
                "purpose = 'reset' AND used_at IS NULL",
                id);
      std::string token = password::random_token(32);
      c.db.exec("INSERT INTO account_tokens (token_hash, account_id, purpose, email, expires_at) "
                "VALUES ($1, $2, 'reset', $3, now() + make_interval(mins => $4))",
                password::hash_token(token), id, to, c.app.mail.reset_minutes);
      enqueue_mail(
          c.db, id, to, "reset", "Set a new password for " + c.app.cfg.site_name,
          "Someone, hopefully you, asked to set a new password for the account " + to + " at " +
              c.app.cfg.site_name + ".\n\nTo choose a new password, open this link within " +
              std::to_string(c.app.mail.reset_minutes) + " minutes:\n\n" + c.app.mail.site_url +
              "/password/reset?token=" + token +
              "\n\nThe link works once. If you did not ask for it, ignore this message: your "
              "password stays as it is.\n");
      audit(c.db, "anonymous", "account.password-reset-request", to);
      queued = true;
    }
    tx.commit();
  }
  if (queued) wake(c.app);
  // The same answer either way: whether an address has an account is nobody's business.
  return message_page(c, 200, "Check your mail",
                      "If there is an account for " + *email +
                          ", a link to set a new password is on its way to it. It works for " +
                          std::to_string(c.app.mail.reset_minutes) + " minutes and once.",
                      "/login");
}

Response get_reset(Ctx& c) {
  std::string token = c.req.param("token");
  {
    pg::Transaction tx(c.db);
    if (!take_token(c.db, token, "reset")) {
      return bad_link(c, "password", "Ask for a new one on the \"forgot password\" page.");
    }
    tx.commit();
  }
  std::string body = render(R"(<h1>Choose a new password</h1>
<form method="post" action="/password/reset" class="card">
{{{csrf}}}
<input type="hidden" name="token" value="{{token}}">
<label>New password (at least 10 characters)
<input type="password" name="password" required minlength="10" autocomplete="new-password"></label>
<button type="submit">Set the new password</button>
</form>)",
                            {{"csrf", csrf_field(c)}, {"token", token}});
  return page(c, 200, "Choose a new password", body);
}

Response post_reset(Ctx& c) {
  std::string token = c.req.param("token");
  std::string pw = c.req.param("password");
  if (auto e = check_password(pw); !e.empty()) {
    return message_page(c, 400, "Password not changed", e,
                        is_token(token) ? "/password/reset?token=" + token : "/password/forgot");
  }
  std::string hash = password::hash(pw);  // before the row lock: it takes a while
  pg::Transaction tx(c.db);
  auto t = take_token(c.db, token, "reset");
  if (!t) return bad_link(c, "password", "Ask for a new one on the \"forgot password\" page.");
  use_token(c.db, token);
  // The link arrived at the account's address: that confirms it too.
  c.db.exec("UPDATE accounts SET password_hash = $1, "
            "email_verified_at = coalesce(email_verified_at, now()) WHERE id = $2",
            hash, t->account_id);
  // Every session ends: whoever knew the old password is out.
  c.db.exec("DELETE FROM sessions WHERE account_id = $1", t->account_id);
  audit(c.db, "anonymous", "account.password-reset", t->account_email, "by mailed link");
  tx.commit();
  log::get("web")->info("password reset by mailed link for account {}", t->account_id);
  return message_page(c, 200, "Password changed",
                      "Your new password is set and every session of the account has ended. "
                      "Log in with the new password.",
                      "/login");
}

}  // namespace timepool::web
