// The mail outbox as seen by /metrics (schema/0015_mail.sql's mail_outbox):
//   timepool_web_mail_outbox_queued          messages waiting to be sent
//   timepool_web_mail_outbox_retrying        of those, messages whose delivery failed at least once
//   timepool_web_mail_outbox_oldest_seconds  age of the oldest waiting message (0: none waits)
//   timepool_web_mail_outbox_failed          messages the relay refused for good (kept, not retried)
//   timepool_web_mail_outbox_read_ok         1 when the last count succeeded, 0 when the database
//                                            could not be read (the values are then the last known)
//
// The counts are read on a thread of its own (core/periodic_job.hpp) with a connection of its
// own, never on the metrics listener's thread: a slow or unreachable database must not hold up
// a scrape. Each scrape wakes the job, so the page shows the counts as of the previous scrape
// (or of the last round, at most interval_seconds old).
//
// Threads: render() and wake() from any thread; the counting runs on the job's thread.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "core/periodic_job.hpp"
#include "core/pg.hpp"

namespace timepool::web {

struct OutboxCounts {
  int64_t queued = 0;
  int64_t retrying = 0;
  double oldest_seconds = 0;
  int64_t failed = 0;
};

// One count on the caller's connection. Throws pg::Error.
OutboxCounts count_outbox(pg::Connection& db);

class OutboxGauge {
 public:
  OutboxGauge(std::string conninfo, std::chrono::milliseconds interval = std::chrono::seconds(60));
  void start() { job_.start(); }
  void stop() { job_.stop(); }
  // The samples above (Prometheus text); wakes the job for the next scrape.
  std::string render();

 private:
  std::optional<std::chrono::milliseconds> round(pg::Connection& db);
  std::mutex mu_;
  OutboxCounts last_;
  bool ok_ = false;
  PeriodicJob job_;  // last: its thread uses the members above
};

}  // namespace timepool::web
