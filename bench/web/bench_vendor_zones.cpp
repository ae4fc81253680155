// How long /admin and a vendor zone page take with 1,000 vendor zones holding 28 days of
// minute counts, against the same pages with one such zone, and how long one round of the
// findings job takes over all of them.
//
// Makes a fresh database (tests/support TestDb, on the cluster named by PGHOST/PGPORT/PGUSER)
// with an admin and a vendor account, then
//   1. one approved vendor zone with 28 days of counts (every minute, as the DNS servers
//      write them, hourly sums beside): one findings round, then /admin and the zone page;
//   2. 999 more zones (40 million minute rows in all; a third of the zones with a weekly
//      burst, each at its own time): one findings round (timed), then the same pages.
// Pages are timed through dispatch() on one connection (the whole request as the daemon
// handles it, without the network) and over HTTP on loopback through the real server wiring.
// Prints min / median / p95 / max in milliseconds. Run with bench/web/run.sh vendor-zones.
#include <algorithm>
#include <optional>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <httplib.h>

#include "bench/web/timing.hpp"
#include "core/password.hpp"
#include "tests/support/pg_test_db.hpp"
#include "web/app.hpp"
#include "web/findings_job.hpp"
#include "web/routes.hpp"
#include "web/zone_load.hpp"

using namespace timepool;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kDays = 28;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void report(const char* what, const std::vector<double>& ms, size_t bytes) {
  bench::report(what, ms, bytes, 44);
}

// Zones first..last (1-based numbers in their names), approved for account `vendor`, with
// kDays of counts: 20-69 queries a minute, and for every third zone 500 more once a week at a
// time of its own. Minute rows go in without the table's indexes (rebuilt after), as a bulk
// load would.
void seed(pg::Connection& c, int first, int last, int64_t vendor, bool bulk) {
  c.exec(
      "INSERT INTO zones (name, kind, parent_id, description) "
      "SELECT 'fleet' || lpad(g::text, 4, '0'), 'vendor', (SELECT id FROM zones WHERE kind = "
      "'global'), 'Fleet ' || g FROM generate_series($1::int, $2::int) g",
      first, last);
  c.exec(
      "INSERT INTO vendor_zones (name, account_id, organization, contact, device_count, "
      "client_type, status, zone_id, decided_at) "
      "SELECT z.name, $3, 'Fleet Inc', 'ops@fleet.test', 50000, 'ntp', 'approved', z.id, now() "
      "FROM zones z WHERE z.kind = 'vendor' AND z.name BETWEEN 'fleet' || lpad($1::text, 4, '0') AND 'fleet' || lpad($2::text, 4, '0')",
      first, last, vendor);
  if (bulk) {
    // Unlogged and without indexes while 40 million rows go in (the reads measured are the
    // same); the indexes are built after.
    c.exec("ALTER TABLE dns_query_counts SET UNLOGGED");
    c.exec("ALTER TABLE dns_query_counts DROP CONSTRAINT dns_query_counts_pkey");
    c.exec("DROP INDEX dns_query_counts_minute_idx");
  }
  // Integer minutes and hours (Unix epoch / 60, / 3600): cheap to generate by the million.
  // Weekday of minute k: (k / 1440 + 4) % 7, 0 = Sunday (1970-01-01 was a Thursday).
  int64_t to = static_cast<int64_t>(web::now_epoch()) / 60;
  int64_t from = to - int64_t{kDays} * 1440;
  c.exec(
      "INSERT INTO dns_query_counts (minute, zone_id, qtype, rcode, count) "
      "SELECT to_timestamp(k * 60), z.id, 1, 0, 20 + z.id % 50 + CASE WHEN z.id % 3 = 0 "
      "  AND (k / 1440 + 4) % 7 = z.id % 7 AND k % 1440 = (z.id * 37) % 1440 THEN 500 ELSE 0 END "
      "FROM zones z, generate_series($3::bigint, $4::bigint) k "
      "WHERE z.kind = 'vendor' AND z.name BETWEEN 'fleet' || lpad($1::text, 4, '0') AND "
      "'fleet' || lpad($2::text, 4, '0')",
      first, last, from, to - 1);
  if (bulk) {
    c.exec("ALTER TABLE dns_query_counts ADD PRIMARY KEY (zone_id, minute, qtype, rcode)");
    c.exec("CREATE INDEX dns_query_counts_minute_idx ON dns_query_counts (minute)");
  }
  c.exec(
      "INSERT INTO dns_query_counts_hourly (hour, zone_id, qtype, rcode, count) "
      "SELECT to_timestamp(h * 3600), z.id, 1, 0, 60 * (20 + z.id % 50) + CASE WHEN z.id % 3 = 0 "
      "  AND (h / 24 + 4) % 7 = z.id % 7 AND h % 24 = (z.id * 37) % 1440 / 60 THEN 500 ELSE 0 END "
      "FROM zones z, generate_series($3::bigint, $4::bigint) h "
      "WHERE z.kind = 'vendor' AND z.name BETWEEN 'fleet' || lpad($1::text, 4, '0') AND "
      "'fleet' || lpad($2::text, 4, '0')",
      first, last, from / 60, (to - 1) / 60);
  c.exec("ANALYZE");
}

