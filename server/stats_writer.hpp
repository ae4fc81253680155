// Query statistics of timepool-dns (issue: every zone's load made visible): each worker counts
// its queries per zone, qtype and rcode and every server it hands out into its own
// stats::Recorder (core/query_stats; no locks on the hot path); one thread collects finished
// minutes every few seconds and another flushes them to PostgreSQL every `flush_interval`
// with stats::StatsFlusher (a failed flush stays queued and is retried; each batch is applied
// exactly once). At shutdown everything counted is collected and written once more.
//
// Queries that name no zone (NXDOMAIN, errors, the apex itself) count under the global zone;
// queries for names outside our apexes (REFUSED) and dropped packets are not counted.
//
// Threads: StatsWriter is created before the workers and stopped after they joined. Each
// worker calls worker() once and then only touches its own WorkerStats.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/query_stats.hpp"
#include "server/answer.hpp"
#include "server/snapshot.hpp"

namespace timepool::server {

struct StatsSettings {
  bool enabled = true;
  std::string conninfo;     // the database; a connect_timeout is added when absent
  std::string instance;     // names this server in the flush log; default: the host name
  std::chrono::seconds flush_interval{60};
};

// Slots of one snapshot: per zone index, and per pool the slot of each entry's server.
class StatsView {
 public:
  StatsView(std::shared_ptr<const Snapshot> snap, stats::QueryStats& stats);
  const Snapshot* snapshot() const { return snap_.get(); }
  uint32_t zone_slot(int32_t zone_index) const {
    return zone_index < 0 ? global_slot_ : zone_slots_[static_cast<size_t>(zone_index)];
  }
  uint32_t server_slot(uint32_t pool, uint32_t entry) const { return pool_slots_[pool][entry]; }

 private:
  std::shared_ptr<const Snapshot> snap_;
  std::vector<uint32_t> zone_slots_;
  std::vector<std::vector<uint32_t>> pool_slots_;
  uint32_t global_slot_ = stats::kNoSlot;
};

class StatsWriter;

// One worker's side: hot path only, owning thread only.
class WorkerStats {
 public:
  // `snap` is the snapshot the answer was made from.
  void count(const std::shared_ptr<const Snapshot>& snap, const AnswerStats& st);

 private:
  friend class StatsWriter;
  WorkerStats(StatsWriter& w, stats::Recorder& rec) : writer_(w), rec_(rec) {}
  StatsWriter& writer_;
  stats::Recorder& rec_;
  std::shared_ptr<const StatsView> view_;
};

class StatsWriter {
 public:
  explicit StatsWriter(StatsSettings settings);
  ~StatsWriter();
  StatsWriter(const StatsWriter&) = delete;
  StatsWriter& operator=(const StatsWriter&) = delete;

  // nullptr when statistics are off. Valid until the StatsWriter dies.
  WorkerStats* worker();
  void start();
  // After the workers stopped: collects everything and writes it (one attempt per batch).
  void stop();

  // For /metrics.
  std::string metrics_text() const;

 private:
  friend class WorkerStats;
  std::shared_ptr<const StatsView> view(const std::shared_ptr<const Snapshot>& snap);
  void collect_loop();
  void flush_loop();
  void note(const stats::FlushResult& r);

  StatsSettings settings_;
  stats::QueryStats stats_;
  std::unique_ptr<stats::StatsFlusher> flusher_;
  std::mutex mu_;  // views and workers
  std::shared_ptr<const StatsView> view_;
  std::vector<std::unique_ptr<WorkerStats>> workers_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread collector_, flusher_thread_;
  std::atomic<uint64_t> flushes_{0}, flush_failures_{0}, batches_written_{0}, duplicates_{0},
      discarded_{0}, queued_{0};
  bool last_failed_ = false;
};

}  // namespace timepool::server
