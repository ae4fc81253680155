// The [monitor] section of the shared TOML file, validated once at start (see
// deploy/timepool.toml for every key with its default).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/net.hpp"
#include "monitor/prober.hpp"

namespace timepool::monitor {

struct Settings {
  // The monitor's key, as printed by `timepoolctl monitor add NAME` (or read from key_file).
  std::string key;
  // How often each server is probed, and how soon a newly added server is once seen (seen
  // within `refresh`: 30 s + 25 s keeps "probed within a minute").
  std::chrono::milliseconds interval{540000};
  std::chrono::milliseconds new_server_within{25000};
  // How often the server list and this monitor's status are read from the database.
  std::chrono::milliseconds refresh{30000};
  uint16_t ntp_port = 123;
  ProbeOptions probe;
  std::size_t max_in_flight = 20000;
  // RATE kiss-o'-death: the next probe of that server waits interval * 2^n (n consecutive
  // RATE answers), at most interval * rate_backoff_max.
  int rate_backoff_max = 16;
  // Writes: at most this many probes per transaction, at least every batch_interval.
  std::size_t batch_max = 2000;
  std::chrono::milliseconds batch_interval{1000};
  // Results kept in memory while the database is away; beyond this the oldest are dropped.
  std::size_t queue_max = 1000000;
  // Own clock: score only while the kernel says synchronized and the estimated error is at
  // most max_clock_error. trust_local_clock skips the check (loud warning).
  bool trust_local_clock = false;
  std::chrono::microseconds max_clock_error{100000};
  // Prometheus /metrics: "ADDRESS:PORT" or "[IPV6]:PORT" (port 0: any free one); the key set
  // to "" disables it (nullopt).
  std::optional<net::Endpoint> metrics_listen = net::Endpoint::parse("127.0.0.1:9124");
  // The probe log keeps this many days (whole daily partitions are dropped, with no DELETE);
  // 0 keeps everything.
  int probe_log_retention_days = 90;
};

// What a SIGHUP may change while the daemon runs; everything else needs a restart.
struct Reloadable {
  bool trust_local_clock = false;
  std::chrono::microseconds max_clock_error{100000};
  std::size_t max_in_flight = 20000;
  std::size_t batch_max = 2000;
  std::chrono::milliseconds batch_interval{1000};
  std::chrono::milliseconds refresh{30000};
  bool operator==(const Reloadable&) const = default;
};
Reloadable reloadable(const Settings& s);
// The keys that differ between `a` and `b` but only change on restart ("interval_ms, ntp_port").
std::string restart_only_changes(const Settings& a, const Settings& b);

// Reads and validates [monitor]; throws config::Error naming the key. `need_key`: the daemon
// needs a key; `check` mode does not.
Settings read_settings(const config::Document& doc, bool need_key);

}  // namespace timepool::monitor
