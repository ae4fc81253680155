#include "web/mail.hpp"

#include <sodium.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace timepool::web {

namespace {

bool has_line_break(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// The length of the UTF-8 sequence starting with `lead` (1 for anything that is not a lead
// byte, so malformed input is still cut somewhere).
size_t utf8_len(unsigned char lead) {
  if (lead >= 0xf0 && lead < 0xf8) return 4;
  if (lead >= 0xe0) return lead < 0xf0 ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

std::string read_secret_file(const std::string& path, const std::string& origin) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config::Error(origin + ": mail.password_file: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) throw config::Error(origin + ": mail.password_file: " + path + " is empty");
  return s;
}

}  // namespace

MailConfig read_mail_config(const config::Document& doc) {
  auto s = doc.section("mail");
  MailConfig c;
  c.transport = s.get_choice("transport", c.transport, {"smtp", "directory", "off"});
  c.host = s.get_string("host", c.host);
  c.port = static_cast<int>(s.get_int("port", c.port, 1, 65535));
  c.tls = s.get_choice("tls", c.tls, {"none", "try", "starttls", "tls"});
  c.ca_file = s.get_string("ca_file", c.ca_file);
  c.user = s.get_string("user", c.user);
  std::string password_file = s.get_string("password_file", "");
  c.from = s.get_string("from", c.from);
  c.directory = s.get_string("directory", c.directory);
  c.site_url = s.get_string("site_url", c.site_url);
  c.verify_email = s.get_bool("verify_email", c.verify_email);
  c.verify_hours = static_cast<int>(s.get_int("verify_hours", c.verify_hours, 1, 24 * 30));
  c.reset_minutes = static_cast<int>(s.get_int("reset_minutes", c.reset_minutes, 5, 24 * 60));
  c.interval_seconds =
      static_cast<int>(s.get_int("interval_seconds", c.interval_seconds, 1, 3600));
  c.batch = static_cast<int>(s.get_int("batch", c.batch, 1, 10000));
  c.timeout_seconds = static_cast<int>(s.get_int("timeout_seconds", c.timeout_seconds, 1, 600));
  c.retry_min_seconds =
      static_cast<int>(s.get_int("retry_min_seconds", c.retry_min_seconds, 1, 86400));
  c.retry_max_seconds =
      static_cast<int>(s.get_int("retry_max_seconds", c.retry_max_seconds, 1, 7 * 86400));
  c.give_up_hours = static_cast<int>(s.get_int("give_up_hours", c.give_up_hours, 1, 24 * 365));
  c.notice_interval_seconds = static_cast<int>(
      s.get_int("notice_interval_seconds", c.notice_interval_seconds, 1, 3600));
  const std::string& origin = doc.origin();
  auto is_address = [](std::string_view a) {
    size_t at = a.find('@');
    return at != std::string_view::npos && at > 0 && at + 1 < a.size() &&
           a.find('@', at + 1) == std::string_view::npos && !has_line_break(a) &&
           a.find_first_of(" \t<>,;\"") == std::string_view::npos && a.size() <= 254;
  };
  if (!is_address(c.from)) throw config::Error(origin + ": mail.from: not an e-mail address");
  if (c.transport == "smtp" && c.host.empty()) {
    throw config::Error(origin + ": mail.host: empty (the relay's name or address)");
  }
  if (c.transport == "directory" && c.directory.empty()) {
    throw config::Error(origin + ": mail.directory: needed with transport = \"directory\"");
  }
  if (c.user.empty() != password_file.empty()) {
    throw config::Error(origin + ": mail.user and mail.password_file: set both or neither");
  }
  if (!password_file.empty()) c.password = read_secret_file(password_file, origin);
  while (!c.site_url.empty() && c.site_url.back() == '/') c.site_url.pop_back();
  if (c.site_url.rfind("http://", 0) != 0 && c.site_url.rfind("https://", 0) != 0) {
    throw config::Error(origin + ": mail.site_url: must start with http:// or https://");
  }
  if (c.retry_max_seconds < c.retry_min_seconds) {
    throw config::Error(origin + ": mail.retry_max_seconds: less than mail.retry_min_seconds");
  }
  return c;
}

std::string quoted_printable(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t col = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      auto ch = static_cast<unsigned char>(line[i]);
      bool last = i + 1 == line.size();
      // RFC 2045 6.7: printable ASCII but '=' as is; space and tab only where a line does not
      // end with them; everything else as =XX.
      bool literal = (ch >= 33 && ch <= 126 && ch != '=') || ((ch == ' ' || ch == '\t') && !last);
      // A leading '.' is fine: the SMTP client stuffs dots (RFC 5321 4.5.2).
      size_t need = literal ? 1 : 3;
      if (col + need > 75) {  // soft break: the line with its '=' stays within 76
        out += "=\r\n";
        col = 0;
      }
      if (literal) {
        out += static_cast<char>(ch);
      } else {
        out += '=';
        out += kHex[ch >> 4];
        out += kHex[ch & 15];
      }
      col += need;
    }
    if (nl == std::string_view::npos) break;
    out += "\r\n";
    pos = nl + 1;
  }
  return out;
}

std::string encode_header(std::string_view text) {
  bool plain = text.size() <= 70;
  for (char c : text) plain = plain && c >= 0x20 && c <= 0x7e;
  if (plain) return std::string(text);
  // RFC 2047: words of at most 75 characters; 45 bytes make 60 base64 characters, and a word
  // never splits a UTF-8 sequence.
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = pos;
    while (end < text.size()) {
      size_t n = utf8_len(static_cast<unsigned char>(text[end]));
      if (end + n - pos > 45) break;
      end += n;
    }
    if (end == pos) end = std::min(text.size(), pos + 1);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(pos, end - pos)) + "?=";
    pos = end;
  }
  return out;
}

std::string rfc5322_date(int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string build_message(const MailMessage& m) {
  std::string out;
  out += "From: " + m.from + "\r\n";
  out += "To: " + m.to + "\r\n";
  out += "Subject: " + encode_header(m.subject) + "\r\n";
  out += "Date: " + rfc5322_date(m.date) + "\r\n";
  out += "Message-ID: <" + m.message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n";
  // RFC 3834: no vacation replies to machine-made mail.
  out += "Auto-Submitted: auto-generated\r\n";
  out += "\r\n";
  out += quoted_printable(m.body);
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

int64_t enqueue_mail(pg::Connection& db, int64_t account_id, std::string_view to,
                     std::string_view kind, std::string_view subject, std::string_view body) {
  if (has_line_break(to) || has_line_break(subject)) {
    throw std::invalid_argument("mail: line break in an address or subject");
  }
  std::optional<int64_t> account;
  if (account_id > 0) account = account_id;
  return db
      .exec("INSERT INTO mail_outbox (account_id, recipient, kind, subject, body) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            account, std::string(to), std::string(kind), std::string(subject), std::string(body))
      .get<int64_t>(0, 0);
}

}  // namespace timepool::web
