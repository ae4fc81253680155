#include "server/query_stats.hpp"

#include <stdlib.h>

#include <barrier>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

using namespace timepool::stats;

namespace {
constexpr int64_t kT0 = 29000000;  // a minute number (2025)

uint64_t sum_queries(const Batch& b) {
  uint64_t n = 0;
  for (const auto& r : b.queries) n += r.count;
  return n;
}
}  // namespace

TEST_CASE("stats buckets: known qtypes and rcodes have their own, the rest share one") {
  CHECK(kQtypes[qtype_bucket(1)] == 1);
  CHECK(kQtypes[qtype_bucket(28)] == 28);
  CHECK(kQtypes[qtype_bucket(65)] == 65);
  CHECK(kQtypes[qtype_bucket(99)] == 0);
  CHECK(kQtypes[qtype_bucket(0)] == 0);
  CHECK(kRcodes[rcode_bucket(3)] == 3);
  CHECK(kRcodes[rcode_bucket(16)] == 16);
  CHECK(kRcodes[rcode_bucket(9)] == 4095);
  CHECK(kRcodes[rcode_bucket(4095)] == 4095);
  for (size_t i = 0; i < kQtypes.size(); ++i) CHECK(qtype_bucket(kQtypes[i]) == i);
  for (size_t i = 0; i + 1 < kRcodes.size(); ++i) CHECK(rcode_bucket(kRcodes[i]) == i);
  for (uint32_t v = 0; v <= 65535; ++v) {
    uint16_t q = static_cast<uint16_t>(v);
    if (kQtypes[qtype_bucket(q)] != q && qtype_bucket(q) != 0) FAIL("qtype " << v);
    if (kRcodes[rcode_bucket(q)] != q && rcode_bucket(q) != kRcodes.size() - 1) FAIL("rcode " << v);
  }
  int64_t m = current_minute();
  CHECK(m > kT0);
}

TEST_CASE("stats: a minute is collected after it ended, into sorted rows") {
  QueryStats stats;
  uint32_t de = stats.zone_slot(10), glob = stats.zone_slot(1);
  CHECK(stats.zone_slot(10) == de);  // stable
  uint32_t s7 = stats.server_slot(7);
  Recorder& rec = stats.add_recorder();
  for (int i = 0; i < 5; ++i) rec.count_query(kT0, de, 1, 0);
  rec.count_query(kT0, de, 28, 0);
  rec.count_query(kT0, glob, 1, 3);
  rec.count_query(kT0, glob, 99, 0);  // other type
  rec.count_answer(kT0, s7);
  rec.count_answer(kT0, s7);

  CHECK(stats.collect(kT0 * 60 + 59) == 0);       // minute not over
  CHECK(stats.collect((kT0 + 1) * 60 + 1) == 0);  // within grace
  stats.seal();
  CHECK(stats.queued() == 0);                      // nothing to seal
  CHECK(stats.collect((kT0 + 1) * 60 + 3) == 8);
  CHECK(stats.collect((kT0 + 1) * 60 + 9) == 0);  // nothing new
  stats.seal();
  auto b = stats.take();
  REQUIRE(b);
  CHECK(b->seq == 1);
  std::vector<QueryRow> want = {{kT0, 1, 0, 0, 1}, {kT0, 1, 1, 3, 1}, {kT0, 10, 1, 0, 5},
                                {kT0, 10, 28, 0, 1}};
  CHECK(b->queries == want);
  CHECK(b->answers == std::vector<AnswerRow>{{kT0 / 60, 7, 2}});
  CHECK_FALSE(stats.take());
}

TEST_CASE("stats: late counts for a collected minute are kept for that minute") {
  QueryStats stats;
  uint32_t z = stats.zone_slot(5);
  Recorder& rec = stats.add_recorder();
  rec.count_query(kT0, z, 1, 0);
  stats.collect((kT0 + 1) * 60 + 5);
  rec.count_query(kT0, z, 1, 0);  // a thread that read the clock before the boundary
  rec.count_query(kT0 + 1, z, 1, 0);
  stats.collect((kT0 + 2) * 60 + 5);
  stats.seal();
  auto b = stats.take();
  REQUIRE(b);
  CHECK(b->queries == std::vector<QueryRow>{{kT0, 5, 1, 0, 2}, {kT0 + 1, 5, 1, 0, 1}});
}

