#include "web/validate.hpp"

#include <algorithm>
#include <charconv>

namespace timepool::web {

namespace {

// Words that must not become vendor zones: they name the pool itself, common services, or
// would mislead users into thinking the zone is an official one.
constexpr std::string_view kReserved[] = {
    "pool",  "ntp",      "sntp",     "time",    "www",      "root",   "vendor",  "vendors",
    "admin", "api",      "mail",     "smtp",    "dns",      "ns",     "ns1",     "ns2",
    "web",   "static",   "global",   "world",   "official", "test",   "example", "localhost",
    "chrony", "ntpd",    "ntpsec",   "timesyncd", "clock",  "support", "help",   "abuse",
    "security", "status", "monitor", "monitors", "score",   "scores", "zone",    "zones",
    "manage", "account", "login",    "signup",  "default",  "europe", "asia",    "africa",
    "oceania", "north-america", "south-america", "antarctica", "america", "internal", "local",
    "invalid", "onion",  "arpa",     "server",  "servers",  "ipv4",   "ipv6",    "timepool"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string netspeed_label(int kbits) {
  if (kbits == 0) return "0 (monitoring only)";
  if (kbits < 1000) return std::to_string(kbits) + " kbit/s";
  if (kbits < 1000000) {
    if (kbits % 1000 == 0) return std::to_string(kbits / 1000) + " Mbit/s";
    return std::to_string(kbits / 1000) + "." + std::to_string(kbits % 1000 / 100) + " Mbit/s";
  }
  if (kbits % 1000000 == 0) return std::to_string(kbits / 1000000) + " Gbit/s";
  return std::to_string(kbits / 1000000) + "." + std::to_string(kbits % 1000000 / 100000) +
         " Gbit/s";
}

std::optional<int64_t> parse_int(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<int> parse_netspeed(std::string_view text) {
  auto v = parse_int(text);
  if (!v) return std::nullopt;
  for (int n : kNetspeeds)
    if (n == *v) return n;
  return std::nullopt;
}

std::optional<std::string> normalize_email(std::string_view text) {
  std::string e = trim(text);
  if (e.empty() || e.size() > 254) return std::nullopt;
  size_t at = e.find('@');
  if (at == 0 || at == std::string::npos || at + 1 >= e.size()) return std::nullopt;
  if (e.find('@', at + 1) != std::string::npos) return std::nullopt;
  for (char c : e) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == '"' || c == '\'') {
      return std::nullopt;
    }
  }
  std::transform(e.begin(), e.end(), e.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return e;
}

std::string check_password(std::string_view password) {
  if (password.size() < 10) return "The password must have at least 10 characters.";
  if (password.size() > 200) return "The password may have at most 200 characters.";
  return "";
}

bool is_reserved_vendor_name(std::string_view name) {
  return std::find(std::begin(kReserved), std::end(kReserved), name) != std::end(kReserved);
}

std::string check_vendor_name(std::string_view name) {
  if (name.size() < 4) return "The zone name is too short: use 4 to 40 characters.";
  if (name.size() > 40) return "The zone name is too long: use 4 to 40 characters.";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) {
      return "The zone name may contain only lower-case letters a-z, digits and hyphens.";
    }
  }
  if (name.front() == '-' || name.back() == '-') {
    return "The zone name must start and end with a letter or digit.";
  }
  if (is_reserved_vendor_name(name)) return "The zone name is reserved: choose another.";
  return "";
}

int64_t login_delay_seconds(int64_t failures, int64_t free, int64_t base, int64_t cap) {
  if (base <= 0 || failures <= 0 || failures < free) return 0;
  int64_t delay = base;
  for (int64_t i = free; i < failures && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

}  // namespace timepool::web
