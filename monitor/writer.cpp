#include "monitor/writer.hpp"

#include <sodium.h>

#include "core/log.hpp"
#include "core/pg.hpp"

namespace timepool::monitor {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

Writer::Writer(std::string conninfo, int monitor_id, ResultQueue& queue, Metrics& metrics,
               WriterOptions opts, Refresh refresh)
    : conninfo_(std::move(conninfo)),
      monitor_id_(monitor_id),
      queue_(queue),
      metrics_(metrics),
      opts_(opts),
      refresh_(std::move(refresh)) {}

Writer::~Writer() { stop(); }

void Writer::start() { thread_ = std::thread([this] { loop(); }); }

void Writer::stop(std::chrono::milliseconds drain) {
  if (!thread_.joinable()) return;
  draining_.store(true);
  const auto deadline = SteadyClock::now() + drain;
  while (queue_.size() > 0 && SteadyClock::now() < deadline) std::this_thread::sleep_for(20ms);
  if (queue_.size() > 0) {
    log::get("monitor")->warn("stopping with {} results not written", queue_.size());
  }
  stop_.store(true);
  thread_.join();
}

void Writer::loop() {
  auto log = log::get("monitor");
  std::optional<pg::Connection> conn;
  pg::Backoff backoff(opts_.backoff_min, opts_.backoff_max);
  auto next_refresh = SteadyClock::now() + opts_.refresh;
  auto next_partitions = SteadyClock::now();
  auto last_write = SteadyClock::now();
  int poison = 0;
  bool down_logged = false;
  while (!stop_.load()) {
    try {
      if (!conn) {
        conn = pg::Connection::open(conninfo_);
        if (down_logged) log->info("database is back; {} results to write", queue_.size());
        down_logged = false;
        metrics_.db_up.store(1);
        backoff.reset();
      }
      const auto now = SteadyClock::now();
      if (refresh_ && now >= next_refresh && !draining_.load()) {
        refresh_(*conn);
        next_refresh = now + opts_.refresh;
      }
      if (now >= next_partitions) {
        // Daily partitions of the probe log for today and the next days.
        conn->exec("SELECT probe_log_ensure_partitions(current_date, 3)");
        next_partitions = now + 6h;
      }
      const std::size_t queued = queue_.size();
      if (queued > 0 && (queued >= opts_.batch_max || now - last_write >= opts_.batch_interval ||
                         draining_.load())) {
        uint64_t last_seq = 0;
        auto batch = queue_.front(opts_.batch_max, &last_seq);
        const auto t0 = SteadyClock::now();
        try {
          write_batch(*conn, monitor_id_, batch);
        } catch (const pg::Error& e) {
          if (e.is_connection()) throw;
          // Not the link but the batch: retry a few times, then give it up rather than stall
          // every later result behind it.
          metrics_.batch_errors.fetch_add(1);
          if (++poison >= 5) {
            log->error("dropping a batch of {} results after repeated errors: {}", batch.size(), e.what());
            queue_.pop_through(last_seq);
            poison = 0;
          } else {
            log->warn("batch write failed: {}", e.what());
          }
          std::this_thread::sleep_for(opts_.batch_interval);
          continue;
        }
        poison = 0;
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0).count();
        queue_.pop_through(last_seq);
        metrics_.batches.fetch_add(1);
        metrics_.records_written.fetch_add(batch.size());
        metrics_.batch_write_us_last.store(static_cast<uint64_t>(us));
        metrics_.batch_write_us_total.fetch_add(static_cast<uint64_t>(us));
        last_write = SteadyClock::now();
        if (queue_.size() >= opts_.batch_max) continue;
      }
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(opts_.batch_interval, 20ms));
    } catch (const pg::Error& e) {
      metrics_.batch_errors.fetch_add(1);
      metrics_.db_up.store(0);
      if (!down_logged) {
        log->warn("database unavailable ({}); {} results wait in memory", e.what(), queue_.size());
        down_logged = true;
      }
      conn.reset();
      const auto delay = backoff.next(static_cast<double>(randombytes_random()) / 4294967296.0);
      const auto until = SteadyClock::now() + delay;
      while (!stop_.load() && SteadyClock::now() < until) std::this_thread::sleep_for(20ms);
    } catch (const std::exception& e) {
      log->error("writer: {}", e.what());
      conn.reset();
      std::this_thread::sleep_for(1s);
    }
  }
}

}  // namespace timepool::monitor
