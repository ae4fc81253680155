// The [dns] keys of geo-aware answers and query statistics (listed in deploy/timepool.toml):
//   geo = true                   geo-aware answers on/off
//   geo_mmdb = ""                a GeoIP2/GeoLite2/DB-IP country .mmdb; "" = tor-geoipdb ranges
//   geo_min_servers = 3          fewer eligible servers than this: fall back to the continent,
//                                then the global zone (1..1000)
//   geo_debug_any_client = false answer `_country.<apex>` TXT to every client, not only loopback
//   balancer = true              mix country, continent and global tiers by measured demand
//   balancer_interval = 300      seconds between reads of the demand (1..86400)
//   balancer_window = 3600       seconds of recent demand that count (60..604800)
//   balancer_factor = 2.0        load per netspeed at most this times the average and the
//                                median server's (1..100)
//   stats = true                 count queries and flush them to PostgreSQL
//   stats_instance = ""          names this server in the flush log; "" = the host name
//   stats_flush_interval = 60    seconds between flushes (1..3600)
// Throws config::Error for invalid values.
#pragma once

#include "core/config.hpp"
#include "server/demand.hpp"
#include "server/geo_answer.hpp"
#include "server/stats_writer.hpp"

namespace timepool::server {

GeoSettings read_geo_settings(const config::Document& doc);
// min_servers is geo_min_servers.
BalancerSettings read_balancer_settings(const config::Document& doc);
// `conninfo` is the [database] conninfo.
StatsSettings read_stats_settings(const config::Document& doc, const std::string& conninfo);

}  // namespace timepool::server