TEST_CASE("stats: answers are summed per hour - capacity overflow is counted, not crashed") {
  QueryStats::Limits lim;
  lim.max_zones = 2;
  lim.max_servers = 1;
  QueryStats stats(lim);
  CHECK(stats.zone_slot(1) == 0);
  CHECK(stats.zone_slot(2) == 1);
  CHECK(stats.zone_slot(3) == kNoSlot);
  CHECK(stats.server_slot(100) == 0);
  CHECK(stats.server_slot(101) == kNoSlot);
  Recorder& rec = stats.add_recorder();
  int64_t h = (kT0 / 60) * 60;  // first minute of an hour
  rec.count_answer(h - 1, 0);
  rec.count_answer(h, 0);
  rec.count_answer(h + 1, 0);
  rec.count_answer(h + 1, kNoSlot);
  rec.count_query(h + 1, kNoSlot, 1, 0);
  rec.count_query(h + 1, 7, 1, 0);
  CHECK(stats.overflow() == 3);
  stats.collect_all();
  stats.seal();
  auto b = stats.take();
  REQUIRE(b);
  CHECK(b->answers ==
        std::vector<AnswerRow>{{h / 60 - 1, 100, 1}, {h / 60, 100, 2}});
  CHECK(b->queries.empty());
}

// Issue 10: slots were capped at 32,768 servers and 1,024 zones, so at 100,000 servers two
// answers in three were not counted (only timepool_dns_stats_overflow_total said so). The
// counters now grow with the slots, also for a Recorder made before the slots.
TEST_CASE("stats: issue 10 - 100,000 servers and 2,000 zones are all counted") {
  QueryStats stats;
  Recorder& early = stats.add_recorder();
  constexpr int64_t kServers = 100000;
  constexpr int64_t kZones = 2000;
  std::vector<int64_t> server_ids(kServers), zone_ids(kZones);
  for (int64_t i = 0; i < kServers; ++i) server_ids[static_cast<size_t>(i)] = 1000 + 3 * i;
  for (int64_t i = 0; i < kZones; ++i) zone_ids[static_cast<size_t>(i)] = 5 + i;
  const std::vector<uint32_t> ss = stats.server_slots(server_ids);
  const std::vector<uint32_t> zs = stats.zone_slots(zone_ids);
  Recorder& late = stats.add_recorder();
  for (uint32_t s : ss) REQUIRE(s != kNoSlot);
  for (uint32_t z : zs) REQUIRE(z != kNoSlot);
  for (size_t i = 0; i < ss.size(); ++i) {
    early.count_answer(kT0, ss[i]);
    if (i % 2) late.count_answer(kT0, ss[i]);
  }
  for (uint32_t z : zs) {
    early.count_query(kT0, z, 1, 0);
    late.count_query(kT0, z, 28, 3);
  }
  CHECK(stats.overflow() == 0);
  CHECK(stats.collect((kT0 + 1) * 60 + 10) == 2 * kZones);
  stats.seal();
  auto b = stats.take();
  REQUIRE(b);
  REQUIRE(b->answers.size() == static_cast<size_t>(kServers));
  for (size_t i = 0; i < b->answers.size(); ++i) {
    REQUIRE(b->answers[i].server_id == server_ids[i]);
    REQUIRE(b->answers[i].count == (i % 2 ? 2u : 1u));
  }
  REQUIRE(b->queries.size() == static_cast<size_t>(2 * kZones));
  CHECK(b->queries.front() == QueryRow{kT0, 5, 1, 0, 1});
  CHECK(b->queries.back() == QueryRow{kT0, 5 + kZones - 1, 28, 3, 1});
}

TEST_CASE("stats: the queue is bounded, drops the oldest and keeps order on put_back") {
  QueryStats::Limits lim;
  lim.max_queued_batches = 2;
  QueryStats stats(lim);
  uint32_t z = stats.zone_slot(1);
  Recorder& rec = stats.add_recorder();
  for (int i = 0; i < 3; ++i) {
    rec.count_query(kT0 + i, z, 1, 0);
    stats.collect_all();
    stats.seal();
  }
  CHECK(stats.queued() == 2);
  CHECK(stats.dropped_batches() == 1);
  auto b = stats.take();
  REQUIRE(b);
  CHECK(b->seq == 2);
  CHECK(b->queries[0].minute == kT0 + 1);
  stats.put_back(std::move(*b));
  CHECK(stats.take()->seq == 2);
  CHECK(stats.take()->seq == 3);
}

