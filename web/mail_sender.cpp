#include "web/mail_sender.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "core/log.hpp"
#include "web/notices.hpp"

namespace timepool::web {

namespace {

struct CurlFree {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlFree>;
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t read_upload(char* buf, size_t size, size_t nitems, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t n = std::min(size * nitems, up->data->size() - up->pos);
  std::memcpy(buf, up->data->data() + up->pos, n);
  up->pos += n;
  return n;
}

std::string domain_of(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? "timepool" : address.substr(at + 1);
}

// min * 2^attempts, at most max (attempts: failures before this one).
int64_t retry_delay_seconds(const MailConfig& cfg, int attempts) {
  int64_t d = cfg.retry_min_seconds;
  for (int i = 0; i < attempts && d < cfg.retry_max_seconds; ++i) d *= 2;
  return std::min<int64_t>(d, cfg.retry_max_seconds);
}

}  // namespace

Delivery smtp_deliver(const MailConfig& cfg, const MailMessage& m, const std::string& wire) {
  CurlPtr curl(curl_easy_init());
  if (!curl) return {false, "curl_easy_init failed"};
  CURL* c = curl.get();
  std::string host = cfg.host.find(':') != std::string::npos ? "[" + cfg.host + "]" : cfg.host;
  std::string url = (cfg.tls == "tls" ? "smtps://" : "smtp://") + host + ":" +
                    std::to_string(cfg.port) + "/" + domain_of(cfg.from);
  std::string from = "<" + m.from + ">";
  SlistPtr rcpt(curl_slist_append(nullptr, ("<" + m.to + ">").c_str()));
  if (!rcpt) return {false, "out of memory"};
  Upload up{&wire};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(cfg.timeout_seconds));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(cfg.timeout_seconds));
  long use_ssl = CURLUSESSL_NONE;
  if (cfg.tls == "try") use_ssl = CURLUSESSL_TRY;
  if (cfg.tls == "starttls" || cfg.tls == "tls") use_ssl = CURLUSESSL_ALL;
  curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
  if (!cfg.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, cfg.ca_file.c_str());
  if (!cfg.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, cfg.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, cfg.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(wire.size()));
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return {true, ""};
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  std::string why = curl_easy_strerror(rc);
  if (errbuf[0] != '\0' && why != errbuf) why += ": " + std::string(errbuf);
  if (reply > 0) why += " (relay replied " + std::to_string(reply) + ")";
  return {false, why};
}

Delivery directory_deliver(const MailConfig& cfg, const MailMessage& m, const std::string& wire) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(cfg.directory, ec);
  std::string name = m.message_id.substr(0, m.message_id.find('@'));
  fs::path final_path = fs::path(cfg.directory) / (name + ".eml");
  fs::path tmp = fs::path(cfg.directory) / ("." + name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << wire;
    out.flush();
    if (!out) return {false, "cannot write " + tmp.string()};
  }
  fs::rename(tmp, final_path, ec);
  if (ec) return {false, "cannot rename to " + final_path.string() + ": " + ec.message()};
  log::get("web")->info("mail: \"{}\" to {} written to {}", m.subject, m.to, final_path.string());
  return {true, ""};
}

