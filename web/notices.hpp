// Notices by mail to volunteers and vendors (schema/0015_mail.sql, 0022_notices_audit.sql):
//   server-left-dns   a server left DNS, with the reason in the words of its owner's page
//                     (web/server_status.hpp: no reply, Kiss-o'-Death, offset, a report ...)
//   server-admin      an admin disabled, enabled or changed one of their servers
//   server-deleted    a deletion of one of their servers happened
//   vendor-decision   an admin approved or rejected their zone request
//   vendor-burst      the findings job found a synchronized burst in their zone
// Each kind goes at most once a day per server (or zone, or request) to an account, and only to
// a confirmed address of an account that is not disabled and has not turned the kind off
// (accounts.notices_off, the form on the account page).
//
// One scan (run_notice_scan, a step of the mail sender's round every
// mail.notice_interval_seconds) finds them all, in one transaction with the messages it queues:
//   - servers whose state moved since the last scan (notice_server_state): in DNS then, not
//     now, for none of the owner's own choices (monitoring only, a scheduled deletion) and not
//     by an admin (that is its own notice); or deleted since;
//   - the audit log's entries of the last day it has not handled (notice_audit_done): what an
//     admin did to someone else's server or zone request, from the site, from timepoolctl or
//     from the schema's functions alike;
//   - zones with a finding newer than the newest their vendor was told about
//     (notice_zone_state).
// An advisory lock lets one web instance scan at a time; a flapping server is told once a day
// because notices_sent keeps the last notice per (account, kind, subject).
//
// Threads: plain functions on the caller's connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/pg.hpp"
#include "web/http.hpp"

namespace timepool::web {

struct Ctx;

// Every kind, in the order the account page lists them, with its label there.
struct NoticeKind {
  const char* kind;
  const char* label;
  const char* role;  // volunteer or vendor: whose account page offers it
};
const std::vector<NoticeKind>& notice_kinds();

// Queues one notice unless the rules above say no; true when it was queued. `subject` names
// what it is about ("server:12", "zone:3", "request:5"): the once-a-day limit is per subject.
// `site_url`: links in the message start with it (mail.site_url).
bool queue_notice(pg::Connection& db, std::string_view site_url, int64_t account_id,
                  std::string_view kind, std::string_view subject, std::string_view mail_subject,
                  std::string_view text);

struct NoticeScan {
  bool ran = false;  // false: another instance held the lock
  int left_dns = 0;  // notices queued, by kind
  int deleted = 0;
  int admin = 0;
  int decisions = 0;
  int bursts = 0;
  int queued() const { return left_dns + deleted + admin + decisions + bursts; }
};
// One scan in a transaction of its own. Throws pg::Error.
NoticeScan run_notice_scan(pg::Connection& db, std::string_view site_url);

// The account page's notice preferences (a form with a checkbox per kind of the account's
// roles) and its handler, POST /account/notices.
std::string notice_prefs_section(Ctx& c);
Response post_account_notices(Ctx& c);

}  // namespace timepool::web