TEST_CASE("stats: four threads counting while a collector runs lose and double nothing") {
  QueryStats stats;
  std::vector<uint32_t> zones;
  for (int32_t id = 1; id <= 20; ++id) zones.push_back(stats.zone_slot(id));
  constexpr int kThreads = 4, kMinutes = 9, kPerMinute = 20000;
  std::atomic<int64_t> now_minute{kT0};
  std::atomic<bool> done{false};
  std::barrier sync(kThreads + 1);
  // Expected counts per (minute, zone id, qtype) of every thread, written by each thread.
  std::vector<std::map<std::tuple<int64_t, int32_t, uint16_t>, uint64_t>> expect(kThreads);
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      Recorder& rec = stats.add_recorder();
      sync.arrive_and_wait();
      for (int m = 0; m < kMinutes; ++m) {
        int64_t minute = kT0 + m;
        for (int i = 0; i < kPerMinute; ++i) {
          size_t z = static_cast<size_t>((i * 7 + t) % 20);
          uint16_t qtype = (i % 3 == 0) ? 28 : 1;
          rec.count_query(minute, zones[z], qtype, 0);
          ++expect[static_cast<size_t>(t)][{minute, static_cast<int32_t>(z + 1), qtype}];
        }
        sync.arrive_and_wait();  // everyone finished this minute
      }
    });
  }
  std::thread collector([&] {
    while (!done.load()) {
      stats.collect(now_minute.load() * 60 + 10);
      stats.seal();
      std::this_thread::yield();
    }
  });
  sync.arrive_and_wait();
  for (int m = 0; m < kMinutes; ++m) {
    sync.arrive_and_wait();
    now_minute.store(kT0 + m + 1);  // minute m is over: the collector may take it now
  }
  for (auto& w : workers) w.join();
  done = true;
  collector.join();
  stats.collect_all();
  stats.seal();

  std::map<std::tuple<int64_t, int32_t, uint16_t>, uint64_t> want, got;
  for (const auto& e : expect) {
    for (const auto& [k, n] : e) want[k] += n;
  }
  uint64_t total = 0;
  uint64_t last_seq = 0;
  while (auto b = stats.take()) {
    CHECK(b->seq > last_seq);
    last_seq = b->seq;
    total += sum_queries(*b);
    for (const auto& r : b->queries) got[{r.minute, r.zone_id, r.qtype}] += r.count;
  }
  CHECK(total == uint64_t{kThreads} * kMinutes * kPerMinute);
  CHECK(got == want);
}

TEST_CASE("StatsFlusher backs off after a failed connection and keeps the batch") {
  QueryStats stats;
  const uint32_t z = stats.zone_slot(7);
  Recorder& rec = stats.add_recorder();
  const int64_t m0 = 29000000;
  rec.count_query(m0, z, 1, 0);
  // A socket folder that does not exist: the connection fails at once, without a server.
  StatsFlusher flusher(stats, "host=/nonexistent-timepool-dir port=1 connect_timeout=1", "t",
                       {std::chrono::seconds(30), std::chrono::seconds(60)});
  auto r = flusher.flush((m0 + 2) * 60);
  CHECK(r.written == 0);
  CHECK(r.queued == 1);
  REQUIRE_FALSE(r.error.empty());
  CHECK(r.error.find("next attempt") == std::string::npos);  // this one tried the database
  rec.count_query(m0 + 2, z, 1, 0);
  r = flusher.flush((m0 + 4) * 60);
  CHECK(r.written == 0);
  CHECK(r.queued == 2);  // nothing lost, nothing written
  CHECK(r.error.find("next attempt in") != std::string::npos);  // not tried again yet
}

TEST_CASE("stats: the balancer's demand is counted per zone, family and minute") {
  QueryStats stats;
  const uint32_t de = stats.zone_slot(10), fr = stats.zone_slot(11);
  Recorder& a = stats.add_recorder();
  Recorder& b = stats.add_recorder();
  for (int i = 0; i < 3; ++i) a.count_demand(kT0, de, false);
  b.count_demand(kT0, de, false);
  b.count_demand(kT0, de, true);
  a.count_demand(kT0 + 1, fr, false);
  a.count_demand(kT0, kNoSlot, false);  // no slot: counted as overflow, not a crash
  CHECK(stats.overflow() == 1);
  stats.collect((kT0 + 2) * 60 + 5);
  stats.seal();
  auto batch = stats.take();
  REQUIRE(batch);
  CHECK(batch->queries.empty());
  // In the table's key order: zone, family, minute.
  CHECK(batch->demand ==
        std::vector<DemandCount>{{kT0, 10, 4, 4}, {kT0, 10, 6, 1}, {kT0 + 1, 11, 4, 1}});
}

TEST_CASE("stats: demand survives the spool file of a batch the database did not take") {
  char tmpl[] = "/tmp/tp-spool-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  const std::string dir = tmpl;
  const int64_t m0 = 29000000;
  {
    QueryStats stats;
    const uint32_t z = stats.zone_slot(7);
    Recorder& rec = stats.add_recorder();
    rec.count_query(m0, z, 28, 0);
    rec.count_demand(m0, z, true);
    rec.count_demand(m0, z, true);
    StatsFlusher flusher(stats, "host=/nonexistent-timepool-dir port=1 connect_timeout=1", "t",
                         {std::chrono::seconds(30), std::chrono::seconds(60)}, dir);
    const auto r = flusher.flush((m0 + 2) * 60);
    CHECK(r.written == 0);
    CHECK(flusher.spooled() == 1);
  }
  std::string text;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path());
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  CHECK(text.find("\nd " + std::to_string(m0) + " 7 6 2\n") != std::string::npos);
  QueryStats again;
  StatsFlusher reloaded(again, "host=/nonexistent-timepool-dir port=1 connect_timeout=1", "t",
                        {std::chrono::seconds(30), std::chrono::seconds(60)}, dir);
  CHECK(reloaded.spooled() == 1);  // read back whole, not refused as damaged
  std::filesystem::remove_all(dir);
}
