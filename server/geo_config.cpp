#include "server/geo_config.hpp"

#include <unistd.h>

namespace timepool::server {

GeoSettings read_geo_settings(const config::Document& doc) {
  const auto s = doc.section("dns");
  GeoSettings g;
  g.enabled = s.get_bool("geo", true);
  g.mmdb_path = s.get_string("geo_mmdb", "");
  g.min_servers = static_cast<uint32_t>(s.get_int("geo_min_servers", kDefaultMinServers, 1, 1000));
  g.debug_any_client = s.get_bool("geo_debug_any_client", false);
  return g;
}

BalancerSettings read_balancer_settings(const config::Document& doc) {
  const auto s = doc.section("dns");
  BalancerSettings b;
  b.enabled = s.get_bool("balancer", true);
  b.interval = std::chrono::seconds(s.get_int("balancer_interval", 300, 1, 86400));
  b.window = std::chrono::seconds(s.get_int("balancer_window", 3600, 60, 604800));
  b.factor = s.get_double("balancer_factor", 2.0, 1.0, 100.0);
  b.min_servers = static_cast<uint32_t>(s.get_int("geo_min_servers", kDefaultMinServers, 1, 1000));
  return b;
}

StatsSettings read_stats_settings(const config::Document& doc, const std::string& conninfo) {
  const auto s = doc.section("dns");
  StatsSettings st;
  st.enabled = s.get_bool("stats", true);
  st.conninfo = s.get_string("stats_conninfo", "");
  if (st.conninfo.empty()) st.conninfo = conninfo;
  st.spool_dir = s.get_string("stats_spool", "");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  st.instance = s.get_string("stats_instance", "");
  if (st.instance.empty()) st.instance = host[0] ? host : "dns";
  st.flush_interval = std::chrono::seconds(s.get_int("stats_flush_interval", 60, 1, 3600));
  return st;
}

}  // namespace timepool::server
