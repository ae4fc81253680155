// What the web site does with what browsers send, on any bytes: the body and query decoding
// (parse_urlencoded, url_decode, parse_cookies), then the field checks of the forms in the
// order the handlers apply them (web/volunteer.cpp post_server_add, web/vendor.cpp
// post_vendor_request), and each validator on every decoded value: address parse + classify,
// netspeed, integers, e-mail, password, vendor zone names and what is built from an accepted
// name, HTML escaping. Besides "no crash", each checks what it promises.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/address.hpp"
#include "web/country.hpp"
#include "web/form.hpp"
#include "web/html.hpp"
#include "web/http.hpp"
#include "web/validate.hpp"
#include "web/vendor.hpp"

using namespace timepool;
using namespace timepool::web;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void check_escaped(std::string_view raw) {
  const std::string e = esc(raw);
  check(e.size() >= raw.size());
  for (size_t i = 0; i < e.size(); ++i) {
    check(e[i] != '<' && e[i] != '>' && e[i] != '"' && e[i] != '\'');
    if (e[i] == '&') {
      const std::string_view rest = std::string_view(e).substr(i);
      check(rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;") ||
            rest.starts_with("&quot;") || rest.starts_with("&#39;"));
    }
  }
}

void check_address(std::string_view text, std::string_view country) {
  const auto a = address::parse(text);
  if (!a) return;
  const std::string s = a->to_string();
  const auto again = address::parse(s);
  check(again && *again == *a && again->to_string() == s);
  const address::Kind k = address::classify(*a);
  check(!address::describe(k).empty() && !address::kind_name(k).empty());
  if (address::is_public_unicast(*a, false)) check(k == address::Kind::GlobalUnicast);
  check(address::is_public_unicast(*a, true) ==
        (k == address::Kind::GlobalUnicast || k == address::Kind::Loopback));
  const std::string cc = pick_country(nullptr, *a, country);
  check(cc == pick_country(nullptr, *a, cc));
}

void check_value(std::string_view v) {
  const std::string t = trim(v);
  check(t.size() <= v.size() && trim(t) == t);
  if (!t.empty()) check(!is_space(t.front()) && !is_space(t.back()));

  check_address(t, v);
  check_address(v, t);

  if (const auto n = parse_int(t)) {
    check(parse_int(std::to_string(*n)) == n);
  }
  if (const auto speed = parse_netspeed(v)) {
    check(std::find(kNetspeeds.begin(), kNetspeeds.end(), *speed) != kNetspeeds.end());
    check(!netspeed_label(*speed).empty());
    check(parse_netspeed(std::to_string(*speed)) == speed);
  }
  if (const auto email = normalize_email(v)) {
    check(!email->empty() && email->size() <= 254);
    check(std::count(email->begin(), email->end(), '@') == 1);
    check(std::none_of(email->begin(), email->end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) <= 0x20;
    }));
    check(normalize_email(*email) == email);
  }
  check(check_password(v).empty() == (v.size() >= 10 && v.size() <= 200));

  if (check_vendor_name(t).empty()) {
    check(t.size() >= 4 && t.size() <= 40 && t.front() != '-' && t.back() != '-');
    check(!is_reserved_vendor_name(t));
    for (char c : t) check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    const std::string name(t);
    for (const char* type : {"ntp", "sntp", "both"}) {
      const auto names = vendor_names(name, type, "pool.example");
      check(!names.empty());
      for (const auto& n : names) check(n.ends_with("." + name + ".pool.example") || n == name + ".pool.example");
      check(!vendor_snippets(name, type, "pool.example").empty());
    }
  }
  check_escaped(v);
}

// post_server_add: address, then netspeed, then the country.
void server_add(const Request& r, bool allow_loopback) {
  const std::string addr_in = trim(r.param("address"));
  const auto a = address::parse(addr_in);
  if (!a) return;
  if (!address::is_public_unicast(*a, allow_loopback)) {
    check(!std::string(address::describe(address::classify(*a))).empty());
    return;
  }
  if (!parse_netspeed(r.param("netspeed"))) return;
  (void)pick_country(nullptr, *a, r.param("country"));
}

// post_vendor_request: the zone name, the texts, the device count, the client type.
void vendor_request(const Request& r) {
  const std::string name = trim(r.param("name"));
  if (!check_vendor_name(name).empty()) return;
  const auto count = parse_int(trim(r.param("device_count")));
  if (!count || *count < kMinDevices || *count > kMaxDevices) return;
  const std::string type = r.param("client_type");
  if (type != "ntp" && type != "sntp" && type != "both") return;
  check(!vendor_names(name, type, "pool.example").empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // routes.cpp refuses bigger bodies
  const std::string_view raw(reinterpret_cast<const char*>(data), size);

  // Decoding never grows the text, and encoding is undone exactly.
  for (bool plus : {true, false}) check(url_decode(raw, plus).size() <= raw.size());
  const std::string enc = url_encode(raw);
  for (char c : enc) {
    check((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '.' || c == '_' || c == '~' || c == '%');
  }
  check(url_decode(enc, true) == raw && url_decode(enc, false) == raw);

  Request r;
  r.method = "POST";
  r.form = parse_urlencoded(raw);
  check(r.form.size() <= 200);
  check(parse_urlencoded(raw, 3).size() <= 3);
  // The same text as a query string and as a Cookie header.
  r.query = parse_urlencoded(raw.substr(raw.find('?') == std::string_view::npos ? 0 : raw.find('?') + 1));
  r.cookies = parse_cookies(raw);
  for (const auto& [k, v] : r.cookies) check_escaped(k + v);

  server_add(r, false);
  server_add(r, true);
  vendor_request(r);

  for (const auto& [k, v] : r.form) {
    check(k.size() + v.size() <= raw.size());
    check_value(v);
  }
  if (size <= 512) check_value(raw);
  return 0;
}
