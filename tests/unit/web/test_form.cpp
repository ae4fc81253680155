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
