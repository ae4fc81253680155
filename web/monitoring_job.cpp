#include "web/monitoring_job.hpp"

#include <chrono>
#include <memory>

#include "core/log.hpp"

namespace timepool::web {

MonitoringRound run_monitoring_upkeep(pg::Connection& db) {
  MonitoringRound round;
  round.pairs_changed = db.exec("SELECT select_monitors()").get<int32_t>(0, 0);
  round.made_stale = db.exec("SELECT monitoring_check()").get<int32_t>(0, 0);
  round.trials_ended = db.exec("SELECT end_netspeed_trials()").get<int32_t>(0, 0);
  auto r = db.exec("SELECT outage, seconds_since_report::float8 FROM monitoring_outage");
  round.outage = r.get<bool>(0, 0);
  if (!r.is_null(0, 1)) round.seconds_since_report = r.get<double>(0, 1);
  round.zones_recorded = db.exec("SELECT zone_servers_record()").get<int32_t>(0, 0);
  return round;
}

namespace {

PeriodicJob::Round monitoring_round(std::string conninfo) {
  auto was_out = std::make_shared<bool>(false);
  return with_connection(std::move(conninfo), [was_out](pg::Connection& db) {
    auto logger = log::get("web");
    auto round = run_monitoring_upkeep(db);
    if (round.trials_ended > 0) {
      logger->info("netspeed trials: {} ended (servers got the netspeed their owners chose)",
                   round.trials_ended);
    }
    if (round.pairs_changed > 0 || round.made_stale > 0) {
      logger->info("monitoring: {} monitor pairs changed, {} servers stale (left DNS)",
                   round.pairs_changed, round.made_stale);
    }
    // Loud on every round while it lasts: an outage freezes the whole pool.
    if (round.outage) {
      logger->error(
          "monitoring outage: no monitor has reported for {:.0f} s; DNS keeps the pool as it "
          "was",
          round.seconds_since_report);
    } else if (*was_out) {
      logger->warn("monitoring outage over: monitors report again");
    }
    *was_out = round.outage;
    return std::optional<std::chrono::milliseconds>();
  });
}

}  // namespace

MonitoringJob::MonitoringJob(std::string conninfo, int interval_seconds)
    : job_("monitoring upkeep", std::chrono::seconds(interval_seconds),
           monitoring_round(std::move(conninfo)), log::get("web")) {}

}  // namespace timepool::web
