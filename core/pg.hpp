// PostgreSQL access: RAII over libpq. The only file that calls libpq is core/pg.cpp.
//
// - Parameterized queries only: exec("... WHERE id = $1", id). Parameters are converted to
//   text: integers, doubles, bool, strings/string_view/const char*, std::optional<T> (nullopt
//   is SQL NULL) and std::nullopt.
// - Every failure throws pg::Error carrying the SQLSTATE; classify it with the predicates
//   (class 08 and a lost connection: reconnect; 40001/40P01: retry; 23505: duplicate).
// - Connection, Result and Transaction are move-only. A Connection is used by one thread at a
//   time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

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
  bool is_connection() const;  // class 08, 57P01-57P03 (server shutting down), or no SQLSTATE
                               // because the link broke
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
  int64_t affected() const;                       // rows touched by INSERT/UPDATE/DELETE

  template <typename T>
  T get(int row, int col) const;
  template <typename T>
  T get(int row, std::string_view name) const { return get<T>(row, column(name)); }

 private:
  struct Free {
    void operator()(pg_result* r) const noexcept;
  };
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

// BEGIN on construction; COMMIT on commit(); ROLLBACK in the destructor if not committed.
class Transaction {
 public:
  explicit Transaction(Connection& c);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  template <typename... Args>
  Result exec(std::string_view sql, const Args&... args) {
    return conn_.exec(sql, args...);
  }
  void commit();

 private:
  Connection& conn_;
  bool done_ = false;
};

// Exponential backoff with full jitter for reconnect loops: next() gives the delay to sleep
// before the next attempt; reset() after a success. Pure: the caller supplies the random value.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}
  // `unit_random` in [0,1): where in [min, current] the delay falls.
  std::chrono::milliseconds next(double unit_random);
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds min_, max_;
  int attempt_ = 0;
};

}  // namespace timepool::pg
