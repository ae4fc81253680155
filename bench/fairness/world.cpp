#include "world.hpp"

#include <cmath>
#include <iterator>
#include <set>
#include <utility>

namespace timepool::bench {

namespace {

// Internet users in millions (rounded, ITU / World Bank "individuals using the Internet",
// 2021-2022) and NTP pool servers (rounded and adjusted from the pool.ntp.org zone pages; see
// README.md). The point is the shape: servers concentrated in Europe and North America,
// clients spread by population.
const Country kTable[] = {
    // Europe
    {"de", "europe", 78, 800}, {"fr", "europe", 58, 260}, {"gb", "europe", 65, 260},
    {"nl", "europe", 17, 220}, {"ru", "europe", 125, 150}, {"it", "europe", 50, 60},
    {"es", "europe", 45, 50},  {"pl", "europe", 33, 70},  {"se", "europe", 10, 90},
    {"ch", "europe", 8.5, 90}, {"at", "europe", 8, 60},   {"cz", "europe", 9, 70},
    {"fi", "europe", 5, 70},   {"no", "europe", 5, 40},   {"dk", "europe", 5.5, 40},
    {"be", "europe", 11, 40},  {"ua", "europe", 30, 40},  {"ie", "europe", 4.7, 20},
    {"pt", "europe", 8.5, 20}, {"ro", "europe", 17, 40},  {"hu", "europe", 8.5, 30},
    {"gr", "europe", 8.5, 10}, {"bg", "europe", 5, 25},   {"sk", "europe", 5, 15},
    {"lt", "europe", 2.5, 20}, {"lv", "europe", 1.7, 15}, {"ee", "europe", 1.2, 15},
    {"lu", "europe", 0.6, 8},  {"rs", "europe", 6, 8},    {"hr", "europe", 3.3, 8},
    // North America
    {"us", "north-america", 310, 1300}, {"ca", "north-america", 36, 180},
    {"mx", "north-america", 100, 10},
    // Asia
    {"cn", "asia", 1050, 40}, {"in", "asia", 750, 10}, {"jp", "asia", 115, 80},
    {"id", "asia", 210, 10},  {"pk", "asia", 90, 2},   {"bd", "asia", 70, 2},
    {"ph", "asia", 85, 5},    {"vn", "asia", 75, 10},  {"tr", "asia", 70, 20},
    {"ir", "asia", 70, 10},   {"th", "asia", 60, 15},  {"kr", "asia", 50, 25},
    {"my", "asia", 30, 10},   {"sa", "asia", 35, 5},   {"tw", "asia", 21, 30},
    {"hk", "asia", 6.8, 30},  {"sg", "asia", 5.5, 50}, {"il", "asia", 8, 15},
    {"ae", "asia", 9.5, 5},   {"kz", "asia", 16, 8},
    // Africa
    {"ng", "africa", 110, 0}, {"eg", "africa", 75, 2}, {"za", "africa", 42, 25},
    {"dz", "africa", 30, 0},  {"ma", "africa", 30, 2}, {"ke", "africa", 15, 3},
    {"et", "africa", 25, 0},  {"tz", "africa", 15, 0},
    // South America
    {"br", "south-america", 180, 60}, {"ar", "south-america", 40, 15},
    {"co", "south-america", 38, 5},   {"pe", "south-america", 25, 2},
    {"ve", "south-america", 20, 0},   {"cl", "south-america", 17, 10},
    // Oceania
    {"au", "oceania", 23, 80}, {"nz", "oceania", 4.5, 20},
};

// The synthetic rest, by continent: how many countries and how many servers each may have.
struct Filler {
  const char* continent;
  int countries;
  int max_servers;
};
const Filler kFillers[] = {{"europe", 20, 20},       {"asia", 30, 3},         {"africa", 45, 2},
                           {"north-america", 20, 3}, {"south-america", 6, 3}, {"oceania", 10, 2}};

uint64_t mix(uint64_t x) {  // splitmix64: a fixed, portable pseudo-random sequence
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<Country> make_world(size_t total) {
  std::vector<Country> out(std::begin(kTable), std::end(kTable));
  std::set<std::string> used;
  for (const auto& c : out) used.insert(c.code);
  // Synthetic codes: two letters not used above, in order; users falling off geometrically
  // (12 million, then 3% less each), servers 0..max_servers.
  std::vector<const Filler*> slots;
  for (const Filler& f : kFillers) slots.insert(slots.end(), static_cast<size_t>(f.countries), &f);
  std::string code = "aa";
  for (size_t filler = 0; out.size() < total; ++filler) {
    const Filler& f = *slots[filler % slots.size()];
    while (used.count(code)) {
      if (++code[1] > 'z') {
        code[1] = 'a';
        ++code[0];
      }
    }
    used.insert(code);
    Country c;
    c.code = code;
    c.continent = f.continent;
    c.users = 12.0 * std::pow(0.97, static_cast<double>(filler));
    c.servers = static_cast<int>(mix(filler) % static_cast<uint64_t>(f.max_servers + 1));
    out.push_back(c);
  }
  return out;
}

uint32_t netspeed_of(uint64_t i) {
  // Assumed distribution of the netspeed settings volunteers choose (percent).
  static const std::pair<uint32_t, int> kDist[] = {
      {512, 3},       {1500, 5},       {3000, 7},       {6000, 8},
      {12000, 10},    {25000, 12},     {50000, 12},     {100000, 15},
      {250000, 10},   {500000, 6},     {1000000, 10},   {3000000, 2}};
  int r = static_cast<int>(mix(i + 1000003) % 100);
  for (const auto& [speed, pct] : kDist) {
    if (r < pct) return speed;
    r -= pct;
  }
  return 100000;
}

}  // namespace timepool::bench
