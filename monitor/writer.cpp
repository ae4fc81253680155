#include "monitor/writer.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/pg.hpp"

namespace timepool::monitor {

using namespace std::chrono_literals;

namespace {

// A batch that fails for a reason other than the link is retried this often, then dropped
// rather than stall every later result behind it.
constexpr int kPoisonLimit = 5;

}  // namespace

Writer::Writer(std::string conninfo, int monitor_id, ResultQueue& queue, Metrics& metrics,
               WriterOptions opts, Refresh refresh)
    : conninfo_(std::move(conninfo)),
      monitor_id_(monitor_id),
      queue_(queue),
      metrics_(metrics),
      opts_(opts),
      refresh_(std::move(refresh)),
      batch_max_(opts.batch_max),
      batch_interval_(opts.batch_interval),
      refresh_every_(opts.refresh) {}

Writer::~Writer() { stop(); }

void Writer::start() { thread_ = std::thread([this] { loop(); }); }

void Writer::set_batching(std::size_t batch_max, std::chrono::milliseconds batch_interval,
                          std::chrono::milliseconds refresh) {
  batch_max_.store(batch_max);
  batch_interval_.store(batch_interval);
  refresh_every_.store(refresh);
}

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

bool Writer::write_due(pg::Connection& conn) {
  const std::size_t batch_max = batch_max_.load();
  const auto batch_interval = batch_interval_.load();
  const std::size_t queued = queue_.size();
  if (queued == 0) return false;
  if (queued < batch_max && SteadyClock::now() - last_write_ < batch_interval && !draining_.load()) {
    return false;
  }
  uint64_t last_seq = 0;
  auto batch = queue_.front(batch_max, &last_seq);
  const auto t0 = SteadyClock::now();
  try {
    write_batch(conn, monitor_id_, batch);
  } catch (const pg::Error& e) {
    if (e.is_connection()) throw;
    metrics_.batch_errors.fetch_add(1);
    auto log = log::get("monitor");
    if (++poison_ >= kPoisonLimit) {
      log->error("dropping a batch of {} results after repeated errors: {}", batch.size(), e.what());
      queue_.pop_through(last_seq);
      poison_ = 0;
    } else {
      log->warn("batch write failed: {}", e.what());
    }
    std::this_thread::sleep_for(batch_interval);
    return false;
  }
  poison_ = 0;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0);
  queue_.pop_through(last_seq);
  metrics_.batches.fetch_add(1);
  metrics_.records_written.fetch_add(batch.size());
  metrics_.batch_write_us_last.store(static_cast<uint64_t>(us.count()));
  metrics_.batch_write_us_total.fetch_add(static_cast<uint64_t>(us.count()));
  last_write_ = SteadyClock::now();
  return queue_.size() >= batch_max;
}

// Retention: whole daily partitions older than the configured days go (no DELETE, no bloat).
// Several monitors may race to drop the same day; the loser only logs it.
void Writer::drop_old_partitions(pg::Connection& conn) {
  if (opts_.probe_log_retention_days <= 0) return;
  try {
    auto n = conn.exec("SELECT probe_log_drop_before(current_date - $1::integer)",
                       opts_.probe_log_retention_days)
                 .get<int64_t>(0, 0);
    if (n > 0) {
      log::get("monitor")->info("probe log: dropped {} daily partitions older than {} days", n,
                                opts_.probe_log_retention_days);
    }
  } catch (const pg::Error& e) {
    if (e.is_connection()) throw;
    log::get("monitor")->warn("probe log retention: {}", e.what());
  }
}

void Writer::turn(pg::Connection& conn) {
  const auto now = SteadyClock::now();
  if (refresh_ && now >= next_refresh_ && !draining_.load()) {
    refresh_(conn);
    next_refresh_ = now + refresh_every_.load();
  }
  if (now >= next_partitions_) {
    // Daily partitions of the probe log for today and the next days.
    conn.exec("SELECT probe_log_ensure_partitions(current_date, 3)");
    drop_old_partitions(conn);
    next_partitions_ = now + 6h;
  }
  if (write_due(conn)) return;
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(batch_interval_.load(), 20ms));
}

void Writer::loop() {
  auto log = log::get("monitor");
  Reconnect link("database", log, ReconnectOptions{opts_.backoff_min, opts_.backoff_max},
                 [this] { return fmt::format("{} results wait in memory", queue_.size()); });
  std::optional<pg::Connection> conn;
  next_refresh_ = SteadyClock::now() + refresh_every_.load();
  next_partitions_ = SteadyClock::now();
  last_write_ = SteadyClock::now();
  while (!stop_.load()) {
    try {
      if (!conn) {
        conn = pg::Connection::open(conninfo_);
        link.succeeded();
        metrics_.db_up.store(1);
      }
      turn(*conn);
    } catch (const pg::Error& e) {
      metrics_.batch_errors.fetch_add(1);
      metrics_.db_up.store(0);
      conn.reset();
      link.failed(e.what());
      link.wait(stop_);
    } catch (const std::exception& e) {
      log->error("writer: {}", e.what());
      conn.reset();
      std::this_thread::sleep_for(1s);
    }
  }
}

}  // namespace timepool::monitor
