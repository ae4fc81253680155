// How long the score page of a server with a week of history takes to render.
//
// Makes a fresh database (tests/support TestDb, on the cluster named by PGHOST/PGPORT/PGUSER),
// fills a week of probe_log for one server (5 monitors, each probing every 6 minutes: 50 probes
// an hour, like the public pool, 8,400 rows), then times
//   1. dispatch() of GET /scores/<address> on one connection: the whole request as the daemon
//      handles it (session lookup, queries, SVG, HTML), without the network;
//   2. the same request over HTTP against the real server wiring (routes.cpp) on loopback.
// Prints min / median / p95 / max in milliseconds. Run with bench/web/run.sh.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/web/timing.hpp"
#include "tests/support/pg_test_db.hpp"
#include "web/app.hpp"
#include "web/graph.hpp"
#include "web/routes.hpp"

using namespace timepool;
using Clock = std::chrono::steady_clock;

namespace {

void report(const char* what, const std::vector<double>& ms, size_t bytes) {
  bench::report(what, ms, bytes, 34);
}

// A week of probe_log for 192.0.2.77 and none for 192.0.2.78.
void fill_history(pg::Connection& conn) {
  conn.exec_script(R"(
    INSERT INTO monitors (name, key_hash, status)
      SELECT 'monitor-' || g, 'key' || g, 'active' FROM generate_series(1, 5) g;
    INSERT INTO servers (address, netspeed, country, score) VALUES ('192.0.2.77', 12000, 'de', 18.5);
    INSERT INTO servers (address, netspeed, country, score) VALUES ('192.0.2.78', 12000, 'de', 0);
    SELECT probe_log_ensure_partitions(current_date - 8, 9);
    INSERT INTO probe_log (ts, server_id, monitor_id, step, score, offset_s, rtt_s, stratum, leap, error)
      SELECT now() - make_interval(mins => 6 * k) - make_interval(secs => m.id * 67),
             s.id, m.id,
             CASE WHEN random() < 0.02 THEN -5 ELSE 1 END,
             least(20, 10 + 10 * random()),
             CASE WHEN random() < 0.02 THEN NULL ELSE (random() - 0.5) * 0.01 END,
             0.02 + random() * 0.01, 2, 0,
             CASE WHEN random() < 0.02 THEN 'timeout' END
      FROM generate_series(0, 7 * 24 * 10 - 1) k, monitors m, servers s WHERE s.address = '192.0.2.77';
    INSERT INTO server_scores (server_id, monitor_id, score, step, offset_s, rtt_s, stratum, leap)
      SELECT s.id, m.id, 18, 1, 0.001, 0.02, 2, 0 FROM monitors m, servers s
      WHERE s.address = '192.0.2.77';
    ANALYZE;
  )");
  auto rows = conn.exec("SELECT count(*) FROM probe_log").get<int64_t>(0, 0);
  std::printf("probe_log rows for the server: %lld (one week, 5 monitors)\n",
              static_cast<long long>(rows));
}

// The chart query alone: the database's share of the page.
void time_chart_query(pg::Connection& conn, int iterations) {
  auto sid = conn.exec("SELECT id FROM servers WHERE address = '192.0.2.77'").get<int64_t>(0, 0);
  size_t n = 0;
  auto ms = bench::time_runs(iterations, [&] {
    auto r = conn.exec(
        "SELECT monitor_id, date_bin(make_interval(secs => 2520), ts, 'epoch'::timestamptz), "
        "min(score), max(score), min(offset_s), max(offset_s) FROM probe_log "
        "WHERE server_id = $1 AND ts >= now() - interval '7 days' GROUP BY 1, 2",
        sid);
    n = static_cast<size_t>(r.rows());
  });
  report("chart query alone (rows returned)", ms, n);
}

void time_svg(int iterations) {
  std::vector<web::ChartSeries> series(5);
  for (int m = 0; m < 5; ++m) {
    series[m].name = "monitor-" + std::to_string(m);
    for (int b = 0; b < 240; ++b) {
      series[m].points.push_back({b * 2520.0, 15.0 + m});
      series[m].points.push_back({b * 2520.0 + 1260, 18.0});
    }
  }
  web::ChartSpec spec;
  spec.t1 = 240 * 2520.0;
  spec.y_min = -20;
  spec.y_max = 20;
  size_t bytes = 0;
  auto ms = bench::time_runs(iterations, [&] { bytes = web::svg_chart(spec, series).size(); });
  report("one chart's SVG alone (5 x 480 points)", ms, bytes);
}

void time_dispatch(web::App& app, pg::Connection& conn, const char* what, const std::string& path,
                   int iterations) {
  size_t bytes = 0;
  auto ms = bench::time_dispatch(app, conn, path, "", iterations, bytes);
  report(what, ms, bytes);
}

// The same request over HTTP against the real server wiring on loopback.
void time_http(web::App& app, const std::string& conninfo, int iterations) {
  size_t bytes = 0;
  auto ms = bench::time_http(app, conninfo, "/scores/192.0.2.77", "", false, iterations, bytes);
  report("score page, HTTP on loopback", ms, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
  test::TestDb db;
  auto conn = db.connect();
  fill_history(conn);
  web::App app;
  app.cfg.pool_domain = "pool.example";
  app.probe = [](const address::Address&, uint16_t) { return web::ProbeReport{}; };
  time_chart_query(conn, iterations);
  time_svg(iterations);
  time_dispatch(app, conn, "score page, no history, dispatch()", "/scores/192.0.2.78", iterations);
  time_dispatch(app, conn, "score page, dispatch()", "/scores/192.0.2.77", iterations);
  time_http(app, db.conninfo(), iterations);
  return 0;
}
