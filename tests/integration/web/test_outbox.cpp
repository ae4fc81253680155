// The outbox's delivery protocol (web/mail_sender.hpp) against a real database, with the
// sender's functions called directly: a message the relay accepted just before the database
// link failed is recorded on the next connection and not sent again; no other sender takes a
// message while it is being delivered; a delivery interrupted long ago goes out again with the
// same Message-ID.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>

#include "tests/support/pg_test_db.hpp"
#include "web/mail.hpp"
#include "web/mail_sender.hpp"

using namespace timepool;

namespace {

web::MailConfig test_config() {
  web::MailConfig cfg;
  cfg.from = "pool@pool.test";
  cfg.batch = 10;
  cfg.timeout_seconds = 5;
  return cfg;
}

void wait_gone(pg::Connection& admin, int pid) {
  for (int i = 0; i < 200; ++i) {
    if (admin.exec("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
            .get<int64_t>(0, 0) == 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the sender's backend did not end");
}

}  // namespace

TEST_CASE("accepted just before the database link failed: recorded later, sent once", "[outbox]") {
  test::TestDb db;
  auto admin = db.connect();
  const auto cfg = test_config();
  int64_t id = web::enqueue_mail(admin, 0, "a@example.org", "test", "one", "body");
  std::map<std::string, int> delivered;
  web::Deliver count = [&](const web::MailMessage& m, const std::string&) {
    ++delivered[m.message_id];
    return web::Delivery{true, ""};
  };

  auto sender = db.connect();
  int pid = sender.exec("SELECT pg_backend_pid()").get<int32_t>(0, 0);
  web::SenderState state;
  // The relay accepts; the database link is gone before sent_at is written.
  web::Deliver cut = [&](const web::MailMessage& m, const std::string& wire) {
    admin.exec("SELECT pg_terminate_backend($1)", pid);
    wait_gone(admin, pid);
    return count(m, wire);
  };
  CHECK_THROWS_AS(web::send_due(sender, cfg, cut, state), pg::Error);
  CHECK(state.accepted_unrecorded == std::vector<int64_t>{id});

  // Meanwhile another sender (another web instance) leaves the message alone.
  auto other = db.connect();
  web::SenderState other_state;
  auto r = web::send_due(other, cfg, count, other_state);
  CHECK(r.sent == 0);

  // The first sender's next round, on a new connection, records it and sends nothing again.
  auto again = db.connect();
  r = web::send_due(again, cfg, count, state);
  CHECK(r.recorded == 1);
  CHECK(r.sent == 0);
  CHECK(state.accepted_unrecorded.empty());
  REQUIRE(delivered.size() == 1);
  CHECK(delivered.begin()->second == 1);
  auto row = admin.exec("SELECT sent_at IS NOT NULL, sending_at IS NULL, attempts FROM mail_outbox "
                        "WHERE id = $1",
                        id);
  CHECK(row.get<bool>(0, 0));
  CHECK(row.get<bool>(0, 1));
  CHECK(row.get<int32_t>(0, 2) == 1);
}

TEST_CASE("a delivery interrupted long ago goes out again; a fresh one is left alone",
          "[outbox]") {
  test::TestDb db;
  auto admin = db.connect();
  const auto cfg = test_config();
  int64_t stale = web::enqueue_mail(admin, 0, "a@example.org", "test", "stale", "body");
  int64_t busy = web::enqueue_mail(admin, 0, "b@example.org", "test", "busy", "body");
  // One sender died mid-delivery 10 minutes ago (far beyond its time limit); another is at
  // work right now.
  admin.exec("UPDATE mail_outbox SET sending_at = now() - interval '10 minutes' WHERE id = $1",
             stale);
  admin.exec("UPDATE mail_outbox SET sending_at = now() WHERE id = $1", busy);
  std::vector<std::string> subjects, ids;
  web::Deliver count = [&](const web::MailMessage& m, const std::string&) {
    subjects.push_back(m.subject);
    ids.push_back(m.message_id);
    return web::Delivery{true, ""};
  };
  auto sender = db.connect();
  web::SenderState state;
  auto r = web::send_due(sender, cfg, count, state);
  CHECK(r.sent == 1);
  CHECK(r.redelivered == 1);
  CHECK(subjects == std::vector<std::string>{"stale"});
  CHECK(ids[0].rfind("timepool-" + std::to_string(stale) + ".", 0) == 0);
  CHECK(admin.exec("SELECT sent_at IS NULL FROM mail_outbox WHERE id = $1", busy)
            .get<bool>(0, 0));

  // A refused delivery clears the mark, so the retry is an ordinary one.
  int64_t refused = web::enqueue_mail(admin, 0, "c@example.org", "test", "refused", "body");
  web::Deliver refuse = [](const web::MailMessage&, const std::string&) {
    return web::Delivery{false, "relay said no"};
  };
  r = web::send_due(sender, cfg, refuse, state);
  CHECK(r.failed == 1);
  auto row = admin.exec("SELECT sending_at IS NULL, attempts, last_error FROM mail_outbox "
                        "WHERE id = $1",
                        refused);
  CHECK(row.get<bool>(0, 0));
  CHECK(row.get<int32_t>(0, 1) == 1);
  CHECK(row.get<std::string>(0, 2) == "relay said no");
}
