// The answer function alone, without sockets: what one query costs in CPU with a snapshot of
// 10,000 servers in 300 zones. Run: build-bench/bench/bench_answer (TIMEPOOL_BENCH=ON).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "server/answer.hpp"
#include "server/snapshot.hpp"
#include "tests/support/dns_query.hpp"

using namespace timepool;
using namespace timepool::server;

namespace {

ZoneRow zone_row(int64_t id, const std::string& name, ZoneKind kind,
                        std::optional<int64_t> alias_of = std::nullopt,
                        ClientType client_type = ClientType::Both) {
  ZoneRow z;  // by field name, so new ZoneRow fields need no change here
  z.id = id;
  z.name = name;
  z.kind = kind;
  z.alias_of = alias_of;
  z.client_type = client_type;
  return z;
}

std::vector<uint8_t> query(const std::string& name, uint16_t type, bool edns) {
  test::QueryOptions o;
  o.edns_size = edns ? 1232 : -1;
  return test::dns_query(name, type, o);
}

struct World {
  AnswerConfig cfg;
  std::shared_ptr<const Snapshot> snap;
  World() {
    cfg.apexes = {name_to_wire("pool.example")};
    cfg.ns = {name_to_wire("ns1.pool.example")};
    cfg.soa_rname = name_to_wire("hostmaster.pool.example");
    SourceData src;
    src.zones.push_back(zone_row(1, "@", ZoneKind::Global, std::nullopt, ClientType::Both));
    for (int z = 0; z < 299; ++z) {
      src.zones.push_back(zone_row(z + 2, "z" + std::to_string(z), ZoneKind::Country, std::nullopt, ClientType::Both));
    }
    const uint32_t speeds[] = {512, 1500, 3000, 25000, 100000, 1000000};
    for (int i = 0; i < 10000; ++i) {
      ServerRow s;
      s.id = i + 1;
      s.v6 = i % 5 == 0;
      s.addr[0] = s.v6 ? 0x20 : 10;
      s.addr[2] = static_cast<uint8_t>(i >> 8);
      s.addr[3] = static_cast<uint8_t>(i);
      s.netspeed = speeds[i % 6];
      s.zones = {1, 2 + (i * 7) % 299};
      src.servers.push_back(s);
    }
    snap = Snapshot::build(src, 1);
  }
};

void run(benchmark::State& state, const std::string& name, uint16_t type, bool edns) {
  static World w;
  const auto q = query(name, type, edns);
  std::vector<uint8_t> out(4096);
  Rng rng(1);
  Client c;
  AnswerStats st;
  for (auto _ : state) {
    benchmark::DoNotOptimize(answer(q, w.snap.get(), w.cfg, rng, c, out, st));
  }
}

void BM_global_A(benchmark::State& s) { run(s, "pool.example", 1, false); }
void BM_global_quarter_A_edns(benchmark::State& s) { run(s, "2.pool.example", 1, true); }
void BM_country_A(benchmark::State& s) { run(s, "1.z42.pool.example", 1, false); }
void BM_nxdomain(benchmark::State& s) { run(s, "nosuch.pool.example", 1, false); }
void BM_build_snapshot(benchmark::State& s) {
  World w;
  SourceData src;  // rebuild from the same rows
  for (auto _ : s) benchmark::DoNotOptimize(World().snap);
}

}  // namespace

BENCHMARK(BM_global_A);
BENCHMARK(BM_global_quarter_A_edns);
BENCHMARK(BM_country_A);
BENCHMARK(BM_nxdomain);
BENCHMARK(BM_build_snapshot)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
