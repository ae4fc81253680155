#include "web/monitoring_job.hpp"

#include <chrono>
#include <random>

#include "core/log.hpp"

namespace timepool::web {

MonitoringRound run_monitoring_upkeep(pg::Connection& db) {
  MonitoringRound round;
  round.pairs_changed = db.exec("SELECT select_monitors()").get<int32_t>(0, 0);
  round.made_stale = db.exec("SELECT monitoring_check()").get<int32_t>(0, 0);
  auto r = db.exec("SELECT outage, seconds_since_report::float8 FROM monitoring_outage");
  round.outage = r.get<bool>(0, 0);
  if (!r.is_null(0, 1)) round.seconds_since_report = r.get<double>(0, 1);
  return round;
}

MonitoringJob::MonitoringJob(std::string conninfo, int interval_seconds)
    : conninfo_(std::move(conninfo)), interval_seconds_(interval_seconds) {}

MonitoringJob::~MonitoringJob() { stop(); }

void MonitoringJob::start() { thread_ = std::thread([this] { loop(); }); }

void MonitoringJob::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MonitoringJob::loop() {
  auto logger = log::get("web");
  std::optional<pg::Connection> db;
  pg::Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(60));
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0, 1);
  bool was_out = false;
  std::chrono::milliseconds wait{0};
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stopping_; })) return;
    }
    try {
      if (!db || !db->ok()) db = pg::Connection::open(conninfo_);
      auto round = run_monitoring_upkeep(*db);
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
      } else if (was_out) {
        logger->warn("monitoring outage over: monitors report again");
      }
      was_out = round.outage;
      backoff.reset();
      wait = std::chrono::seconds(interval_seconds_);
    } catch (const std::exception& e) {
      wait = backoff.next(unit(rng));
      logger->warn("monitoring upkeep: {} (retry in {} ms)", e.what(), wait.count());
      db.reset();
    }
  }
}

}  // namespace timepool::web
