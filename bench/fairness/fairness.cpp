// bench/fairness: how evenly three geo policies spread a synthetic world's queries over the
// servers, and how many queries each answers near the client. Every query goes through the
// answer function timepool-dns runs (server/answer.hpp), located by an EDNS Client Subnet
// option, so what is measured is what the daemon does.
//
//   public     the public pool's rule: a client's country answers while it has any server
//              (geo_min_servers 1), else its continent, else global
//   threshold  timepool's plain rule: the same with geo_min_servers 3
//   balancer   the mixtures of server/balancer (factor 2, geo_min_servers 3) from the demand:
//              no server above factor times the median (nor the average) load per netspeed
//
// Run: build-bench/bench/fairness/bench_fairness [queries per policy, default 10000000]
//      [balancer factor, default 2]
// (TIMEPOOL_BENCH=ON, Release). README.md has the world's figures and the results.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/geo.hpp"
#include "server/answer.hpp"
#include "server/dns_wire.hpp"
#include "server/balancer.hpp"
#include "server/geo_answer.hpp"
#include "server/mixtures.hpp"
#include "server/snapshot.hpp"
#include "tests/support/dns_query.hpp"
#include "world.hpp"

using namespace timepool;
using namespace timepool::server;

namespace {

constexpr int64_t kGlobalId = 1;
double g_factor = 2.0;  // balancer_factor; the second argument

struct Sim {
  std::vector<bench::Country> countries;
  std::map<std::string, int64_t> continent_id;  // continent name -> zone id
  std::vector<int64_t> country_id;               // by country index
  std::vector<int64_t> country_continent;        // continent zone id by country index
  SourceData src;
  std::vector<size_t> server_country;  // by dense server index (ids are 1..n in order)
  std::vector<double> server_netspeed;
  std::shared_ptr<const Snapshot> snap;
  std::shared_ptr<const geo::GeoDb> db;
  AnswerConfig cfg;
  double total_users = 0;
};

ZoneRow zone(int64_t id, const std::string& name, ZoneKind kind, std::optional<int64_t> parent) {
  ZoneRow z;
  z.id = id;
  z.name = name;
  z.kind = kind;
  z.parent_id = parent;
  return z;
}

Sim build() {
  Sim s;
  s.countries = bench::make_world(200);
  s.src.zones.push_back(zone(kGlobalId, "@", ZoneKind::Global, std::nullopt));
  int64_t next = 2;
  for (const auto& c : s.countries) {
    if (s.continent_id.count(c.continent)) continue;
    s.continent_id[c.continent] = next;
    s.src.zones.push_back(zone(next++, c.continent, ZoneKind::Continent, kGlobalId));
  }
  std::string ranges;
  uint64_t server = 0;
  for (size_t i = 0; i < s.countries.size(); ++i) {
    const auto& c = s.countries[i];
    const int64_t cont = s.continent_id[c.continent];
    s.country_id.push_back(next);
    s.country_continent.push_back(cont);
    s.src.zones.push_back(zone(next, c.code, ZoneKind::Country, cont));
    s.total_users += c.users;
    // Clients of country i come from (i+1).0.0.0/8.
    const uint64_t low = (i + 1) << 24;
    std::string upper = c.code;
    for (auto& ch : upper) ch = static_cast<char>(ch - 'a' + 'A');
    ranges += std::to_string(low) + "," + std::to_string(low + 0xffffff) + "," + upper + "\n";
    for (int k = 0; k < c.servers; ++k) {
      ServerRow row;
      row.id = static_cast<int64_t>(++server);
      row.addr = {10, static_cast<uint8_t>(server >> 16), static_cast<uint8_t>(server >> 8),
                  static_cast<uint8_t>(server)};
      row.netspeed = bench::netspeed_of(server);
      row.zones = {kGlobalId, cont, next};
      s.src.servers.push_back(row);
      s.server_country.push_back(i);
      s.server_netspeed.push_back(row.netspeed);
    }
    ++next;
  }
  s.snap = Snapshot::build(s.src, 1);
  s.db = geo::RangeGeoDb::parse(ranges, "");
  s.cfg.apexes = {name_to_wire("pool.example")};
  s.cfg.ns = {name_to_wire("ns1.pool.example")};
  s.cfg.soa_rname = name_to_wire("hostmaster.pool.example");
  return s;
}

// The world as the balancer sees it: each country's users as its demand, every server.
BalanceInput balance_input(const Sim& s, uint32_t min_servers) {
  BalanceInput in;
  in.factor = g_factor;
  in.min_servers = min_servers;
  for (size_t i = 0; i < s.countries.size(); ++i) {
    in.demand.push_back({s.country_id[i], s.country_continent[i], s.countries[i].users});
  }
  for (size_t k = 0; k < s.server_country.size(); ++k) {
    const size_t c = s.server_country[k];
    in.servers.push_back({s.country_id[c], s.country_continent[c], s.server_netspeed[k], 1});
  }
  return in;
}

std::shared_ptr<const Mixtures> balanced(const Sim& s, BalanceResult* out) {
  *out = balance(balance_input(s, 3));
  std::vector<MixtureRow> rows;
  for (const auto& m : out->mixtures) rows.push_back({false, m.country, m.continent, m.own, m.near, m.global});
  return std::make_shared<const Mixtures>(rows);
}

// The largest and the 99th-percentile expected load per netspeed over the servers, divided by
// the median, when every country draws by `r` (exact: no sampling noise). The plain rules are
// the mixtures default_mixture() gives (country, else continent, else global).
std::pair<double, double> expected_spread(const BalanceInput& in, const BalanceResult& r) {
  std::map<std::pair<int64_t, int64_t>, double> by_group;
  for (const auto& l : expected_load(in, r)) by_group[{l.country, l.continent}] = l.load;
  std::vector<double> per;
  for (const auto& srv : in.servers) per.push_back(by_group.at({srv.country, srv.continent}));
  std::sort(per.begin(), per.end());
  const double median = per[per.size() / 2];
  const double p99 = per[std::min(per.size() - 1, per.size() * 99 / 100)];
  return {per.back() / median, p99 / median};
}

std::pair<double, double> expected_spread_plain(const Sim& s, uint32_t min_servers) {
  const BalanceInput in = balance_input(s, min_servers);
  BalanceResult r;
  for (const auto& d : in.demand) {
    Mixture m = default_mixture(in, d.country, d.continent);
    m.queries = d.queries;
    r.mixtures.push_back(m);
  }
  return expected_spread(in, r);
}

struct Figures {
  double exp_largest = 0, exp_p99 = 0;  // expected load per netspeed / median, from the mixtures
  double largest = 0, p99 = 0;          // expected load per netspeed / median, first record
  double largest_all = 0, p99_all = 0;  // the same counting all records of an answer
  double raw_largest = 0, raw_p99 = 0;  // each server's own count, first record
  double own = 0, continent = 0;        // shares of queries, first record
  std::map<std::string, double> continent_share;  // in-continent share of each continent's clients
  std::string largest_at, median_at;    // country of the server with the largest, median load
  double largest_avg = 0, median_avg = 0;  // those loads over the pool's average (first record)
  uint64_t largest_hits = 0;            // first records on the largest's country: its sample size
};

// Largest and 99th percentile over the servers of load per netspeed, divided by the median.
// by_country: each server's expected load is estimated from its country's total (every policy
// draws by netspeed within zones that hold whole countries, so all servers of a country have
// the same expected load per netspeed; a small server's own count is mostly Poisson noise).
// `where` (optional): the country index of the server with the largest and the median load.
std::pair<double, double> spread(const std::vector<uint64_t>& hits, const std::vector<double>& netspeed,
                                 const std::vector<size_t>& country, bool by_country,
                                 std::pair<size_t, size_t>* where = nullptr,
                                 std::pair<double, double>* values = nullptr) {
  std::vector<double> per(hits.size());
  if (by_country) {
    std::map<size_t, std::pair<double, double>> sum;  // hits, netspeed
    for (size_t i = 0; i < hits.size(); ++i) {
      sum[country[i]].first += static_cast<double>(hits[i]);
      sum[country[i]].second += netspeed[i];
    }
    for (size_t i = 0; i < hits.size(); ++i) per[i] = sum[country[i]].first / sum[country[i]].second;
  } else {
    for (size_t i = 0; i < hits.size(); ++i) per[i] = static_cast<double>(hits[i]) / netspeed[i];
  }
  if (where) {
    std::vector<size_t> order(per.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return per[a] < per[b]; });
    *where = {country[order.back()], country[order[order.size() / 2]]};
  }
  std::sort(per.begin(), per.end());
  const double median = per[per.size() / 2];
  if (values) *values = {per.back(), median};
  const double p99 = per[std::min(per.size() - 1, per.size() * 99 / 100)];
  return {per.back() / median, p99 / median};
}

