#include "server/stats_slots.hpp"

namespace timepool::server {

StatsSlots::StatsSlots(const Snapshot& snap, stats::QueryStats& stats) : snap_(snap) {
  const auto& zones = snap.zones();
  std::vector<int64_t> zone_ids(zones.size());
  for (size_t i = 0; i < zones.size(); ++i) zone_ids[i] = zones[i].id;
  zone_slots_ = stats.zone_slots(zone_ids);
  for (size_t i = 0; i < zones.size(); ++i) {
    if (zones[i].kind == ZoneKind::Global) {
      global_slot_ = zone_slots_[i];
      break;
    }
  }
  std::vector<int64_t> server_ids(snap.server_count());
  for (uint32_t i = 0; i < server_ids.size(); ++i) server_ids[i] = snap.server_id(i);
  server_slots_ = stats.server_slots(server_ids);
}

}  // namespace timepool::server
