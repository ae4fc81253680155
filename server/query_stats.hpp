// Per-minute DNS query counts and per-hour server answer counts, counted on the query path
// without locks and written to PostgreSQL exactly once (schema/0006 and 0008).
//
// Threads and ownership:
//   - QueryStats is created once and outlives every thread that uses it.
//   - Setup (any thread, takes a mutex; call it while building a snapshot, not per query):
//       uint32_t zs = stats.zone_slot(zone_id);      // dense index for a zones.id
//       uint32_t ss = stats.server_slot(server_id);  // dense index for a servers.id
//       Recorder& rec = stats.add_recorder();        // one per worker thread
//     Slots are stable for the lifetime of the QueryStats, and the counters grow with them
//     (server/paged_counters.hpp): a snapshot with more zones or servers than the last gets
//     counters for all of them. kNoSlot only beyond Limits (counts for kNoSlot are dropped and
//     counted in overflow(), exported as timepool_dns_stats_overflow_total).
//   - Hot path (only the thread that owns the Recorder; no locks, no allocation, no atomics
//     read-modify-write: each counter has one writer and is read by the collector):
//       int64_t m = current_minute();
//       rec.count_query(m, zs, qtype, rcode);
//       rec.count_answer(m, ss);  // once per server put into an answer
//       rec.count_demand(m, zs, v6);  // the balancer's demand: the origin a query counts for
//   - Collection (one thread at a time, ideally one that never blocks on the database):
//       stats.collect(now_unix_seconds);  // every few seconds; reads completed minutes
//   - Flushing (one thread at a time; may block on the database):
//       StatsFlusher flusher(stats, conninfo, "dns1");
//       flusher.flush(now_unix_seconds);  // every minute; collects, seals, writes the queue
//     and at shutdown stats.collect_all() then one last flusher.flush(...). Give the conninfo a
//     connect_timeout (e.g. "... connect_timeout=5") so a flush during an outage returns soon.
//
// Exactly once: every flush is a sealed batch with a sequence number; it is written in one
// transaction together with the row (instance_id, flush_seq) in dns_stats_flushes, and skipped
// when that row exists. A batch that fails stays queued (at most Limits::max_queued_batches;
// beyond that the oldest is dropped and counted) and is retried by the next flush.
//
// Minute attribution: each Recorder has a ring of 4 minute slots. A minute is collected once it
// has ended plus `grace_seconds`; counts a stalled thread adds to a minute after it was
// collected are kept and reported with that slot's next minute, never lost. collect() must run
// at least every 3 minutes (the ring wraps after 4).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "core/pg.hpp"
#include "core/reconnect.hpp"
#include "server/paged_counters.hpp"

namespace timepool::stats {

// Query types counted separately; any other type is stored as qtype 0.
inline constexpr std::array<uint16_t, 8> kQtypes = {0, 1 /*A*/, 2 /*NS*/, 6 /*SOA*/,
                                                     16 /*TXT*/, 28 /*AAAA*/, 65 /*HTTPS*/,
                                                     255 /*ANY*/};
// Response codes counted separately; any other is stored as rcode 4095.
inline constexpr std::array<uint16_t, 8> kRcodes = {0 /*NOERROR*/, 1 /*FORMERR*/, 2 /*SERVFAIL*/,
                                                     3 /*NXDOMAIN*/, 4 /*NOTIMP*/, 5 /*REFUSED*/,
                                                     16 /*BADVERS*/, 4095 /*other*/};
inline constexpr uint32_t kNoSlot = 0xffffffff;

size_t qtype_bucket(uint16_t qtype);
size_t rcode_bucket(uint16_t rcode);  // the full (extended) rcode

// The current UTC minute (Unix seconds / 60) from a cheap coarse clock (about 1-4 ms
// resolution), for the hot path.
int64_t current_minute();

struct QueryRow {
  int64_t minute;  // Unix minutes
  int32_t zone_id;
  uint16_t qtype;
  uint16_t rcode;
  uint64_t count;
  friend bool operator==(const QueryRow&, const QueryRow&) = default;
};
struct AnswerRow {
  int64_t hour;  // Unix hours
  int64_t server_id;
  uint64_t count;
  friend bool operator==(const AnswerRow&, const AnswerRow&) = default;
};
// Queries that drew addresses, per minute, by the zone they count for as demand (the client's
// country for geo-routed names, the zone itself for explicit names; schema/0016 dns_demand)
// and the address family asked for (4: A, 6: AAAA).
struct DemandCount {
  int64_t minute;  // Unix minutes
  int32_t zone_id;
  uint8_t family;  // 4 or 6
  uint64_t count;
  friend bool operator==(const DemandCount&, const DemandCount&) = default;
};
struct Batch {
  uint64_t seq = 0;
  std::vector<QueryRow> queries;  // sorted by (zone_id, minute, qtype, rcode): the table's key
  std::vector<AnswerRow> answers;  // sorted by (server_id, hour)
  std::vector<DemandCount> demand;  // sorted by (zone_id, family, minute): the table's key
};

class QueryStats;

class Recorder {
 public:
  // Hot path; only the owning thread. `minute` is current_minute() (or a test's clock).
  void count_query(int64_t minute, uint32_t zone_slot, uint16_t qtype, uint16_t rcode);
  void count_answer(int64_t minute, uint32_t server_slot);
  void count_demand(int64_t minute, uint32_t zone_slot, bool v6);

  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

