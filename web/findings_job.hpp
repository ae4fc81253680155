// Findings computed once, read everywhere: a periodic job analyses each zone's recent minute
// counts (core/bursts) and stores what it finds in zone_findings (schema/0009); the vendor and
// admin pages, the API and timepoolctl only read that table, so a page costs the same with
// 1,000 vendor zones as with one.
//
// Why timepool-web runs it: the DNS edges read hot standbys (they cannot write) and must never
// spend their CPU on anything but answers; the monitor API's loop is timed for scoring. The web
// app already writes the primary, owns the vendor zones the findings are about, and is the
// main reader. With several web instances, a PostgreSQL advisory lock lets one of them run each
// round and the others skip it.
//
// The same job applies the retention of the statistics it reads (dns_stats_prune), so minute
// rows always cover the window detection reads.
//
// Threads: run_findings() is a plain function on a connection the caller owns (tests,
// benchmarks, timepoolctl). FindingsJob owns one thread and one connection of its own
// (core/periodic_job.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "core/bursts.hpp"
#include "core/periodic_job.hpp"
#include "core/pg.hpp"

namespace timepool::web {

struct FindingsConfig {
  int interval_seconds = 300;        // between runs (the first runs at start)
  int window_days = 28;              // minute counts read per zone
  int minute_retention_days = 35;    // dns_query_counts kept (at least window_days + 1)
  int hour_retention_days = 400;     // hourly counts kept (at least the 90-day charts)
  stats::BurstOptions burst;         // thresholds (now_minute is set per run)
};

struct FindingsRun {
  bool ran = false;  // false: another instance held the lock
  int zones = 0;     // zones analysed
  int findings = 0;  // findings stored
  double seconds = 0;
};

// One round: every zone with minute counts in the window is analysed and its findings replace
// the stored ones (a finding that persists keeps its earliest first_seen); zones without counts
// lose theirs. `now` is epoch seconds. Throws pg::Error.
FindingsRun run_findings(pg::Connection& db, const FindingsConfig& cfg, double now);

// One zone only (the same as a round does for it); returns the number of findings stored.
int analyse_zone(pg::Connection& db, int32_t zone_id, const FindingsConfig& cfg, double now);

// dns_stats_prune with the configured retention; returns minute rows removed.
int64_t prune_stats(pg::Connection& db, const FindingsConfig& cfg);

class FindingsJob {
 public:
  FindingsJob(std::string conninfo, FindingsConfig cfg);
  void start() { job_.start(); }
  void stop() { job_.stop(); }

 private:
  PeriodicJob job_;
};

}  // namespace timepool::web
