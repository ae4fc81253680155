// The writer thread: owns the database connection of the daemon, writes batches from the
// ResultQueue (write_batch), runs a periodic `refresh` callback on the same connection
// (server list, monitor status), keeps the probe log's daily partitions ahead, and reconnects
// with backoff whenever the database is away. The probe loop never waits for it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "monitor/metrics.hpp"
#include "monitor/store.hpp"

namespace timepool::monitor {

struct WriterOptions {
  std::size_t batch_max = 2000;
  std::chrono::milliseconds batch_interval{1000};
  std::chrono::milliseconds refresh{30000};
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{30000};
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

 private:
  void loop();
  std::string conninfo_;
  int monitor_id_;
  ResultQueue& queue_;
  Metrics& metrics_;
  WriterOptions opts_;
  Refresh refresh_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> draining_{false};
  std::thread thread_;
};

}  // namespace timepool::monitor
