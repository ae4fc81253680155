// The DNS server's wake-up call: NOTIFY timepool_dns when something that changes DNS answers
// changes, and silence for score writes that do not move a server in or out of DNS.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/pg.hpp"
#include "tests/support/pg_test_db.hpp"

using namespace std::chrono_literals;
using timepool::test::TestDb;
namespace pg = timepool::pg;

namespace {

constexpr const char* kChannel = "timepool_dns";

// Every notification that arrives within `window` (delivery is asynchronous, after commit).
std::vector<pg::Notification> collect(pg::Connection& listener,
                                      std::chrono::milliseconds window = 400ms) {
  std::vector<pg::Notification> out;
  auto deadline = std::chrono::steady_clock::now() + window;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto n = listener.wait_notification(left);
    if (!n) break;
    out.push_back(*n);
  }
  return out;
}

bool has_payload(const std::vector<pg::Notification>& ns, const std::string& payload) {
  return std::any_of(ns.begin(), ns.end(), [&](const pg::Notification& n) {
    return n.channel == kChannel && n.payload == payload;
  });
}

struct Fixture {
  TestDb db;
  pg::Connection listener = db.connect();
  pg::Connection writer = db.connect();
  int64_t server = 0;

  Fixture() {
    listener.listen(kChannel);
    server = writer.exec("INSERT INTO servers (address, netspeed, country, score) "
                         "VALUES ('203.0.113.5', 1500, 'de', 5) RETURNING id")
                 .get<int64_t>(0, 0);
    collect(listener);  // whatever adding it announced
  }
};

}  // namespace

TEST_CASE("NOTIFY when a server's score crosses 10, both ways", "[notify]") {
  Fixture f;
  f.writer.exec("UPDATE servers SET score = 12 WHERE id = $1", f.server);
  auto up = collect(f.listener);
  CHECK(has_payload(up, "servers"));

  f.writer.exec("UPDATE servers SET score = 9.5 WHERE id = $1", f.server);
  CHECK(has_payload(collect(f.listener), "servers"));
}

TEST_CASE("no NOTIFY for a score change that stays on one side of 10", "[notify]") {
  Fixture f;
  f.writer.exec("UPDATE servers SET score = 7 WHERE id = $1", f.server);  // 5 -> 7: out of DNS
  CHECK(collect(f.listener).empty());
  f.writer.exec("UPDATE servers SET score = 15 WHERE id = $1", f.server);
  REQUIRE(has_payload(collect(f.listener), "servers"));
  f.writer.exec("UPDATE servers SET score = 18.5, score_updated_at = now() WHERE id = $1",
                f.server);  // 15 -> 18.5: in DNS
  CHECK(collect(f.listener).empty());
}

TEST_CASE("NOTIFY when an eligible server's netspeed changes", "[notify]") {
  Fixture f;
  f.writer.exec("UPDATE servers SET score = 15 WHERE id = $1", f.server);
  REQUIRE(has_payload(collect(f.listener), "servers"));
  f.writer.exec("UPDATE servers SET netspeed = 3000 WHERE id = $1", f.server);
  CHECK(has_payload(collect(f.listener), "servers"));
  // Monitoring only (netspeed 0) takes it out of DNS: also a change.
  f.writer.exec("UPDATE servers SET netspeed = 0 WHERE id = $1", f.server);
  CHECK(has_payload(collect(f.listener), "servers"));
}

TEST_CASE("NOTIFY when a server is scheduled for deletion", "[notify]") {
  Fixture f;
  f.writer.exec("UPDATE servers SET score = 15 WHERE id = $1", f.server);
  REQUIRE(has_payload(collect(f.listener), "servers"));
  f.writer.exec("UPDATE servers SET deletion_on = current_date + 7 WHERE id = $1", f.server);
  CHECK(has_payload(collect(f.listener), "servers"));
}

TEST_CASE("NOTIFY when a vendor zone is approved", "[notify]") {
  Fixture f;
  auto acct = f.writer.exec("INSERT INTO accounts (email, password_hash, role) "
                            "VALUES ('v@example.com', 'x', 'vendor') RETURNING id")
                  .get<int64_t>(0, 0);
  auto req = f.writer.exec("INSERT INTO vendor_zones (name, account_id, organization, contact, "
                           "device_count, client_type) VALUES ('acme', $1, 'Acme', 'ops', 1000, "
                           "'both') RETURNING id", acct).get<int64_t>(0, 0);
  // A new request changes nothing in DNS.
  CHECK_FALSE(has_payload(collect(f.listener), "vendor_zones"));

  {
    pg::Transaction tx(f.writer);  // what the admin's approval does
    auto zone = tx.exec("INSERT INTO zones (name, kind, parent_id) "
                        "SELECT 'acme', 'vendor', id FROM zones WHERE name = '@' RETURNING id")
                    .get<int64_t>(0, 0);
    tx.exec("UPDATE vendor_zones SET status = 'approved', zone_id = $1, decided_at = now() "
            "WHERE id = $2", zone, req);
    // Nothing is delivered before the commit.
    CHECK(f.listener.wait_notification(200ms) == std::nullopt);
    tx.commit();
  }
  CHECK(has_payload(collect(f.listener), "vendor_zones"));
}

TEST_CASE("wait_notification times out and drain is non-blocking", "[notify]") {
  TestDb db;
  auto listener = db.connect();
  listener.listen("some channel");  // quoted as an identifier
  auto t0 = std::chrono::steady_clock::now();
  CHECK(listener.wait_notification(150ms) == std::nullopt);
  CHECK(std::chrono::steady_clock::now() - t0 >= 150ms);
  CHECK(listener.drain_notifications().empty());

  auto w = db.connect();
  w.exec("SELECT pg_notify($1, $2)", "some channel", "hello");
  w.exec("SELECT pg_notify($1, $2)", "some channel", "again");
  auto n = listener.wait_notification(2s);
  REQUIRE(n);
  CHECK(n->channel == "some channel");
  CHECK(n->payload == "hello");
  auto rest = collect(listener);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].payload == "again");
}
