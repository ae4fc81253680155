#include <catch2/catch.hpp>

#include <cmath>
#include <thread>

#include "core/password.hpp"
#include "core/pg.hpp"
#include "tests/support/fake_ntp_server.hpp"
#include "monitor/daemon.hpp"
#include "own_cluster.hpp"
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
  std::string key = password::random_token(32);
  int monitor_id = 0;

  explicit Setup(const std::string& status = "active") {
    monitor_id = conn.exec("INSERT INTO monitors (name, key_hash, status) VALUES ('unit', $1, $2) RETURNING id",
                           password::hash_token(key), status)
                     .get<int32_t>(0, 0);
  }
  int64_t add_server(const std::string& addr) {
    return conn.exec("INSERT INTO servers (address, country) VALUES ($1::inet, 'de') RETURNING id", addr)
        .get<int64_t>(0, 0);
  }
  Settings settings(uint16_t port) const {
    Settings s;
    s.key = key;
    s.ntp_port = port;
    s.interval = 300ms;
    s.new_server_within = 50ms;
    s.refresh = 200ms;
    s.probe.spacing = 10ms;
    s.probe.timeout = 80ms;
    s.batch_interval = 50ms;
    s.metrics_listen = net::Endpoint::parse("127.0.0.1:0");
    return s;
  }
  int64_t count(const std::string& sql) { return conn.exec(sql).get<int64_t>(0, 0); }
};

ClockReading unsynced() { return ClockReading{false, 16000000us, ""}; }

}  // namespace

TEST_CASE("daemon: refuses an unknown key and a paused monitor", "[daemon][db]") {
  Setup s("paused");
  Settings st = s.settings(123);
  {
    Daemon d(st, s.db.conninfo());
    CHECK_THROWS_AS(d.start(), AuthError);
  }
  st.key = "not-the-key";
  s.conn.exec("UPDATE monitors SET status = 'active'");
  Daemon d(st, s.db.conninfo());
  CHECK_THROWS_AS(d.start(), AuthError);
}

TEST_CASE("daemon: a healthy server's score rises past 10 in 14 probes", "[daemon][db]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  const int64_t sid = s.add_server("127.0.0.1");
  auto listener = s.db.connect();
  listener.listen("timepool_dns");
  Daemon d(s.settings(ok.port()), s.db.conninfo(), [] { return ClockReading{true, 1000us, ""}; });
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
  auto r = s.conn.exec("SELECT score, step FROM probe_log WHERE server_id = $1 ORDER BY ts", sid);
  for (int i = 0; i < r.rows(); ++i) {
    INFO(i);
    CHECK(r.get<double>(i, "step") == 1);
    CHECK(r.get<double>(i, "score") == Approx(20 * (1 - std::pow(0.95, i + 1))).epsilon(1e-5));
    CHECK((r.get<double>(i, "score") >= 10) == (i + 1 >= 14));
  }
  CHECK(s.conn.exec("SELECT score FROM servers WHERE id = $1", sid).get<double>(0, 0) >= 10);
  const std::string m = d.metrics_text();
  CHECK(m.find("timepool_monitor_probes_total{result=\"ok\"}") != std::string::npos);
  CHECK(m.find("timepool_monitor_own_clock_ok 1") != std::string::npos);
  CHECK(d.metrics_port() != 0);
}

TEST_CASE("daemon: with the own clock unsynchronized no scores are written", "[daemon][db][clock]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  s.add_server("127.0.0.1");
  std::atomic<bool> synced{false};
  Daemon d(s.settings(ok.port()), s.db.conninfo(), [&] {
    return synced ? ClockReading{true, 1000us, ""} : unsynced();
  });
  d.start();
  std::thread t([&] { d.run(); });
  // Probing goes on...
  const bool probed = test::wait_until([&] { return d.metrics().probes_unscored.load() >= 5; }, 20s);
  std::this_thread::sleep_for(300ms);  // a few batch intervals
  CHECK(probed);
  CHECK(d.metrics().probes[static_cast<std::size_t>(scoring::Outcome::kSample)] >= 5);
  // ...but nothing is scored.
  CHECK(s.count("SELECT count(*) FROM probe_log") == 0);
  CHECK(s.count("SELECT count(*) FROM server_scores") == 0);
  CHECK(d.metrics_text().find("timepool_monitor_own_clock_ok 0") != std::string::npos);
  // Once the clock is good, scoring resumes.
  synced = true;
  const bool resumed = test::wait_until([&] { return s.count("SELECT count(*) FROM probe_log") >= 2; }, 20s);
  d.stop();
  t.join();
  CHECK(resumed);
}

TEST_CASE("daemon: trust_local_clock scores despite an unsynchronized kernel", "[daemon][db][clock]") {
  Setup s;
  Fake ok(Fake::Behaviour::kGood);
  s.add_server("127.0.0.1");
  Settings st = s.settings(ok.port());
  st.trust_local_clock = true;
  Daemon d(st, s.db.conninfo(), unsynced);
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
  Daemon d(st, s.db.conninfo(), unsynced);
  d.start();
  std::thread t([&] { d.run(); });
  CHECK(test::wait_until([&] { return d.metrics().probes_unscored.load() >= 2; }, 20s));
  CHECK(s.count("SELECT count(*) FROM probe_log") == 0);
  Settings fresh = st;
  fresh.trust_local_clock = true;
  fresh.interval = 1s;  // restart only: ignored
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
  Daemon d(s.settings(ok.port()), s.db.conninfo(), [] { return ClockReading{true, 0us, ""}; });
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
