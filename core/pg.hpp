// PostgreSQL access: RAII over libpq. The only file that calls libpq is core/pg.cpp.
//
// - Parameterized queries only: exec("... WHERE id = $1", id). Parameters are converted to
//   text: integers, doubles, bool, strings/string_view/const char*, std::optional<T> (nullopt
//   is SQL NULL) and std::nullopt.
// - Every failure throws pg::Error carrying the SQLSTATE; classify it with the predicates
//   (class 08, a lost connection and a session left on a standby: reconnect; 40001/40P01:
//   retry; 23505: duplicate).
// - Following the primary: give a multi-host conninfo with target_session_attrs=read-write
//   ("host=db1,db2 target_session_attrs=read-write connect_timeout=3"); open() and reset() try
//   the hosts in turn and keep the first that accepts writes, so after a failover a reconnect
//   reaches the new primary.
// - Connection, Result and Transaction are move-only. A Connection is used by one thread at a
//   time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/reconnect.hpp"

struct pg_conn;
struct pg_result;

namespace timepool::pg {

class Error : public std::runtime_error {
 public:
  Error(const std::string& what, std::string sqlstate, int position = 0)
      : std::runtime_error(what), sqlstate_(std::move(sqlstate)), position_(position) {}
  const std::string& sqlstate() const { return sqlstate_; }
  // 1-based character position in the query text where the server located the error
  // (PG_DIAG_STATEMENT_POSITION); 0 if it gave none.
  int position() const { return position_; }
  // Reconnect: class 08, 57P01-57P03 (server shutting down), no SQLSTATE because the link
  // broke, or 25006 (read-only transaction: the node this session reached was demoted to a
  // standby, so a reconnect with target_session_attrs=read-write finds the new primary).
  bool is_connection() const;
  bool is_retryable() const;         // 40001 serialization, 40P01 deadlock
  bool is_unique_violation() const;  // 23505
  bool is_check_violation() const;   // 23514
  bool is_foreign_key_violation() const;  // 23503
  bool is_not_null_violation() const;     // 23502

 private:
  std::string sqlstate_;
  int position_ = 0;
};

// One query's rows. Values are read as text and converted; a NULL read as a non-optional
// type, or a value that does not convert, throws Error (sqlstate "22000").
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* r);
  Result(Result&&) noexcept = default;
  Result& operator=(Result&&) noexcept = default;

  int rows() const;
  int cols() const;
  int column(std::string_view name) const;  // throws if absent
  bool is_null(int row, int col) const;
  std::string_view text(int row, int col) const;  // "" for NULL
  // The raw bytes of a cell of a binary result (exec_binary: each type's binary send format,
  // big-endian numbers); empty for NULL. get<T> refuses binary cells.
  std::span<const uint8_t> bytes(int row, int col) const;
  int64_t affected() const;                       // rows touched by INSERT/UPDATE/DELETE

  template <typename T>
  T get(int row, int col) const;
  template <typename T>
  T get(int row, std::string_view name) const { return get<T>(row, column(name)); }

 private:
  struct Free {
    void operator()(pg_result* r) const noexcept;
  };
  std::string_view value(int row, int col) const;  // unchecked: row, col valid, not NULL
  void check_text(int col) const;                  // throws for a binary column
  std::unique_ptr<pg_result, Free> res_;
};
// Supported T: std::string, int64_t, int32_t, double, bool, std::optional of each.
extern template std::string Result::get<std::string>(int, int) const;
extern template int64_t Result::get<int64_t>(int, int) const;
extern template int32_t Result::get<int32_t>(int, int) const;
extern template double Result::get<double>(int, int) const;
extern template bool Result::get<bool>(int, int) const;
extern template std::optional<std::string> Result::get<std::optional<std::string>>(int, int) const;
extern template std::optional<int64_t> Result::get<std::optional<int64_t>>(int, int) const;
extern template std::optional<int32_t> Result::get<std::optional<int32_t>>(int, int) const;
extern template std::optional<double> Result::get<std::optional<double>>(int, int) const;
extern template std::optional<bool> Result::get<std::optional<bool>>(int, int) const;

// The shortest text that reads back as exactly `v` ("NaN", "Infinity" as PostgreSQL spells them).
std::string float_text(double v);

class ArrayBuilder;

// A parameter as libpq wants it: text or NULL.
struct Param {
  std::optional<std::string> text;
};
template <typename T>
Param to_param(const T& v) {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, std::nullopt_t>) {
    return Param{};
  } else if constexpr (std::is_same_v<U, bool>) {
    return Param{std::string(v ? "true" : "false")};
  } else if constexpr (std::is_floating_point_v<U>) {
    return Param{float_text(static_cast<double>(v))};
  } else if constexpr (std::is_integral_v<U>) {
    return Param{std::to_string(v)};
  } else if constexpr (std::is_same_v<U, ArrayBuilder>) {
    return Param{v.literal()};
  } else if constexpr (requires { v.has_value(); *v; }) {
    return v ? to_param(*v) : Param{};
  } else {
    return Param{std::string(std::string_view(v))};
  }
}

