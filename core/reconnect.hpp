// Reconnecting with backoff, one policy for every daemon (database writers, the snapshot
// loader, the statistics flusher).
//
// Backoff is the pure part: exponential growth from `min` to `max` with full jitter (the delay
// falls uniformly in [min, current]; AWS "Exponential Backoff And Jitter"), reset after a
// success. Reconnect wraps it with the state of one link and its log: the first failure after
// a success is logged as a warning ("database unavailable (...)"), the repeats only at debug
// level, and the recovery once at info level with how long it was down.
//
//   Reconnect link("database", log::get("monitor"), {200ms, 30s});
//   for (;;) {
//     try { use(); link.succeeded(); }
//     catch (const pg::Error& e) { link.failed(e.what()); link.wait(stop_flag); }
//   }
//
// Not thread-safe: one thread owns a Reconnect. The clock and the random source are injectable
// so tests need no sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace timepool {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}
  // The delay before the next attempt. `unit_random` in [0,1): where in [min, current] the
  // delay falls (clamped into that range).
  std::chrono::milliseconds next(double unit_random);
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds min_, max_;
  int attempt_ = 0;
};

struct ReconnectOptions {
  std::chrono::milliseconds min{200};
  std::chrono::milliseconds max{30000};
};

class Reconnect {
 public:
  using Clock = std::chrono::steady_clock;
  using Random = std::function<double()>;  // uniform in [0,1)
  // `what` names the link in the log ("database"); `context` (optional) adds the caller's
  // state to the two log lines that matter ("1200 results wait in memory").
  Reconnect(std::string what, std::shared_ptr<spdlog::logger> log, ReconnectOptions opts = {},
            std::function<std::string()> context = nullptr, Random random = nullptr);

  // An attempt failed: logs if the link was up, and returns the delay until the next attempt
  // (retry_at() = now + delay). `asked`: the delay the other side asked for (an HTTP
  // Retry-After), used instead of the backoff's, bounded to [min, max].
  std::chrono::milliseconds failed(std::string_view why, Clock::time_point now = Clock::now(),
                                   std::optional<std::chrono::milliseconds> asked = std::nullopt);
  // An attempt succeeded: resets the backoff; logs the recovery if the link was down.
  void succeeded(Clock::time_point now = Clock::now());

  bool up() const { return up_; }
  int failures() const { return failures_; }
  // When the next attempt may be made (now, while up).
  Clock::time_point retry_at() const { return retry_at_; }
  bool due(Clock::time_point now = Clock::now()) const { return up_ || now >= retry_at_; }
  // Sleeps until retry_at() in short slices, returning early (false) once `stop` is set.
  bool wait(const std::atomic<bool>& stop) const;

 private:
  std::string what_;
  std::shared_ptr<spdlog::logger> log_;
  std::function<std::string()> context_;
  Random random_;
  Backoff backoff_;
  std::chrono::milliseconds min_, max_;
  bool up_ = true;
  int failures_ = 0;
  Clock::time_point down_since_{};
  Clock::time_point retry_at_{};
};

}  // namespace timepool
