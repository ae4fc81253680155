// Read-only API tokens for a vendor's zone: made and revoked on the zone's page, shown once,
// stored as their SHA-256 (password::hash_token, libsodium) like session tokens, last use
// recorded. A token reads /api/zone/<name>/queries and /api/zone/<name>/findings of its zone
// and nothing else; it never logs anyone in.
#include "core/log.hpp"
#include "core/password.hpp"
#include "web/app.hpp"
#include "web/audit.hpp"
#include "web/html.hpp"
#include "web/validate.hpp"
#include "web/zone_load.hpp"

namespace timepool::web {

namespace {

constexpr const char* kPrefix = "tpk_";  // 4 + 64 hex characters: recognisable in secret scans
constexpr int kMaxTokensPerZone = 20;
// A new token waits in this cookie for the page the create form redirects to, which shows it
// once and clears it (POST-redirect-GET: a reload never makes a second token).
constexpr const char* kNewTokenCookie = "tp_new_token";
constexpr int64_t kNewTokenSeconds = 300;

bool well_formed(std::string_view t) {
  if (t.size() != 68 || t.substr(0, 4) != kPrefix) return false;
  for (char ch : t.substr(4)) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

Response unauthorized(std::string_view message) {
  Response r = Response::json_error(401, message);
  r.add_header("WWW-Authenticate", "Bearer realm=\"timepool\"");
  return r;
}

// The vendor's approved request `id` with its zone, when the visitor owns it.
struct OwnedZone {
  int64_t request_id = 0;
  int32_t zone_id = 0;
  std::string name;
};
std::optional<OwnedZone> owned_zone(Ctx& c, int64_t request_id) {
  auto r = c.db.exec(
      "SELECT zone_id, name FROM vendor_zones WHERE id = $1 AND account_id = $2 "
      "AND status = 'approved'",
      request_id, c.session->account_id);
  if (r.rows() != 1) return std::nullopt;
  return OwnedZone{request_id, r.get<int32_t>(0, 0), r.get<std::string>(0, 1)};
}

}  // namespace

std::variant<int32_t, Response> api_zone_access(Ctx& c) {
  std::string name = c.req.match(1);
  auto id = zone_id_by_name(c.db, name);
  const std::string& auth = c.req.authorization;
  if (!auth.empty()) {
    if (auth.rfind("Bearer ", 0) != 0) return unauthorized("use Authorization: Bearer <token>");
    std::string token = trim(auth.substr(7));
    if (!well_formed(token)) return unauthorized("unknown or revoked token");
    // The token counts only while its account is active and still owns the zone.
    auto r = c.db.exec(
        "UPDATE api_tokens t SET last_used_at = now() FROM accounts a "
        "WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.id = t.account_id "
        "AND a.disabled_at IS NULL AND EXISTS (SELECT 1 FROM vendor_zones v WHERE "
        "v.zone_id = t.zone_id AND v.account_id = t.account_id AND v.status = 'approved') "
        "RETURNING t.zone_id",
        password::hash_token(token));
    if (r.rows() != 1) return unauthorized("unknown or revoked token");
    if (!id || r.get<int32_t>(0, 0) != *id) {
      return Response::json_error(403, "this token is for another zone");
    }
    return *id;
  }
  if (!c.session) return unauthorized("log in, or send an API token (Authorization: Bearer ...)");
  if (c.is("admin")) {
    if (!id) return Response::json_error(404, "no such zone");
    return *id;
  }
  bool own = id && c.is("vendor") &&
             c.db.exec("SELECT 1 FROM vendor_zones WHERE zone_id = $1 AND account_id = $2 "
                       "AND status = 'approved'",
                       *id, c.session->account_id)
                     .rows() > 0;
  if (!own) return Response::json_error(403, "only the zone's vendor and admins may read its load");
  return *id;
}

std::string tokens_section(Ctx& c, int64_t vendor_zone_id, int32_t zone_id) {
  auto r = c.db.exec(
      "SELECT id, label, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
      "coalesce(to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), 'never') "
      "FROM api_tokens WHERE zone_id = $1 AND account_id = $2 AND revoked_at IS NULL "
      "ORDER BY created_at, id",
      zone_id, c.session->account_id);
  std::string id = std::to_string(vendor_zone_id);
  std::string rows;
  for (int i = 0; i < r.rows(); ++i) {
    rows += render(R"(<tr data-token="{{tid}}"><td>{{label}}</td><td>{{created}}</td><td>{{used}}</td>
<td><form method="post" action="/vendor/{{id}}/tokens/{{tid}}/revoke" class="inline">{{{csrf}}}
<button type="submit" class="danger">Revoke</button></form></td></tr>)",
                   {{"tid", std::to_string(r.get<int64_t>(i, 0))},
                    {"label", r.get<std::string>(i, 1)},
                    {"created", r.get<std::string>(i, 2)},
                    {"used", r.get<std::string>(i, 3)},
                    {"id", id},
                    {"csrf", csrf_field(c)}});
  }
  // The token made just before, shown once: only when it is this zone's and still valid.
  std::string fresh;
  auto nt = c.req.cookies.find(kNewTokenCookie);
  if (nt != c.req.cookies.end() && well_formed(nt->second)) {
    auto t = c.db.exec(
        "SELECT label FROM api_tokens WHERE token_hash = $1 AND zone_id = $2 AND account_id = $3 "
        "AND revoked_at IS NULL AND created_at > now() - make_interval(secs => $4)",
        password::hash_token(nt->second), zone_id, c.session->account_id,
        static_cast<double>(kNewTokenSeconds));
    if (t.rows() == 1) {
      fresh = render(R"(<div class="card" id="token-created"><h3>New token "{{label}}"</h3>
<p>Copy it now: it is shown only once, and the site keeps only a hash of it.</p>
<pre id="new-token">{{token}}</pre>
<p>Use it as <code>curl -H "Authorization: Bearer {{token}}" /api/zone/&lt;name&gt;/findings</code></p></div>)",
                     {{"label", t.get<std::string>(0, 0)}, {"token", nt->second}});
    }
    c.cookies_out.emplace_back(kNewTokenCookie, cookie(c.app, kNewTokenCookie, "", 0));
  }
  std::string out =
      "<h2>API tokens</h2>" + fresh + "<p>A token lets a script read this zone's load and findings "
      "(<code>/api/zone/&lt;name&gt;/queries</code> and <code>/findings</code>, header "
      "<code>Authorization: Bearer &lt;token&gt;</code>). It can read nothing else and change "
      "nothing.</p>";
  if (!rows.empty()) {
    out += "<table id=\"tokens\"><thead><tr><th>Label</th><th>Created (UTC)</th><th>Last used "
           "(UTC)</th><th></th></tr></thead><tbody>" + rows + "</tbody></table>";
  }
  out += render(R"(<form method="post" action="/vendor/{{id}}/tokens" class="card" id="token-form">{{{csrf}}}
<label>Label (what the token is for) <input type="text" name="label" required maxlength="100"></label>
<button type="submit">Create a token</button></form>)",
                {{"id", id}, {"csrf", csrf_field(c)}});
  return out;
}

