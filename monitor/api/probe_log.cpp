#include "monitor/api/probe_log.hpp"

#include <set>

#include "core/pg.hpp"

namespace timepool::monitor::api {

namespace {

// One column of the batch as an array parameter. Numbers are sent as the shortest text that
// reads back exactly.
template <typename F>
pg::ArrayBuilder column(std::span<const ProbeRecord> batch, F get) {
  pg::ArrayBuilder a;
  for (const auto& r : batch) a.add(get(r));
  return a;
}

// Both writes share one statement so the arrays are sent once. server_scores keeps the
// newest record of each server; the WHERE on the upsert makes a re-sent batch change nothing.
constexpr const char* kWriteSql = R"sql(
WITH t AS (
  SELECT * FROM unnest($2::timestamptz[], $3::bigint[], $4::float8[], $5::float8[],
                       $6::float8[], $7::float8[], $8::int2[], $9::int2[], $10::text[])
         AS t(ts, server_id, step, score, offset_s, rtt_s, stratum, leap, error)
  WHERE EXISTS (SELECT 1 FROM servers s WHERE s.id = t.server_id)
), logged AS (
  INSERT INTO probe_log (ts, server_id, monitor_id, step, score, offset_s, rtt_s, stratum, leap, error)
  SELECT ts, server_id, $1, step, score, offset_s, rtt_s, stratum, leap, error FROM t
  ON CONFLICT DO NOTHING
  RETURNING server_id
), latest AS (
  SELECT DISTINCT ON (server_id) server_id, ts, step, score, offset_s, rtt_s, stratum, leap, error,
         count(*) OVER (PARTITION BY server_id) AS n
  FROM t ORDER BY server_id, ts DESC
)
INSERT INTO server_scores AS ss (server_id, monitor_id, score, step, offset_s, rtt_s, stratum, leap,
                                 error, probes, updated_at)
SELECT server_id, $1, score, step, offset_s, rtt_s, stratum, leap, error, n, ts FROM latest
ON CONFLICT (server_id, monitor_id) DO UPDATE
  SET score = EXCLUDED.score, step = EXCLUDED.step, offset_s = EXCLUDED.offset_s,
      rtt_s = EXCLUDED.rtt_s, stratum = EXCLUDED.stratum, leap = EXCLUDED.leap,
      error = EXCLUDED.error, probes = ss.probes + EXCLUDED.probes, updated_at = EXCLUDED.updated_at
  WHERE ss.updated_at < EXCLUDED.updated_at
)sql";

}  // namespace

void write_records(pg::Connection& conn, int monitor_id, std::span<const ProbeRecord> batch) {
  if (batch.empty()) return;
  std::set<int64_t> ids;
  for (const auto& r : batch) ids.insert(r.server_id);
  conn.exec(kWriteSql, monitor_id,
            column(batch, [](const ProbeRecord& r) { return timestamp_text(r.ts); }),
            column(batch, [](const ProbeRecord& r) { return r.server_id; }),
            column(batch, [](const ProbeRecord& r) { return r.step; }),
            column(batch, [](const ProbeRecord& r) { return r.score; }),
            column(batch, [](const ProbeRecord& r) { return r.offset_s; }),
            column(batch, [](const ProbeRecord& r) { return r.rtt_s; }),
            column(batch, [](const ProbeRecord& r) { return r.stratum; }),
            column(batch, [](const ProbeRecord& r) { return r.leap; }),
            column(batch, [](const ProbeRecord& r) { return r.error; }));
  // The pool score of each server touched (its NOTIFY, if it crosses 10, comes from the
  // servers trigger when this commits).
  conn.exec("SELECT refresh_pool_score($1::bigint[])", pg::array_literal(ids));
}

void write_batch(pg::Connection& conn, int monitor_id, std::span<const ProbeRecord> batch) {
  if (batch.empty()) return;
  pg::Transaction tx(conn);
  write_records(conn, monitor_id, batch);
  tx.exec("UPDATE monitors SET last_seen = now() WHERE id = $1", monitor_id);
  tx.commit();
}

}  // namespace timepool::monitor::api
