// core/pg against a real server: typed parameters and rows, transactions, error classes.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/pg.hpp"
#include "tests/support/pg_test_db.hpp"

using timepool::test::TestDb;
namespace pg = timepool::pg;

TEST_CASE("parameters and typed rows round-trip", "[pg]") {
  TestDb db(false);
  auto c = db.connect();
  auto r = c.exec("SELECT $1::bigint AS i, $2::float8 AS d, $3::bool AS b, $4::text AS s, "
                  "$5::text AS n, $6::int AS small",
                  int64_t{-9007199254740993}, 1.0e-7 / 3, true, std::string_view("it's \"x\""),
                  std::nullopt, std::optional<int>(42));
  REQUIRE(r.rows() == 1);
  CHECK(r.get<int64_t>(0, "i") == -9007199254740993);
  CHECK(r.get<double>(0, "d") == 1.0e-7 / 3);  // exact: no digits lost on the way
  CHECK(r.get<bool>(0, "b"));
  CHECK(r.get<std::string>(0, "s") == "it's \"x\"");
  CHECK(r.is_null(0, r.column("n")));
  CHECK(r.get<std::optional<std::string>>(0, "n") == std::nullopt);
  CHECK(r.get<std::optional<int32_t>>(0, "small") == 42);
  CHECK_THROWS_AS(r.get<std::string>(0, "n"), pg::Error);  // NULL into a non-optional
  CHECK_THROWS_AS(r.get<int64_t>(0, "s"), pg::Error);      // not a number
  CHECK_THROWS_AS(r.column("nope"), pg::Error);

  auto special = c.exec("SELECT $1::float8, $2::float8", std::numeric_limits<double>::infinity(),
                        std::nan(""));
  CHECK(std::isinf(special.get<double>(0, 0)));
  CHECK(std::isnan(special.get<double>(0, 1)));

  // A parameter is data, never SQL.
  auto inj = c.exec("SELECT $1::text = 'x''; DROP TABLE y; --'", "x'; DROP TABLE y; --");
  CHECK(inj.get<bool>(0, 0));
}

TEST_CASE("affected rows and transactions", "[pg]") {
  TestDb db(false);
  auto c = db.connect();
  c.exec_script("CREATE TABLE t (id int PRIMARY KEY, v text); "
                "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');");
  CHECK(c.exec("UPDATE t SET v = 'z' WHERE id >= $1", 2).affected() == 2);
  {
    pg::Transaction tx(c);
    tx.exec("DELETE FROM t");
    // destroyed without commit: rolled back
  }
  CHECK(c.exec("SELECT count(*) FROM t").get<int64_t>(0, 0) == 3);
  {
    pg::Transaction tx(c);
    tx.exec("DELETE FROM t WHERE id = 1");
    tx.commit();
  }
  CHECK(c.exec("SELECT count(*) FROM t").get<int64_t>(0, 0) == 2);
  // A failed statement inside a transaction: the destructor's rollback leaves c usable.
  try {
    pg::Transaction tx(c);
    tx.exec("INSERT INTO t VALUES (2, 'dup')");
    FAIL("duplicate accepted");
  } catch (const pg::Error& e) {
    CHECK(e.is_unique_violation());
  }
  CHECK(c.exec("SELECT count(*) FROM t").get<int64_t>(0, 0) == 2);
}

TEST_CASE("pg::Error classifies SQLSTATEs", "[pg]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO monitors (name, key_hash) VALUES ('m1', 'k1')");
  try {
    c.exec("INSERT INTO monitors (name, key_hash) VALUES ('m1', 'k2')");
    FAIL("duplicate monitor accepted");
  } catch (const pg::Error& e) {
    CHECK(e.sqlstate() == "23505");
    CHECK(e.is_unique_violation());
    CHECK_FALSE(e.is_connection());
    CHECK_FALSE(e.is_retryable());
    CHECK(std::string(e.what()).find("monitors_name_key") != std::string::npos);
  }
  try {
    c.exec("INSERT INTO servers (address, netspeed, country) VALUES ('192.0.2.9', 7, 'de')");
    FAIL("bad netspeed accepted");
  } catch (const pg::Error& e) {
    CHECK(e.is_check_violation());
  }
  try {
    c.exec("INSERT INTO sessions (token_hash, account_id, csrf_token, expires_at) "
           "VALUES ('t', 12345, 'c', now())");
    FAIL("session of no account accepted");
  } catch (const pg::Error& e) {
    CHECK(e.is_foreign_key_violation());
  }
  try {
    c.exec("SELEKT 1");
    FAIL("syntax error accepted");
  } catch (const pg::Error& e) {
    CHECK(e.sqlstate() == "42601");
    CHECK(e.position() == 1);
  }
  // A serialization failure is retryable.
  try {
    c.exec("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'serialization_failure'; END $$");
    FAIL("no error");
  } catch (const pg::Error& e) {
    CHECK(e.is_retryable());
  }
}

