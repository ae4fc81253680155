// A flush during a database outage stays queued and is delivered exactly once when the
// database returns. This test stops and starts a PostgreSQL server, so it runs a cluster of its
// own (tests/support/pg-cluster.sh) in its own folder, never the shared test cluster.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "core/password.hpp"
#include "server/query_stats.hpp"
#include "tests/support/pg_test_db.hpp"

using namespace timepool;
using namespace timepool::stats;

namespace {

int sh(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Our own cluster: started by pg-cluster.sh, stopped and started again by pg_ctl (the script's
// start would make a fresh cluster), removed by pg-cluster.sh at the end.
class OwnCluster {
 public:
  OwnCluster() : dir_("/tmp/tp-stats-outage-" + password::random_token(4)) {
    const char* src = std::getenv("TIMEPOOL_SOURCE_DIR");
    script_ = std::string(src ? src : ".") + "/tests/support/pg-cluster.sh";
    if (sh("bash " + script_ + " start " + dir_ + " >/dev/null") != 0) {
      throw std::runtime_error("cannot start a cluster in " + dir_);
    }
    setenv("PGHOST", dir_.c_str(), 1);
    setenv("PGPORT", "5432", 1);
    setenv("PGUSER", "postgres", 1);
  }
  ~OwnCluster() { sh("bash " + script_ + " stop " + dir_ + " >/dev/null"); }
  int stop() { return pg_ctl("-m fast -w stop"); }
  int start() {
    return pg_ctl("-l " + dir_ + "/server2.log -w -o \"-p 5432 -k " + dir_ +
                  " -c listen_addresses='' -c fsync=off\" start");
  }

 private:
  int pg_ctl(const std::string& args) {
    std::string as_owner = getuid() == 0 ? "runuser -u postgres -- " : "";
    return sh(as_owner + "\"$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl\" -D " +
              dir_ + "/data " + args + " >/dev/null");
  }
  std::string dir_, script_;
};

}  // namespace

TEST_CASE("a flush during an outage is delivered once when the database returns",
          "[stats_outage]") {
  OwnCluster cluster;
  test::TestDb db;
  int64_t total_before = 0;
  {
    auto c = db.connect();
    int32_t de = c.exec("SELECT id FROM zones WHERE name = 'de'").get<int32_t>(0, 0);
    QueryStats stats;
    uint32_t z = stats.zone_slot(de);
    Recorder& rec = stats.add_recorder();
    // No backoff: every flush below tries the database at once.
    StatsFlusher flusher(stats, db.conninfo(), "dns-outage",
                         {std::chrono::milliseconds(0), std::chrono::milliseconds(0)});
    int64_t m0 = current_minute() - 4;
    int64_t now = (m0 + 4) * 60 + 30;

    for (int i = 0; i < 10; ++i) rec.count_query(m0, z, 1, 0);
    auto r = flusher.flush(now);
    CHECK(r.written == 1);
    REQUIRE(r.error.empty());

    REQUIRE(cluster.stop() == 0);
    for (int i = 0; i < 20; ++i) rec.count_query(m0 + 1, z, 1, 0);
    r = flusher.flush(now);  // the open connection breaks
    CHECK(r.written == 0);
    CHECK(r.queued == 1);
    CHECK_FALSE(r.error.empty());
    for (int i = 0; i < 30; ++i) rec.count_query(m0 + 2, z, 1, 0);
    r = flusher.flush(now);  // reconnecting fails
    CHECK(r.written == 0);
    CHECK(r.queued == 2);
    CHECK_FALSE(r.error.empty());

    REQUIRE(cluster.start() == 0);
    r = flusher.flush(now);
    CHECK(r.written == 2);
    CHECK(r.queued == 0);
    CHECK(r.error.empty());
    r = flusher.flush(now);  // nothing new, nothing twice
    CHECK(r.written == 0);

    auto c2 = db.connect();
    auto rows = c2.exec(
        "SELECT (extract(epoch FROM minute)::bigint / 60 - $1)::bigint AS m, count "
        "FROM dns_query_counts WHERE zone_id = $2 ORDER BY minute", m0, de);
    REQUIRE(rows.rows() == 3);
    CHECK(rows.get<int64_t>(0, "m") == 0);
    CHECK(rows.get<int64_t>(0, "count") == 10);
    CHECK(rows.get<int64_t>(1, "count") == 20);
    CHECK(rows.get<int64_t>(2, "count") == 30);
    total_before = c2.exec("SELECT count(*) FROM dns_stats_flushes").get<int64_t>(0, 0);
  }
  CHECK(total_before == 3);
}
