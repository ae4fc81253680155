// Query statistics of timepool-dns (issue: every zone's load made visible): each worker counts
// its queries per zone, qtype and rcode and every server it hands out into its own
// stats::Recorder (server/query_stats; no locks on the hot path); one thread collects finished
// minutes every few seconds and another flushes them to PostgreSQL every `flush_interval`
// with stats::StatsFlusher (a failed flush stays queued and is retried; each batch is applied
// exactly once). At shutdown everything counted is collected and written once more.
//
// Each address query answered with geo on also counts as the balancer's demand (schema/0016
// dns_demand, per minute, zone and family): for the client's country zone on geo-routed names,
// for the queried zone on explicit country and continent names (AnswerStats::demand_zone).
// It travels in the same batches, so it is written exactly once per flush like the rest.
//
// Queries that name no zone (NXDOMAIN, errors, the apex itself) count under the global zone;
// queries for names outside our apexes (REFUSED) and dropped packets are not counted.
//
// The slots a query is counted in come with the published object (server/published.hpp): a
// worker never builds or looks anything up under a lock.
//
// Threads: StatsWriter is created before the workers and stopped after they joined. Each
// worker calls worker() once at start and then only touches its own WorkerStats.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/answer.hpp"
#include "server/published.hpp"
#include "server/query_stats.hpp"

namespace timepool::server {

struct StatsSettings {
  bool enabled = true;
  // Where statistics are written: dns.stats_conninfo, else database.conninfo. An edge on a
  // hot standby names the primary here (a multi-host conninfo with
  // target_session_attrs=read-write follows it). A connect_timeout is added when absent.
  std::string conninfo;
  std::string spool_dir;    // sealed batches wait here, fsynced, until written; "" keeps them in memory
  std::string instance;     // names this server in the flush log; default: the host name
  std::chrono::seconds flush_interval{60};
};

class StatsWriter;

// One worker's side: hot path only, owning thread only.
class WorkerStats {
 public:
  // `pub` is the published object the answer was made from.
  void count(const Published& pub, const AnswerStats& st);

 private:
  friend class StatsWriter;
  explicit WorkerStats(stats::Recorder& rec) : rec_(rec) {}
  stats::Recorder& rec_;
};

class StatsWriter {
 public:
  explicit StatsWriter(StatsSettings settings);
  ~StatsWriter();
  StatsWriter(const StatsWriter&) = delete;
  StatsWriter& operator=(const StatsWriter&) = delete;

  // nullptr when statistics are off. Valid until the StatsWriter dies. Takes a mutex: call it
  // once per worker thread, before its loop.
  WorkerStats* worker();
  // What the Publisher builds the slots of each snapshot in; nullptr when statistics are off.
  stats::QueryStats* query_stats() { return settings_.enabled ? &stats_ : nullptr; }
  void start();
  // After the workers stopped: collects everything and writes it (one attempt per batch).
  void stop();

  // For /metrics.
  std::string metrics_text() const;

 private:
  void collect_loop();
  void flush_loop();
  void note(const stats::FlushResult& r);

  StatsSettings settings_;
  stats::QueryStats stats_;
  std::unique_ptr<stats::StatsFlusher> flusher_;
  std::mutex mu_;  // workers_
  std::vector<std::unique_ptr<WorkerStats>> workers_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread collector_, flusher_thread_;
  std::atomic<uint64_t> flushes_{0}, flush_failures_{0}, batches_written_{0}, duplicates_{0},
      discarded_{0}, queued_{0};
};

}  // namespace timepool::server
