// Message building (headers, RFC 2047 subjects, quoted-printable bodies, dates) and the [mail]
// settings.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <random>
#include <unistd.h>

#include "web/mail.hpp"

using namespace timepool;
using namespace timepool::web;

namespace {

// RFC 2045 decoding, to check the encoder by a round trip.
std::string qp_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
    } else if (s[i] == '=' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      out += '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

size_t longest_line(const std::string& s) {
  size_t best = 0, start = 0;
  for (;;) {
    size_t e = s.find("\r\n", start);
    best = std::max(best, (e == std::string::npos ? s.size() : e) - start);
    if (e == std::string::npos) return best;
    start = e + 2;
  }
}

}  // namespace

TEST_CASE("quoted-printable keeps text readable and lines short", "[mail]") {
  CHECK(quoted_printable("Hello, world.\nSecond line") == "Hello, world.\r\nSecond line");
  CHECK(quoted_printable("a=b") == "a=3Db");
  CHECK(quoted_printable("trailing space \nx") == "trailing space=20\r\nx");
  CHECK(quoted_printable("Grüße") == "Gr=C3=BC=C3=9Fe");
  CHECK(quoted_printable("crlf\r\nlf\n") == "crlf\r\nlf\r\n");
  std::string longline(200, 'x');
  auto q = quoted_printable(longline);
  CHECK(longest_line(q) <= 76);
  CHECK(qp_decode(q) == longline);
}

TEST_CASE("quoted-printable round trip of random text", "[mail]") {
  auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int i = 0; i < 1000; ++i) {
    std::string text(rng() % 300, '\0');
    for (auto& c : text) {
      int k = static_cast<int>(rng() % 10);
      c = k < 6 ? static_cast<char>('a' + rng() % 26)
                : k == 6 ? ' ' : k == 7 ? '\n' : static_cast<char>(rng() % 256);
      if (c == '\r') c = 'r';  // CR alone is not text; CRLF and LF both mean a line break
    }
    auto q = quoted_printable(text);
    REQUIRE(longest_line(q) <= 76);
    REQUIRE(qp_decode(q) == text);
    // No line of the encoding ends in white space (RFC 2045 6.7 (3)).
    REQUIRE(q.find(" \r\n") == std::string::npos);
  }
}

TEST_CASE("subjects are plain ASCII or RFC 2047 words", "[mail]") {
  CHECK(encode_header("Your server left the pool") == "Your server left the pool");
  auto e = encode_header("Grüße aus Köln");
  CHECK(e == "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=");
  // A long subject is folded into words of at most 75 characters that never split a
  // character (each word decodes to whole UTF-8).
  std::string long_subject;
  for (int i = 0; i < 40; ++i) long_subject += "é";
  auto f = encode_header(long_subject);
  CHECK(f.find("\r\n ") != std::string::npos);
  CHECK(longest_line(f) <= 76);
}

TEST_CASE("the date is RFC 5322 in UTC", "[mail]") {
  CHECK(rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(rfc5322_date(1796056442) == "Mon, 30 Nov 2026 16:34:02 +0000");
}

TEST_CASE("a message has its headers, a blank line and the encoded body", "[mail]") {
  MailMessage m{"pool@example.org", "vol@example.net", "Verify your address",
                "Open this link:\nhttps://pool.example/verify?token=abc\n", "timepool-7.1@example.org",
                0};
  auto w = build_message(m);
  CHECK(w.rfind("From: pool@example.org\r\nTo: vol@example.net\r\nSubject: Verify your "
                "address\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\nMessage-ID: "
                "<timepool-7.1@example.org>\r\n",
                0) == 0);
  CHECK(w.find("Content-Transfer-Encoding: quoted-printable\r\n") != std::string::npos);
  CHECK(w.find("\r\n\r\nOpen this link:\r\nhttps://pool.example/verify?token=3Dabc\r\n") !=
        std::string::npos);
  // No bare LF anywhere.
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == '\n') REQUIRE((i > 0 && w[i - 1] == '\r'));
  }
}

TEST_CASE("[mail] settings: defaults, choices and the password file", "[mail]") {
  auto doc = config::Document::parse("", "t.toml");
  auto c = read_mail_config(doc);
  CHECK(c.transport == "smtp");
  CHECK(c.tls == "starttls");
  CHECK(c.verify_email);
  CHECK(c.password.empty());

  auto bad_tls = config::Document::parse("[mail]\ntls = \"maybe\"\n", "t.toml");
  CHECK_THROWS_AS(read_mail_config(bad_tls), config::Error);
  auto dir_missing = config::Document::parse("[mail]\ntransport = \"directory\"\n", "t.toml");
  CHECK_THROWS_AS(read_mail_config(dir_missing), config::Error);
  auto user_only = config::Document::parse("[mail]\nuser = \"u\"\n", "t.toml");
  CHECK_THROWS_AS(read_mail_config(user_only), config::Error);
  auto bad_from = config::Document::parse("[mail]\nfrom = \"a@b\\r\\nBcc: x@y\"\n", "t.toml");
  CHECK_THROWS_AS(read_mail_config(bad_from), config::Error);
  auto bad_url = config::Document::parse("[mail]\nsite_url = \"pool.example\"\n", "t.toml");
  CHECK_THROWS_AS(read_mail_config(bad_url), config::Error);

  std::string path = "/tmp/timepool-test-mail-pw-" + std::to_string(::getpid());
  {
    std::ofstream(path) << "s3cret\n";
  }
  auto with_pw = config::Document::parse(
      "[mail]\nuser = \"u\"\npassword_file = \"" + path + "\"\nsite_url = \"https://p.example/\"\n",
      "t.toml");
  auto p = read_mail_config(with_pw);
  CHECK(p.password == "s3cret");
  CHECK(p.site_url == "https://p.example");
  std::remove(path.c_str());
  CHECK_THROWS_AS(read_mail_config(with_pw), config::Error);  // the file is gone
}
