// Query statistics written by several DNS servers add up, and a flush is applied once.
#include <catch2/catch.hpp>
#include <thread>

#include "core/minute_series.hpp"
#include "server/query_stats.hpp"
#include "tests/support/pg_test_db.hpp"

using namespace timepool;
using namespace timepool::stats;

namespace {

int32_t zone_id(pg::Connection& c, const char* name) {
  return c.exec("SELECT id FROM zones WHERE name = $1", name).get<int32_t>(0, 0);
}

int64_t add_server(pg::Connection& c, const char* addr) {
  return c.exec("INSERT INTO servers (address, netspeed, country, score) "
                "VALUES ($1, 1500, 'de', 20) RETURNING id", addr)
      .get<int64_t>(0, 0);
}

int64_t count_at(pg::Connection& c, int32_t zone, int64_t minute, int qtype, int rcode) {
  return c.exec("SELECT coalesce(sum(count), 0)::bigint FROM dns_query_counts WHERE zone_id = $1 "
                "AND minute = to_timestamp($2 * 60) AND qtype = $3 AND rcode = $4",
                zone, minute, qtype, rcode)
      .get<int64_t>(0, 0);
}

int64_t hourly_at(pg::Connection& c, int32_t zone, int64_t minute, int qtype, int rcode) {
  return c.exec("SELECT coalesce(sum(count), 0)::bigint FROM dns_query_counts_hourly "
                "WHERE zone_id = $1 AND hour = to_timestamp(($2 / 60) * 3600) AND qtype = $3 "
                "AND rcode = $4",
                zone, minute, qtype, rcode)
      .get<int64_t>(0, 0);
}

int64_t answers_at(pg::Connection& c, int64_t server, int64_t minute) {
  return c.exec("SELECT coalesce(sum(count), 0)::bigint FROM dns_server_answers "
                "WHERE server_id = $1 AND hour = to_timestamp(($2 / 60) * 3600)",
                server, minute)
      .get<int64_t>(0, 0);
}

int64_t scalar(pg::Connection& c, const char* sql) { return c.exec(sql).get<int64_t>(0, 0); }

}  // namespace

TEST_CASE("counts from two DNS servers add up in every table", "[stats_sum]") {
  test::TestDb db;
  auto c = db.connect();
  int32_t de = zone_id(c, "de"), glob = zone_id(c, "@");
  int64_t s1 = add_server(c, "192.0.2.1"), s2 = add_server(c, "192.0.2.2");

  // Two instances counting into the same minute, as two DNS servers behind one name do.
  int64_t minute = current_minute() - 2;
  QueryStats a, b;
  Recorder& ra = a.add_recorder();
  Recorder& rb = b.add_recorder();
  for (int i = 0; i < 100; ++i) ra.count_query(minute, a.zone_slot(de), 1, 0);
  for (int i = 0; i < 5; ++i) ra.count_query(minute, a.zone_slot(glob), 28, 0);
  for (int i = 0; i < 50; ++i) rb.count_query(minute, b.zone_slot(de), 1, 0);
  for (int i = 0; i < 7; ++i) rb.count_query(minute, b.zone_slot(de), 1, 3);
  rb.count_query(minute + 1, b.zone_slot(de), 1, 0);  // the next minute, same hour or not
  for (int i = 0; i < 10; ++i) ra.count_answer(minute, a.server_slot(s1));
  for (int i = 0; i < 20; ++i) rb.count_answer(minute, b.server_slot(s1));
  rb.count_answer(minute, b.server_slot(s2));

  int64_t now = (minute + 2) * 60 + 30;
  StatsFlusher fa(a, db.conninfo(), "dns-a"), fb(b, db.conninfo(), "dns-b");
  CHECK(fa.instance_id() != fb.instance_id());
  auto r1 = fa.flush(now);
  auto r2 = fb.flush(now);
  CHECK(r1.written == 1);
  CHECK(r2.written == 1);
  CHECK(r1.error.empty());
  CHECK(r2.queued == 0);

  CHECK(count_at(c, de, minute, 1, 0) == 150);
  CHECK(count_at(c, de, minute, 1, 3) == 7);
  CHECK(count_at(c, glob, minute, 28, 0) == 5);
  CHECK(count_at(c, de, minute + 1, 1, 0) == 1);
  CHECK(answers_at(c, s1, minute) == 30);
  CHECK(answers_at(c, s2, minute) == 1);
  int64_t same_hour = (minute / 60 == (minute + 1) / 60) ? 1 : 0;
  CHECK(hourly_at(c, de, minute, 1, 0) == 150 + same_hour);
  CHECK(scalar(c, "SELECT sum(count)::bigint FROM dns_query_counts") == 163);
  CHECK(scalar(c, "SELECT sum(count)::bigint FROM dns_query_counts_hourly") == 163);
  CHECK(scalar(c, "SELECT count(*) FROM dns_stats_flushes") == 2);

  // Another round from the same instance adds to the same rows.
  for (int i = 0; i < 3; ++i) ra.count_query(minute, a.zone_slot(de), 1, 0);
  CHECK(fa.flush(now).written == 1);
  CHECK(count_at(c, de, minute, 1, 0) == 153);
  CHECK(scalar(c, "SELECT max(flush_seq) FROM dns_stats_flushes") == 2);
}

