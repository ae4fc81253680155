// The mail sender: a periodic job of timepool-web (core/periodic_job.hpp) that delivers the
// outbox (schema/0015_mail.sql) to the configured relay over SMTP with libcurl, or writes each
// message into a folder (local runs), and runs the notice scan (web/notices.hpp) first.
//
// Delivery is at least once, and exactly once while the database stays up: each message is
// claimed with SELECT ... FOR UPDATE SKIP LOCKED in a transaction of its own, delivered while
// that row lock is held (another sender skips the row), and marked sent in the same
// transaction only after the relay accepted it. A failed delivery records the error and waits
// mail.retry_min_seconds, doubling up to mail.retry_max_seconds; after mail.give_up_hours the
// message is marked failed and stays in the outbox. A round stops at its first failure (the
// relay is probably down) and the job tries again at its next round. Only if the database
// fails between the relay's acceptance and the commit is a message sent twice; its Message-ID
// (outbox id and creation time) stays the same, so the copies are recognisable.
//
// Threads: smtp_deliver() and send_due() are plain functions (tests call them); MailSender
// owns one thread and one connection. curl_global_init must have run before (main()).
#pragma once

#include <functional>
#include <string>

#include "core/periodic_job.hpp"
#include "core/pg.hpp"
#include "web/mail.hpp"

namespace timepool::web {

struct Delivery {
  bool ok = false;
  std::string error;  // why not, for the outbox's last_error and the log
};

// Hands `wire` (build_message()) for m.to to the relay in cfg (host, port, tls, ca_file, user
// and password, timeout_seconds). Blocks up to timeout_seconds.
Delivery smtp_deliver(const MailConfig& cfg, const MailMessage& m, const std::string& wire);
// Writes `wire` as <cfg.directory>/<message id>.eml (through a temporary file and a rename, so
// a reader never sees half a message) and logs where.
Delivery directory_deliver(const MailConfig& cfg, const MailMessage& m, const std::string& wire);

using Deliver = std::function<Delivery(const MailMessage&, const std::string&)>;

struct SendRound {
  int sent = 0;
  int failed = 0;   // deliveries that failed (the round stopped at the first)
  int gave_up = 0;  // of those, messages now marked failed for good
  bool more = false;  // the batch was full: more may be due
};

// Delivers due messages, at most cfg.batch, as described above. Throws pg::Error.
SendRound send_due(pg::Connection& db, const MailConfig& cfg, const Deliver& deliver);

class MailSender {
 public:
  // `deliver` null: the transport cfg names (smtp or directory; off sends nothing).
  MailSender(std::string conninfo, MailConfig cfg, Deliver deliver = nullptr);
  void start() { job_.start(); }
  void stop() { job_.stop(); }
  // A request queued mail: deliver it now rather than at the next interval.
  void wake() { job_.wake(); }

 private:
  PeriodicJob job_;
};

}  // namespace timepool::web