std::string session(pg::Connection& c, int64_t account) {
  std::string token = password::random_token(32);
  c.exec(
      "INSERT INTO sessions (token_hash, account_id, csrf_token, expires_at) "
      "VALUES ($1, $2, $3, now() + interval '1 day')",
      password::hash_token(token), account, password::random_token(32));
  return token;
}

// Holds the shared benchmark lock (flock on $TIMEPOOL_BENCH_LOCK, if set) while timing, so
// seeding runs outside it and the measurements never overlap another benchmark.
class BenchLock {
 public:
  BenchLock() {
    const char* path = std::getenv("TIMEPOOL_BENCH_LOCK");
    if (!path || !*path) return;
    fd_ = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~BenchLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  BenchLock(const BenchLock&) = delete;
  BenchLock& operator=(const BenchLock&) = delete;

 private:
  int fd_ = -1;
};

struct Pages {
  const web::App& app;
  pg::Connection& conn;
  int iterations;

  void time(const char* what, const std::string& path, const std::string& token) {
    size_t bytes = 0;
    auto ms = bench::time_dispatch(app, conn, path, token, iterations, bytes);
    report(what, ms, bytes);
  }
};

void time_http(const web::App& app, const std::string& conninfo, const std::string& path,
               const std::string& token, int iterations, const char* what) {
  size_t bytes = 0;
  auto ms = bench::time_http(app, conninfo, path, token, true, iterations, bytes);
  report(what, ms, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 50;
  int zones = argc > 2 ? std::atoi(argv[2]) : 1000;
  test::TestDb db;
  auto conn = db.connect();
  auto admin = conn.exec(
      "INSERT INTO accounts (email, password_hash, role) VALUES ('admin@bench.test', 'x', "
      "'admin') RETURNING id").get<int64_t>(0, 0);
  auto vendor = conn.exec(
      "INSERT INTO accounts (email, password_hash, role) VALUES ('vendor@bench.test', 'x', "
      "'vendor') RETURNING id").get<int64_t>(0, 0);
  std::string admin_token = session(conn, admin), vendor_token = session(conn, vendor);

  web::App app;
  app.cfg.pool_domain = "pool.example";
  app.probe = [](const address::Address&, uint16_t) { return web::ProbeReport{}; };
  web::FindingsConfig fcfg;
  Pages pages{app, conn, iterations};

  auto t0 = Clock::now();
  seed(conn, 1, 1, vendor, false);
  std::printf("1 vendor zone, %d days of minute counts: seeded in %.1f s\n", kDays, since(t0));
  std::optional<BenchLock> lock;
  lock.emplace();
  auto run = web::run_findings(conn, fcfg, web::now_epoch());
  std::printf("findings round: %d zones, %d findings in %.3f s\n", run.zones, run.findings,
              run.seconds);
  auto first = conn.exec("SELECT id FROM vendor_zones WHERE name = 'fleet0001'").get<int64_t>(0, 0);
  std::string zone_page = "/vendor/" + std::to_string(first);
  pages.time("/admin, 1 vendor zone, dispatch()", "/admin", admin_token);
  pages.time("vendor zone page, 1 zone, dispatch()", zone_page, vendor_token);

  lock.reset();
  t0 = Clock::now();
  seed(conn, 2, zones, vendor, true);
  auto rows = conn.exec("SELECT count(*) FROM dns_query_counts").get<int64_t>(0, 0);
  std::printf("%d vendor zones, %lld minute rows: seeded in %.1f s\n", zones,
              static_cast<long long>(rows), since(t0));
  lock.emplace();
  run = web::run_findings(conn, fcfg, web::now_epoch());
  std::printf("findings round: %d zones, %d findings in %.1f s (%.1f ms a zone)\n", run.zones,
              run.findings, run.seconds, run.seconds * 1000 / std::max(1, run.zones));
  std::fflush(stdout);
  pages.time("/admin, all zones, dispatch()", "/admin", admin_token);
  pages.time("vendor zone page, all zones, dispatch()", zone_page, vendor_token);
  // A zone with a finding (every third has a weekly burst).
  auto bursty = conn.exec("SELECT v.id FROM vendor_zones v JOIN zone_findings f ON f.zone_id = "
                          "v.zone_id ORDER BY v.id LIMIT 1");
  if (bursty.rows() == 1) {
    pages.time("vendor zone page with a finding, dispatch()",
               "/vendor/" + std::to_string(bursty.get<int64_t>(0, 0)), vendor_token);
  }
  pages.time("/vendor zone list (all zones), dispatch()", "/vendor", vendor_token);
  time_http(app, db.conninfo(), "/admin", admin_token, iterations, "/admin, all zones, HTTP");
  time_http(app, db.conninfo(), zone_page, vendor_token, iterations,
            "vendor zone page, all zones, HTTP");
  return 0;
}