TEST_CASE("a batch written twice counts once - vanished zones and servers are skipped",
          "[stats_dedupe]") {
  test::TestDb db;
  auto c = db.connect();
  int32_t de = zone_id(c, "de");
  int64_t s1 = add_server(c, "192.0.2.9");
  int64_t minute = current_minute() - 5;
  Batch batch;
  batch.seq = 7;
  batch.queries = {{minute, de, 1, 0, 40}, {minute, 999999, 1, 0, 5}};
  batch.answers = {{minute / 60, s1, 4}, {minute / 60, 888888, 2}};
  CHECK(write_batch(c, "dns-x/abc", batch));
  CHECK_FALSE(write_batch(c, "dns-x/abc", batch));  // the retry after a lost commit ack
  CHECK(write_batch(c, "dns-y/def", batch));         // another instance, same numbers
  CHECK(count_at(c, de, minute, 1, 0) == 80);
  CHECK(answers_at(c, s1, minute) == 8);
  CHECK(scalar(c, "SELECT count(*) FROM dns_query_counts") == 1);
  CHECK(scalar(c, "SELECT query_rows FROM dns_stats_flushes WHERE instance_id = 'dns-x/abc'") == 2);

  // Through the queue: a batch that was applied but put back (its acknowledgement was lost)
  // is recognised, not added again.
  QueryStats stats;
  Recorder& rec = stats.add_recorder();
  rec.count_query(minute, stats.zone_slot(de), 28, 0);
  StatsFlusher f(stats, db.conninfo(), "dns-z");
  stats.collect_all();
  stats.seal();
  auto b = stats.take();
  REQUIRE(b);
  CHECK(write_batch(c, f.instance_id(), *b));
  stats.put_back(std::move(*b));
  auto r = f.write_queued();
  CHECK(r.duplicates == 1);
  CHECK(r.written == 0);
  CHECK(count_at(c, de, minute, 28, 0) == 1);

  // Retention drops old minute rows and keeps hourly totals.
  CHECK(scalar(c, "SELECT dns_stats_prune('1 second', '1 second')") == 2);
  CHECK(scalar(c, "SELECT count(*) FROM dns_query_counts") == 0);
  CHECK(scalar(c, "SELECT sum(count)::bigint FROM dns_query_counts_hourly") == 81);
}

TEST_CASE("a zone's minute series read back from the database shows its weekly burst",
          "[stats_sum]") {
  test::TestDb db;
  auto c = db.connect();
  int32_t acme_like = zone_id(c, "de");
  // Three weeks of 100 queries a minute, 4000 every Sunday at 19:45 UTC, written as the DNS
  // server would (two qtypes, so the series must add them up).
  const int64_t sun = 29891520;  // 2026-11-01 00:00 UTC, a Sunday
  QueryStats stats;
  Recorder& rec = stats.add_recorder();
  uint32_t z = stats.zone_slot(acme_like);
  StatsFlusher f(stats, db.conninfo(), "dns-burst");
  for (int64_t m = sun; m < sun + 21 * 1440; ++m) {
    bool spike = (m - sun) % (7 * 1440) == 19 * 60 + 45;
    for (int i = 0; i < (spike ? 2000 : 50); ++i) {
      rec.count_query(m, z, 1, 0);
      rec.count_query(m, z, 28, 0);
    }
    stats.collect_all();  // the collector runs at least every few minutes
  }
  auto r = f.flush(0);
  REQUIRE(r.error.empty());
  auto series = read_minute_series(c, acme_like, sun, sun + 21 * 1440);
  REQUIRE(series.size() == 21 * 1440);
  CHECK(series[0].count == 100);
  auto bursts = find_bursts(series);
  REQUIRE(bursts.size() == 1);
  CHECK(bursts[0].warning ==
        "every Sunday at 19:45 UTC your devices send 40 times your normal load in one minute");
  CHECK(read_minute_series(c, acme_like, sun + 21 * 1440, sun + 22 * 1440).empty());
}

TEST_CASE("two servers flushing the same rows at the same time add up exactly", "[stats_dedupe]") {
  test::TestDb db;
  auto c = db.connect();
  std::vector<int32_t> zones;
  auto res = c.exec("SELECT id FROM zones WHERE kind = 'country' ORDER BY id LIMIT 40");
  for (int i = 0; i < res.rows(); ++i) zones.push_back(res.get<int32_t>(i, 0));
  const int64_t minute = current_minute() - 10;
  constexpr int kRounds = 15;
  auto run = [&](const char* name) {
    QueryStats stats;
    Recorder& rec = stats.add_recorder();
    StatsFlusher f(stats, db.conninfo(), name);
    for (int round = 0; round < kRounds; ++round) {
      for (int32_t z : zones) {
        for (int k = 0; k < 3; ++k) rec.count_query(minute + k, stats.zone_slot(z), 1, 0);
      }
      stats.collect_all();
      stats.seal();
      // Lock conflicts between the two writers are retried, never lost or doubled.
      for (int tries = 0; stats.queued() > 0 && tries < 50; ++tries) f.write_queued();
    }
    return stats.queued();
  };
  size_t left_a = 1, left_b = 1;
  std::thread ta([&] { left_a = run("dns-a"); });
  std::thread tb([&] { left_b = run("dns-b"); });
  ta.join();
  tb.join();
  CHECK(left_a == 0);
  CHECK(left_b == 0);
  CHECK(scalar(c, "SELECT sum(count)::bigint FROM dns_query_counts") ==
        static_cast<int64_t>(2 * kRounds * zones.size() * 3));
  CHECK(scalar(c, "SELECT min(count)::bigint FROM dns_query_counts") == 2 * kRounds);
  CHECK(scalar(c, "SELECT count(*) FROM dns_stats_flushes") == 2 * kRounds);
}
