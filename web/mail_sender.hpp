// The mail sender: a periodic job of timepool-web (core/periodic_job.hpp) that delivers the
// outbox (schema/0015_mail.sql) to the configured relay over SMTP with libcurl, or writes each
// message into a folder (local runs), and runs the notice scan (web/notices.hpp) every
// mail.notice_interval_seconds first.
//
// Delivery is at least once, and exactly once unless the sender's process dies while it talks
// to the relay:
//   1. a due message is claimed with SELECT ... FOR UPDATE SKIP LOCKED and marked sending_at
//      in a transaction that commits before the relay is contacted, so no other sender takes
//      it while it is being delivered, whatever happens to this sender's database link;
//   2. it is delivered (at most mail.timeout_seconds);
//   3. accepted: sent_at is recorded. When the database fails just then, the id is kept in
//      SenderState and recorded first thing in the next round, on a new connection: the
//      message is not sent again. Refused: the error is recorded, sending_at cleared, and the
//      message waits mail.retry_min_seconds, doubling up to mail.retry_max_seconds; after
//      mail.give_up_hours it is marked failed and stays in the outbox.
// A message still marked sending after mail.timeout_seconds + 30 s was being delivered when a
// sender stopped (its process died, or it was stopped during a database outage with an
// accepted message it could not record). Whether the relay has it cannot be known: it is
// delivered again, logged as such, with the same Message-ID (outbox id and creation time), so
// the copies are recognisable. That is the one case where a message goes out twice.
// A round stops at its first failure (the relay is probably down); the job tries again at its
// next round.
//
// Threads: smtp_deliver() and send_due() are plain functions (tests call them); MailSender
// owns one thread and one connection. curl_global_init must have run before (main()).
#pragma once

#include <functional>
#include <string>
#include <vector>

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

// What a sender keeps between rounds: messages the relay accepted whose sent_at could not be
// recorded because the database failed.
struct SenderState {
  std::vector<int64_t> accepted_unrecorded;
};

struct SendRound {
  int sent = 0;
  int failed = 0;   // deliveries that failed (the round stopped at the first)
  int gave_up = 0;  // of those, messages now marked failed for good
  int recorded = 0;  // accepted in an earlier round, recorded in this one
  int redelivered = 0;  // claimed again after an interrupted delivery
  bool more = false;  // the batch was full: more may be due
};

// Records what `state` holds, then delivers due messages, at most cfg.batch, as described
// above. Throws pg::Error (an accepted message it could not record is in `state` then).
SendRound send_due(pg::Connection& db, const MailConfig& cfg, const Deliver& deliver,
                   SenderState& state);

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
