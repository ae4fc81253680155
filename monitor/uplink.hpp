// The monitor's link to the monitor API, on a thread of its own: seals the probe loop's
// results into batches (at most batch_max results, at least every batch_interval), stores each
// in the durable spool (monitor/spool.hpp) before sending it, sends the spool oldest first and
// deletes a batch only once the API acknowledged it (or, when the spool is full, the oldest
// first: counted in the metrics and logged as an error), and fetches the assignment every
// `refresh`. While the API is unreachable the batches wait on disk and the link retries with
// backoff (core/reconnect.hpp); the probe loop never waits for it.
//
// Threads: push(), set_batching() and pending() from any thread; everything else from the
// owner. The assignment callback runs on the uplink's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/reconnect.hpp"
#include "monitor/api_client.hpp"
#include "monitor/batch.hpp"
#include "monitor/metrics.hpp"
#include "monitor/spool.hpp"

namespace timepool::monitor {

struct UplinkOptions {
  std::size_t batch_max = 2000;
  std::chrono::milliseconds batch_interval{1000};
  std::chrono::milliseconds refresh{30000};
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{30000};
  bool fetch_at_once = false;  // no assignment yet: ask at once (and after each failure)
};

class Uplink {
 public:
  using OnAssignment = std::function<void(const Assignment&)>;
  // `batch_prefix` starts every batch id ("m3f9a0c21d7e4-"); it must differ between runs of
  // the monitor (a random value chosen at start) so ids never repeat.
  Uplink(ApiClient& client, Spool& spool, Metrics& metrics, std::string batch_prefix,
         UplinkOptions opts, OnAssignment on_assignment);
  ~Uplink();  // stop()
  Uplink(const Uplink&) = delete;
  Uplink& operator=(const Uplink&) = delete;

  void start();
  // Seals what is pending into the spool, sends for up to `drain`, then stops the thread.
  // What was not acknowledged stays in the spool for the next run.
  void stop(std::chrono::milliseconds drain = std::chrono::milliseconds(0));

  void push(SubmittedProbe p);
  void set_batching(std::size_t batch_max, std::chrono::milliseconds batch_interval);
  void set_refresh(std::chrono::milliseconds refresh) { refresh_.store(refresh); }
  // What the monitor reports of its own clock with each assignment request (ApiClient
  // get_assignment's `state`); a change is reported at once.
  void set_state(std::string query);
  std::size_t pending() const;
  bool api_up() const { return api_up_.load(); }

 private:
  using SteadyClock = std::chrono::steady_clock;
  void loop();
  // Seals the pending results into one batch in the spool when due (or `force`).
  void seal(bool force);
  // Counts and logs the batches put() deleted to make room (the spool was full).
  void note_dropped(const std::vector<Dropped>& dropped);
  // seal(), logging only when the spool starts or stops failing.
  void seal_or_keep(bool force);
  // One turn with the API when the link is due: the assignment (when its refresh is due or
  // the state changed, not while stopping), then the spool; the outcome goes to `link`.
  void talk(Reconnect& link, bool stopping);
  // Each returns the reply that failed (the API must be tried again later), or nothing.
  std::optional<Reply> refresh_assignment(SteadyClock::time_point now);
  // Sends the spooled batches oldest first; stops at the first that must wait.
  std::optional<Reply> deliver();
  std::optional<Reply> send(const std::string& batch_name);
  void record(Reconnect& link, const std::optional<Reply>& failed);

  ApiClient& client_;
  Spool& spool_;
  Metrics& metrics_;
  std::string prefix_;
  OnAssignment on_assignment_;
  std::atomic<std::size_t> batch_max_;
  std::atomic<std::chrono::milliseconds> batch_interval_;
  std::atomic<std::chrono::milliseconds> refresh_;
  std::chrono::milliseconds backoff_min_, backoff_max_;
  bool fetch_at_once_;

  std::mutex state_mu_;
  std::string state_;
  std::atomic<bool> state_changed_{false};
  mutable std::mutex mu_;
  std::vector<SubmittedProbe> pending_;
  SteadyClock::time_point first_pending_{};

  std::atomic<bool> stop_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> api_up_{false};
  std::thread thread_;
  // Uplink thread only.
  uint64_t seq_ = 0;
  std::shared_ptr<spdlog::logger> log_;
  bool spool_failing_ = false;
  SteadyClock::time_point next_refresh_{};
  SteadyClock::time_point next_drop_log_{};
  std::size_t unlogged_drops_ = 0;
  std::size_t unlogged_results_ = 0;
  SteadyClock::time_point next_send_{};
  SteadyClock::time_point drain_until_{};
};

}  // namespace timepool::monitor
