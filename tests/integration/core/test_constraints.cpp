// The database itself rejects impossible rows, whatever program writes them.
#include <catch2/catch.hpp>

#include "core/pg.hpp"
#include "tests/support/pg_test_db.hpp"

using timepool::test::TestDb;
namespace pg = timepool::pg;

namespace {

// Runs `sql` with `args` and returns the SQLSTATE it failed with ("" if it succeeded).
template <typename... Args>
std::string sqlstate_of(pg::Connection& c, const std::string& sql, const Args&... args) {
  try {
    c.exec(sql, args...);
    return "";
  } catch (const pg::Error& e) {
    return e.sqlstate();
  }
}

int64_t add_account(pg::Connection& c, const std::string& email) {
  return c.exec("INSERT INTO accounts (email, password_hash) VALUES ($1, 'x') RETURNING id", email)
      .get<int64_t>(0, 0);
}

}  // namespace

TEST_CASE("servers: netspeed from the list, score at most 20, a real country", "[constraints]") {
  TestDb db;
  auto c = db.connect();
  const char* insert = "INSERT INTO servers (address, netspeed, country, score) "
                       "VALUES ($1, $2, $3, $4)";
  CHECK(sqlstate_of(c, insert, "192.0.2.1", 1500, "de", 0.0) == "");
  CHECK(sqlstate_of(c, insert, "192.0.2.2", 0, "de", 20.0) == "");
  CHECK(sqlstate_of(c, insert, "2001:db8::1", 3000000, "us", -5.0) == "");

  CHECK(sqlstate_of(c, insert, "192.0.2.3", 1000, "de", 0.0) == "23514");  // not in the list
  CHECK(sqlstate_of(c, insert, "192.0.2.3", -1, "de", 0.0) == "23514");
  CHECK(sqlstate_of(c, insert, "192.0.2.3", 1500, "de", 20.5) == "23514");  // score > 20
  CHECK(sqlstate_of(c, insert, "192.0.2.3", 1500, "xx", 0.0) == "23503");   // no such zone
  CHECK(sqlstate_of(c, insert, "192.0.2.3", 1500, "uk", 0.0) == "23514");   // an alias
  CHECK(sqlstate_of(c, insert, "192.0.2.3", 1500, "europe", 0.0) == "23514");  // not a country
  CHECK(sqlstate_of(c, insert, "192.0.2.0/24", 1500, "de", 0.0) == "23514");  // a network
  CHECK(sqlstate_of(c, insert, "192.0.2.1", 1500, "fr", 0.0) == "23505");     // duplicate
  CHECK(sqlstate_of(c, "UPDATE servers SET score = 21 WHERE address = '192.0.2.1'") == "23514");
  CHECK(sqlstate_of(c, "UPDATE servers SET netspeed = 1501 WHERE address = '192.0.2.1'") ==
        "23514");

  // Nothing of the rejected rows got in; the mode follows the netspeed.
  CHECK(c.exec("SELECT count(*) FROM servers").get<int64_t>(0, 0) == 3);
  CHECK(c.exec("SELECT mode FROM servers WHERE address = '192.0.2.2'").get<std::string>(0, 0) ==
        "monitoring");
}

TEST_CASE("zones: known parent of the right kind", "[constraints]") {
  TestDb db;
  auto c = db.connect();
  auto global = c.exec("SELECT id FROM zones WHERE name = '@'").get<int64_t>(0, 0);
  auto europe = c.exec("SELECT id FROM zones WHERE name = 'europe'").get<int64_t>(0, 0);
  const char* insert = "INSERT INTO zones (name, kind, parent_id) VALUES ($1, $2, $3)";
  CHECK(sqlstate_of(c, insert, "acme", "vendor", global) == "");
  CHECK(sqlstate_of(c, insert, "other", "vendor", 999999) == "23503");   // unknown parent
  CHECK(sqlstate_of(c, insert, "xq", "country", global) == "23514");     // country under @
  CHECK(sqlstate_of(c, insert, "vend2", "vendor", europe) == "23514");   // vendor under europe
  CHECK(sqlstate_of(c, insert, "Bad_Name", "vendor", global) == "23514");
  CHECK(sqlstate_of(c, insert, "orphan", "vendor", std::nullopt) == "23514");  // not global
  CHECK(sqlstate_of(c, insert, "de", "vendor", global) == "23505");      // taken
  CHECK(sqlstate_of(c, "INSERT INTO zones (name, kind) VALUES ('root2', 'global')") == "23505");
}

