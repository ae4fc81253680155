// core/log: one line per event to stderr and, when configured, to a file; levels filter.
#include <catch2/catch.hpp>

#include <regex>

#include "core/config.hpp"
#include "core/log.hpp"
#include "tests/support/process.hpp"

namespace tlog = timepool::log;
namespace config = timepool::config;

TEST_CASE("a log file gets one line per event at or above the level", "[log]") {
  timepool::test::TempDir dir;
  std::string path = dir.file("timepool.log");
  tlog::setup({"info", path});
  auto dns = tlog::get("dns-logtest");
  CHECK(tlog::get("dns-logtest") == dns);  // one logger per component
  dns->debug("not written at info");
  dns->info("snapshot {} servers", 42);
  dns->warn("database unreachable");
  auto text = timepool::test::read_file(path);
  CHECK(text.find("not written") == std::string::npos);
  std::regex line(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info dns-logtest: snapshot 42 servers\n)");
  CHECK(std::regex_search(text, line));
  CHECK(text.find("warning dns-logtest: database unreachable\n") != std::string::npos);

  // A later setup() reconfigures loggers made before it.
  tlog::setup({"debug", path});
  dns->debug("now written");
  CHECK(timepool::test::read_file(path).find("debug dns-logtest: now written") !=
        std::string::npos);
  tlog::setup({"info", ""});
}

TEST_CASE("bad log settings are configuration errors", "[log]") {
  CHECK_THROWS_AS(tlog::setup({"loud", ""}), config::Error);
  timepool::test::TempDir dir;
  auto not_a_dir = dir.write("plain-file", "");
  CHECK_THROWS_AS(tlog::setup({"info", not_a_dir + "/timepool.log"}), config::Error);
  tlog::setup({"info", ""});
}
