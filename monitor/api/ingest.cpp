#include "monitor/api/ingest.hpp"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "core/password.hpp"
#include "core/pg.hpp"
#include "monitor/api/probe_log.hpp"

namespace timepool::monitor::api {

namespace {

// The servers a monitor may probe; $1 is the monitor. A monitor with a known address probes the
// servers the selector paired it with (select_monitors, schema/0028: a bounded set per server);
// one without an address is never selected and probes every server as a candidate.
constexpr const char* kMayServe = R"sql(
  FROM servers s JOIN monitors m ON m.id = $1
  LEFT JOIN server_monitors sm ON sm.server_id = s.id AND sm.monitor_id = m.id
  WHERE (m.address IS NULL OR (sm.server_id IS NOT NULL AND monitor_may_serve(m.address, s.address))))sql";

// kMayServe, and also the servers the selector unpaired the monitor from within $3 seconds
// (server_monitors_removed, schema 0028): results taken while it was still paired.
constexpr const char* kMayHaveServed = R"sql(
  FROM servers s JOIN monitors m ON m.id = $1
  LEFT JOIN server_monitors sm ON sm.server_id = s.id AND sm.monitor_id = m.id
  LEFT JOIN server_monitors_removed rm ON rm.server_id = s.id AND rm.monitor_id = m.id
                                      AND rm.removed_at >= now() - make_interval(secs => $3)
  WHERE (m.address IS NULL OR ((sm.server_id IS NOT NULL OR rm.server_id IS NOT NULL)
                               AND monitor_may_serve(m.address, s.address))))sql";

int64_t micros(ntp::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::optional<MonitorIdentity> authenticate(pg::Connection& conn, std::string_view key) {
  if (key.empty() || key.size() > 256) return std::nullopt;
  auto r = conn.exec("SELECT id, name, status FROM monitors WHERE key_hash = $1",
                     password::hash_token(key));
  if (r.rows() != 1) return std::nullopt;
  return MonitorIdentity{static_cast<int>(r.get<int64_t>(0, "id")), r.get<std::string>(0, "name"),
                         r.get<std::string>(0, "status")};
}

std::vector<AssignedServer> assignment(pg::Connection& conn, int monitor_id,
                                       const PlanSettings& plan) {
  // Each server's slots are counted over the monitors that probe it, by the rule kMayServe
  // applies from the monitor's side: every probing monitor (testing or active) without an
  // address, and every probing monitor paired with the server that may serve it (not in its
  // /24 or /48). `slot` is this monitor's rank among them, `slots` their number, so a monitor
  // that does not probe a server leaves no empty slot in that server's cycle.
  auto r = conn.exec(std::string(R"sql(
    WITH mine AS (
      SELECT s.id, s.address AS inet, host(s.address) AS address,
             coalesce(sm.status, 'candidate') AS pair, s.score,
             (extract(epoch FROM s.recheck_requested_at) * 1000)::int8 AS recheck,
             (extract(epoch FROM now()) * 1000)::int8 AS now_ms)sql") +
                         kMayServe + R"sql( AND s.deleted_at IS NULL AND s.disabled_at IS NULL),
    probing AS (SELECT id, address FROM monitors WHERE status IN ('testing', 'active')),
    anywhere AS (SELECT count(*) FILTER (WHERE id < $1) AS slot, count(*) AS slots
                 FROM probing WHERE address IS NULL),
    paired AS (
      SELECT sm.server_id, count(*) FILTER (WHERE p.id < $1) AS slot, count(*) AS slots
      FROM mine JOIN server_monitors sm ON sm.server_id = mine.id
      JOIN probing p ON p.id = sm.monitor_id
      WHERE p.address IS NOT NULL AND monitor_may_serve(p.address, mine.inet)
      GROUP BY sm.server_id)
    SELECT mine.id, mine.address, mine.pair, mine.score, mine.recheck, mine.now_ms,
           a.slot + coalesce(pd.slot, 0) AS slot, a.slots + coalesce(pd.slots, 0) AS slots
    FROM mine CROSS JOIN anywhere a LEFT JOIN paired pd ON pd.server_id = mine.id
    ORDER BY mine.id)sql",
                     monitor_id);
  std::vector<AssignedServer> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    PlanServer ps{r.get<int64_t>(i, "id"), r.get<double>(i, "score"), std::nullopt};
    if (!r.is_null(i, 4)) ps.recheck_ms = r.get<int64_t>(i, "recheck");  // column 4
    out.push_back({ps.id, r.get<std::string>(i, "address"), r.get<std::string>(i, "pair"),
                   plan_slot(ps, static_cast<int>(r.get<int64_t>(i, "slot")),
                             static_cast<int>(r.get<int64_t>(i, "slots")),
                             r.get<int64_t>(i, "now_ms"), plan)});
  }
  return out;
}

