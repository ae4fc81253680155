// A background job that runs one round every interval on a thread of its own: the findings job,
// the monitoring upkeep and the mail sender of timepool-web (web/findings_job.hpp,
// web/monitoring_job.hpp, web/mail_sender.hpp).
//
// The first round runs at start(). A round that throws is retried after a backoff
// (core/reconnect.hpp: growing delays with jitter, one warning when it starts failing, one info
// line when it works again); a round that returns waits the interval, or the shorter delay it
// asks for (a sender with more queued work). wake() runs the next round at once; stop() ends the
// wait at once and joins the thread after the round in progress.
//
// with_connection() is the common shape of a round: a database connection kept open between
// rounds, dropped after any failure and opened again for the next.
//
// Threads: start(), wake() and stop() may be called from any thread; the round runs only on
// the job's thread. Not copyable or movable (the thread holds `this`).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/pg.hpp"
#include "core/reconnect.hpp"

namespace spdlog {
class logger;
}

namespace timepool {

class PeriodicJob {
 public:
  // The delay before the next round; nullopt: the interval.
  using Round = std::function<std::optional<std::chrono::milliseconds>()>;

  // `name` appears in the log ("findings job unavailable (...)"); `retry` bounds the backoff
  // after failed rounds.
  PeriodicJob(std::string name, std::chrono::milliseconds interval, Round round,
              std::shared_ptr<spdlog::logger> log,
              ReconnectOptions retry = {std::chrono::seconds(1), std::chrono::seconds(60)});
  ~PeriodicJob();  // stops and joins
  PeriodicJob(const PeriodicJob&) = delete;
  PeriodicJob& operator=(const PeriodicJob&) = delete;

  void start();
  void stop();
  void wake();
  // Rounds finished without an exception, and rounds that threw (for tests and metrics).
  int64_t rounds() const;
  int64_t failures() const;

 private:
  void loop();
  std::string name_;
  std::chrono::milliseconds interval_;
  Round round_;
  std::shared_ptr<spdlog::logger> log_;
  ReconnectOptions retry_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  int64_t rounds_ = 0;
  int64_t failures_ = 0;
  std::thread thread_;
};

// A round on a database connection that lives between rounds: opened with `conninfo` when
// there is none, dropped when `round` throws (the exception goes on to the job).
PeriodicJob::Round with_connection(
    std::string conninfo,
    std::function<std::optional<std::chrono::milliseconds>(pg::Connection&)> round);

}  // namespace timepool