 private:
  friend class QueryStats;
  static constexpr size_t kRing = 4;
  static constexpr size_t kPerZone = kQtypes.size() * kRcodes.size();
  struct Slot {
    std::atomic<int64_t> minute{-1};
    std::unique_ptr<PagedCounters> queries;  // zone_slot * kPerZone + q * 8 + r
    std::unique_ptr<PagedCounters> answers;  // server_slot
    std::unique_ptr<PagedCounters> demand;   // zone_slot * 2 + (v6 ? 1 : 0)
  };
  // What the collector read last from each slot (collector thread only).
  struct Seen {
    int64_t minute = -1;
    std::vector<uint32_t> queries, answers, demand;
  };
  Recorder(uint32_t max_zones, uint32_t max_servers, std::atomic<uint64_t>* overflow);
  // Counters for zone slots [0, zones) and server slots [0, servers); QueryStats' setup
  // mutex held, before any of those slots is handed out.
  void grow(size_t zones, size_t servers);
  Slot& enter(int64_t minute);
  static void bump(std::atomic<uint32_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  uint32_t max_zones_, max_servers_;
  std::atomic<uint64_t>* overflow_;
  std::array<Slot, kRing> slots_;
  std::array<Seen, kRing> seen_;
  int64_t minute_ = -1;  // owner thread only
  Slot* current_ = nullptr;
};

class QueryStats {
 public:
  struct Limits {
    // Upper bounds only: counters are allocated as slots are handed out (a page of 4,096
    // counters at a time per Recorder and minute of its ring).
    uint32_t max_zones = 65536;       // distinct zone ids (zones table plus vendor zones)
    uint32_t max_servers = 1u << 22;  // distinct server ids (4,194,304)
    size_t max_queued_batches = 240;  // 4 hours of one-minute flushes
    int grace_seconds = 3;
  };
  QueryStats() : QueryStats(Limits{}) {}
  explicit QueryStats(Limits limits);
  QueryStats(const QueryStats&) = delete;
  QueryStats& operator=(const QueryStats&) = delete;

  uint32_t zone_slot(int32_t zone_id);
  uint32_t server_slot(int64_t server_id);
  // The same for many ids under one lock (a snapshot's zones and servers).
  std::vector<uint32_t> zone_slots(std::span<const int64_t> zone_ids);
  std::vector<uint32_t> server_slots(std::span<const int64_t> server_ids);
  Recorder& add_recorder();

  // Moves the counts of every minute that ended at least grace_seconds before `now_unix_s`
  // into the open batch. Returns the number of queries collected.
  uint64_t collect(int64_t now_unix_s);
  // At shutdown, after the workers stopped: collects every minute, the current one included.
  uint64_t collect_all();
  // Seals the open batch (if it holds anything) into the queue with the next sequence number.
  void seal();

  // The flusher's side of the queue. take() removes the oldest batch; put_back() returns a
  // batch that could not be written to the front (dropping the oldest beyond the bound).
  std::optional<Batch> take();
  void put_back(Batch b);
  size_t queued() const;

