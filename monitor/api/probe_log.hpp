// The central write of scored probes: the probe log, each (server, monitor)'s latest score and
// the pool score of the servers touched.
//
// A result written again is harmless: the probe log's primary key (server, ts, monitor) makes
// the re-insert a no-op and the score row is only replaced by a newer one.
#pragma once

#include <span>

#include "monitor/store.hpp"

namespace timepool::pg {
class Connection;
}

namespace timepool::monitor::api {

// Writes `batch` in one transaction: the probe log rows (ON CONFLICT DO NOTHING), the latest
// score per server into server_scores, the pool scores of those servers (refresh_pool_score)
// and the monitor's last_seen. Records of servers that no longer exist are skipped. Throws
// pg::Error; on an error nothing of the batch is kept (ROLLBACK).
void write_batch(pg::Connection& conn, int monitor_id, std::span<const ProbeRecord> batch);
// The same writes without the transaction and last_seen: for a caller that holds its own
// transaction (ingest()).
void write_records(pg::Connection& conn, int monitor_id, std::span<const ProbeRecord> batch);

}  // namespace timepool::monitor::api
