#include "server/stats_slots.hpp"

namespace timepool::server {

StatsSlots::StatsSlots(const Snapshot& snap, stats::QueryStats& stats, const StatsSlots* previous)
    : snap_(snap) {
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
  server_slots_.assign(snap.server_count(), stats::kNoSlot);
  // Both snapshots list their servers in id order: one merge pass finds the common ones.
  std::vector<int64_t> missing_ids;
  std::vector<uint32_t> missing_at;
  const Snapshot* before = previous ? &previous->snap_ : nullptr;
  const size_t nbefore = before ? before->server_count() : 0;
  size_t j = 0;
  for (uint32_t i = 0; i < server_slots_.size(); ++i) {
    const int64_t id = snap.server_id(i);
    while (j < nbefore && before->server_id(static_cast<uint32_t>(j)) < id) ++j;
    if (j < nbefore && before->server_id(static_cast<uint32_t>(j)) == id) {
      server_slots_[i] = previous->server_slots_[j];
    } else {
      missing_ids.push_back(id);
      missing_at.push_back(i);
    }
  }
  const std::vector<uint32_t> found = stats.server_slots(missing_ids);
  for (size_t k = 0; k < found.size(); ++k) server_slots_[missing_at[k]] = found[k];
}

}  // namespace timepool::server
