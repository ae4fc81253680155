// Probe results on their way to PostgreSQL: a bounded in-memory queue and the batch write.
//
// The probe loop pushes one ProbeRecord per scored probe; the writer thread takes up to
// batch_max of the oldest, writes them in one transaction (write_batch) and only then removes
// them from the queue. If the database is away the records wait (up to queue_max; beyond that
// the oldest are dropped and counted) and the same batch is written again once it is back.
// A batch that did commit but whose COMMIT answer was lost is harmless to write again: the
// probe log's primary key (server, ts, monitor) makes the re-insert a no-op and the score row
// is only replaced by a newer one. So nothing is lost and nothing is written twice.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/ntp.hpp"

namespace timepool::pg {
class Connection;
}

namespace timepool::monitor {

struct ProbeRecord {
  int64_t server_id = 0;
  ntp::TimePoint ts;  // when the probe started (microseconds are kept)
  double step = 0;
  double score = 0;   // the monitor's new score for the server
  std::optional<double> offset_s;
  std::optional<double> rtt_s;
  std::optional<int> stratum;
  std::optional<int> leap;
  std::optional<std::string> error;
};

// Thread-safe bounded FIFO.
class ResultQueue {
 public:
  explicit ResultQueue(std::size_t max) : max_(max) {}
  // Appends; when full drops the oldest record first and returns false.
  bool push(ProbeRecord r);
  // Copies of the oldest `n` records (fewer if there are fewer); `last_seq` receives the
  // sequence number of the last one, for pop_through().
  std::vector<ProbeRecord> front(std::size_t n, uint64_t* last_seq) const;
  // Removes every record up to and including sequence number `last_seq` (those already
  // dropped are simply gone).
  void pop_through(uint64_t last_seq);
  std::size_t size() const;
  uint64_t dropped() const;
  // Start time of the oldest queued probe.
  std::optional<ntp::TimePoint> oldest() const;

 private:
  mutable std::mutex mu_;
  std::deque<std::pair<uint64_t, ProbeRecord>> q_;  // (sequence number, record)
  std::size_t max_;
  uint64_t next_seq_ = 1;
  uint64_t dropped_ = 0;
};

// Writes `batch` in one transaction: the probe log rows (ON CONFLICT DO NOTHING), the latest
// score per server into server_scores, the pool scores of those servers (refresh_pool_score)
// and the monitor's last_seen. Records of servers that no longer exist are skipped. Throws
// pg::Error; on an error nothing of the batch is kept (ROLLBACK).
void write_batch(pg::Connection& conn, int monitor_id, std::span<const ProbeRecord> batch);
// The same writes without the transaction and last_seen: for a caller that holds its own
// transaction (the monitor API).
void write_records(pg::Connection& conn, int monitor_id, std::span<const ProbeRecord> batch);

// "2026-01-02 03:04:05.678901+00"
std::string timestamp_text(ntp::TimePoint t);

}  // namespace timepool::monitor
