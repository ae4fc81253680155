// The statistics slots of one snapshot: for every zone and every server entry of every pool,
// the dense counter index in stats::QueryStats (server/query_stats.hpp), so counting a query
// on the hot path is two array reads.
//
// Built once per snapshot by the thread that publishes it (server/published.hpp); immutable
// afterwards and read by any number of workers.
#pragma once

#include <cstdint>
#include <vector>

#include "server/query_stats.hpp"
#include "server/snapshot.hpp"

namespace timepool::server {

class StatsSlots {
 public:
  // Takes QueryStats' setup mutex once per distinct zone and server.
  StatsSlots(const Snapshot& snap, stats::QueryStats& stats);

  // zone_index: into Snapshot::zones(); -1 (no zone) counts under the global zone.
  uint32_t zone_slot(int32_t zone_index) const {
    return zone_index < 0 ? global_slot_ : zone_slots_[static_cast<size_t>(zone_index)];
  }
  uint32_t server_slot(uint32_t pool, uint32_t entry) const {
    return server_slots_[pool_start_[pool] + entry];
  }

 private:
  std::vector<uint32_t> zone_slots_;
  std::vector<size_t> pool_start_;      // per pool: its first entry in server_slots_
  std::vector<uint32_t> server_slots_;  // every pool's entries, one after the other
  uint32_t global_slot_ = stats::kNoSlot;
};

}  // namespace timepool::server