std::set<int64_t> assigned_among(pg::Connection& conn, int monitor_id,
                                 const std::set<int64_t>& ids, std::chrono::seconds grace) {
  std::set<int64_t> out;
  if (ids.empty()) return out;
  auto r = conn.exec(std::string("SELECT s.id") + kMayHaveServed +
                         " AND s.id = ANY ($2::bigint[])"
                         " AND (s.deleted_at IS NULL OR s.deleted_at >= now() - make_interval(secs => $3))"
                         " AND (s.disabled_at IS NULL OR s.disabled_at >= now() - make_interval(secs => $3))",
                     monitor_id, pg::array_literal(ids), static_cast<int64_t>(grace.count()));
  for (int i = 0; i < r.rows(); ++i) out.insert(r.get<int64_t>(i, 0));
  return out;
}

IngestResult ingest(pg::Connection& conn, int monitor_id, const Batch& batch,
                    double max_clock_error_s) {
  IngestResult out;
  out.results = batch.probes.size();
  pg::Transaction tx(conn);
  // The monitor's row lock: its batches are applied one at a time, so each sees the scores
  // the one before it wrote.
  tx.exec("UPDATE monitors SET last_seen = now() WHERE id = $1", monitor_id);
  if (tx.exec("SELECT 1 FROM monitor_batches WHERE monitor_id = $1 AND batch_id = $2",
              monitor_id, batch.batch_id)
          .rows() > 0) {
    out.duplicate = true;
    tx.commit();
    return out;
  }

  std::set<int64_t> ids;
  for (const auto& p : batch.probes) ids.insert(p.server_id);
  struct Previous {
    double score = 0;
    int64_t updated_us = INT64_MIN;
  };
  std::unordered_map<int64_t, Previous> previous;
  auto r = tx.exec(
      "SELECT server_id, score, (extract(epoch FROM updated_at) * 1000000)::int8 AS us "
      "FROM server_scores WHERE monitor_id = $1 AND server_id = ANY ($2::bigint[])",
      monitor_id, pg::array_literal(ids));
  for (int i = 0; i < r.rows(); ++i) {
    previous[r.get<int64_t>(i, "server_id")] = {r.get<double>(i, "score"), r.get<int64_t>(i, "us")};
  }

  // Each server's results in the order they were taken, each from the score before it. A
  // result not newer than the last one applied for the server (sent again under another batch
  // id) is not applied twice.
  std::vector<const SubmittedProbe*> order;
  order.reserve(batch.probes.size());
  for (const auto& p : batch.probes) order.push_back(&p);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return a->started < b->started;
  });
  std::vector<ProbeRecord> records;
  records.reserve(order.size());
  for (const auto* p : order) {
    Previous& prev = previous[p->server_id];
    const int64_t us = micros(p->started);
    if (us <= prev.updated_us) continue;
    auto scored = score_submitted(*p, prev.score, max_clock_error_s);
    if (!scored.scored()) continue;
    prev = {scored.score, us};
    records.push_back(std::move(scored.record));
  }
  out.scored = records.size();
  tx.exec("INSERT INTO monitor_batches (monitor_id, batch_id, results, scored) VALUES ($1, $2, $3, $4)",
          monitor_id, batch.batch_id, static_cast<int64_t>(out.results),
          static_cast<int64_t>(out.scored));
  write_records(conn, monitor_id, records);
  tx.commit();
  return out;
}

void record_clock_state(pg::Connection& conn, int monitor_id, bool ok, std::string_view reason) {
  conn.exec(
      "UPDATE monitors SET clock_ok = $2, clock_reason = nullif($3, ''), clock_reported_at = now() "
      "WHERE id = $1",
      monitor_id, ok, std::string(reason.substr(0, 300)));
}

std::vector<MonitorShift> check_shifts(pg::Connection& conn, std::chrono::seconds window,
                                       const ShiftSettings& s) {
  auto r = conn.exec(
      "SELECT monitor_id, server_id, "
      "       percentile_cont(0.5) WITHIN GROUP (ORDER BY offset_s) AS offset_s "
      "FROM probe_log WHERE ts > now() - make_interval(secs => $1) AND offset_s IS NOT NULL "
      "GROUP BY monitor_id, server_id",
      static_cast<int64_t>(window.count()));
  std::vector<PairOffset> pairs;
  pairs.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    pairs.push_back({static_cast<int>(r.get<int64_t>(i, 0)), r.get<int64_t>(i, 1),
                     r.get<double>(i, 2)});
  }
  auto shifts = find_shifts(std::move(pairs), s);
  for (const auto& m : shifts) {
    if (!m.shifted) continue;
    const std::string reason = fmt::format(
        "results shifted {:+.1f} ms from the other monitors' (median over {} servers, limit "
        "{:.1f} ms)",
        m.shift_s * 1000, m.servers, s.threshold_s * 1000);
    conn.exec("SELECT demote_monitor($1, $2)", m.monitor_id, reason);
  }
  return shifts;
}

int64_t prune_batches(pg::Connection& conn, std::chrono::seconds keep) {
  auto r = conn.exec(
      "WITH d AS (DELETE FROM monitor_batches WHERE received_at < now() - make_interval(secs => $1) "
      "RETURNING 1) SELECT count(*) FROM d",
      static_cast<int64_t>(keep.count()));
  return r.get<int64_t>(0, 0);
}

}  // namespace timepool::monitor::api
