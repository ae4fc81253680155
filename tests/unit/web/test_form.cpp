#include <catch2/catch.hpp>

#include "web/form.hpp"

using namespace timepool::web;

TEST_CASE("urlencoded bodies decode", "[web][form]") {
  auto f = parse_urlencoded("a=1&b=hello+world&c=%3Cscript%3E&a=2&empty=&flag&&=x");
  CHECK(f.count("a") == 2);
  CHECK(f.find("b")->second == "hello world");
  CHECK(f.find("c")->second == "<script>");
  CHECK(f.find("empty")->second.empty());
  CHECK(f.find("flag")->second.empty());
  CHECK(f.find("")->second == "x");
}

TEST_CASE("bad escapes stay literal and never read past the end", "[web][form]") {
  CHECK(url_decode("%") == "%");
  CHECK(url_decode("%4") == "%4");
  CHECK(url_decode("%zz%41") == "%zzA");
  CHECK(url_decode("100%") == "100%");
  CHECK(url_decode("a+b", false) == "a+b");
  CHECK(url_decode("%00").size() == 1);
}

TEST_CASE("field count is bounded", "[web][form]") {
  std::string body;
  for (int i = 0; i < 1000; ++i) body += "k" + std::to_string(i) + "=v&";
  CHECK(parse_urlencoded(body, 50).size() == 50);
}

TEST_CASE("url_encode round-trips", "[web][form]") {
  std::string s = "a b/c?d=e&f<g>\"h\xff";
  CHECK(url_decode(url_encode(s)) == s);
  CHECK(url_encode("2001:db8::1") == "2001%3Adb8%3A%3A1");
}

TEST_CASE("cookies parse", "[web][form]") {
  auto c = parse_cookies("tp_session=abc; tp_csrf = \"def\" ;other=1;broken;=novalue");
  CHECK(c["tp_session"] == "abc");
  CHECK(c["tp_csrf"] == "def");
  CHECK(c["other"] == "1");
  CHECK(c.count("broken") == 0);
  CHECK(parse_cookies("").empty());
  CHECK(parse_cookies("a=1; a=2")["a"] == "1");
}

TEST_CASE("check_text takes well-formed UTF-8 without NUL only", "[web][form]") {
  using timepool::web::check_text;
  using timepool::web::TextProblem;
  CHECK(check_text("") == TextProblem::kNone);
  CHECK(check_text("plain ASCII") == TextProblem::kNone);
  CHECK(check_text("\xc3\xbc \xe2\x82\xac \xf0\x9f\x95\x90 \xf4\x8f\xbf\xbf") == TextProblem::kNone);
  CHECK(check_text(std::string_view("a\0b", 3)) == TextProblem::kNul);
  for (std::string_view bad : {"\xff", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
                               "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
                               "\x80", "abc\xe2\x82", "\xc3", "\xe2\x28\xa1"}) {
    INFO(timepool::web::url_encode(bad));
    CHECK(check_text(bad) == TextProblem::kInvalidUtf8);
  }
  // Every code point encoded the standard way is accepted, every lone byte >= 0x80 is not.
  for (uint32_t cp = 1; cp <= 0x10ffff; cp += (cp < 0x800 ? 1 : 97)) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xc0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xe0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      s += static_cast<char>(0xf0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
    if (check_text(s) != TextProblem::kNone) FAIL("code point " << cp);
  }
  for (int b = 0x80; b <= 0xff; ++b) {
    CHECK(check_text(std::string(1, static_cast<char>(b))) == TextProblem::kInvalidUtf8);
  }
}