TEST_CASE("vendor zones and monitors reject bad values", "[constraints]") {
  TestDb db;
  auto c = db.connect();
  auto acct = add_account(c, "vendor@example.com");
  const char* insert =
      "INSERT INTO vendor_zones (name, account_id, organization, contact, device_count, "
      "client_type) VALUES ($1, $2, 'Acme', 'ops@example.com', $3, $4)";
  CHECK(sqlstate_of(c, insert, "acme", acct, 5000, "ntp") == "");
  CHECK(sqlstate_of(c, insert, "acme2", acct, 5000, "ptp") == "23514");   // client type
  CHECK(sqlstate_of(c, insert, "acme3", acct, 5000, "") == "23514");
  CHECK(sqlstate_of(c, insert, "acme4", acct, 10, "both") == "23514");    // device count
  CHECK(sqlstate_of(c, insert, "acme", acct, 5000, "sntp") == "23505");   // name taken
  CHECK(sqlstate_of(c, insert, "europe", acct, 5000, "sntp") == "23514"); // a pool zone
  // Approved means a zone and a decision time.
  CHECK(sqlstate_of(c, "UPDATE vendor_zones SET status = 'approved' WHERE name = 'acme'") ==
        "23514");

  const char* monitor = "INSERT INTO monitors (name, key_hash, status) VALUES ($1, $2, $3)";
  CHECK(sqlstate_of(c, monitor, "mon1", "h1", "pending") == "");
  CHECK(sqlstate_of(c, monitor, "mon2", "h2", "sleeping") == "23514");
  CHECK(sqlstate_of(c, monitor, "mon1", "h3", "active") == "23505");
  CHECK(sqlstate_of(c, monitor, "mon4", "h1", "active") == "23505");      // same key

  CHECK(sqlstate_of(c, "INSERT INTO accounts (email, password_hash, role) "
                       "VALUES ('a@example.com', 'x', 'root')") == "23514");
  CHECK(sqlstate_of(c, "INSERT INTO accounts (email, password_hash) "
                       "VALUES ('VENDOR@example.com', 'x')") == "23505");  // case-insensitive
}

TEST_CASE("per-monitor scores are capped too", "[constraints]") {
  TestDb db;
  auto c = db.connect();
  auto server = c.exec("INSERT INTO servers (address, country) VALUES ('198.51.100.1', 'fr') "
                       "RETURNING id").get<int64_t>(0, 0);
  auto mon = c.exec("INSERT INTO monitors (name, key_hash) VALUES ('m', 'k') RETURNING id")
                 .get<int64_t>(0, 0);
  const char* insert = "INSERT INTO server_scores (server_id, monitor_id, score) VALUES ($1, $2, $3)";
  CHECK(sqlstate_of(c, insert, server, mon, 20.01) == "23514");
  CHECK(sqlstate_of(c, insert, server, 424242, 1.0) == "23503");
  CHECK(sqlstate_of(c, insert, server, mon, 19.5) == "");
  // The server was put into its country, continent and the global zone.
  CHECK(c.exec("SELECT string_agg(z.name, ',' ORDER BY z.name) FROM server_zones sz "
               "JOIN zones z ON z.id = sz.zone_id WHERE sz.server_id = $1", server)
            .get<std::string>(0, 0) == "@,europe,fr");
}
