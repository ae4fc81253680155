// Keeps the snapshot current: reads the database, builds a Snapshot and hands it to the
// Publisher (server/published.hpp), which swaps it in with its geo routing and statistics slots.
//
// One thread. On a primary it LISTENs on channel `timepool_dns` and rebuilds shortly after a
// NOTIFY (bursts are coalesced for `debounce`, but a rebuild is never postponed by more than
// that after the first notification). On a hot standby, where LISTEN does not work, it reads
// the one-row change counter `dns_change` (schema/0012) every `standby_poll` and rebuilds when
// the counter has moved since the last rebuild. Either way also on a timer, and when asked
// (SIGHUP). When the database is
// unreachable or a query fails, the current snapshot stays in use, the failure is logged once
// per state change, and it retries with exponential backoff (core/reconnect). Every snapshot
// built from the database is also written to `snapshot_file`, with the balancer's mixtures; at
// start, when the database cannot be reached, that file is loaded instead, and answers draw
// from the mixtures it holds (when the balancer is on).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/reconnect.hpp"
#include "server/demand.hpp"
#include "server/metrics.hpp"
#include "server/published.hpp"
#include "server/snapshot.hpp"

namespace timepool::pg {
class Connection;
}

namespace timepool::server {

// Reads zones, eligible servers and their memberships in one consistent read-only transaction.
// Throws pg::Error.
SourceData fetch_source(pg::Connection& conn);

struct LoaderConfig {
  std::string conninfo;
  std::string snapshot_file;  // "" : no disk copy
  std::chrono::milliseconds interval{60000};
  std::chrono::milliseconds debounce{200};
  std::chrono::milliseconds standby_poll{250};
  BalancerSettings balancer;
};

class Loader {
 public:
  Loader(LoaderConfig cfg, Publisher& publisher, LoaderStats& stats);
  ~Loader();

  // SIGHUP: new balancer settings (any thread). The next rebuild reads the demand again with
  // the new window and computes the mixtures with them; the loader thread reads each setting
  // from an atomic, never under a lock.
  void set_balancer(const BalancerSettings& settings);
  BalancerSettings balancer() const;

  // Tries the database once, then the disk copy, so the caller can log what it starts with;
  // then starts the thread.
  void start();
  void request_rebuild();
  void stop();

 private:
  void run();
  bool rebuild_from_db();  // false on failure (logged)
  bool load_disk();
  // Publishes `src`; with `mixtures` set, those too (nullptr: none), else the ones in use.
  // `read_ms`: how long reading `src` (and the balancer's demand) took, for the log.
  void install(const SourceData& src, const char* from, double read_ms,
               std::optional<std::shared_ptr<const Mixtures>> mixtures = std::nullopt);
  // The balancer for `src`: the demand read again once balancer.interval has passed (a
  // failed read keeps the last one), the mixtures computed for these servers.
  std::shared_ptr<const Mixtures> balance(const SourceData& src);
  void log_status();
  int64_t read_counter();  // dns_change.counter; throws pg::Error
  void read_monitoring();  // the outage flag: metric and a log line when it changes

  LoaderConfig cfg_;  // cfg_.balancer is not read after construction: see the atomics below
  std::atomic<bool> balancer_enabled_;
  std::atomic<int64_t> balancer_interval_s_, balancer_window_s_;
  std::atomic<double> balancer_factor_;
  std::atomic<uint32_t> balancer_min_servers_;
  std::atomic<bool> balancer_changed_{false};  // read the demand again at the next rebuild
  Publisher& publisher_;
  LoaderStats& stats_;
  std::unique_ptr<pg::Connection> conn_;
  uint32_t serial_ = 0;
  bool poll_counter_ = false;  // connected to a standby whose schema has dns_change
  int64_t counter_seen_ = -1;  // dns_change.counter read before the last rebuild
  std::vector<DemandRow> demand_;  // the balancer's last demand read
  std::optional<std::chrono::steady_clock::time_point> demand_read_at_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> requested_{false};
  std::chrono::steady_clock::time_point outage_logged_{};
  Reconnect link_;  // the database: backoff between attempts, outage and recovery logged once
};

}  // namespace timepool::server
