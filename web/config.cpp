#include "web/config.hpp"

#include "server/dns_config.hpp"
#include "server/geo_config.hpp"

namespace timepool::web {

bool is_trusted_proxy(const WebConfig& cfg, const address::Address& a) {
  for (const auto& p : cfg.trusted_proxies)
    if (a.in(p.net, p.bits)) return true;
  return false;
}

namespace {

int get_int(const config::Section& s, std::string_view key, int def, int lo, int hi) {
  return static_cast<int>(s.get_int(key, def, lo, hi));
}

// "ADDRESS" or "ADDRESS/BITS".
WebConfig::Prefix read_prefix(const std::string& text, const std::string& origin) {
  std::string_view t = text;
  size_t slash = t.find('/');
  auto a = address::parse(t.substr(0, slash));
  int max_bits = a && a->is_v4() ? 32 : 128;
  int bits = max_bits;
  bool ok = a.has_value();
  if (ok && slash != std::string_view::npos) {
    std::string_view b = t.substr(slash + 1);
    ok = !b.empty() && b.size() <= 3 && b.find_first_not_of("0123456789") == std::string_view::npos;
    if (ok) bits = std::stoi(std::string(b));
    ok = ok && bits <= max_bits;
  }
  if (!ok) {
    throw config::Error(origin + ": web.trusted_proxies: not an address or prefix: " + text);
  }
  return {*a, bits};
}

void read_limits(const config::Section& s, WebConfig& c) {
  c.session_days = get_int(s, "session_days", c.session_days, 1, 365);
  c.threads = get_int(s, "threads", c.threads, 1, 1024);
  c.db_connections = get_int(s, "db_connections", c.db_connections, 1, 64);
  c.request_deadline_seconds =
      get_int(s, "request_deadline_seconds", c.request_deadline_seconds, 1, 600);
  c.max_connections_per_address =
      get_int(s, "max_connections_per_address", c.max_connections_per_address, 1, 100000);
  c.check_threads = get_int(s, "check_threads", c.check_threads, 1, 256);
  c.checks_per_address = get_int(s, "checks_per_address", c.checks_per_address, 1, 1000);
  c.checks_max = get_int(s, "checks_max", c.checks_max, 1, 100000);
  c.login_window_minutes = get_int(s, "login_window_minutes", c.login_window_minutes, 1, 1440);
  c.login_max_failures_account =
      get_int(s, "login_max_failures_account", c.login_max_failures_account, 1, 1000);
  c.login_max_failures_address =
      get_int(s, "login_max_failures_address", c.login_max_failures_address, 1, 100000);
  c.login_free_failures_account =
      get_int(s, "login_free_failures_account", c.login_free_failures_account, 0, 1000);
  c.login_free_failures_address =
      get_int(s, "login_free_failures_address", c.login_free_failures_address, 0, 100000);
  c.login_delay_seconds = get_int(s, "login_delay_seconds", c.login_delay_seconds, 0, 3600);
  c.signup_max_per_day = get_int(s, "signup_max_per_day", c.signup_max_per_day, 1, 100000);
}

void read_findings(const config::Section& s, const std::string& origin, FindingsConfig& f) {
  f.interval_seconds = get_int(s, "findings_interval_seconds", f.interval_seconds, 1, 86400);
  f.window_days = get_int(s, "findings_window_days", f.window_days, 7, 90);
  f.minute_retention_days =
      get_int(s, "minute_retention_days", f.minute_retention_days, 8, 3650);
  f.hour_retention_days = get_int(s, "hour_retention_days", f.hour_retention_days, 91, 36500);
  // Detection must never read minutes that retention has already removed.
  if (f.minute_retention_days <= f.window_days) {
    throw config::Error(origin + ": web.minute_retention_days: must be more than "
                        "web.findings_window_days (" + std::to_string(f.window_days) + ")");
  }
  f.burst.factor = s.get_double("burst_factor", f.burst.factor, 2, 100000);
  f.burst.min_excess = static_cast<uint64_t>(
      s.get_int("burst_min_excess", static_cast<int64_t>(f.burst.min_excess), 1, 1000000000));
  f.burst.min_count = static_cast<uint64_t>(
      s.get_int("burst_min_count", static_cast<int64_t>(f.burst.min_count), 1, 1000000000));
}

}  // namespace

WebConfig read_web_config(const config::Document& doc) {
  auto s = doc.section("web");
  WebConfig c;
  c.listen = s.get_string("listen", c.listen);
  c.port = get_int(s, "port", c.port, 0, 65535);  // 0: any free port
  c.pool_domain = s.get_string("pool_domain", c.pool_domain);
  c.site_name = s.get_string("site_name", c.site_name);
  c.allow_loopback = s.get_bool("allow_loopback", c.allow_loopback);
  c.probe_port = get_int(s, "probe_port", c.probe_port, 1, 65535);
  c.geoip_db = s.get_string("geoip_db", c.geoip_db);
  c.secure_cookies = s.get_bool("secure_cookies", c.secure_cookies);
  for (const auto& text : s.get_strings("trusted_proxies", {})) {
    c.trusted_proxies.push_back(read_prefix(text, doc.origin()));
  }
  read_limits(s, c);
  c.findings_job = s.get_bool("findings_job", c.findings_job);
  c.monitoring_upkeep_seconds =
      get_int(s, "monitoring_upkeep_seconds", c.monitoring_upkeep_seconds, 0, 3600);
  read_findings(s, doc.origin(), c.findings);
  if (c.pool_domain.empty()) throw config::Error(doc.origin() + ": web.pool_domain: empty");
  c.geo_min_servers = server::read_geo_settings(doc).min_servers;
  const server::BalancerSettings balancer = server::read_balancer_settings(doc);
  c.balancer_factor = balancer.factor;
  c.balancer_window = balancer.window;
  c.metrics_listen = s.get_string("metrics_listen", c.metrics_listen);
  if (!c.metrics_listen.empty()) {
    server::parse_listen(c.metrics_listen, doc.origin() + ": web.metrics_listen");
  }
  return c;
}

}  // namespace timepool::web
