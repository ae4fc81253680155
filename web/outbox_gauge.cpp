#include "web/outbox_gauge.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/prometheus.hpp"

namespace timepool::web {

OutboxCounts count_outbox(pg::Connection& db) {
  // The waiting rows through the sender's partial index; the refused ones are few and kept.
  auto r = db.exec(
      "SELECT count(*), count(*) FILTER (WHERE attempts > 0), "
      "  coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8, "
      "  (SELECT count(*) FROM mail_outbox WHERE failed_at IS NOT NULL) "
      "FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL");
  OutboxCounts c;
  c.queued = r.get<int64_t>(0, 0);
  c.retrying = r.get<int64_t>(0, 1);
  c.oldest_seconds = std::max(0.0, r.get<double>(0, 2));
  c.failed = r.get<int64_t>(0, 3);
  return c;
}

OutboxGauge::OutboxGauge(std::string conninfo, std::chrono::milliseconds interval)
    : job_("mail outbox gauge", interval,
           with_connection(std::move(conninfo),
                           [this](pg::Connection& db) { return round(db); }),
           log::get("web")) {}

std::optional<std::chrono::milliseconds> OutboxGauge::round(pg::Connection& db) {
  try {
    OutboxCounts c = count_outbox(db);
    std::lock_guard lock(mu_);
    last_ = c;
    ok_ = true;
  } catch (...) {
    std::lock_guard lock(mu_);
    ok_ = false;
    throw;
  }
  return std::nullopt;
}

std::string OutboxGauge::render() {
  OutboxCounts c;
  bool ok;
  {
    std::lock_guard lock(mu_);
    c = last_;
    ok = ok_;
  }
  job_.wake();
  prometheus::TextWriter w;
  w.gauge("timepool_web_mail_outbox_queued", "Mail messages waiting in the outbox to be sent.",
          c.queued);
  w.gauge("timepool_web_mail_outbox_retrying",
          "Waiting mail messages whose delivery failed at least once (retried with backoff).",
          c.retrying);
  w.gauge("timepool_web_mail_outbox_oldest_seconds",
          "Age of the oldest mail message waiting in the outbox; 0 when none waits.",
          c.oldest_seconds);
  w.gauge("timepool_web_mail_outbox_failed",
          "Mail messages the relay refused for good (kept in the outbox, not retried).", c.failed);
  w.gauge("timepool_web_mail_outbox_read_ok",
          "1 when the outbox was last counted; 0 when the database could not be read.",
          int64_t{ok ? 1 : 0});
  return w.take();
}

}  // namespace timepool::web