Figures run(const Sim& s, const GeoView& view, uint64_t queries, uint64_t seed) {
  // The queries each country's clients send: the bare name and 0-3, with ECS of its range.
  std::vector<std::vector<std::vector<uint8_t>>> wire(s.countries.size());
  const char* names[] = {"pool.example", "0.pool.example", "1.pool.example", "2.pool.example",
                         "3.pool.example"};
  for (size_t i = 0; i < s.countries.size(); ++i) {
    for (const char* n : names) {
      test::QueryOptions o;
      o.edns_size = 1232;
      o.ecs = test::ecs_v4({static_cast<uint8_t>(i + 1), 1, 2, 0}, 24);
      wire[i].push_back(test::dns_query(n, 1, o));
    }
  }
  std::vector<double> cum;
  double acc = 0;
  for (const auto& c : s.countries) cum.push_back(acc += c.users);
  std::vector<uint64_t> first(s.server_country.size()), all(s.server_country.size());
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_continent;  // clients, in-continent
  uint64_t own = 0, near = 0;
  Rng rng(seed);
  std::vector<uint8_t> out(4096);
  Client client;
  client.addr = address::Address::v4(std::array<uint8_t, 4>{198, 51, 100, 1});
  AnswerStats st;
  for (uint64_t q = 0; q < queries; ++q) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * acc;
    const size_t c = std::min(static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin()),
                              cum.size() - 1);
    answer(wire[c][rng.below(5)], s.snap.get(), s.cfg, rng, client, out, st, &view);
    if (st.picked_count == 0) continue;
    for (size_t k = 0; k < st.picked_count; ++k) {
      ++all[s.snap->pool(st.picked_pool[k]).server(st.picked[k])];
    }
    const uint32_t srv = s.snap->pool(st.picked_pool[0]).server(st.picked[0]);
    ++first[srv];
    const size_t sc = s.server_country[srv];
    auto& cont = by_continent[s.countries[c].continent];
    ++cont.first;
    if (sc == c) ++own;
    if (s.countries[sc].continent == s.countries[c].continent) {
      ++near;
      ++cont.second;
    }
  }
  Figures f;
  std::pair<size_t, size_t> where;
  std::pair<double, double> values;
  std::tie(f.largest, f.p99) = spread(first, s.server_netspeed, s.server_country, true, &where, &values);
  double total_netspeed = 0, answered = 0;
  for (double n : s.server_netspeed) total_netspeed += n;
  for (uint64_t h : first) answered += static_cast<double>(h);
  const double average = answered / total_netspeed;
  f.largest_at = s.countries[where.first].code;
  for (size_t k = 0; k < first.size(); ++k) f.largest_hits += s.server_country[k] == where.first ? first[k] : 0;
  f.median_at = s.countries[where.second].code;
  f.largest_avg = values.first / average;
  f.median_avg = values.second / average;
  std::tie(f.largest_all, f.p99_all) = spread(all, s.server_netspeed, s.server_country, true);
  std::tie(f.raw_largest, f.raw_p99) = spread(first, s.server_netspeed, s.server_country, false);
  f.own = static_cast<double>(own) / static_cast<double>(queries);
  f.continent = static_cast<double>(near) / static_cast<double>(queries);
  for (const auto& [name, n] : by_continent) {
    f.continent_share[name] = static_cast<double>(n.second) / static_cast<double>(n.first);
  }
  return f;
}

