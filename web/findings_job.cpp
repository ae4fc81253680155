#include "web/findings_job.hpp"

#include <chrono>
#include <memory>
#include <optional>

#include "core/log.hpp"
#include "web/zone_load.hpp"

namespace timepool::web {

namespace {

// pg_try_advisory_lock key: "tpfindin" as a number, so it collides with nothing of ours.
constexpr int64_t kLockKey = 0x747066696e64696e;

std::string int_array(const std::vector<int64_t>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "}";
}

}  // namespace

int analyse_zone(pg::Connection& db, int32_t zone_id, const FindingsConfig& cfg, double now) {
  int64_t to = static_cast<int64_t>(now) / 60 + 1;
  auto series = minute_counts(db, zone_id, to - int64_t{cfg.window_days} * 1440, to);
  stats::BurstOptions opt = cfg.burst;
  opt.now_minute = to;
  auto findings = stats::find_bursts(series, opt);

  pg::Transaction tx(db);
  std::vector<std::string> keys;
  for (const auto& f : findings) {
    std::vector<int64_t> starts, ends;
    for (const auto& e : f.events) {
      starts.push_back(e.start);
      ends.push_back(e.end);
    }
    keys.push_back(f.key());
    tx.exec(
        "INSERT INTO zone_findings (zone_id, fkey, kind, period, weekdays, window_start, "
        "  window_minutes, typical_count, factor, first_seen, last_seen, window_starts, "
        "  window_ends, warning, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, to_timestamp($10 * 60), "
        "  to_timestamp($11 * 60), $12::bigint[], $13::bigint[], $14, now()) "
        "ON CONFLICT (zone_id, fkey) DO UPDATE SET kind = EXCLUDED.kind, "
        "  period = EXCLUDED.period, weekdays = EXCLUDED.weekdays, "
        "  window_start = EXCLUDED.window_start, window_minutes = EXCLUDED.window_minutes, "
        "  typical_count = EXCLUDED.typical_count, factor = EXCLUDED.factor, "
        "  first_seen = least(zone_findings.first_seen, EXCLUDED.first_seen), "
        "  last_seen = EXCLUDED.last_seen, window_starts = EXCLUDED.window_starts, "
        "  window_ends = EXCLUDED.window_ends, warning = EXCLUDED.warning, updated_at = now()",
        zone_id, keys.back(),
        f.period == stats::BurstFinding::Period::Once ? "once" : "recurring",
        stats::period_name(f.period), static_cast<int32_t>(f.weekdays), f.minute_of_day,
        std::min(f.window_minutes, 1440), static_cast<int64_t>(f.typical_count), f.typical_factor,
        f.first_seen, f.last_seen, int_array(starts), int_array(ends), f.warning);
  }
  std::string key_array = "{";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) key_array += ',';
    key_array += '"';
    key_array += keys[i];
    key_array += '"';
  }
  key_array += "}";
  tx.exec("DELETE FROM zone_findings WHERE zone_id = $1 AND fkey <> ALL ($2::text[])", zone_id,
          key_array);
  tx.commit();
  return static_cast<int>(findings.size());
}

FindingsRun run_findings(pg::Connection& db, const FindingsConfig& cfg, double now) {
  FindingsRun run;
  auto t0 = std::chrono::steady_clock::now();
  if (!db.exec("SELECT pg_try_advisory_lock($1)", kLockKey).get<bool>(0, 0)) return run;
  struct Unlock {
    pg::Connection& db;
    ~Unlock() {
      try {
        db.exec("SELECT pg_advisory_unlock($1)", kLockKey);
      } catch (...) {
        // The session ends with the connection, and the lock with it.
      }
    }
  } unlock{db};
  run.ran = true;
  auto started = db.exec("SELECT now()::text").get<std::string>(0, 0);
  // Zones with counts in the window, by the primary key's (zone_id, minute) prefix: one index
  // probe per zone, never a scan of the minute rows.
  auto zones = db.exec(
      "SELECT z.id FROM zones z WHERE EXISTS (SELECT 1 FROM dns_query_counts q "
      "WHERE q.zone_id = z.id AND q.minute >= to_timestamp($1) - make_interval(days => $2)) "
      "ORDER BY z.id",
      now, cfg.window_days);
  std::vector<int64_t> ids;
  for (int i = 0; i < zones.rows(); ++i) {
    int32_t id = zones.get<int32_t>(i, 0);
    ids.push_back(id);
    run.findings += analyse_zone(db, id, cfg, now);
    ++run.zones;
  }
  db.exec("DELETE FROM zone_findings WHERE zone_id <> ALL ($1::int[])", int_array(ids));
  db.exec(
      "INSERT INTO zone_findings_runs (id, started_at, finished_at, zones, findings) "
      "VALUES (true, $1::timestamptz, clock_timestamp(), $2, $3) "
      "ON CONFLICT (id) DO UPDATE SET started_at = EXCLUDED.started_at, "
      "finished_at = EXCLUDED.finished_at, zones = EXCLUDED.zones, "
      "findings = EXCLUDED.findings, runs = zone_findings_runs.runs + 1",
      started, run.zones, run.findings);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return run;
}

int64_t prune_stats(pg::Connection& db, const FindingsConfig& cfg) {
  return db
      .exec("SELECT dns_stats_prune(make_interval(days => $1), interval '2 days', "
            "make_interval(days => $2))",
            cfg.minute_retention_days, cfg.hour_retention_days)
      .get<int64_t>(0, 0);
}

namespace {

// One round of the job: the findings, and the retention once an hour.
PeriodicJob::Round findings_round(std::string conninfo, FindingsConfig cfg) {
  auto last_prune = std::make_shared<std::chrono::steady_clock::time_point>();
  return with_connection(std::move(conninfo), [cfg, last_prune](pg::Connection& db) {
    auto logger = log::get("web");
    auto run = run_findings(db, cfg, now_epoch());
    if (run.ran) {
      logger->info("findings: {} zones, {} findings in {:.2f} s", run.zones, run.findings,
                   run.seconds);
      if (std::chrono::steady_clock::now() - *last_prune > std::chrono::hours(1)) {
        int64_t removed = prune_stats(db, cfg);
        *last_prune = std::chrono::steady_clock::now();
        logger->info("findings: retention removed {} minute rows", removed);
      }
    }
    return std::optional<std::chrono::milliseconds>();
  });
}

}  // namespace

FindingsJob::FindingsJob(std::string conninfo, FindingsConfig cfg)
    : job_("findings job", std::chrono::seconds(cfg.interval_seconds),
           findings_round(std::move(conninfo), cfg), log::get("web")) {}

}  // namespace timepool::web
