// The writer thread: owns the database connection of the daemon, writes batches from the
// ResultQueue (write_batch), runs a periodic `refresh` callback on the same connection
// (server list, monitor status), keeps the probe log's daily partitions ahead, and reconnects
// with backoff whenever the database is away (core/reconnect.hpp). The probe loop never waits
// for it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "core/reconnect.hpp"
#include "monitor/metrics.hpp"
#include "monitor/store.hpp"

namespace timepool::pg {
class Connection;
}

namespace timepool::monitor {

struct WriterOptions {
  std::size_t batch_max = 2000;
  std::chrono::milliseconds batch_interval{1000};
  std::chrono::milliseconds refresh{30000};
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{30000};
  int probe_log_retention_days = 0;  // 0: keep the whole probe log
};

class Writer {
 public:
  using Refresh = std::function<void(pg::Connection&)>;
  Writer(std::string conninfo, int monitor_id, ResultQueue& queue, Metrics& metrics,
         WriterOptions opts, Refresh refresh = nullptr);
  ~Writer();  // stop()
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void start();
  // Writes what is queued (for up to `drain`), then stops the thread.
  void stop(std::chrono::milliseconds drain = std::chrono::milliseconds(0));
  // New batch sizes and intervals (SIGHUP); any thread, taken at the writer's next turn.
  void set_batching(std::size_t batch_max, std::chrono::milliseconds batch_interval,
                    std::chrono::milliseconds refresh);

 private:
  using SteadyClock = std::chrono::steady_clock;
  void loop();
  void turn(pg::Connection& conn);
  // Writes one batch if one is due; true when more are waiting at once.
  bool write_due(pg::Connection& conn);
  // Drops the probe log's daily partitions older than the retention (opts_).
  void drop_old_partitions(pg::Connection& conn);

  std::string conninfo_;
  int monitor_id_;
  ResultQueue& queue_;
  Metrics& metrics_;
  WriterOptions opts_;
  Refresh refresh_;
  // Reloadable (set_batching), read by the writer thread.
  std::atomic<std::size_t> batch_max_;
  std::atomic<std::chrono::milliseconds> batch_interval_;
  std::atomic<std::chrono::milliseconds> refresh_every_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> draining_{false};
  std::thread thread_;
  // Writer thread only.
  SteadyClock::time_point next_refresh_{};
  SteadyClock::time_point next_partitions_{};
  SteadyClock::time_point last_write_{};
  int poison_ = 0;
};

}  // namespace timepool::monitor