// The world in figures: its size, and the share of demand and capacity of India (the country
// the issue's "5% of demand, under 0.5% of capacity" is about).
void print_world(const Sim& s, uint64_t queries) {
  double netspeed = 0;
  for (double n : s.server_netspeed) netspeed += n;
  std::printf("world: %zu countries, %zu servers, %.0f Gbit/s netspeed, %.0f million users, "
              "%llu queries per policy\n",
              s.countries.size(), s.server_country.size(), netspeed / 1e6, s.total_users,
              static_cast<unsigned long long>(queries));
  for (size_t i = 0; i < s.countries.size(); ++i) {
    if (s.countries[i].code != "in") continue;
    double in_net = 0;
    for (size_t k = 0; k < s.server_country.size(); ++k) in_net += s.server_country[k] == i ? s.server_netspeed[k] : 0;
    std::printf("in: %.1f%% of demand, %.2f%% of capacity (%d servers)\n",
                100 * s.countries[i].users / s.total_users, 100 * in_net / netspeed, s.countries[i].servers);
  }
}

// The three policies side by side: the spread of load per netspeed, then the shares answered
// near the client.
void print_table(const Figures (&f)[3]) {
  std::printf("\n%-44s %12s %12s %12s\n", "", "public", "threshold", "balancer");
  auto row = [&](const char* label, double Figures::*m, const char* fmt) {
    std::printf("%-44s", label);
    for (const auto& x : f) {
      char buf[32];
      std::snprintf(buf, sizeof buf, fmt, x.*m);
      std::printf(" %12s", buf);
    }
    std::printf("\n");
  };
  row("expected: largest load per netspeed / median", &Figures::exp_largest, "%.2f");
  row("expected: p99 load per netspeed / median", &Figures::exp_p99, "%.2f");
  row("largest load per netspeed / median (first)", &Figures::largest, "%.2f");
  row("p99 load per netspeed / median (first)", &Figures::p99, "%.2f");
  row("largest load per netspeed / median (all 4)", &Figures::largest_all, "%.2f");
  row("p99 load per netspeed / median (all 4)", &Figures::p99_all, "%.2f");
  row("  the same per server's own count: largest", &Figures::raw_largest, "%.2f");
  row("  the same per server's own count: p99", &Figures::raw_p99, "%.2f");
  auto pct = [&](const char* label, double Figures::*m) {
    std::printf("%-44s", label);
    for (const auto& x : f) std::printf(" %11.1f%%", 100 * (x.*m));
    std::printf("\n");
  };
  pct("answered in the client's country", &Figures::own);
  pct("answered in the client's continent", &Figures::continent);
}

