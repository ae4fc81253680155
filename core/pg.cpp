#include "core/pg.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <libpq-fe.h>

#include "core/log.hpp"

namespace timepool::pg {
namespace {

constexpr const char* kConversionState = "22000";
// What a lost link looks like when libpq itself reports it (no SQLSTATE from a server).
constexpr const char* kConnectionFailure = "08006";

std::string trim_message(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Routes server NOTICEs ("relation already exists, skipping") to the debug log instead of
// libpq's default of printing them on stderr.
void notice_to_log(void*, const char* message) {
  log::get("pg")->debug("{}", trim_message(message));
}

// Builds the Error for a failed PGresult (or a null one) and frees nothing: the caller owns r.
Error error_from(pg_conn* conn, const PGresult* r) {
  std::string state;
  std::string msg;
  int position = 0;
  if (r) {
    if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
    if (const char* p = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION)) position = std::atoi(p);
    msg = trim_message(PQresultErrorMessage(r));
  }
  if (msg.empty()) msg = trim_message(PQerrorMessage(conn));
  if (msg.empty()) msg = "query failed";
  if (state.empty() && PQstatus(conn) == CONNECTION_BAD) state = kConnectionFailure;
  return Error(msg, state, position);
}

// Checks the result of PQexec/PQexecParams; throws on anything but success.
PGresult* checked(pg_conn* conn, PGresult* r) {
  if (!conn) throw Error("not connected", kConnectionFailure);
  auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    return r;
  }
  Error e = error_from(conn, r);
  PQclear(r);
  throw e;
}

[[noreturn]] void bad_value(std::string_view what, std::string_view text, int row, int col) {
  throw Error("row " + std::to_string(row) + " column " + std::to_string(col) + ": \"" +
                  std::string(text) + "\" is not " + std::string(what),
              kConversionState);
}

template <typename I>
I to_integer(std::string_view t, int row, int col) {
  I v{};
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || t.empty()) bad_value("an integer", t, row, col);
  return v;
}

double to_double(std::string_view t, int row, int col) {
  std::string s(t);
  if (s.empty()) bad_value("a number", t, row, col);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) bad_value("a number", t, row, col);
  return d;
}

bool to_bool(std::string_view t, int row, int col) {
  if (t == "t" || t == "true") return true;
  if (t == "f" || t == "false") return false;
  bad_value("a boolean", t, row, col);
}

template <typename T>
struct Converter;
template <>
struct Converter<std::string> {
  static std::string from(std::string_view t, int, int) { return std::string(t); }
};
template <>
struct Converter<int64_t> {
  static int64_t from(std::string_view t, int r, int c) { return to_integer<int64_t>(t, r, c); }
};
template <>
struct Converter<int32_t> {
  static int32_t from(std::string_view t, int r, int c) { return to_integer<int32_t>(t, r, c); }
};
template <>
struct Converter<double> {
  static double from(std::string_view t, int r, int c) { return to_double(t, r, c); }
};
template <>
struct Converter<bool> {
  static bool from(std::string_view t, int r, int c) { return to_bool(t, r, c); }
};

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {
  using Inner = T;
};

}  // namespace

std::string float_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? end : buf);
}

// --- Error -----------------------------------------------------------------------------------

bool Error::is_connection() const {
  return sqlstate_.empty() || sqlstate_.compare(0, 2, "08") == 0 || sqlstate_ == "57P01" ||
         sqlstate_ == "57P02" || sqlstate_ == "57P03" || sqlstate_ == "25006";
}
bool Error::is_retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
bool Error::is_unique_violation() const { return sqlstate_ == "23505"; }
bool Error::is_check_violation() const { return sqlstate_ == "23514"; }
bool Error::is_foreign_key_violation() const { return sqlstate_ == "23503"; }
bool Error::is_not_null_violation() const { return sqlstate_ == "23502"; }

// --- Result ----------------------------------------------------------------------------------

void Result::Free::operator()(pg_result* r) const noexcept { PQclear(r); }

Result::Result(pg_result* r) : res_(r) {}

int Result::rows() const { return res_ ? PQntuples(res_.get()) : 0; }
int Result::cols() const { return res_ ? PQnfields(res_.get()) : 0; }

