#include "server/geo_answer.hpp"

#include <cstring>

#include "core/log.hpp"
#include "server/answer.hpp"

namespace timepool::server {

namespace {

bool is_loopback(const Client& c) {
  const auto& b = c.addr.bytes();
  if (c.addr.is_v4()) return b[0] == 127;
  static constexpr uint8_t kOne[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b.data(), kOne, 16) == 0) return true;
  return std::memcmp(b.data(), kMapped, 12) == 0 && b[12] == 127;
}

}  // namespace

GeoView::GeoView(std::shared_ptr<const Snapshot> snap, std::shared_ptr<const geo::GeoDb> db,
                 const GeoSettings& settings)
    : snap_(std::move(snap)), db_(std::move(db)), settings_(settings) {
  const auto& infos = snap_->zones();
  zones_.resize(infos.size());
  std::vector<ZoneRow> rows;
  rows.reserve(infos.size());
  ServerCounts c4, c6;
  for (size_t i = 0; i < infos.size(); ++i) {
    const ZoneInfo& z = infos[i];
    index_of_.emplace(z.id, static_cast<int32_t>(i));
    rows.push_back(z);
    if (z.kind == ZoneKind::Global) rows.back().name = "@";
    if (z.servers_v4) c4.emplace(z.id, z.servers_v4);
    if (z.servers_v6) c6.emplace(z.id, z.servers_v6);
    // The names this zone publishes (the same naming as Snapshot::build).
    const std::string suffix = z.kind == ZoneKind::Global ? std::string() : z.name;
    auto& nodes = zones_[i].nodes;
    nodes[0] = snap_->find(suffix);
    for (int q = 0; q < 4; ++q) {
      const std::string name = std::to_string(q) + (suffix.empty() ? "" : "." + suffix);
      nodes[static_cast<size_t>(1 + q)] = snap_->find(name);
    }
  }
  try {
    tree_.emplace(std::move(rows));
    v4_.emplace(*tree_, c4, settings_.min_servers);
    v6_.emplace(*tree_, c6, settings_.min_servers);
  } catch (const std::exception& e) {
    // A snapshot without the zone tree (an old disk copy): answers as without geo.
    log::get("dns")->warn("geo: no zone tree for snapshot {} ({}); answering without geo",
                          snap_->serial(), e.what());
    tree_.reset();
    v4_.reset();
    v6_.reset();
    return;
  }
  for (size_t i = 0; i < infos.size(); ++i) {
    if (infos[i].kind != ZoneKind::Country && infos[i].kind != ZoneKind::Continent) continue;
    for (int fam = 0; fam < 2; ++fam) {
      const auto* ch = (fam ? *v6_ : *v4_).for_explicit(infos[i].id);
      if (!ch) continue;
      auto it = index_of_.find(ch->zone_id);
      if (it != index_of_.end() && it->second != static_cast<int32_t>(i)) {
        zones_[i].explicit_target[static_cast<size_t>(fam)] = it->second;
      }
    }
  }
}

bool GeoView::debug_allowed(const Client& c) const {
  return settings_.debug_any_client || is_loopback(c);
}

bool GeoView::needs_location(const Node& n) const {
  if (!tree_ || n.zone < 0) return false;
  const ZoneKind k = snap_->zones()[static_cast<size_t>(n.zone)].kind;
  return k == ZoneKind::Global || k == ZoneKind::Vendor;
}

ecs::ClientLocation GeoView::locate(const Client& c,
                                    std::optional<std::span<const uint8_t>> ecs) const {
  return ecs::locate(db_.get(), c.addr, ecs);
}

const ZoneChoice& GeoView::choice(bool v6, const ecs::ClientLocation& loc) const {
  return (v6 ? *v6_ : *v4_).for_client(loc.country);
}

const Node* GeoView::node_of(int32_t zone_index, const Node& queried) const {
  const auto& nodes = zones_[static_cast<size_t>(zone_index)].nodes;
  const Node* n = nodes[static_cast<size_t>(queried.number + 1)];
  return n ? n : &queried;
}

const Node* GeoView::route(const Node& queried, bool v6, const ecs::ClientLocation& loc) const {
  if (!tree_ || queried.zone < 0 || queried.number < -1 || queried.number > 3) return &queried;
  const auto zi = static_cast<size_t>(queried.zone);
  const ZoneKind k = snap_->zones()[zi].kind;
  if (k == ZoneKind::Global || k == ZoneKind::Vendor) {
    auto it = index_of_.find(choice(v6, loc).zone_id);
    return it == index_of_.end() ? &queried : node_of(it->second, queried);
  }
  const int32_t target = zones_[zi].explicit_target[v6 ? 1 : 0];
  return target < 0 ? &queried : node_of(target, queried);
}

std::string GeoView::debug(const ecs::ClientLocation& loc, bool v6) const {
  if (!tree_) return ecs::debug_text(loc, "@", "no zone tree in this snapshot: geo off");
  const auto& ch = choice(v6, loc);
  return ecs::debug_text(loc, ch.zone_name, ch.reason);
}

std::shared_ptr<const geo::GeoDb> load_geo_db(const std::string& mmdb_path) {
  geo::LoadReport report;
  std::shared_ptr<const geo::GeoDb> db = geo::open_geo_db(mmdb_path, &report);
  auto log = log::get("dns");
  if (mmdb_path.empty()) log->info("geo: {} ({})", db->description(), report.summary());
  else log->info("geo: {}", db->description());
  return db;
}

}  // namespace timepool::server
