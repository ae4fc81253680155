// timepool-monitor's daemon: fetches its assignment from the monitor API, probes every
// assigned server on its schedule and submits the raw results; it holds no database
// credentials and computes no score (the API does, from the raw samples).
//
// Threads: run() is the probe loop (Prober + Schedule). The uplink thread (monitor/uplink.hpp)
// seals results into batches in the durable spool, sends them to the API and fetches the
// assignment every refresh; the probe loop never waits for it. An optional HTTP listener
// serves /metrics. stop() and reload() may be called from any thread (main() calls them on
// signals, core/signals.hpp); what reload() changes is read by the other threads through
// atomics.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/metrics_http.hpp"
#include "monitor/api_client.hpp"
#include "monitor/metrics.hpp"
#include "monitor/own_clock.hpp"
#include "monitor/schedule.hpp"
#include "monitor/settings.hpp"
#include "monitor/spool.hpp"
#include "monitor/uplink.hpp"

namespace timepool::monitor {

// The API does not know the key: the daemon must not run.
class AuthError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Daemon {
 public:
  Daemon(Settings settings, ClockSource clock = read_kernel_clock);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the spool (SpoolError), fetches the assignment (AuthError for an unknown key; when
  // the API is unreachable it starts from the assignment saved in the spool, or with none, and
  // keeps trying), starts the uplink and the metrics server.
  void start();
  // The probe loop; returns after stop(), once the pending results are in the spool and sent
  // (or `drain` passed: the rest is sent by the next run).
  void run(std::chrono::milliseconds drain = std::chrono::milliseconds(5000));
  void stop() { stop_.store(true); }
  // Applies the settings a SIGHUP may change (Reloadable) and names, in a warning, those
  // that only change on restart. Not concurrently with itself.
  void reload(const Settings& fresh);

  const std::string& monitor_name() const { return monitor_name_; }
  uint16_t metrics_port() const { return metrics_port_; }
  const Metrics& metrics() const { return metrics_; }
  std::string metrics_text() const;

 private:
  void on_assignment(const Assignment& a);  // uplink thread (or start())
  void on_probe_done(int64_t id, const ProbeResult& r, ntp::TimePoint started);
  void check_clock();
  void start_references(std::chrono::steady_clock::time_point now);
  void on_reference_done(std::size_t i, const ProbeResult& r);
  void report_state();
  void take_new_list(std::chrono::steady_clock::time_point now);
  void start_due(std::chrono::steady_clock::time_point now);
  void start_metrics();

  const Settings settings_;  // as started
  Reloadable applied_;       // reload() only: what was applied last
  ClockSource clock_;
  std::string monitor_name_;
  std::atomic<bool> stop_{false};
  // Reloadable settings read by the probe loop.
  std::atomic<bool> trust_local_clock_;
  std::atomic<std::chrono::microseconds> max_clock_error_;
  std::atomic<std::size_t> max_in_flight_;

  Metrics metrics_;
  std::unique_ptr<Prober> prober_;
  Schedule schedule_;
  bool clock_ok_ = false;
  bool clock_trusted_ = false;
  ClockReading clock_reading_;
  std::string clock_reason_;
  // The reference servers' round in progress and the verdict of the last one finished.
  std::vector<std::optional<double>> ref_offsets_;
  std::size_t ref_pending_ = 0;
  std::chrono::steady_clock::time_point next_ref_{};
  std::optional<ReferenceVerdict> ref_verdict_;
  bool probing_ = false;

  std::mutex list_mu_;
  std::optional<Assignment> new_list_;  // from the uplink thread to the probe loop

  std::unique_ptr<Spool> spool_;
  std::unique_ptr<ApiClient> client_;
  std::unique_ptr<Uplink> uplink_;
  std::unique_ptr<prometheus::HttpServer> http_;
  uint16_t metrics_port_ = 0;
};

// What the monitor submits for one finished probe: every packet as it was seen (no score).
SubmittedProbe to_submitted(int64_t server_id, const ProbeResult& r, ntp::TimePoint started,
                            const ClockState& clock);

}  // namespace timepool::monitor