namespace {

// A row of mail_outbox claimed for one delivery (sending_at set).
struct Claimed {
  int64_t id = 0;
  std::string recipient, kind, subject, body;
  int64_t created = 0;
  int attempts = 0;
  bool give_up = false;                     // past give_up_hours: this is the last attempt
  std::optional<std::string> interrupted;  // when an interrupted delivery of it began
};

// Accepted by the relay in an earlier round whose database link failed before sent_at.
void record_accepted_earlier(pg::Connection& db, SenderState& state, SendRound& round) {
  while (!state.accepted_unrecorded.empty()) {
    int64_t id = state.accepted_unrecorded.back();
    db.exec("UPDATE mail_outbox SET sent_at = now(), sending_at = NULL, attempts = attempts + 1, "
            "last_error = NULL WHERE id = $1 AND sent_at IS NULL",
            id);
    state.accepted_unrecorded.pop_back();
    ++round.recorded;
    log::get("web")->info("mail {} sent (the relay accepted it before the database link failed)",
                          id);
  }
}

// The next message due, marked as sending; nothing when none is due.
std::optional<Claimed> claim_next(pg::Connection& db, const MailConfig& cfg) {
  // A delivery lasts at most timeout_seconds: a row sending for longer was interrupted.
  const int interrupted_after = cfg.timeout_seconds + 30;
  pg::Transaction claim(db);
  auto row = claim.exec(
      "SELECT id, recipient, kind, subject, body, extract(epoch FROM created_at)::bigint, "
      "attempts, created_at < now() - make_interval(hours => $1), "
      "to_char(sending_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM mail_outbox "
      "WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() "
      "AND (sending_at IS NULL OR sending_at < now() - make_interval(secs => $2)) "
      "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
      cfg.give_up_hours, static_cast<double>(interrupted_after));
  if (row.rows() == 0) {
    claim.commit();
    return std::nullopt;
  }
  Claimed m;
  m.id = row.get<int64_t>(0, 0);
  claim.exec("UPDATE mail_outbox SET sending_at = now() WHERE id = $1", m.id);
  claim.commit();
  m.recipient = row.get<std::string>(0, 1);
  m.kind = row.get<std::string>(0, 2);
  m.subject = row.get<std::string>(0, 3);
  m.body = row.get<std::string>(0, 4);
  m.created = row.get<int64_t>(0, 5);
  m.attempts = row.get<int32_t>(0, 6);
  m.give_up = row.get<bool>(0, 7);
  m.interrupted = row.get<std::optional<std::string>>(0, 8);
  return m;
}

MailMessage message_of(const MailConfig& cfg, const Claimed& c) {
  return MailMessage{cfg.from,
                     c.recipient,
                     c.subject,
                     c.body,
                     "timepool-" + std::to_string(c.id) + "." + std::to_string(c.created) + "@" +
                         domain_of(cfg.from),
                     c.created};
}

void record_sent(pg::Connection& db, SenderState& state, SendRound& round, const Claimed& c) {
  auto logger = log::get("web");
  try {
    db.exec("UPDATE mail_outbox SET sent_at = now(), sending_at = NULL, "
            "attempts = attempts + 1, last_error = NULL WHERE id = $1",
            c.id);
  } catch (const pg::Error&) {
    state.accepted_unrecorded.push_back(c.id);
    logger->warn("mail {} ({}) accepted by the relay; recording it waits for the database", c.id,
                 c.kind);
    throw;
  }
  ++round.sent;
  logger->info("mail {} ({}) sent after {} failed attempts", c.id, c.kind, c.attempts);
}

// The next attempt after a backoff, or none after give_up_hours.
void record_failure(pg::Connection& db, const MailConfig& cfg, SendRound& round, const Claimed& c,
                    std::string error) {
  auto logger = log::get("web");
  int64_t delay = retry_delay_seconds(cfg, c.attempts);
  if (error.size() > 2000) error.resize(2000);
  db.exec("UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, sending_at = NULL, "
          "next_attempt_at = now() + make_interval(secs => $3), "
          "failed_at = CASE WHEN $4 THEN now() END WHERE id = $1",
          c.id, error, static_cast<double>(delay), c.give_up);
  ++round.failed;
  if (c.give_up) {
    ++round.gave_up;
    logger->error("mail {} ({}): {}; given up after {} attempts (kept in mail_outbox)", c.id,
                  c.kind, error, c.attempts + 1);
  } else if (c.attempts == 0) {
    logger->warn("mail {} ({}): {}; retry in {} s", c.id, c.kind, error, delay);
  } else {
    logger->debug("mail {} ({}): {}; attempt {}, retry in {} s", c.id, c.kind, error,
                  c.attempts + 1, delay);
  }
}

}  // namespace

SendRound send_due(pg::Connection& db, const MailConfig& cfg, const Deliver& deliver,
                   SenderState& state) {
  SendRound round;
  record_accepted_earlier(db, state, round);
  for (int i = 0; i < cfg.batch; ++i) {
    auto claimed = claim_next(db, cfg);
    if (!claimed) return round;
    if (claimed->interrupted) {
      ++round.redelivered;
      log::get("web")->warn(
          "mail {} ({}): its delivery that began {} UTC was interrupted (a sender stopped); the "
          "relay may have it already: delivering it again with the same Message-ID",
          claimed->id, claimed->kind, *claimed->interrupted);
    }
    MailMessage m = message_of(cfg, *claimed);
    Delivery d = deliver(m, build_message(m));
    if (!d.ok) {
      record_failure(db, cfg, round, *claimed, std::move(d.error));
      return round;
    }
    record_sent(db, state, round, *claimed);
  }
  round.more = true;
  return round;
}

namespace {

PeriodicJob::Round sender_round(std::string conninfo, MailConfig cfg, Deliver deliver) {
  if (!deliver && cfg.transport == "smtp") {
    deliver = [cfg](const MailMessage& m, const std::string& w) { return smtp_deliver(cfg, m, w); };
  } else if (!deliver && cfg.transport == "directory") {
    deliver = [cfg](const MailMessage& m, const std::string& w) {
      return directory_deliver(cfg, m, w);
    };
  }
  // Shared by every round (they run on the job's one thread).
  auto state = std::make_shared<SenderState>();
  auto next_scan = std::make_shared<std::chrono::steady_clock::time_point>();
  return with_connection(std::move(conninfo), [cfg, deliver, state,
                                               next_scan](pg::Connection& db) {
    std::optional<std::chrono::milliseconds> next;
    auto now = std::chrono::steady_clock::now();
    if (now >= *next_scan) {
      run_notice_scan(db, cfg.site_url);
      *next_scan = now + std::chrono::seconds(cfg.notice_interval_seconds);
    }
    if (!deliver) return next;  // transport = off
    SendRound r = send_due(db, cfg, deliver, *state);
    if (r.more) next = std::chrono::milliseconds(0);
    return next;
  });
}

}  // namespace

MailSender::MailSender(std::string conninfo, MailConfig cfg, Deliver deliver)
    : job_("mail sender", std::chrono::seconds(std::min(cfg.interval_seconds,
                                                        cfg.notice_interval_seconds)),
           sender_round(std::move(conninfo), cfg, std::move(deliver)), log::get("web")) {}

}  // namespace timepool::web
