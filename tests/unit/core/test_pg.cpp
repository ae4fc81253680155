// core/pg without a server: parameter text, array literals, BEGIN statements.
#include <catch2/catch.hpp>

#include "core/pg.hpp"

namespace pg = timepool::pg;

TEST_CASE("float parameters are exact and spelled as PostgreSQL reads them", "[pg]") {
  using timepool::pg::float_text;
  using timepool::pg::to_param;
  CHECK(float_text(0.1) == "0.1");
  CHECK(float_text(1e-7 / 3) == "3.3333333333333334e-08");
  CHECK(float_text(-0.0001234) == "-0.0001234");
  CHECK(float_text(1.0 / 0.0) == "Infinity");
  CHECK(float_text(-1.0 / 0.0) == "-Infinity");
  CHECK(to_param(2.5).text == "2.5");
  CHECK(to_param(true).text == "true");
  CHECK(to_param(int64_t{-5}).text == "-5");
  CHECK_FALSE(to_param(std::nullopt).text.has_value());
  CHECK_FALSE(to_param(std::optional<int>{}).text.has_value());
  CHECK(to_param(std::optional<int>{3}).text == "3");
  CHECK(to_param("abc").text == "abc");
}

TEST_CASE("array literals quote every element and never splice text", "[pg]") {
  CHECK(pg::ArrayBuilder().literal() == "{}");
  pg::ArrayBuilder b;
  b.add("a").add_null().add("b \"c\" \\d").add("NULL").add("x,y}").add(int64_t{-7}).add(2.5);
  CHECK(b.size() == 7);
  CHECK(b.literal() == R"({"a",NULL,"b \"c\" \\d","NULL","x,y}","-7","2.5"})");
  CHECK(pg::to_param(b).text == b.literal());
  const std::vector<std::optional<std::string>> v = {std::string("q"), std::nullopt};
  CHECK(pg::array_literal(v) == R"({"q",NULL})");
  CHECK(pg::array_literal(std::vector<int64_t>{1, 2}) == R"({"1","2"})");
}

TEST_CASE("BEGIN names the isolation level and access mode", "[pg]") {
  using pg::Access;
  using pg::Isolation;
  CHECK(pg::begin_statement(Isolation::kReadCommitted, Access::kReadWrite) ==
        "BEGIN ISOLATION LEVEL READ COMMITTED");
  CHECK(pg::begin_statement(Isolation::kRepeatableRead, Access::kReadOnly) ==
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  CHECK(pg::begin_statement(Isolation::kSerializable, Access::kReadWrite) ==
        "BEGIN ISOLATION LEVEL SERIALIZABLE");
  CHECK(pg::begin_statement(Isolation::kSerializable, Access::kReadOnly) ==
        "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY");
}

TEST_CASE("errors that call for a reconnect, including a session left on a standby", "[pg]") {
  CHECK(pg::Error("lost", "").is_connection());
  CHECK(pg::Error("refused", "08001").is_connection());
  CHECK(pg::Error("admin shutdown", "57P01").is_connection());
  // After a failover a session may sit on the demoted node: writes fail read-only there and
  // a reconnect with target_session_attrs=read-write reaches the new primary.
  CHECK(pg::Error("read-only transaction", "25006").is_connection());
  CHECK_FALSE(pg::Error("duplicate", "23505").is_connection());
  CHECK_FALSE(pg::Error("serialization", "40001").is_connection());
  CHECK(pg::Error("serialization", "40001").is_retryable());
}
