// Migrations against a real, empty database: the whole model from nothing, a second run that
// changes nothing, a broken migration rolled back alone and reported by file and line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <exception>
#include <functional>
#include <thread>

#include "core/migrate.hpp"
#include "core/pg.hpp"
#include "tests/support/pg_test_db.hpp"

using timepool::Migration;
using timepool::MigrationError;
using timepool::test::TestDb;
namespace pg = timepool::pg;

namespace {

bool relation_exists(pg::Connection& c, const std::string& name) {
  return !c.exec("SELECT to_regclass($1)::text", name).is_null(0, 0);
}

std::vector<std::string> applied_names(pg::Connection& c) {
  auto r = c.exec("SELECT name FROM schema_migrations ORDER BY name");
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.get<std::string>(i, 0));
  return out;
}

std::vector<std::string> embedded_names() {
  std::vector<std::string> out;
  for (const auto& m : timepool::schema::embedded_migrations()) out.push_back(m.name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("migrations from an empty database create the whole model", "[migrate]") {
  TestDb db(false);
  auto c = db.connect();
  REQUIRE_FALSE(relation_exists(c, "accounts"));

  auto report = timepool::migrate(c, timepool::schema::embedded_migrations());
  CHECK(report.applied == embedded_names());
  CHECK(report.already.empty());
  REQUIRE(report.applied.size() >= 5);

  for (const char* table :
       {"schema_migrations", "accounts", "sessions", "login_attempts", "zones", "servers",
        "server_zones", "monitors", "server_scores", "probe_log", "vendor_zones",
        "dns_query_counts", "eligible_servers"}) {
    INFO(table);
    CHECK(relation_exists(c, table));
  }
  CHECK(applied_names(c) == embedded_names());

  // The zone tree: one global zone, six continents, every ISO 3166 country, uk -> gb.
  CHECK(c.exec("SELECT count(*) FROM zones WHERE kind = 'global'").get<int64_t>(0, 0) == 1);
  CHECK(c.exec("SELECT count(*) FROM zones WHERE kind = 'continent'").get<int64_t>(0, 0) == 6);
  CHECK(c.exec("SELECT count(*) FROM zones WHERE kind = 'country'").get<int64_t>(0, 0) >= 240);
  auto uk = c.exec(
      "SELECT gb.name FROM zones uk JOIN zones gb ON gb.id = uk.alias_of WHERE uk.name = 'uk'");
  REQUIRE(uk.rows() == 1);
  CHECK(uk.get<std::string>(0, 0) == "gb");
  auto de = c.exec(
      "SELECT p.name FROM zones z JOIN zones p ON p.id = z.parent_id WHERE z.name = 'de'");
  REQUIRE(de.rows() == 1);
  CHECK(de.get<std::string>(0, 0) == "europe");
}

TEST_CASE("a second migrate run is a no-op", "[migrate]") {
  TestDb db(false);
  auto c = db.connect();
  auto first = timepool::migrate(c, timepool::schema::embedded_migrations());
  auto stamps = c.exec("SELECT string_agg(name || applied_at::text, ',' ORDER BY name) "
                       "FROM schema_migrations").get<std::string>(0, 0);
  auto zones = c.exec("SELECT count(*) FROM zones").get<int64_t>(0, 0);

  auto second = timepool::migrate(c, timepool::schema::embedded_migrations());
  CHECK(second.applied.empty());
  CHECK(second.already == first.applied);
  CHECK(c.exec("SELECT string_agg(name || applied_at::text, ',' ORDER BY name) "
               "FROM schema_migrations").get<std::string>(0, 0) == stamps);
  CHECK(c.exec("SELECT count(*) FROM zones").get<int64_t>(0, 0) == zones);
}

TEST_CASE("a broken migration rolls back alone and names its file and line", "[migrate]") {
  TestDb db(false);
  auto c = db.connect();
  // Line 2 is full of two-byte characters: PostgreSQL reports the position in characters, so
  // a byte-based line count would land on line 2 or 3 instead of 5.
  const std::string broken =
      "CREATE TABLE t_b (id int);\n"
      "-- ÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüß\n"
      "INSERT INTO t_b VALUES (1);\n"
      "\n"
      "SELECT no_such_column FROM t_b;\n"
      "CREATE TABLE t_c (id int);\n";
  std::vector<Migration> list = {
      {"0001_fine.sql", "CREATE TABLE t_a (id int);\nINSERT INTO t_a VALUES (1), (2);\n"},
      {"0002_broken.sql", broken},
      {"0003_later.sql", "CREATE TABLE t_d (id int);\n"},
  };
  try {
    timepool::migrate(c, list);
    FAIL("migrate accepted a broken migration");
  } catch (const MigrationError& e) {
    CHECK(e.file() == "0002_broken.sql");
    CHECK(e.line() == 5);
    std::string what = e.what();
    CHECK(what.find("0002_broken.sql:5:") == 0);
    CHECK(what.find("no_such_column") != std::string::npos);
  }
  // The first one stays applied; nothing of the broken one or the one after it exists.
  CHECK(relation_exists(c, "t_a"));
  CHECK(c.exec("SELECT count(*) FROM t_a").get<int64_t>(0, 0) == 2);
  CHECK_FALSE(relation_exists(c, "t_b"));
  CHECK_FALSE(relation_exists(c, "t_c"));
  CHECK_FALSE(relation_exists(c, "t_d"));
  CHECK(applied_names(c) == std::vector<std::string>{"0001_fine.sql"});

  // Once fixed, the rest applies and the good one is not run again.
  list[1].sql = "CREATE TABLE t_b (id int);\n";
  auto report = timepool::migrate(c, list);
  CHECK(report.already == std::vector<std::string>{"0001_fine.sql"});
  CHECK(report.applied == std::vector<std::string>{"0002_broken.sql", "0003_later.sql"});
  CHECK(c.exec("SELECT count(*) FROM t_a").get<int64_t>(0, 0) == 2);
}

TEST_CASE("a syntax error is located too", "[migrate]") {
  TestDb db(false);
  auto c = db.connect();
  std::vector<Migration> list = {
      {"0001_typo.sql", "CREATE TABLE ok_1 (id int);\nCREATE TABEL oops (id int);\n"}};
  try {
    timepool::migrate(c, list);
    FAIL("migrate accepted a syntax error");
  } catch (const MigrationError& e) {
    CHECK(e.file() == "0001_typo.sql");
    CHECK(e.line() == 2);
  }
  CHECK_FALSE(relation_exists(c, "ok_1"));
  CHECK(applied_names(c).empty());
}

TEST_CASE("an applied migration whose text changed is refused", "[migrate]") {
  TestDb db(false);
  auto c = db.connect();
  std::vector<Migration> list = {{"0001_a.sql", "CREATE TABLE t_a (id int);\n"}};
  timepool::migrate(c, list);
  list[0].sql = "CREATE TABLE t_a (id bigint);\n";
  CHECK_THROWS_AS(timepool::migrate(c, list), MigrationError);
}

TEST_CASE("concurrent migrate runs apply each migration once", "[migrate]") {
  TestDb db(false);
  timepool::MigrateReport a, b;
  std::exception_ptr ea, eb;
  auto run = [&db](timepool::MigrateReport& r, std::exception_ptr& e) {
    try {
      auto c = db.connect();
      r = timepool::migrate(c, timepool::schema::embedded_migrations());
    } catch (...) {
      e = std::current_exception();
    }
  };
  std::thread t1(run, std::ref(a), std::ref(ea));
  std::thread t2(run, std::ref(b), std::ref(eb));
  t1.join();
  t2.join();
  if (ea) std::rethrow_exception(ea);
  if (eb) std::rethrow_exception(eb);
  std::vector<std::string> all = a.applied;
  all.insert(all.end(), b.applied.begin(), b.applied.end());
  std::sort(all.begin(), all.end());
  CHECK(all == embedded_names());
  auto c = db.connect();
  CHECK(applied_names(c) == embedded_names());
}
