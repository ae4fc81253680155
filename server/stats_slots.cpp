#include "server/stats_slots.hpp"

#include <unordered_map>

namespace timepool::server {

StatsSlots::StatsSlots(const Snapshot& snap, stats::QueryStats& stats) {
  const auto& zones = snap.zones();
  zone_slots_.resize(zones.size(), stats::kNoSlot);
  for (size_t i = 0; i < zones.size(); ++i) {
    zone_slots_[i] = stats.zone_slot(static_cast<int32_t>(zones[i].id));
    if (zones[i].kind == ZoneKind::Global && global_slot_ == stats::kNoSlot) {
      global_slot_ = zone_slots_[i];
    }
  }
  // A server appears in several pools (its country, continent, the global zone and their
  // quarters): ask QueryStats once per server.
  std::unordered_map<int64_t, uint32_t> by_server;
  by_server.reserve(snap.server_count());
  pool_start_.resize(snap.pool_count());
  size_t total = 0;
  for (uint32_t p = 0; p < snap.pool_count(); ++p) {
    pool_start_[p] = total;
    total += snap.pool(p).size();
  }
  server_slots_.resize(total);
  for (uint32_t p = 0; p < snap.pool_count(); ++p) {
    const Pool& pool = snap.pool(p);
    uint32_t* out = server_slots_.data() + pool_start_[p];
    for (size_t e = 0; e < pool.size(); ++e) {
      const int64_t id = pool.server_id(e);
      auto [it, fresh] = by_server.try_emplace(id, stats::kNoSlot);
      if (fresh) it->second = stats.server_slot(id);
      out[e] = it->second;
    }
  }
}

}  // namespace timepool::server