TEST_CASE("connection failures are is_connection()", "[pg]") {
  SECTION("no server") {
    try {
      pg::Connection::open("host=/nonexistent-timepool-socket-dir port=1 connect_timeout=2");
      FAIL("connected to nothing");
    } catch (const pg::Error& e) {
      CHECK(e.is_connection());
      CHECK(std::string(e.what()).find("cannot connect") != std::string::npos);
    }
  }
  SECTION("the server ends the session") {
    TestDb db(false);
    auto victim = db.connect();
    auto pid = victim.exec("SELECT pg_backend_pid()").get<int64_t>(0, 0);
    auto killer = db.connect();
    CHECK(killer.exec("SELECT pg_terminate_backend($1::int)", pid).get<bool>(0, 0));
    try {
      victim.exec("SELECT 1");
      FAIL("query on a terminated session succeeded");
    } catch (const pg::Error& e) {
      INFO(e.what() << " sqlstate=" << e.sqlstate());
      CHECK(e.is_connection());
    }
    CHECK_FALSE(victim.ok());
    CHECK_THROWS_AS(victim.wait_notification(std::chrono::milliseconds(10)), pg::Error);

    // reset() brings the same connection back, as a new session.
    victim.reset();
    CHECK(victim.ok());
    CHECK(victim.exec("SELECT pg_backend_pid()").get<int64_t>(0, 0) != pid);
    victim.listen("again");
    killer.exec("SELECT pg_notify('again', 'x')");
    CHECK(victim.wait_notification(std::chrono::seconds(2)).has_value());
  }
}

TEST_CASE("isolation modes: one snapshot, read only refused writes, serialization failures retry",
          "[pg]") {
  TestDb db(false);
  auto a = db.connect();
  auto b = db.connect();
  a.exec_script("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10);");
  {
    pg::Transaction tx(a, pg::Isolation::kRepeatableRead, pg::Access::kReadOnly);
    CHECK(tx.exec("SHOW transaction_isolation").get<std::string>(0, 0) == "repeatable read");
    CHECK(tx.exec("SELECT v FROM t").get<int32_t>(0, 0) == 10);
    b.exec("UPDATE t SET v = 11");
    CHECK(tx.exec("SELECT v FROM t").get<int32_t>(0, 0) == 10);  // the first snapshot
    try {
      tx.exec("UPDATE t SET v = 12");
      FAIL("a read-only transaction wrote");
    } catch (const pg::Error& e) {
      CHECK(e.sqlstate() == "25006");
    }
  }
  {
    pg::Transaction tx(a);  // read committed: each statement sees the latest commit
    CHECK(tx.exec("SHOW transaction_isolation").get<std::string>(0, 0) == "read committed");
    CHECK(tx.exec("SELECT v FROM t").get<int32_t>(0, 0) == 11);
    b.exec("UPDATE t SET v = 12");
    CHECK(tx.exec("SELECT v FROM t").get<int32_t>(0, 0) == 12);
    tx.commit();
  }
  {
    pg::Transaction tx(a, pg::Isolation::kSerializable);
    CHECK(tx.exec("SHOW transaction_isolation").get<std::string>(0, 0) == "serializable");
    CHECK(tx.exec("SELECT v FROM t").get<int32_t>(0, 0) == 12);
    b.exec("UPDATE t SET v = 13");
    try {
      tx.exec("UPDATE t SET v = v + 1");
      FAIL("a concurrent update was not detected");
    } catch (const pg::Error& e) {
      CHECK(e.is_retryable());
    }
  }
  CHECK(a.exec("SELECT v FROM t").get<int32_t>(0, 0) == 13);
}

TEST_CASE("array parameters arrive element by element", "[pg]") {
  TestDb db(false);
  auto c = db.connect();
  pg::ArrayBuilder texts;
  const std::vector<std::string> odd = {"a,b", "{x}", "say \"hi\"", "back\\slash", "NULL", "", " sp "};
  for (const auto& s : odd) texts.add(s);
  texts.add_null();
  auto r = c.exec("SELECT x, x IS NULL AS n FROM unnest($1::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i",
                  texts);
  REQUIRE(r.rows() == static_cast<int>(odd.size()) + 1);
  for (std::size_t i = 0; i < odd.size(); ++i) CHECK(r.get<std::string>(static_cast<int>(i), "x") == odd[i]);
  CHECK(r.get<bool>(static_cast<int>(odd.size()), "n"));

  const std::vector<int64_t> ids = {-9007199254740993, 0, 42};
  auto s = c.exec("SELECT sum(x)::text, count(*) FROM unnest($1::int8[]) AS x",
                  pg::array_literal(ids));
  CHECK(s.get<std::string>(0, 0) == "-9007199254740951");
  CHECK(s.get<int64_t>(0, 1) == 3);
  const std::vector<std::optional<double>> ds = {0.1, std::nullopt, 1e-300};
  auto d = c.exec("SELECT x FROM unnest($1::float8[]) WITH ORDINALITY AS t(x, i) ORDER BY i",
                  pg::array_literal(ds));
  CHECK(d.get<double>(0, 0) == 0.1);
  CHECK(d.is_null(1, 0));
  CHECK(d.get<double>(2, 0) == 1e-300);
  CHECK(c.exec("SELECT cardinality($1::text[])", pg::ArrayBuilder()).get<int64_t>(0, 0) == 0);
}
