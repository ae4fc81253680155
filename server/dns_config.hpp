// The [dns] section of the shared TOML file, validated once into an immutable struct.
// Every key, its default and its range are listed in deploy/timepool.toml.
// Throws config::Error (naming the file, key and allowed range) for anything invalid.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/net.hpp"
#include "server/answer.hpp"
#include "server/io/rrl.hpp"

namespace timepool::server {

// "127.0.0.1:53", "[::1]:5353", "0.0.0.0:53" (port 0: an ephemeral port, for tests); throws
// config::Error.
net::Endpoint parse_listen(const std::string& text, const std::string& key);

struct DnsConfig {
  AnswerConfig answer;
  std::vector<net::Endpoint> listen;
  int udp_threads = 2;             // UDP workers per listen address (SO_REUSEPORT)
  int tcp_max_connections = 512;   // per listen address
  int tcp_idle_timeout_ms = 10000;
  int tcp_message_timeout_ms = 2000;  // a whole message, from its first byte
  int tcp_max_per_address = 32;       // per client address (IPv6: per /64)
  io::RrlConfig rrl;                  // UDP response rate limiting (rate 0: off)
  std::string metrics_listen;      // "" disables the /metrics server
  std::string snapshot_file;       // "" disables the on-disk copy
  int rebuild_interval_s = 60;     // timer rebuild even without NOTIFY
  int notify_debounce_ms = 500;    // coalesce bursts of NOTIFY
  int standby_poll_ms = 250;       // on a hot standby: how often dns_change.counter is read
  std::string user;                // drop to this user after binding; "" keeps the current one
  uint64_t rng_seed = 0;           // 0: seed each worker from getrandom; else fixed (tests)
};

DnsConfig read_dns_config(const config::Document& doc);

}  // namespace timepool::server
