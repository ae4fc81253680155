// Confirmations after a save: the POST handler answers 303 to the page that shows the result
// (POST-redirect-GET, so reloading never sends the form again) and leaves one line of text in
// a short-lived cookie; the next page shows it once and clears the cookie.
//
// The cookie is HttpOnly, SameSite=Lax and base64url-encoded (not percent-encoded: cpp-httplib
// percent-decodes request header values, so a "%3B" would come back as a cookie-splitting
// ";"); its text is escaped when shown, like everything else, so a forged cookie can only
// show text to the one who forged it.
#include <sodium.h>

#include <algorithm>
#include <string>

#include "web/app.hpp"
#include "web/html.hpp"

namespace timepool::web {

namespace {

constexpr const char* kFlashCookie = "tp_flash";
constexpr size_t kMaxFlash = 600;  // bytes of text kept (a cookie stays well under 4 kB)
constexpr int64_t kFlashSeconds = 120;
constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

}  // namespace

Response redirect_with_flash(const Ctx& c, std::string location, std::string_view message) {
  Response r = Response::redirect(std::move(location));
  std::string text(message.substr(0, kMaxFlash));
  std::string encoded(sodium_base64_ENCODED_LEN(text.size(), kVariant), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(),
                    reinterpret_cast<const unsigned char*>(text.data()), text.size(), kVariant);
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  r.add_header("Set-Cookie", cookie(c.app, kFlashCookie, encoded, kFlashSeconds));
  return r;
}

std::string flash_html(const Ctx& c) {
  auto it = c.req.cookies.find(kFlashCookie);
  if (it == c.req.cookies.end() || it->second.empty()) return "";
  c.flash_shown = true;
  std::string text(it->second.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(text.data()), text.size(),
                        it->second.data(), it->second.size(), nullptr, &len, nullptr,
                        kVariant) != 0) {
    return "";  // not ours: show nothing
  }
  text.resize(std::min(len, kMaxFlash));
  return "<p class=\"flash ok\" id=\"flash\" role=\"status\">" + esc(text) + "</p>";
}

void flash_finish(const Ctx& c, Response& r) {
  if (c.flash_shown) r.add_header("Set-Cookie", cookie(c.app, kFlashCookie, "", 0));
}

}  // namespace timepool::web