int Result::column(std::string_view name) const {
  std::string n(name);
  int c = res_ ? PQfnumber(res_.get(), n.c_str()) : -1;
  if (c < 0) throw Error("result has no column \"" + n + "\"", "42703");
  return c;
}

bool Result::is_null(int row, int col) const {
  if (row < 0 || row >= rows() || col < 0 || col >= cols()) {
    throw Error("row " + std::to_string(row) + " column " + std::to_string(col) +
                    " is outside the result",
                kConversionState);
  }
  return PQgetisnull(res_.get(), row, col) != 0;
}

std::string_view Result::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return value(row, col);
}

std::span<const uint8_t> Result::bytes(int row, int col) const {
  if (is_null(row, col)) return {};
  return {reinterpret_cast<const uint8_t*>(PQgetvalue(res_.get(), row, col)),
          static_cast<size_t>(PQgetlength(res_.get(), row, col))};
}

int64_t Result::affected() const {
  if (!res_) return 0;
  const char* n = PQcmdTuples(res_.get());
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

// The value of a cell known to be inside the result and not NULL.
std::string_view Result::value(int row, int col) const {
  return std::string_view(PQgetvalue(res_.get(), row, col),
                          static_cast<size_t>(PQgetlength(res_.get(), row, col)));
}

// One bounds check and one NULL check a cell: the snapshot loader reads 400,000 cells with
// this at 100,000 servers.
template <typename T>
T Result::get(int row, int col) const {
  if constexpr (IsOptional<T>::value) {
    if (is_null(row, col)) return std::nullopt;
    check_text(col);
    return Converter<typename IsOptional<T>::Inner>::from(value(row, col), row, col);
  } else {
    if (is_null(row, col)) {
      throw Error("row " + std::to_string(row) + " column " + std::to_string(col) +
                      " (" + PQfname(res_.get(), col) + ") is NULL",
                  kConversionState);
    }
    check_text(col);
    return Converter<T>::from(value(row, col), row, col);
  }
}

void Result::check_text(int col) const {
  if (PQfformat(res_.get(), col) != 0) {
    throw Error("column " + std::to_string(col) + " is binary: read it with bytes()",
                kConversionState);
  }
}

template std::string Result::get<std::string>(int, int) const;
template int64_t Result::get<int64_t>(int, int) const;
template int32_t Result::get<int32_t>(int, int) const;
template double Result::get<double>(int, int) const;
template bool Result::get<bool>(int, int) const;
template std::optional<std::string> Result::get<std::optional<std::string>>(int, int) const;
template std::optional<int64_t> Result::get<std::optional<int64_t>>(int, int) const;
template std::optional<int32_t> Result::get<std::optional<int32_t>>(int, int) const;
template std::optional<double> Result::get<std::optional<double>>(int, int) const;
template std::optional<bool> Result::get<std::optional<bool>>(int, int) const;

// --- Connection ------------------------------------------------------------------------------

void Connection::Free::operator()(pg_conn* c) const noexcept { PQfinish(c); }

Connection Connection::open(const std::string& conninfo) {
  pg_conn* c = PQconnectdb(conninfo.c_str());
  if (!c) throw Error("cannot allocate a PostgreSQL connection", kConnectionFailure);
  Connection conn(c);  // frees c if we throw below
  if (PQstatus(c) != CONNECTION_OK) {
    throw Error("cannot connect to PostgreSQL: " + trim_message(PQerrorMessage(c)), "08001");
  }
  PQsetNoticeProcessor(c, notice_to_log, nullptr);
  return conn;
}

Result Connection::exec_params(std::string_view sql, const std::vector<Param>& params) {
  return exec_params(sql, params, false);
}

Result Connection::exec_params(std::string_view sql, const std::vector<Param>& params,
                               bool binary_result) {
  std::string q(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.text ? p.text->c_str() : nullptr);
  PGresult* r = PQexecParams(conn_.get(), q.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, binary_result ? 1 : 0);
  return Result(checked(conn_.get(), r));
}

void Connection::exec_script(std::string_view sql) {
  std::string q(sql);
  PQclear(checked(conn_.get(), PQexec(conn_.get(), q.c_str())));
}

void Connection::listen(std::string_view channel) {
  // LISTEN takes no parameters; the channel is quoted as an identifier by libpq.
  char* quoted = PQescapeIdentifier(conn_.get(), channel.data(), channel.size());
  if (!quoted) throw error_from(conn_.get(), nullptr);
  std::string q = std::string("LISTEN ") + quoted;
  PQfreemem(quoted);
  exec_script(q);
}

std::vector<Notification> Connection::drain_notifications() {
  std::vector<Notification> out;
  if (!conn_) return out;
  if (PQconsumeInput(conn_.get()) == 0) {
    throw Error("lost the PostgreSQL connection: " + error_message(), kConnectionFailure);
  }
  while (PGnotify* n = PQnotifies(conn_.get())) {
    out.push_back({n->relname ? n->relname : "", n->extra ? n->extra : ""});
    PQfreemem(n);
  }
  return out;
}

std::optional<Notification> Connection::wait_notification(std::chrono::milliseconds timeout) {
  if (!conn_) throw Error("not connected", kConnectionFailure);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool polled = false;
  while (true) {
    if (PGnotify* n = PQnotifies(conn_.get())) {
      Notification out{n->relname ? n->relname : "", n->extra ? n->extra : ""};
      PQfreemem(n);
      return out;
    }
    // Rounded up, so a wait never ends before the deadline.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                             std::chrono::steady_clock::now());
    if (polled && left.count() <= 0) return std::nullopt;
    pollfd pfd{PQsocket(conn_.get()), POLLIN, 0};
    if (pfd.fd < 0) throw Error("lost the PostgreSQL connection", kConnectionFailure);
    int wait_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
    int rc = ::poll(&pfd, 1, wait_ms);
    polled = true;
    if (rc < 0 && errno != EINTR) {
      throw Error(std::string("poll on the PostgreSQL socket: ") + std::strerror(errno),
                  kConnectionFailure);
    }
    if (rc > 0 && PQconsumeInput(conn_.get()) == 0) {
      throw Error("lost the PostgreSQL connection: " + error_message(), kConnectionFailure);
    }
  }
}

void Connection::reset() {
  if (!conn_) throw Error("not connected", kConnectionFailure);
  PQreset(conn_.get());
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw Error("cannot reconnect to PostgreSQL: " + error_message(), "08001");
  }
  PQsetNoticeProcessor(conn_.get(), notice_to_log, nullptr);
}

