#include "web/form.hpp"

namespace timepool::web {

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

TextProblem check_text(std::string_view s) {
  bool nul = false;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      nul = nul || b == 0;
      ++i;
      continue;
    }
    // The allowed second byte's range depends on the first (RFC 3629 section 4).
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b == 0xe0) lo = 0xa0;  // overlong
      if (b == 0xed) hi = 0x9f;  // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b == 0xf0) lo = 0x90;  // overlong
      if (b == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return TextProblem::kInvalidUtf8;
    }
    if (s.size() - i <= n) return TextProblem::kInvalidUtf8;
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xbf)) return TextProblem::kInvalidUtf8;
    }
    i += n + 1;
  }
  return nul ? TextProblem::kNul : TextProblem::kNone;
}

std::multimap<std::string, std::string> parse_urlencoded(std::string_view s, size_t max_fields) {
  std::multimap<std::string, std::string> out;
  size_t i = 0;
  while (i <= s.size() && out.size() < max_fields) {
    size_t amp = s.find('&', i);
    if (amp == std::string_view::npos) amp = s.size();
    std::string_view pair = s.substr(i, amp - i);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        out.emplace(url_decode(pair), std::string());
      } else {
        out.emplace(url_decode(pair.substr(0, eq)), url_decode(pair.substr(eq + 1)));
      }
    }
    i = amp + 1;
  }
  return out;
}

std::map<std::string, std::string> parse_cookies(std::string_view header) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < header.size()) {
    size_t semi = header.find(';', i);
    if (semi == std::string_view::npos) semi = header.size();
    std::string_view part = trim(header.substr(i, semi - i));
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      std::string name(trim(part.substr(0, eq)));
      std::string_view value = trim(part.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      out.emplace(std::move(name), std::string(value));
    }
    i = semi + 1;
  }
  return out;
}

}  // namespace timepool::web
