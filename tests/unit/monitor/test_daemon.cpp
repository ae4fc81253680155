// The monitor daemon against a real monitor API (monitor/api, plain HTTP on loopback) on a
// database of its own, probing fake NTP servers on loopback.
#include <catch2/catch.hpp>

#include <cmath>
#include <thread>

#include "core/password.hpp"
#include "core/pg.hpp"
#include "monitor/api/server.hpp"
#include "monitor/daemon.hpp"
#include "own_cluster.hpp"
#include "tests/support/fake_ntp_server.hpp"
#include "tests/support/pg_test_db.hpp"
#include "tests/support/process.hpp"

using namespace timepool;
using namespace timepool::monitor;
using namespace std::chrono_literals;
using Fake = timepool::test::FakeNtpServer;

namespace {

struct Setup {
  test::OwnCluster cluster;
  test::TestDb db;
  pg::Connection conn = db.connect();
  test::TempDir spool{"tp-spool"};
  std::string key = password::random_token(32);
  int monitor_id = 0;
  std::unique_ptr<api::ApiServer> api;
  uint16_t api_port = 0;

  explicit Setup(const std::string& status = "active") {
    monitor_id = conn.exec("INSERT INTO monitors (name, key_hash, status) VALUES ('unit', $1, $2) RETURNING id",
                           password::hash_token(key), status)
                     .get<int32_t>(0, 0);
    start_api();
  }
  // The API on its port of the first start (any free one then).
  void start_api() {
    api::ApiSettings a;
    a.listen = net::Endpoint(*address::parse("127.0.0.1"), api_port);
    a.plain_http = true;
    a.workers = 2;
    a.interval = 300ms;
    a.plan.min_spacing = 10ms;
    a.refresh = 200ms;
    a.metrics_listen.reset();
    api = std::make_unique<api::ApiServer>(a, db.conninfo());
    api_port = api->start();
  }
  void stop_api() { api.reset(); }
  int64_t add_server(const std::string& addr) {
    return conn.exec("INSERT INTO servers (address, country) VALUES ($1::inet, 'de') RETURNING id", addr)
        .get<int64_t>(0, 0);
  }
  Settings settings(uint16_t port) const {
    Settings s;
    s.key = key;
    s.url = "http://127.0.0.1:" + std::to_string(api_port);
    s.request_timeout = 1000ms;
    s.spool_dir = spool.path();
    s.ntp_port = port;
    s.new_server_within = 50ms;
    s.probe.spacing = 10ms;
    s.probe.timeout = 80ms;
    s.batch_interval = 50ms;
    s.metrics_listen = net::Endpoint::parse("127.0.0.1:0");
    return s;
  }
  int64_t count(const std::string& sql) { return conn.exec(sql).get<int64_t>(0, 0); }
};

ClockReading unsynced() { return ClockReading{false, 16000000us, 16000000us, ""}; }
ClockReading synced() { return ClockReading{true, 1000us, 2000us, ""}; }

// Every score of the server follows 20*(1-0.95^n): each result applied once, in order.
void check_series(pg::Connection& c, int64_t sid) {
  auto r = c.exec("SELECT score, step FROM probe_log WHERE server_id = $1 ORDER BY ts", sid);
  for (int i = 0; i < r.rows(); ++i) {
    INFO(i);
    CHECK(r.get<double>(i, "step") == 1);
    CHECK(r.get<double>(i, "score") == Approx(20 * (1 - std::pow(0.95, i + 1))).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE("daemon: refuses a key the API does not know", "[daemon][db]") {
  Setup s;
  Settings st = s.settings(123);
  st.key = "not-the-key";
  Daemon d(st, synced);
  CHECK_THROWS_AS(d.start(), AuthError);
}

TEST_CASE("daemon: a healthy server's score rises past 10 in 14 probes", "[daemon][db]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  const int64_t sid = s.add_server("127.0.0.1");
  auto listener = s.db.connect();
  listener.listen("timepool_dns");
  Daemon d(s.settings(ok.port()), synced);
  d.start();
  std::thread t([&] { d.run(); });
  const bool crossed = test::wait_until([&] { return s.count("SELECT count(*) FROM probe_log") >= 16; }, 30s);
  d.stop();
  t.join();
  REQUIRE(crossed);
  // Crossing 10 put the server into DNS: the DNS servers were told, once.
  auto n = listener.wait_notification(2s);
  REQUIRE(n);
  CHECK(n->channel == "timepool_dns");
  CHECK(n->payload == "servers");
  CHECK_FALSE(listener.wait_notification(300ms));
  check_series(s.conn, sid);
  auto r = s.conn.exec("SELECT score FROM probe_log WHERE server_id = $1 ORDER BY ts", sid);
  for (int i = 0; i < r.rows(); ++i) CHECK((r.get<double>(i, 0) >= 10) == (i + 1 >= 14));
  CHECK(s.conn.exec("SELECT score FROM servers WHERE id = $1", sid).get<double>(0, 0) >= 10);
  const std::string m = d.metrics_text();
  CHECK(m.find("timepool_monitor_probes_total{result=\"ok\"}") != std::string::npos);
  CHECK(m.find("timepool_monitor_own_clock_ok 1") != std::string::npos);
  CHECK(m.find("timepool_monitor_api_up 1") != std::string::npos);
  CHECK(d.metrics_port() != 0);
  CHECK(d.monitor_name() == "unit");
}

TEST_CASE("daemon: with the own clock unsynchronized nothing is submitted", "[daemon][db][clock]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  s.add_server("127.0.0.1");
  std::atomic<bool> good{false};
  Daemon d(s.settings(ok.port()), [&] { return good ? synced() : unsynced(); });
  d.start();
  std::thread t([&] { d.run(); });
  // Probing goes on...
  const bool probed = test::wait_until([&] { return d.metrics().probes_unscored.load() >= 5; }, 20s);
  std::this_thread::sleep_for(300ms);  // a few batch intervals
  CHECK(probed);
  CHECK(d.metrics().probes[static_cast<std::size_t>(scoring::Outcome::kSample)] >= 5);
  // ...but nothing is submitted, nothing scored.
  CHECK(d.metrics().results_submitted.load() == 0);
  CHECK(s.count("SELECT count(*) FROM probe_log") == 0);
  CHECK(d.metrics_text().find("timepool_monitor_own_clock_ok 0") != std::string::npos);
  // Once the clock is good, results flow again.
  good = true;
  const bool resumed = test::wait_until([&] { return s.count("SELECT count(*) FROM probe_log") >= 2; }, 20s);
  d.stop();
  t.join();
  CHECK(resumed);
}

TEST_CASE("daemon: a clock whose maximum error is too large does not count", "[daemon][db][clock]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  s.add_server("127.0.0.1");
  Daemon d(s.settings(ok.port()), [] { return ClockReading{true, 1000us, 500000us, ""}; });
  d.start();
  std::thread t([&] { d.run(); });
  CHECK(test::wait_until([&] { return d.metrics().probes_unscored.load() >= 3; }, 20s));
  d.stop();
  t.join();
  CHECK(s.count("SELECT count(*) FROM probe_log") == 0);
}

TEST_CASE("daemon: trust_local_clock submits despite an unsynchronized kernel", "[daemon][db][clock]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  s.add_server("127.0.0.1");
  Settings st = s.settings(ok.port());
  st.trust_local_clock = true;
  Daemon d(st, unsynced);
  d.start();
  std::thread t([&] { d.run(); });
  const bool wrote = test::wait_until([&] { return s.count("SELECT count(*) FROM probe_log") >= 2; }, 20s);
  const std::string m = d.metrics_text();
  d.stop();
  t.join();
  CHECK(wrote);
  CHECK(m.find("timepool_monitor_own_clock_trusted 1") != std::string::npos);
}

TEST_CASE("daemon: a reload turns trust_local_clock on while probing", "[daemon][db][clock]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  s.add_server("127.0.0.1");
  const Settings st = s.settings(ok.port());
  Daemon d(st, unsynced);
  d.start();
  std::thread t([&] { d.run(); });
  CHECK(test::wait_until([&] { return d.metrics().probes_unscored.load() >= 2; }, 20s));
  CHECK(s.count("SELECT count(*) FROM probe_log") == 0);
  Settings fresh = st;
  fresh.trust_local_clock = true;
  fresh.ntp_port = 1;  // restart only: ignored
  d.reload(fresh);
  const bool wrote = test::wait_until([&] { return s.count("SELECT count(*) FROM probe_log") >= 2; }, 20s);
  d.stop();
  t.join();
  CHECK(wrote);
  CHECK(d.metrics_text().find("timepool_monitor_own_clock_trusted 1") != std::string::npos);
}

TEST_CASE("daemon: new servers are picked up, disabled ones dropped - pending does not probe", "[daemon][db]") {
  Setup s("pending");
  Fake ok(Fake::Behaviour::kGood);
  Daemon d(s.settings(ok.port()), synced);
  d.start();
  std::thread t([&] { d.run(); });
  const int64_t sid = s.add_server("127.0.0.1");
  std::this_thread::sleep_for(800ms);
  CHECK(ok.requests() == 0);  // pending: not probing
  s.conn.exec("UPDATE monitors SET status = 'testing'");
  CHECK(test::wait_until([&] { return s.count("SELECT count(*) FROM probe_log") >= 2; }, 10s));
  s.conn.exec("UPDATE servers SET disabled_at = now() WHERE id = $1", sid);
  std::this_thread::sleep_for(600ms);  // refresh + in-flight probe
  const auto before = ok.requests();
  std::this_thread::sleep_for(1000ms);
  CHECK(ok.requests() == before);
  d.stop();
  t.join();
  // A testing monitor's scores do not make the pool score.
  CHECK(s.conn.exec("SELECT score FROM servers WHERE id = $1", sid).get<double>(0, 0) == 0);
}

TEST_CASE("daemon: results wait in the spool while the API is away, across a restart of the "
          "monitor, and arrive once", "[daemon][db][spool]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  const int64_t sid = s.add_server("127.0.0.1");
  const Settings st = s.settings(ok.port());
  uint64_t submitted = 0;
  {
    Daemon d(st, synced);
    d.start();
    std::thread t([&] { d.run(); });
    REQUIRE(test::wait_until([&] { return s.count("SELECT count(*) FROM probe_log") >= 3; }, 20s));
    s.stop_api();
    // Probing goes on; the batches wait on disk.
    REQUIRE(test::wait_until([&] { return d.metrics().spool_batches.load() >= 3; }, 20s));
    d.stop();
    t.join();
    submitted += d.metrics().results_submitted.load();
    CHECK(d.metrics_text().find("timepool_monitor_api_up 0") != std::string::npos);
  }
  {
    // The monitor starts again while the API is still away: it probes from its saved
    // assignment and adds to the spool.
    Daemon d(st, synced);
    d.start();
    std::thread t([&] { d.run(); });
    REQUIRE(test::wait_until([&] { return d.metrics().batches_sealed.load() >= 3; }, 20s));
    s.start_api();
    REQUIRE(test::wait_until([&] { return d.metrics().spool_batches.load() == 0 &&
                                          d.metrics().batches_sent.load() >= 3; }, 20s));
    d.stop();
    t.join();
    submitted += d.metrics().results_submitted.load();
  }
  // Nothing lost: every result submitted is in the probe log (the last ones were sent while
  // stopping); nothing twice: each applied once, in order.
  CHECK(s.count("SELECT count(*) FROM probe_log") == static_cast<int64_t>(submitted));
  CHECK(s.count("SELECT probes FROM server_scores") == static_cast<int64_t>(submitted));
  check_series(s.conn, sid);
  CHECK(s.count("SELECT count(*) FROM monitor_batches") > 0);
}