// The in-continent share of each continent's clients, beside the continent's share of the
// demand and of the capacity.
void print_continents(const Sim& s, const Figures (&f)[3]) {
  double netspeed = 0;
  for (double n : s.server_netspeed) netspeed += n;
  std::map<std::string, std::pair<double, double>> cont;  // users, netspeed
  for (size_t i = 0; i < s.countries.size(); ++i) cont[s.countries[i].continent].first += s.countries[i].users;
  for (size_t k = 0; k < s.server_country.size(); ++k) {
    cont[s.countries[s.server_country[k]].continent].second += s.server_netspeed[k];
  }
  std::printf("\nin-continent share by continent (demand %% / capacity %%):\n");
  for (const auto& [name, uc] : cont) {
    char label[64];
    std::snprintf(label, sizeof label, "  %s (%.1f / %.1f)", name.c_str(),
                  100 * uc.first / s.total_users, 100 * uc.second / netspeed);
    std::printf("%-44s", label);
    for (const auto& x : f) {
      auto it = x.continent_share.find(name);
      std::printf(" %11.1f%%", it == x.continent_share.end() ? 0.0 : 100 * it->second);
    }
    std::printf("\n");
  }
}

// The balancer's bound, and where the spread comes from: the countries whose servers carry the
// largest and the median load per netspeed (first record), and the loads over the pool's
// average.
void print_where(const BalanceResult& br, const Figures (&f)[3]) {
  std::printf("\nbalancer: factor %.2f, bound %.3f x average (median server %.3f x average), "
              "global level %.3f of the bound\n",
              g_factor, br.average > 0 ? br.bound / br.average : 0.0,
              br.average > 0 ? br.median / br.average : 0.0,
              br.bound > 0 ? br.global_level / br.bound : 0.0);
  const char* policy[3] = {"public", "threshold", "balancer"};
  for (int i = 0; i < 3; ++i) {
    std::printf("%s: largest in %s (%.2f x average, %llu first records), median in %s (%.2f x "
                "average)\n",
                policy[i], f[i].largest_at.c_str(), f[i].largest_avg,
                static_cast<unsigned long long>(f[i].largest_hits), f[i].median_at.c_str(),
                f[i].median_avg);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t queries = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10000000;
  if (argc > 2) g_factor = std::strtod(argv[2], nullptr);
  if (!(g_factor >= 1.0 && g_factor <= 100.0)) {
    std::fprintf(stderr, "usage: bench_fairness [queries] [balancer factor, 1..100]\n");
    return 2;
  }
  const Sim s = build();
  print_world(s, queries);

  GeoSettings pub_rule;
  pub_rule.min_servers = 1;
  GeoSettings threshold;
  threshold.min_servers = 3;
  BalanceResult br;
  const auto mix = balanced(s, &br);
  const GeoView v_public(s.snap, s.db, pub_rule);
  const GeoView v_threshold(s.snap, s.db, threshold);
  const GeoView v_balancer(s.snap, s.db, threshold, mix);
  Figures f[3] = {run(s, v_public, queries, 1), run(s, v_threshold, queries, 2),
                  run(s, v_balancer, queries, 3)};
  std::tie(f[0].exp_largest, f[0].exp_p99) = expected_spread_plain(s, 1);
  std::tie(f[1].exp_largest, f[1].exp_p99) = expected_spread_plain(s, 3);
  std::tie(f[2].exp_largest, f[2].exp_p99) = expected_spread(balance_input(s, 3), br);
  print_table(f);
  print_continents(s, f);
  print_where(br, f);
  return 0;
}