Response post_vendor_token_create(Ctx& c) {
  if (auto deny = require_role(c, {"vendor", "admin"})) return *deny;
  int64_t id = parse_int(c.req.match(1)).value_or(0);
  std::string back = "/vendor/" + std::to_string(id);
  auto z = owned_zone(c, id);
  if (!z) {
    return message_page(c, 403, "No token made",
                        "Tokens are made by the vendor of an approved zone.", back);
  }
  std::string label = trim(c.req.param("label"));
  if (label.empty() || label.size() > 100) {
    return message_page(c, 400, "No token made", "Give the token a label (up to 100 characters).", back);
  }
  auto n = c.db.exec("SELECT count(*) FROM api_tokens WHERE zone_id = $1 AND revoked_at IS NULL",
                     z->zone_id);
  if (n.get<int64_t>(0, 0) >= kMaxTokensPerZone) {
    return message_page(c, 409, "No token made",
                        "This zone has " + std::to_string(kMaxTokensPerZone) +
                            " tokens: revoke one first.",
                        back);
  }
  std::string token = kPrefix + password::random_token(32);
  {
    pg::Transaction tx(c.db);
    c.db.exec(
        "INSERT INTO api_tokens (account_id, zone_id, label, token_hash) VALUES ($1, $2, $3, $4)",
        c.session->account_id, z->zone_id, label, password::hash_token(token));
    audit(c.db, c.session->email, "token.create", z->name, label, nullptr, {{"label", label}});
    tx.commit();
  }
  log::get("web")->info("api token created zone={} account={}", z->name, c.session->account_id);
  Response r = redirect_with_flash(c, back,
                                   "Token \"" + label + "\" created for zone " + z->name +
                                       ": copy it from this page now, it is shown only once.");
  r.add_header("Set-Cookie", cookie(c.app, kNewTokenCookie, token, kNewTokenSeconds));
  return r;
}

Response post_vendor_token_revoke(Ctx& c) {
  if (auto deny = require_role(c, {"vendor", "admin"})) return *deny;
  int64_t id = parse_int(c.req.match(1)).value_or(0);
  int64_t tid = parse_int(c.req.match(2)).value_or(0);
  std::string back = "/vendor/" + std::to_string(id);
  auto z = owned_zone(c, id);
  if (!z) return message_page(c, 403, "Not revoked", "This is not your zone.", back);
  pg::Transaction tx(c.db);
  auto r = c.db.exec(
      "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND zone_id = $2 AND account_id = $3 "
      "AND revoked_at IS NULL RETURNING label",
      tid, z->zone_id, c.session->account_id);
  if (r.rows() != 1) return message_page(c, 404, "Not revoked", "There is no such token.", back);
  audit(c.db, c.session->email, "token.revoke", z->name, r.get<std::string>(0, 0),
        {{"label", r.get<std::string>(0, 0)}, {"revoked", false}},
        {{"label", r.get<std::string>(0, 0)}, {"revoked", true}});
  tx.commit();
  return redirect_with_flash(c, back, "Token revoked: scripts using it get 401 from now on.");
}

}  // namespace timepool::web
