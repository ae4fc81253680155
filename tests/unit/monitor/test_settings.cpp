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
  b.interval = std::chrono::milliseconds(1000);
  b.metrics_listen.reset();
  b.probe.packets = 2;
  CHECK(restart_only_changes(a, b) == "interval_ms, packets, metrics_listen");
}
