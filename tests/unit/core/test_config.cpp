// core/config: the file, the environment and --set, in that order of precedence, and every
// problem reported with the place (file and line, variable or flag), the key and the reason.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "tests/support/process.hpp"

namespace config = timepool::config;
using Catch::Matchers::Contains;

namespace {

// An environment block like `environ` for Document::parse.
struct Env {
  std::vector<std::string> vars;
  std::vector<const char*> ptrs;
  explicit Env(std::vector<std::string> v) : vars(std::move(v)) {
    for (const auto& s : vars) ptrs.push_back(s.c_str());
    ptrs.push_back(nullptr);
  }
  const char* const* get() const { return ptrs.data(); }
};

const char* kToml = R"(
[database]
conninfo = "dbname=pool"

[dns]
ttl = 150
ratio = 0.25
ipv6 = true
listen = ["127.0.0.1:53", "[::1]:53"]
mode = "quarters"

[dns.snapshot]
path = "/var/lib/timepool/snapshot"
)";

// The message of the config::Error `f` throws ("" if it does not throw).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const config::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("values of every type from the file", "[config]") {
  auto doc = config::Document::parse(kToml, "pool.toml");
  auto dns = doc.section("dns");
  CHECK(dns.get_int("ttl", 1, 30, 86400) == 150);
  CHECK(dns.get_double("ratio", 1, 0, 1) == 0.25);
  CHECK(dns.get_double("ttl", 1, 0, 1000) == 150.0);  // an integer is a fine double
  CHECK(dns.get_bool("ipv6", false));
  CHECK(dns.get_strings("listen", {}) == std::vector<std::string>{"127.0.0.1:53", "[::1]:53"});
  CHECK(dns.get_choice("mode", "all", {"all", "quarters"}) == "quarters");
  CHECK(dns.get_string("snapshot.path", "") == "/var/lib/timepool/snapshot");
  CHECK(dns.has("ttl"));
  CHECK_FALSE(dns.has("nothing"));
  // Defaults for what is absent.
  CHECK(dns.get_int("absent", 7, 0, 10) == 7);
  CHECK(dns.get_string("absent2", "x") == "x");
  CHECK(doc.section("web").get_bool("dev", true));
  CHECK(config::read_database(doc).conninfo == "dbname=pool");
  auto log = config::read_log(doc);
  CHECK(log.level == "info");
  CHECK(log.file.empty());
}

TEST_CASE("precedence: file < environment < --set", "[config]") {
  Env env({"TIMEPOOL_DNS_TTL=300", "TIMEPOOL_DNS_IPV6=off", "TIMEPOOL_DATABASE_CONNINFO=dbname=env",
           "TIMEPOOL_DNS_SNAPSHOT_PATH=/tmp/s", "PATH=/usr/bin", "TIMEPOOL_DNS_LISTEN=a:1, b:2"});
  SECTION("environment over file") {
    auto doc = config::Document::parse(kToml, "pool.toml", {}, env.get());
    auto dns = doc.section("dns");
    CHECK(dns.get_int("ttl", 1, 30, 86400) == 300);
    CHECK_FALSE(dns.get_bool("ipv6", true));
    CHECK(dns.get_string("snapshot.path", "") == "/tmp/s");
    CHECK(dns.get_strings("listen", {}) == std::vector<std::string>{"a:1", "b:2"});
    CHECK(config::read_database(doc).conninfo == "dbname=env");
  }
  SECTION("--set over environment and file") {
    auto doc = config::Document::parse(
        kToml, "pool.toml",
        {"dns.ttl=600", "database.conninfo=host=/tmp dbname=x", "dns.listen=[\"c:3\"]",
         "log.level=debug"},
        env.get());
    auto dns = doc.section("dns");
    CHECK(dns.get_int("ttl", 1, 30, 86400) == 600);
    CHECK(dns.get_strings("listen", {}) == std::vector<std::string>{"c:3"});
    CHECK(config::read_database(doc).conninfo == "host=/tmp dbname=x");  // '=' in the value
    CHECK(config::read_log(doc).level == "debug");
    CHECK_FALSE(dns.get_bool("ipv6", true));  // only in env: env still beats the file
  }
  SECTION("the last --set of a key wins") {
    auto doc = config::Document::parse("", "x", {"dns.ttl=100", "dns.ttl=200"});
    CHECK(doc.section("dns").get_int("ttl", 1, 0, 1000) == 200);
  }
}

