// timepool-monitor's daemon: authenticates with its key, then probes every server on its
// schedule, scores each probe and writes the results in batches.
//
// Threads: run() is the probe loop (Prober + Schedule; scores live here). A writer thread owns
// the database connection: it writes batches from the ResultQueue, re-reads the server list
// and this monitor's status every `refresh`, and reconnects with backoff when the database is
// away (the probe loop never waits for the database). An optional HTTP listener serves
// /metrics. stop() and reload() may be called from any thread (main() calls them on signals,
// core/signals.hpp); what reload() changes is read by the other threads through atomics.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/metrics_http.hpp"
#include "monitor/metrics.hpp"
#include "monitor/own_clock.hpp"
#include "monitor/schedule.hpp"
#include "monitor/settings.hpp"
#include "monitor/store.hpp"
#include "monitor/writer.hpp"

namespace timepool::monitor {

// The key is unknown, or the monitor is paused: the daemon must not run.
class AuthError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Daemon {
 public:
  Daemon(Settings settings, std::string conninfo, ClockSource clock = read_kernel_clock);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Connects, checks the key (AuthError if unknown or paused; pg::Error if the database is
  // unreachable), loads this monitor's scores and the server list, starts the writer and the
  // metrics server.
  void start();
  // The probe loop; returns after stop(), once the queue is written (or `drain` passed).
  void run(std::chrono::milliseconds drain = std::chrono::milliseconds(5000));
  void stop() { stop_.store(true); }
  // Applies the settings a SIGHUP may change (Reloadable) and names, in a warning, those
  // that only change on restart. Not concurrently with itself.
  void reload(const Settings& fresh);

  int monitor_id() const { return monitor_id_; }
  const std::string& monitor_name() const { return monitor_name_; }
  uint16_t metrics_port() const { return metrics_port_; }
  const Metrics& metrics() const { return metrics_; }
  std::string metrics_text() const;
  std::size_t queued() const { return queue_.size(); }

 private:
  struct ServerList {
    std::vector<ServerRef> servers;
    std::string status;
  };
  void refresh(pg::Connection& conn);
  void on_probe_done(int64_t id, const ProbeResult& r, ntp::TimePoint started);
  void check_clock();
  void take_new_list(std::chrono::steady_clock::time_point now);
  void start_due(std::chrono::steady_clock::time_point now);
  void start_metrics();

  const Settings settings_;  // as started
  Reloadable applied_;       // reload() only: what was applied last
  std::string conninfo_;
  ClockSource clock_;
  int monitor_id_ = 0;
  std::string monitor_name_;
  std::atomic<bool> stop_{false};
  // Reloadable settings read by the probe loop.
  std::atomic<bool> trust_local_clock_;
  std::atomic<std::chrono::microseconds> max_clock_error_;
  std::atomic<std::size_t> max_in_flight_;

  Metrics metrics_;
  ResultQueue queue_;
  std::unique_ptr<Prober> prober_;
  Schedule schedule_;
  std::unordered_map<int64_t, double> scores_;  // probe loop only
  bool clock_ok_ = false;
  std::string clock_reason_;
  bool probing_ = false;

  std::mutex list_mu_;
  std::optional<ServerList> new_list_;  // from the writer thread to the probe loop

  std::unique_ptr<Writer> writer_;
  std::unique_ptr<prometheus::HttpServer> http_;
  uint16_t metrics_port_ = 0;
};

}  // namespace timepool::monitor