struct Notification {
  std::string channel;
  std::string payload;
};

class Connection {
 public:
  // Connects (blocking); throws Error (is_connection()) on failure.
  static Connection open(const std::string& conninfo);
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection() = default;

  template <typename... Args>
  Result exec(std::string_view sql, const Args&... args) {
    return exec_params(sql, std::vector<Param>{to_param(args)...});
  }
  Result exec_params(std::string_view sql, const std::vector<Param>& params);
  // The same with every column in binary format (read with Result::bytes): no text output on
  // the server, no parsing here. For bulk reads (the DNS snapshot's 100,000 servers).
  template <typename... Args>
  Result exec_binary(std::string_view sql, const Args&... args) {
    return exec_params(sql, std::vector<Param>{to_param(args)...}, true);
  }
  Result exec_params(std::string_view sql, const std::vector<Param>& params, bool binary_result);
  // Runs several statements with no parameters (migrations, BEGIN/COMMIT) as one simple
  // query. On failure the Error's position() is relative to the whole `sql` text.
  void exec_script(std::string_view sql);

  // LISTEN on a channel (identifier-quoted by this function).
  void listen(std::string_view channel);
  // Waits up to `timeout` for a notification; nullopt on timeout. Throws on a broken link.
  std::optional<Notification> wait_notification(std::chrono::milliseconds timeout);
  // Notifications already received (non-blocking).
  std::vector<Notification> drain_notifications();

  // Re-establishes the link with the same parameters (PQreset), e.g. after is_connection()
  // errors; a daemon calls it in its loop with Backoff delays between attempts. LISTENs of the
  // old session are gone: listen() again. Throws Error (is_connection()) if it fails.
  void reset();

  bool ok() const;     // the link is up as far as libpq knows
  int socket() const;  // for poll()/epoll
  std::string error_message() const;

 private:
  struct Free {
    void operator()(pg_conn* c) const noexcept;
  };
  explicit Connection(pg_conn* c) : conn_(c) {}
  std::unique_ptr<pg_conn, Free> conn_;
};

// How a transaction sees concurrent writes (PostgreSQL "Transaction Isolation").
enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };
enum class Access { kReadWrite, kReadOnly };

// The BEGIN statement for a mode: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".
std::string_view begin_statement(Isolation isolation, Access access);

// BEGIN (with the isolation level and access mode asked for) on construction; COMMIT on
// commit(); ROLLBACK in the destructor if not committed. Under kRepeatableRead and
// kSerializable every statement sees one snapshot; a commit may then fail with
// is_retryable(), and the caller runs the whole transaction again.
class Transaction {
 public:
  explicit Transaction(Connection& c, Isolation isolation = Isolation::kReadCommitted,
                       Access access = Access::kReadWrite);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  template <typename... Args>
  Result exec(std::string_view sql, const Args&... args) {
    return conn_.exec(sql, args...);
  }
  template <typename... Args>
  Result exec_binary(std::string_view sql, const Args&... args) {
    return conn_.exec_binary(sql, args...);
  }
  void commit();

 private:
  Connection& conn_;
  bool done_ = false;
};

// A one-dimensional array as a text parameter, for "= ANY($1::bigint[])" or
// "unnest($1::text[])": the literal is built element by element with quoting, never spliced
// into the SQL. Every element is double-quoted with backslash escapes, so any text (commas,
// braces, quotes, "NULL") arrives as itself; add_null() is SQL NULL. The cast in the query
// gives the element type (text[], int8[], float8[], timestamptz[] ...).
//
//   pg::ArrayBuilder ids;
//   for (int64_t id : v) ids.add(id);
//   conn.exec("SELECT refresh_pool_score($1::bigint[])", ids);
class ArrayBuilder {
 public:
  ArrayBuilder& add(std::string_view text);
  ArrayBuilder& add(const char* text) { return add(std::string_view(text)); }
  ArrayBuilder& add(const std::string& text) { return add(std::string_view(text)); }
  ArrayBuilder& add(int64_t v) { return add(std::string_view(std::to_string(v))); }
  ArrayBuilder& add(int32_t v) { return add(static_cast<int64_t>(v)); }
  ArrayBuilder& add(double v) { return add(std::string_view(float_text(v))); }
  ArrayBuilder& add_null();
  template <typename T>
  ArrayBuilder& add(const std::optional<T>& v) {
    return v ? add(*v) : add_null();
  }
  std::size_t size() const { return size_; }
  // "{...}"; also what to_param() sends.
  std::string literal() const { return body_ + "}"; }
  operator std::string() const { return literal(); }

 private:
  std::string body_ = "{";
  std::size_t size_ = 0;
};

// Every element of `values` (anything ArrayBuilder::add takes) as one array literal.
template <typename Range>
std::string array_literal(const Range& values) {
  ArrayBuilder b;
  for (const auto& v : values) b.add(v);
  return b.literal();
}

// The reconnect delay policy (core/reconnect.hpp) under its earlier name.
using Backoff = timepool::Backoff;

}  // namespace timepool::pg
