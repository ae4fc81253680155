// The [web] section of timepool.toml, read once at start into an immutable struct.
#pragma once

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
  bool secure_cookies = false;  // add Secure to cookies (the site is served over HTTPS)
  // Reverse proxies whose X-Forwarded-For is believed: the client is the last entry that is
  // not itself one of them. From any other peer the header is ignored.
  struct Prefix {
    address::Address net;
    int bits = 0;
  };
  std::vector<Prefix> trusted_proxies;
  int session_days = 30;
  int threads = 8;         // HTTP worker threads
  int db_connections = 4;  // pooled PostgreSQL connections
  // Login rate limits: failed attempts within window_minutes before logins are refused, per
  // account from one address (IPv6 by /64) and per address; never per account alone, so
  // guesses from elsewhere do not lock the owner out.
  int login_window_minutes = 15;
  int login_max_failures_account = 5;
  int login_max_failures_address = 20;
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
  // Prometheus /metrics on a listener of its own (web/metrics.hpp); "" turns it off.
  std::string metrics_listen = "127.0.0.1:9127";
};

// Reads [web]; throws config::Error naming the key for a bad value.
// True when `a` is one of cfg.trusted_proxies.
bool is_trusted_proxy(const WebConfig& cfg, const address::Address& a);

WebConfig read_web_config(const config::Document& doc);

}  // namespace timepool::web
