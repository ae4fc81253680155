// The answer function and the snapshot build alone, without sockets: what one query costs in
// CPU with a snapshot of 10,000 servers in 300 zones, what counting it costs, and what building
// that snapshot and publishing it (geo view and statistics slots included) costs, at 10,000
// and at 100,000 servers.
//
// Run: build-bench/bench/dns/bench_answer (TIMEPOOL_BENCH=ON, Release). After the runs it
// prints each figure beside the one measured before (kPrevious) and exits 1 when a figure is
// above its bound, 5 times the previous one: a bound that a noisy shared machine does not
// trip, but a real slowdown does. Extra arguments go to google benchmark
// (--benchmark_filter=...).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/geo.hpp"
#include "server/answer.hpp"
#include "server/geo_answer.hpp"
#include "server/mixtures.hpp"
#include "server/published.hpp"
#include "server/query_stats.hpp"
#include "server/snapshot.hpp"
#include "tests/support/dns_query.hpp"

using namespace timepool;
using namespace timepool::server;

namespace {

// CPU time per iteration (ns) measured before, Release build pinned to one CPU of the 2-core
// development machine: the answer figures by the bench_answer of the tree before the published
// object and the wire split (7a40ef9, 2026-11-30), BM_global_A_geo_mixture's first figure
// (issue 13); the build figures by the tree before the faster rebuild (f708d96, 2026-12-01:
// the same source linked against it, interleaved); the counting pair holds its first figures.
// bench/dns/README.md and bench/fairness/README.md have the tables.
struct Previous {
  const char* name;
  double ns;
};
constexpr Previous kPrevious[] = {
    {"BM_global_A", 133},
    {"BM_global_quarter_A_edns", 157},
    {"BM_country_A", 235},
    {"BM_nxdomain", 93},
    {"BM_global_A_geo_ecs", 305},
    {"BM_global_A_geo_mixture", 610},
    {"BM_count_address_query", 15.8},
    {"BM_count_address_query_demand", 17.6},
    {"BM_build_snapshot", 3.4e6},
    {"BM_build_and_publish", 4.8e6},
    {"BM_build_and_publish_100k", 51e6},
};
constexpr double kBoundFactor = 5.0;

ZoneRow zone_row(int64_t id, const std::string& name, ZoneKind kind, std::optional<int64_t> parent) {
  ZoneRow z;
  z.id = id;
  z.name = name;
  z.kind = kind;
  z.parent_id = parent;
  return z;
}

std::vector<uint8_t> query(const std::string& name, uint16_t type, bool edns, bool ecs = false) {
  test::QueryOptions o;
  o.edns_size = edns ? 1232 : -1;
  if (ecs) o.ecs = test::ecs_v4({53, 1, 2, 0}, 24);
  return test::dns_query(name, type, o);
}

// `servers` servers (20% IPv6) in 300 zones: the global zone, a continent, 298 countries
// named z0..z297 (z42 is "de" for the geo table below).
SourceData source(int servers = 10000) {
  SourceData src;
  src.zones.push_back(zone_row(1, "@", ZoneKind::Global, std::nullopt));
  src.zones.push_back(zone_row(2, "europe", ZoneKind::Continent, 1));
  for (int z = 0; z < 298; ++z) {
    std::string name = "z";
    name += std::to_string(z);  // (not "z" + ...: a gcc 12 -Wrestrict false positive at -O2)
    src.zones.push_back(zone_row(z + 3, z == 42 ? "de" : name, ZoneKind::Country, 2));
  }
  const uint32_t speeds[] = {512, 1500, 3000, 25000, 100000, 1000000};
  for (int i = 0; i < servers; ++i) {
    ServerRow s;
    s.id = i + 1;
    s.v6 = i % 5 == 0;
    s.addr[0] = s.v6 ? 0x20 : 10;
    s.addr[1] = static_cast<uint8_t>(i >> 16);
    s.addr[2] = static_cast<uint8_t>(i >> 8);
    s.addr[3] = static_cast<uint8_t>(i);
    s.netspeed = speeds[i % 6];
    s.zones = {1, 2, 3 + (i * 7) % 298};
    src.servers.push_back(s);
  }
  return src;
}

// 53.0.0.0/8 is de.
constexpr const char* kRanges = "889192448,905969663,DE\n";

struct World {
  AnswerConfig cfg;
  SourceData src = source();
  std::shared_ptr<const Snapshot> snap = Snapshot::build(src, 1);
  std::shared_ptr<const geo::GeoDb> db = geo::RangeGeoDb::parse(kRanges, "");
  GeoView geo{snap, db, GeoSettings{}};
  // de's clients by a balancer mixture: half from de, 30% from europe, 20% global.
  GeoView mixed{snap, db, GeoSettings{},
                std::make_shared<const Mixtures>(std::vector<MixtureRow>{{false, 45, 2, 0.5, 0.3, 0.2}})};
  World() {
    cfg.apexes = {name_to_wire("pool.example")};
    cfg.ns = {name_to_wire("ns1.pool.example")};
    cfg.soa_rname = name_to_wire("hostmaster.pool.example");
  }
};

World& world() {
  static World w;
  return w;
}

void run(benchmark::State& state, const std::string& name, uint16_t type, bool edns,
         bool geo = false, bool mixture = false) {
  World& w = world();
  const auto q = query(name, type, edns, geo);
  std::vector<uint8_t> out(4096);
  Rng rng(1);
  Client c;
  c.addr = address::Address::v4(std::array<uint8_t, 4>{198, 51, 100, 1});
  AnswerStats st;
  for (auto _ : state) {
    benchmark::DoNotOptimize(answer(q, w.snap.get(), w.cfg, rng, c, out, st,
                                    geo ? (mixture ? &w.mixed : &w.geo) : nullptr));
  }
}

void BM_global_A(benchmark::State& s) { run(s, "pool.example", 1, false); }
void BM_global_quarter_A_edns(benchmark::State& s) { run(s, "2.pool.example", 1, true); }
void BM_country_A(benchmark::State& s) { run(s, "1.z41.pool.example", 1, false); }
void BM_nxdomain(benchmark::State& s) { run(s, "nosuch.pool.example", 1, false); }
// A global name located by an ECS option: parse, look up, route to de, echo.
void BM_global_A_geo_ecs(benchmark::State& s) { run(s, "pool.example", 1, true, true); }
// The same client with a balancer mixture: each record picks a tier, then a server in it.
void BM_global_A_geo_mixture(benchmark::State& s) { run(s, "pool.example", 1, true, true, true); }

void BM_build_snapshot(benchmark::State& s) {
  const World& w = world();
  for (auto _ : s) benchmark::DoNotOptimize(Snapshot::build(w.src, 1));
}

// What the loader does after its database read: build, then publish with geo and slots.
void BM_build_and_publish(benchmark::State& s) {
  const World& w = world();
  stats::QueryStats qs;
  Publisher pub(&qs);
  GeoSettings geo;
  pub.configure_geo(w.db, geo);
  for (auto _ : s) pub.publish(Snapshot::build(w.src, 1));
}

// What a worker adds to an answered address query (WorkerStats::count, server/stats_writer.cpp):
// the query's count, one count per record drawn (4 here) and, with geo on, the balancer's
// demand. The pair shows what the demand count costs.
void count_run(benchmark::State& state, bool demand) {
  stats::QueryStats qs;
  stats::Recorder& rec = qs.add_recorder();
  const uint32_t zone = qs.zone_slot(1);
  std::array<uint32_t, 4> servers{};
  for (uint32_t i = 0; i < servers.size(); ++i) servers[i] = qs.server_slot(1000 + 997 * i);
  for (auto _ : state) {
    const int64_t minute = stats::current_minute();
    rec.count_query(minute, zone, 1, 0);
    if (demand) rec.count_demand(minute, zone, false);
    for (uint32_t s : servers) rec.count_answer(minute, s);
  }
}
void BM_count_address_query(benchmark::State& s) { count_run(s, false); }
void BM_count_address_query_demand(benchmark::State& s) { count_run(s, true); }

// The same at 100,000 servers: the build and publish part of a rebuild at the size the
// rebuild target is set for (bench/dns --scale measures the whole rebuild with its database
// read).
void BM_build_and_publish_100k(benchmark::State& s) {
  const World& w = world();
  const SourceData src = source(100000);
  stats::QueryStats qs;
  Publisher pub(&qs);
  pub.configure_geo(w.db, GeoSettings{});
  for (auto _ : s) pub.publish(Snapshot::build(src, 1));
}

// Keeps the CPU time per iteration of every run for the check against kPrevious.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
      cpu_ns[r.benchmark_name()] =
          r.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e9;
    }
  }
  std::map<std::string, double> cpu_ns;
};

std::string human(double ns) {
  char buf[32];
  if (ns >= 1e6) std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  return buf;
}

}  // namespace

BENCHMARK(BM_global_A);
BENCHMARK(BM_global_quarter_A_edns);
BENCHMARK(BM_country_A);
BENCHMARK(BM_nxdomain);
BENCHMARK(BM_global_A_geo_ecs);
BENCHMARK(BM_global_A_geo_mixture);
BENCHMARK(BM_count_address_query);
BENCHMARK(BM_count_address_query_demand);
BENCHMARK(BM_build_snapshot)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_build_and_publish)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_build_and_publish_100k)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  int over = 0;
  std::printf("\n%-30s %12s %12s %12s\n", "benchmark", "now (CPU)", "before", "bound (5x)");
  for (const auto& p : kPrevious) {
    auto it = collector.cpu_ns.find(p.name);
    if (it == collector.cpu_ns.end()) continue;
    const double bound = p.ns * kBoundFactor;
    const bool bad = it->second > bound;
    over += bad;
    std::printf("%-30s %12s %12s %12s%s\n", p.name, human(it->second).c_str(), human(p.ns).c_str(),
                human(bound).c_str(), bad ? "  OVER THE BOUND" : "");
  }
  return over ? 1 : 0;
}
