// The [web] section of timepool.toml, read once at start into an immutable struct.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/address.hpp"

#include "core/config.hpp"
#include "web/findings_job.hpp"

namespace timepool::web {

struct WebConfig {
  std::string listen = "127.0.0.1";
  int port = 8080;
  // The DNS apex the pool answers under: vendor zones are <name>.<pool_domain>.
  std::string pool_domain = "pool.example";
  std::string site_name = "timepool";
  // Development switch: accept loopback server addresses (local runs and tests).
  bool allow_loopback = false;
  // NTP port probed when a volunteer adds a server (not 123 only in tests).
  int probe_port = 123;
  // MaxMind DB file for the country of new servers; "" = the volunteer chooses.
  std::string geoip_db;
  // Cookies are Secure and named with the __Host- prefix (RFC 6265bis section 4.1.3.2: set
  // over HTTPS, for this host only, path /), so neither plain http nor a sibling subdomain can
  // plant one. Off only for a site served over plain http (the local run on 127.0.0.1).
  bool secure_cookies = true;
  // Reverse proxies whose X-Forwarded-For is believed: the client is the last entry that is
  // not itself one of them. From any other peer the header is ignored.
  struct Prefix {
    address::Address net;
    int bits = 0;
  };
  std::vector<Prefix> trusted_proxies;
  int session_days = 30;
  // HTTP worker threads: each connection holds one while it sends its request, so there must be
  // more than the slow clients that may be connected at once (nginx in front buffers them).
  int threads = 64;
  int db_connections = 4;  // pooled PostgreSQL connections
  // A whole request (headers and body, from the connection's first byte or the previous
  // response) must arrive within this many seconds, or the connection is closed.
  int request_deadline_seconds = 10;
  // Connections one client address may hold at once (not counting web.trusted_proxies).
  int max_connections_per_address = 16;
  // The live NTP checks of servers being added (web/check_queue.hpp): threads that probe, how
  // many may run at once from one client network, and in all.
  int check_threads = 8;
  int checks_per_address = 3;
  int checks_max = 64;
  // Login rate limits: failed attempts within window_minutes before logins are refused, per
  // account from one address (IPv6 by /64) and per address; never per account alone, so
  // guesses from elsewhere do not lock the owner out.
  int login_window_minutes = 15;
  int login_max_failures_account = 5;
  int login_max_failures_address = 20;
  // Below those limits, failed logins slow down: after login_free_failures_account failures of
  // one account from one client network, and after login_free_failures_address from the
  // network in all, the next attempt from there waits login_delay_seconds after the latest
  // failure, twice as long after each further failure (at most the window). 0: no delays.
  int login_free_failures_account = 2;
  int login_free_failures_address = 5;
  int login_delay_seconds = 1;
  // Accounts signed up from one address (IPv6 by /64) in 24 hours; more are refused (429).
  int signup_max_per_day = 5;
  // The findings job (web/findings_job.hpp): off only where another instance runs it.
  bool findings_job = true;
  FindingsConfig findings;
  // The monitoring upkeep (web/monitoring_job.hpp): seconds between rounds; 0 turns it off
  // (only where another instance runs it).
  int monitoring_upkeep_seconds = 60;
  // dns.geo_min_servers, read from the DNS server's own key so the zone pages explain the
  // fallback the DNS server really applies.
  uint32_t geo_min_servers = 3;
  // dns.balancer_factor: a zone is underserved when its share of the demand is more than this
  // times its share of the capacity (web/zone_demand.hpp).
  double balancer_factor = 2.0;
  // dns.balancer_window: the recent demand the balancer reads, so /admin/mixtures and the
  // netspeed estimates show what the DNS servers compute.
  std::chrono::seconds balancer_window{3600};
  // Prometheus /metrics on a listener of its own (web/metrics.hpp); "" turns it off.
  std::string metrics_listen = "127.0.0.1:9127";
};

// Reads [web]; throws config::Error naming the key for a bad value.
// True when `a` is one of cfg.trusted_proxies.
bool is_trusted_proxy(const WebConfig& cfg, const address::Address& a);

WebConfig read_web_config(const config::Document& doc);

}  // namespace timepool::web
