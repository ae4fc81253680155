#include <catch2/catch.hpp>

#include "core/pg.hpp"
#include "monitor/api/probe_log.hpp"
#include "own_cluster.hpp"
#include "tests/support/pg_test_db.hpp"

using namespace timepool;
using namespace timepool::monitor;
using namespace std::chrono_literals;

namespace {

int64_t add_server(pg::Connection& c, const std::string& addr) {
  return c.exec("INSERT INTO servers (address, country) VALUES ($1::inet, 'de') RETURNING id", addr)
      .get<int64_t>(0, 0);
}

int add_monitor(pg::Connection& c, const std::string& name, const std::string& status) {
  return c.exec("INSERT INTO monitors (name, key_hash, status) VALUES ($1, $2, $3) RETURNING id",
                name, "hash-" + name, status)
      .get<int32_t>(0, 0);
}

ProbeRecord record(int64_t server, int i, double score) {
  ProbeRecord r;
  r.server_id = server;
  r.ts = ntp::TimePoint(std::chrono::system_clock::now().time_since_epoch()) - std::chrono::seconds(1000 - i);
  r.ts = std::chrono::time_point_cast<std::chrono::microseconds>(r.ts);
  r.step = 1;
  r.score = score;
  r.offset_s = 0.001 * i;
  r.rtt_s = 0.0002;
  r.stratum = 2;
  r.leap = 0;
  if (i % 7 == 0) r.error = "odd \"text\", with \\ and {braces}";
  return r;
}

}  // namespace

TEST_CASE("store: timestamps", "[store]") {
  CHECK(timestamp_text(ntp::TimePoint(std::chrono::seconds(1700000000) + std::chrono::microseconds(5))) ==
        "2023-11-14 22:13:20.000005+00");
}

TEST_CASE("store: a batch is written once, a re-sent batch changes nothing", "[store][db]") {
  test::OwnCluster cluster;
  test::TestDb db;
  auto c = db.connect();
  const int64_t s1 = add_server(c, "192.0.2.1");
  const int64_t s2 = add_server(c, "192.0.2.2");
  const int m = add_monitor(c, "m1", "active");
  std::vector<ProbeRecord> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(record(i % 2 ? s1 : s2, i, 10 + i));
  batch.push_back(record(999999, 11, 1));  // a server that does not exist: skipped
  api::write_batch(c, m, batch);
  api::write_batch(c, m, batch);
  CHECK(c.exec("SELECT count(*) FROM probe_log").get<int64_t>(0, 0) == 10);
  CHECK(c.exec("SELECT count(*) FROM probe_log WHERE error LIKE '%{braces}%'").get<int64_t>(0, 0) == 2);
  auto r = c.exec("SELECT score, probes FROM server_scores WHERE server_id = $1 AND monitor_id = $2", s1, m);
  REQUIRE(r.rows() == 1);
  CHECK(r.get<double>(0, "score") == 19);  // the newest of s1's records (i = 9)
  CHECK(r.get<int64_t>(0, "probes") == 5);  // not 10: the second write changed nothing
  // The pool score follows the only active monitor.
  CHECK(c.exec("SELECT score FROM servers WHERE id = $1", s1).get<double>(0, 0) == 19);
  CHECK(c.exec("SELECT score FROM servers WHERE id = $1", s2).get<double>(0, 0) == 18);
}
