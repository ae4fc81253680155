// Confirmations after a save: the POST handler answers 303 to the page that shows the result
// (POST-redirect-GET, so reloading never sends the form again) and leaves one line of text in
// a short-lived cookie; the next page shows it once and clears the cookie.
//
// The cookie is HttpOnly, SameSite=Lax and percent-encoded; its text is escaped when shown,
// like everything else, so a forged cookie can only show text to the one who forged it.
#include <string>

#include "web/app.hpp"
#include "web/form.hpp"
#include "web/html.hpp"

namespace timepool::web {

namespace {

constexpr const char* kFlashCookie = "tp_flash";
constexpr size_t kMaxFlash = 600;  // bytes of text kept (a cookie stays well under 4 kB)
constexpr int64_t kFlashSeconds = 120;

}  // namespace

Response redirect_with_flash(const Ctx& c, std::string location, std::string_view message) {
  Response r = Response::redirect(std::move(location));
  std::string text(message.substr(0, kMaxFlash));
  r.add_header("Set-Cookie", cookie(c.app, kFlashCookie, url_encode(text), kFlashSeconds));
  return r;
}

std::string flash_html(const Ctx& c) {
  auto it = c.req.cookies.find(kFlashCookie);
  if (it == c.req.cookies.end() || it->second.empty()) return "";
  c.flash_shown = true;
  std::string text = url_decode(it->second, false).substr(0, kMaxFlash);
  return "<p class=\"flash ok\" id=\"flash\" role=\"status\">" + esc(text) + "</p>";
}

void flash_finish(const Ctx& c, Response& r) {
  if (c.flash_shown) r.add_header("Set-Cookie", cookie(c.app, kFlashCookie, "", 0));
}

}  // namespace timepool::web
