// Mail from the site: the [mail] settings, building an RFC 5322 message, and putting a message
// into the outbox (schema/0015_mail.sql) for the sender (web/mail_sender.hpp) to deliver.
//
// A request never talks to the relay: it writes a row in the same transaction as the change
// the mail is about, so a message exists exactly when its change does, and a relay that is
// down delays mail without failing a page.
//
// Threads: everything here is a plain function; MailConfig is immutable after start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/pg.hpp"

namespace timepool::web {

struct MailConfig {
  // smtp: deliver to the relay; directory: write each message as a file into `directory`
  // (local runs); off: keep messages in the outbox, send nothing.
  std::string transport = "smtp";
  std::string host = "localhost";
  int port = 25;
  // none: plain SMTP; try: STARTTLS when the relay offers it; starttls: STARTTLS required;
  // tls: TLS from the first byte (smtps, usually port 465).
  std::string tls = "starttls";
  std::string ca_file;  // "" = the system's CA certificates
  std::string user;     // "" = no authentication
  std::string password;  // read from password_file at start; never logged
  std::string from = "timepool@localhost";
  std::string directory;  // transport = directory
  // Links in mail start with this (the site as its visitors reach it, without a final '/').
  std::string site_url = "http://127.0.0.1:8080";
  // New accounts must follow the link mailed to them before adding servers or requesting
  // zones. false: sign-ups are verified at once (local runs without a relay).
  bool verify_email = true;
  int verify_hours = 48;  // a verification link's lifetime
  int reset_minutes = 60;  // a password-reset link's lifetime
  int interval_seconds = 10;  // the sender's rounds (it is also woken when mail is queued)
  int batch = 50;             // messages per round at most
  int timeout_seconds = 30;   // one delivery, connect included
  int retry_min_seconds = 60;  // a failed delivery waits this long, doubling each time,
  int retry_max_seconds = 3600;  // up to this
  int give_up_hours = 168;       // then is marked failed (kept in the outbox, logged)
  // How often the sender's round runs the notice scan (web/notices.hpp), with any transport.
  int notice_interval_seconds = 60;
};

// Reads [mail]; throws config::Error naming the key (an unreadable password_file included).
MailConfig read_mail_config(const config::Document& doc);

struct MailMessage {
  std::string from;
  std::string to;
  std::string subject;  // UTF-8; encoded per RFC 2047 when not plain ASCII
  std::string body;     // UTF-8 text; sent quoted-printable
  std::string message_id;  // without the angle brackets: "<id>@timepool"
  int64_t date = 0;        // epoch seconds
};

// The message as sent: headers and body with CRLF line ends. Addresses and the subject must
// not contain CR or LF (enqueue_mail refuses them); anything else is encoded, so no line
// exceeds 78 characters except an address.
std::string build_message(const MailMessage& m);

// RFC 2045 quoted-printable of UTF-8 text, with CRLF line ends (LF or CRLF in the input both
// become a hard line break).
std::string quoted_printable(std::string_view text);
// The header value for `text`: itself when printable ASCII, else RFC 2047 "=?UTF-8?B?...?="
// words of at most 75 characters, folded onto continuation lines.
std::string encode_header(std::string_view text);
// RFC 5322 date-time in UTC: "Mon, 30 Nov 2026 16:34:02 +0000".
std::string rfc5322_date(int64_t epoch_seconds);

// Queues one message. The caller's open transaction on `db` (if any) holds it; `account_id`
// may be 0 (no account). Throws std::invalid_argument for CR/LF in the address or subject.
int64_t enqueue_mail(pg::Connection& db, int64_t account_id, std::string_view to,
                     std::string_view kind, std::string_view subject, std::string_view body);

}  // namespace timepool::web