bool Connection::ok() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

int Connection::socket() const { return conn_ ? PQsocket(conn_.get()) : -1; }

std::string Connection::error_message() const {
  return conn_ ? trim_message(PQerrorMessage(conn_.get())) : "not connected";
}

// --- Transaction -----------------------------------------------------------------------------

std::string_view begin_statement(Isolation isolation, Access access) {
  const bool ro = access == Access::kReadOnly;
  switch (isolation) {
    case Isolation::kRepeatableRead:
      return ro ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                : "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case Isolation::kSerializable:
      return ro ? "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"
                : "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case Isolation::kReadCommitted: break;
  }
  return ro ? "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
            : "BEGIN ISOLATION LEVEL READ COMMITTED";
}

Transaction::Transaction(Connection& c, Isolation isolation, Access access) : conn_(c) {
  conn_.exec_script(begin_statement(isolation, access));
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    conn_.exec_script("ROLLBACK");
  } catch (const Error& e) {
    // The link is gone or the server aborted: the transaction is rolled back either way.
    log::get("pg")->debug("rollback failed: {}", e.what());
  }
}

void Transaction::commit() {
  done_ = true;
  conn_.exec_script("COMMIT");
}

// --- ArrayBuilder ----------------------------------------------------------------------------

ArrayBuilder& ArrayBuilder::add(std::string_view text) {
  // Array input syntax: a double-quoted element takes any character, with " and \ escaped.
  if (size_++) body_.push_back(',');
  body_.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') body_.push_back('\\');
    body_.push_back(c);
  }
  body_.push_back('"');
  return *this;
}

ArrayBuilder& ArrayBuilder::add_null() {
  if (size_++) body_.push_back(',');
  body_ += "NULL";
  return *this;
}

}  // namespace timepool::pg