TEST_CASE("load reads a file and names it - no file means defaults", "[config]") {
  timepool::test::TempDir dir;
  auto path = dir.write("timepool.toml", "[dns]\nttl = 99\n");
  auto doc = config::Document::load(path, {"dns.port=5353"}, nullptr);
  CHECK(doc.origin() == path);
  CHECK(doc.section("dns").get_int("ttl", 1, 0, 1000) == 99);
  CHECK(doc.section("dns").get_int("port", 53, 1, 65535) == 5353);
  CHECK_THAT(error_of([&] { config::Document::load(dir.file("missing.toml"), {}, nullptr); }),
             Contains("missing.toml") && Contains("cannot open"));
  auto none = config::Document::load("", {}, nullptr);
  CHECK(none.section("dns").get_int("ttl", 150, 0, 1000) == 150);
}

TEST_CASE("unknown keys and sections are errors naming file and key", "[config]") {
  auto doc = config::Document::parse("[dns]\nttl = 150\ntll = 3\n\n[dsn]\nx = 1\n[web]\nport = 1\n",
                                     "pool.toml");
  doc.section("dns").get_int("ttl", 150, 30, 86400);
  auto msg = error_of([&] { doc.check_unknown({"database", "log", "dns"}); });
  CHECK_THAT(msg, Contains("pool.toml:3: dns.tll: unknown key"));
  CHECK_THAT(msg, Contains("pool.toml: unknown section [dsn]"));
  // [web] belongs to another program: not this one's business.
  CHECK_THAT(msg, !Contains("[web]"));

  SECTION("a clean file passes") {
    auto ok = config::Document::parse("[dns]\nttl = 150\n[web]\nport = 1\n", "pool.toml");
    ok.section("dns").get_int("ttl", 150, 30, 86400);
    CHECK_NOTHROW(ok.check_unknown({"database", "log", "dns"}));
  }
  SECTION("unknown --set keys and environment variables too") {
    Env env({"TIMEPOOL_DNS_TLL=3", "TIMEPOOL_SOURCE_DIR=/src", "TIMEPOOL_WEB_X=1"});
    auto d = config::Document::parse("", "pool.toml", {"dns.prot=53", "dsn.x=1"}, env.get());
    d.section("dns").get_int("ttl", 150, 30, 86400);
    auto m = error_of([&] { d.check_unknown({"dns"}); });
    CHECK_THAT(m, Contains("--set: unknown key dns.prot"));
    CHECK_THAT(m, Contains("--set: unknown section [dsn]"));
    CHECK_THAT(m, Contains("TIMEPOOL_DNS_TLL"));
    CHECK_THAT(m, !Contains("TIMEPOOL_SOURCE_DIR"));
    CHECK_THAT(m, !Contains("TIMEPOOL_WEB_X"));
  }
  SECTION("a section whose name extends another's keeps its variables to itself") {
    // TIMEPOOL_MONITOR_API_LISTEN is [monitor_api] listen, never a [monitor] key.
    Env env({"TIMEPOOL_MONITOR_API_LISTEN=127.0.0.1:1", "TIMEPOOL_MONITOR_KYE=x"});
    auto d = config::Document::parse("", "pool.toml", {}, env.get());
    d.section("monitor").get_string("key", "");
    auto m = error_of([&] { d.check_unknown({"monitor"}); });
    CHECK_THAT(m, Contains("TIMEPOOL_MONITOR_KYE"));
    CHECK_THAT(m, !Contains("TIMEPOOL_MONITOR_API_LISTEN"));
  }
}

TEST_CASE("out-of-range and wrong-type values name the place, key and reason", "[config]") {
  auto doc = config::Document::parse(
      "[dns]\nttl = 10\nratio = 1.5\nipv6 = \"yes\"\nlisten = \"a\"\nname = 5\nmode = \"all\"\n"
      "port = 70000\n",
      "pool.toml");
  auto dns = doc.section("dns");
  CHECK(error_of([&] { dns.get_int("ttl", 150, 30, 86400); }) ==
        "pool.toml:2: dns.ttl: 10 is out of range 30..86400");
  CHECK_THAT(error_of([&] { dns.get_double("ratio", 0, 0, 1); }),
             Contains("pool.toml:3: dns.ratio: 1.5 is out of range 0..1"));
  CHECK(error_of([&] { dns.get_bool("ipv6", false); }) ==
        "pool.toml:4: dns.ipv6: expected a boolean, got a string");
  CHECK(error_of([&] { dns.get_strings("listen", {}); }) ==
        "pool.toml:5: dns.listen: expected an array, got a string");
  CHECK(error_of([&] { dns.get_string("name", ""); }) ==
        "pool.toml:6: dns.name: expected a string, got an integer");
  CHECK(error_of([&] { dns.get_int("ratio", 0, 0, 10); }) ==
        "pool.toml:3: dns.ratio: expected an integer, got a number");
  CHECK(error_of([&] { dns.get_int("port", 53, 1, 65535); }) ==
        "pool.toml:8: dns.port: 70000 is out of range 1..65535");
  CHECK(error_of([&] { dns.get_choice("mode", "all", {"quarters", "none"}); }) ==
        "pool.toml:7: dns.mode: \"all\" is not one of quarters, none");
  // The boundaries themselves are allowed.
  auto edge = config::Document::parse("[dns]\na = 30\nb = 86400\nc = 0.0\nd = 1.0\n", "e.toml");
  CHECK(edge.section("dns").get_int("a", 0, 30, 86400) == 30);
  CHECK(edge.section("dns").get_int("b", 0, 30, 86400) == 86400);
  CHECK(edge.section("dns").get_double("c", 5, 0, 1) == 0.0);
  CHECK(edge.section("dns").get_double("d", 5, 0, 1) == 1.0);
}

