// The [monitor] section of the shared TOML file, validated once at start (see
// deploy/timepool.toml for every key with its default).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/net.hpp"
#include "monitor/prober.hpp"

namespace timepool::monitor {

struct Settings {
  // The monitor's key, as printed by `timepoolctl monitor add NAME` (or read from key_file).
  std::string key;
  // The monitor API ("https://monitor-api.example.org:8443"), the CA file its certificate is
  // verified against (empty: the system's CAs), and how long one request may take.
  std::string url;
  std::string ca_file;
  std::chrono::milliseconds request_timeout{10000};
  // The durable spool of results not yet acknowledged by the API (monitor/spool.hpp).
  std::string spool_dir = "/var/lib/timepool/monitor-spool";
  // Its bounds: past either, the oldest batches are deleted unsent (monitor/spool.hpp).
  std::size_t spool_max_bytes = std::size_t{1} << 30;
  std::size_t spool_max_batches = 100000;
  // A server newly assigned is probed within this (at a random moment in it), then keeps
  // that phase. How often each server is probed is the API's hint (its interval_ms).
  std::chrono::milliseconds new_server_within{25000};
  uint16_t ntp_port = 123;
  ProbeOptions probe;
  std::size_t max_in_flight = 20000;
  // RATE kiss-o'-death: the next probe of that server waits interval * 2^n (n consecutive
  // RATE answers), at most interval * rate_backoff_max.
  int rate_backoff_max = 16;
  // Batches: at most batch_max results, sealed at least every batch_interval.
  std::size_t batch_max = 2000;
  std::chrono::milliseconds batch_interval{1000};
  // Own clock: submit only while the kernel says synchronized and both its estimated and its
  // maximum error are at most max_clock_error. trust_local_clock skips the check and reports
  // the clock as good (loud warning).
  bool trust_local_clock = false;
  std::chrono::microseconds max_clock_error{100000};
  // Reference servers ("ADDRESS:PORT") probed every reference_interval (0: the API's interval)
  // besides the kernel's state: nothing is submitted while the median of their offsets is
  // above reference_max_offset (or when at most half of them answer). Empty: no such check.
  std::vector<net::Endpoint> reference_servers;
  double reference_max_offset_s = 0.010;
  std::chrono::milliseconds reference_interval{0};
  // Prometheus /metrics: "ADDRESS:PORT" or "[IPV6]:PORT" (port 0: any free one); the key set
  // to "" disables it (nullopt).
  std::optional<net::Endpoint> metrics_listen = net::Endpoint::parse("127.0.0.1:9124");
};

// What a SIGHUP may change while the daemon runs; everything else needs a restart.
struct Reloadable {
  bool trust_local_clock = false;
  std::chrono::microseconds max_clock_error{100000};
  std::size_t max_in_flight = 20000;
  std::size_t batch_max = 2000;
  std::chrono::milliseconds batch_interval{1000};
  bool operator==(const Reloadable&) const = default;
};
Reloadable reloadable(const Settings& s);
// The keys that differ between `a` and `b` but only change on restart ("interval_ms, ntp_port").
std::string restart_only_changes(const Settings& a, const Settings& b);

// Reads and validates [monitor]; throws config::Error naming the key. `need_key`: the daemon
// needs a key and the API's URL; `check` mode does not.
Settings read_settings(const config::Document& doc, bool need_key);

}  // namespace timepool::monitor
