// The central monitoring upkeep: every interval, one round of the per-server monitor selector
// (select_monitors) and of the freshness and outage check (monitoring_check), both SQL
// functions of schema/0013_monitor_selection.sql, then a log line whenever monitoring as a
// whole is out (the pool is frozen then, never emptied); the zone pages' history of servers
// in DNS (zone_servers_record, schema/0018); and the end of new servers' netspeed trials
// (end_netspeed_trials, schema/0020_claims.sql).
//
// Why timepool-web runs it (as it runs the findings job, web/findings_job.hpp): it must run once
// per deployment on the primary, not on every DNS edge (they read standbys and must spend their
// CPU on answers) nor in a monitor (any number of them, at other sites, never trusted with the
// pool's state). The web app already has a writable connection to the primary. Several web
// instances may run it: select_monitors takes an advisory lock and monitoring_check locks its
// state row, so concurrent rounds serialize and the second finds nothing to change. When the
// monitor API exists, it can call the same functions instead.
//
// Threads: run_monitoring_upkeep() is a plain function on a connection the caller owns.
// MonitoringJob owns one thread and one connection of its own (core/periodic_job.hpp).
#pragma once
#include <string>

#include "core/periodic_job.hpp"
#include "core/pg.hpp"

namespace timepool::web {

struct MonitoringRound {
  int pairs_changed = 0;       // (server, monitor) pairs whose status changed
  int made_stale = 0;          // servers that left DNS as stale
  int trials_ended = 0;        // new servers whose netspeed trial ended (schema 0020)
  bool outage = false;         // no monitor has reported for outage_after
  double seconds_since_report = -1;  // -1: no monitor ever reported
  int zones_recorded = 0;      // rows of zone_servers_hourly written (the zone pages' history)
};

// One round. Throws pg::Error.
MonitoringRound run_monitoring_upkeep(pg::Connection& db);

class MonitoringJob {
 public:
  MonitoringJob(std::string conninfo, int interval_seconds);
  void start() { job_.start(); }
  void stop() { job_.stop(); }

 private:
  PeriodicJob job_;
};

}  // namespace timepool::web
