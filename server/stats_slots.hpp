// The statistics slots of one snapshot: for every zone and every server of the snapshot, the
// dense counter index in stats::QueryStats (server/query_stats.hpp), so counting a query on
// the hot path is a few array reads.
//
// Built once per snapshot by the thread that publishes it (server/published.hpp); immutable
// afterwards and read by any number of workers. It refers to its snapshot, which must outlive
// it (the published object holds both).
#pragma once

#include <cstdint>
#include <vector>

#include "server/query_stats.hpp"
#include "server/snapshot.hpp"

namespace timepool::server {

class StatsSlots {
 public:
  // Takes QueryStats' setup mutex twice (zones, servers). A server keeps its slot for the
  // life of QueryStats, so the slots of `previous` (the slots published before, made by the
  // same QueryStats; its snapshot still alive) are taken over for the servers both snapshots
  // hold, and only the others are looked up: at 100,000 servers that lookup was most of a
  // publish.
  StatsSlots(const Snapshot& snap, stats::QueryStats& stats, const StatsSlots* previous = nullptr);

  // zone_index: into Snapshot::zones(); -1 (no zone) counts under the global zone.
  uint32_t zone_slot(int32_t zone_index) const {
    return zone_index < 0 ? global_slot_ : zone_slots_[static_cast<size_t>(zone_index)];
  }
  // The slot of entry `entry` of pool `pool` (AnswerStats::pool and picked[]).
  uint32_t server_slot(uint32_t pool, uint32_t entry) const {
    return server_slots_[snap_.pool(pool).server(entry)];
  }

 private:
  const Snapshot& snap_;
  std::vector<uint32_t> zone_slots_;
  std::vector<uint32_t> server_slots_;  // by the snapshot's server index
  uint32_t global_slot_ = stats::kNoSlot;
};

}  // namespace timepool::server