TEST_CASE("text values from env and --set are converted or rejected", "[config]") {
  Env env({"TIMEPOOL_DNS_TTL=abc", "TIMEPOOL_DNS_IPV6=maybe", "TIMEPOOL_DNS_RATIO=0.5x"});
  auto doc = config::Document::parse("", "pool.toml", {"dns.port=99999", "dns.mode=fast"},
                                     env.get());
  auto dns = doc.section("dns");
  CHECK(error_of([&] { dns.get_int("ttl", 150, 30, 86400); }) ==
        "pool.toml: dns.ttl (from env TIMEPOOL_DNS_TTL): \"abc\" is not an integer");
  CHECK_THAT(error_of([&] { dns.get_bool("ipv6", false); }),
             Contains("TIMEPOOL_DNS_IPV6") && Contains("not a boolean"));
  CHECK_THAT(error_of([&] { dns.get_double("ratio", 0, 0, 1); }), Contains("not a number"));
  CHECK(error_of([&] { dns.get_int("port", 53, 1, 65535); }) ==
        "pool.toml: dns.port (from --set dns.port): 99999 is out of range 1..65535");
  CHECK_THAT(error_of([&] { dns.get_choice("mode", "all", {"all", "quarters"}); }),
             Contains("--set dns.mode") && Contains("\"fast\" is not one of all, quarters"));
  auto ok = config::Document::parse("", "x", {"a.t=yes", "a.f=0", "a.n= 42 ", "a.d=-1e-3"});
  CHECK(ok.section("a").get_bool("t", false));
  CHECK_FALSE(ok.section("a").get_bool("f", true));
  CHECK(ok.section("a").get_int("n", 0, 0, 100) == 42);
  CHECK(ok.section("a").get_double("d", 0, -1, 1) == -0.001);
}

TEST_CASE("malformed input is reported, never crashes", "[config]") {
  CHECK_THAT(error_of([] { config::Document::parse("[dns\nttl = 1\n", "bad.toml"); }),
             Contains("bad.toml:1:"));
  CHECK_THAT(error_of([] { config::Document::parse("ttl = 1\n", "top.toml"); }),
             Contains("top.toml:1: ttl: top-level keys must be inside a [section]"));
  CHECK_THAT(error_of([] { config::Document::parse("[dns]\nt = 1979-05-27\n", "d.toml"); }),
             Contains("d.toml:2: dns.t: unsupported value type"));
  CHECK_THAT(error_of([] { config::Document::parse("[dns]\nl = [[1]]\n", "a.toml"); }),
             Contains("dns.l: array elements"));
  for (const char* bad : {"nodot=1", "dns.ttl", ".ttl=1", "dns.=1", "=1"}) {
    INFO(bad);
    CHECK_THAT(error_of([&] { config::Document::parse("", "x", {bad}); }),
               Contains("expected section.key=value"));
  }
  CHECK_THAT(error_of([] {
               config::Document::parse("", "x", {"dns.l=[1,"}).section("dns").get_strings("l", {});
             }),
             Contains("not a valid array"));
  auto log = config::Document::parse("[log]\nlevel = \"loud\"\n", "l.toml");
  CHECK_THAT(error_of([&] { config::read_log(log); }), Contains("l.toml:2: log.level"));
}

TEST_CASE("environment variable names", "[config]") {
  CHECK(config::env_name("dns", "ttl") == "TIMEPOOL_DNS_TTL");
  CHECK(config::env_name("web", "listen-port") == "TIMEPOOL_WEB_LISTEN_PORT");
  CHECK(config::env_name("dns", "snapshot.path") == "TIMEPOOL_DNS_SNAPSHOT_PATH");
}
