// The synthetic world of bench/fairness: countries with their continent, clients (internet
// users) and NTP servers. README.md gives the figures' sources and the assumptions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace timepool::bench {

struct Country {
  std::string code;       // the zone name (ISO 3166 for the named countries)
  std::string continent;  // the continent zone name
  double users = 0;       // internet users, millions
  int servers = 0;        // pool servers
};

// 69 countries from the table, then synthetic ones up to `total` countries (deterministic).
std::vector<Country> make_world(size_t total = 200);

// The netspeed of server number i (deterministic, from the assumed distribution).
uint32_t netspeed_of(uint64_t i);

}  // namespace timepool::bench