  uint64_t overflow() const { return overflow_.load(std::memory_order_relaxed); }
  uint64_t dropped_batches() const;

 private:
  uint64_t collect_slots(int64_t now_unix_s, bool all);
  void enqueue_locked_trim();  // queue_mu_ held
  uint32_t zone_slot_locked(int32_t zone_id);      // setup_mu_ held
  uint32_t server_slot_locked(int64_t server_id);  // setup_mu_ held
  void grow_recorders_locked();                    // setup_mu_ held: counters for every slot

  const Limits limits_;
  std::atomic<uint64_t> overflow_{0};

  mutable std::mutex setup_mu_;  // slots, recorders
  std::map<int32_t, uint32_t> zone_slots_;
  std::map<int64_t, uint32_t> server_slots_;
  std::vector<int32_t> zone_ids_;    // by slot
  std::vector<int64_t> server_ids_;  // by slot
  std::vector<std::unique_ptr<Recorder>> recorders_;

  std::mutex collect_mu_;  // the open batch
  std::map<std::tuple<int32_t, int64_t, uint16_t, uint16_t>, uint64_t> open_queries_;
  std::map<std::pair<int64_t, int64_t>, uint64_t> open_answers_;
  std::map<std::tuple<int32_t, uint8_t, int64_t>, uint64_t> open_demand_;
  std::vector<uint32_t> fresh_;  // scratch for one slot's counters

  mutable std::mutex queue_mu_;
  std::deque<Batch> queue_;
  uint64_t next_seq_ = 1;
  uint64_t dropped_ = 0;
};

// Writes one batch in one transaction (query counts, server answers and the balancer's demand
// in dns_demand); true when it was applied now, false when dns_stats_flushes says it had been
// applied before. Rows for zones or servers that no longer exist are skipped. Throws pg::Error.
bool write_batch(pg::Connection& conn, const std::string& instance_id, const Batch& batch);

struct FlushResult {
  size_t written = 0;     // batches applied now
  size_t duplicates = 0;  // batches found applied before (a retry after a lost commit ack)
  size_t discarded = 0;   // batches the database refused for their content (logged)
  size_t queued = 0;      // batches still waiting
  std::string error;      // the connection problem that stopped this flush, if any
};

// Owns the database connection of the statistics writer and reconnects when it breaks, with
// backoff (core/reconnect): after a failed connection a flush before the next attempt is due
// writes nothing and says so in FlushResult::error; the outage and the recovery are logged
// once each. One thread calls flush(); the QueryStats must outlive the StatsFlusher.
class StatsFlusher {
 public:
  // `name` identifies the DNS server in logs; the instance id stored in the database is
  // "<name>/<random>", unique for this process run.
  // With a `spool_dir`, every sealed batch is first written to a file there (fsynced, with its
  // instance id and sequence number) and the file is removed once the database has it; the
  // files a previous run left are loaded here and written first under their own instance ids,
  // so dns_stats_flushes applies each of them once, also across a restart or a crash.
  StatsFlusher(QueryStats& stats, std::string conninfo, const std::string& name,
               ReconnectOptions reconnect = {std::chrono::seconds(1), std::chrono::minutes(5)},
               std::string spool_dir = {});
  // collect(now) + seal() + write every queued batch, oldest first. Never throws.
  FlushResult flush(int64_t now_unix_s);
  // The same without collecting (at shutdown after collect_all()).
  FlushResult write_queued();
  const std::string& instance_id() const { return instance_id_; }
  size_t spooled() const { return pending_.size(); }

 private:
  struct Pending {
    std::string instance_id;
    Batch batch;
    std::string path;  // its spool file; "" when it could not be written
  };
  void spool_new();  // moves sealed batches from stats_ into pending_, each with its file
  void load_spool();
  size_t waiting() const { return stats_.queued() + pending_.size(); }

  QueryStats& stats_;
  std::string spool_dir_;
  std::deque<Pending> pending_;  // spooled batches, oldest first
  std::string conninfo_;
  std::string instance_id_;
  std::optional<pg::Connection> conn_;
  Reconnect link_;
};

}  // namespace timepool::stats
