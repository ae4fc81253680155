// E-mail verification and password reset by mailed, single-use, expiring, hashed tokens
// (web/account_mail.cpp), and the checks other handlers make with them.
//
// Threads: like every handler, on the request's thread with the request's connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "web/app.hpp"

namespace timepool::web {

// For a new account (in the sign-up's transaction): with mail.verify_email a token and the
// mail with its link are queued; without it the address counts as verified at once. Call
// mail_queued() after the commit.
void start_verification(pg::Connection& db, const App& app, int64_t account_id,
                        std::string_view email);
// Mail was queued and committed: the sender delivers it now.
void mail_queued(const App& app);

// nullopt when the session's account may add servers and request zones (its address is
// verified, or it is an admin); else the page that says how to verify (403) or a redirect to
// the login.
std::optional<Response> require_verified(Ctx& c);

// The account page's part about the address (verified or not, with a "send again" button).
std::string account_mail_section(Ctx& c);

Response get_verify(Ctx& c);           // GET /account/verify?token=
Response post_verify(Ctx& c);          // POST /account/verify
Response post_verify_resend(Ctx& c);   // POST /account/verify/resend
Response get_forgot(Ctx& c);           // GET /password/forgot
Response post_forgot(Ctx& c);          // POST /password/forgot
Response get_reset(Ctx& c);            // GET /password/reset?token=
Response post_reset(Ctx& c);           // POST /password/reset

}  // namespace timepool::web
