// monitor/settings: metrics_listen parsed once into an endpoint, what a reload may change.
#include <catch2/catch.hpp>

#include "monitor/settings.hpp"

using namespace timepool;
using namespace timepool::monitor;

namespace {

Settings read(const std::string& toml) {
  return read_settings(config::Document::parse(toml, "test.toml"), false);
}

}  // namespace

TEST_CASE("settings: metrics_listen is an endpoint, \"\" turns it off", "[settings]") {
  CHECK(read("").metrics_listen == net::Endpoint::parse("127.0.0.1:9124"));
  CHECK(read("[monitor]\nmetrics_listen = \"[::1]:0\"\n").metrics_listen ==
        net::Endpoint::parse("[::1]:0"));
  CHECK_FALSE(read("[monitor]\nmetrics_listen = \"\"\n").metrics_listen);
  for (const char* bad : {"localhost:9124", "127.0.0.1", "127.0.0.1:http", "::1:9124",
                          "127.0.0.1:70000"}) {
    INFO(bad);
    try {
      read(std::string("[monitor]\nmetrics_listen = \"") + bad + "\"\n");
      FAIL("accepted");
    } catch (const config::Error& e) {
      CHECK(std::string(e.what()).find("test.toml: monitor.metrics_listen: '" + std::string(bad)) == 0);
    }
  }
}

TEST_CASE("settings: reloadable keys and restart-only keys", "[settings]") {
  const Settings a = read("");
  Settings b = a;
  CHECK(reloadable(a) == reloadable(b));
  CHECK(restart_only_changes(a, b).empty());
  b.trust_local_clock = true;
  b.batch_interval = std::chrono::milliseconds(50);
  CHECK_FALSE(reloadable(a) == reloadable(b));
  CHECK(restart_only_changes(a, b).empty());
  b.url = "https://api.example:8443";
  b.metrics_listen.reset();
  b.probe.packets = 2;
  CHECK(restart_only_changes(a, b) == "url, packets, metrics_listen");
}

TEST_CASE("settings: the daemon needs the API's https:// (or http://) URL and its key", "[settings]") {
  auto daemon = [](const std::string& toml) {
    return read_settings(config::Document::parse(toml, "test.toml"), true);
  };
  const auto s = daemon("[monitor]\nkey = \"k\"\nurl = \"https://api.example:8443\"\n");
  CHECK(s.url == "https://api.example:8443");
  CHECK(s.spool_dir == "/var/lib/timepool/monitor-spool");
  CHECK_THROWS_WITH(daemon("[monitor]\nkey = \"k\"\n"), Catch::Contains("monitor.url: missing"));
  CHECK_THROWS_WITH(daemon("[monitor]\nkey = \"k\"\nurl = \"ftp://x\"\n"),
                    Catch::Contains("not an https://"));
  CHECK_THROWS_WITH(daemon("[monitor]\nkey = \"k\"\nurl = \"https://x\"\nca_file = \"/nonexistent\"\n"),
                    Catch::Contains("monitor.ca_file: cannot read /nonexistent"));
  CHECK_THROWS_WITH(daemon("[monitor]\nurl = \"https://x\"\n"), Catch::Contains("monitor.key: missing"));
}
