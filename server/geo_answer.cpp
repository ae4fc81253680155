#include "server/geo_answer.hpp"

#include <cmath>
#include <cstdio>
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

constexpr size_t kCodes = 26 * 26;

size_t code_slot(const std::optional<geo::CountryCode>& cc) {
  if (!cc) return kCodes;
  auto s = cc->str();
  return static_cast<size_t>(s[0] - 'a') * 26 + static_cast<size_t>(s[1] - 'a');
}

Route single(const Node* n) {
  Route r;
  r.nodes[0] = n;
  r.weights[0] = 1;
  r.count = 1;
  return r;
}

}  // namespace

GeoView::GeoView(std::shared_ptr<const Snapshot> snap, std::shared_ptr<const geo::GeoDb> db,
                 const GeoSettings& settings, std::shared_ptr<const Mixtures> mixtures)
    : snap_(std::move(snap)), db_(std::move(db)), settings_(settings),
      mixtures_(std::move(mixtures)) {
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
  // Demand counts for a client's country zone, or the global zone when there is none.
  const auto global = index_of_.find(tree_->global().id);
  const int32_t unknown = global == index_of_.end() ? -1 : global->second;
  demand_by_code_.assign(kCodes + 1, unknown);
  for (size_t i = 0; i < kCodes; ++i) {
    const char text[2] = {static_cast<char>('a' + i / 26), static_cast<char>('a' + i % 26)};
    const auto cc = geo::CountryCode::parse(std::string_view(text, 2));
    const ZoneRow* country = cc ? tree_->country(*cc) : nullptr;
    if (!country) continue;
    const auto it = index_of_.find(tree_->resolve(*country).id);
    if (it != index_of_.end()) demand_by_code_[i] = it->second;
  }
  if (mixtures_ && !mixtures_->empty()) build_mixes();
}

int32_t GeoView::demand_zone(const Node& queried, const ecs::ClientLocation& loc) const {
  if (!tree_ || queried.zone < 0) return -1;
  const ZoneKind k = snap_->zones()[static_cast<size_t>(queried.zone)].kind;
  if (k == ZoneKind::Global || k == ZoneKind::Vendor) return demand_by_code_[code_slot(loc.country)];
  if (k == ZoneKind::Country || k == ZoneKind::Continent) return queried.zone;
  return -1;
}

GeoView::Mix GeoView::make_mix(bool v6, int64_t country, int64_t continent) const {
  Mix m;
  const MixtureRow* row = mixtures_->find(v6, country, continent);
  if (!row) return m;
  const std::array<std::pair<int64_t, double>, 3> want = {
      {{country, row->own}, {continent, row->near}, {tree_->global().id, row->global}}};
  double sum = 0;
  for (size_t t = 0; t < 3; ++t) {
    const auto [id, w] = want[t];
    if (id == 0 || !(w > 0)) continue;
    auto it = index_of_.find(id);
    if (it == index_of_.end()) continue;
    const ZoneInfo& z = snap_->zones()[static_cast<size_t>(it->second)];
    const uint32_t n = v6 ? z.servers_v6 : z.servers_v4;
    // geo_min_servers holds at answer time too: a tier that lost servers since the balancer
    // ran gives its share to the others.
    if (n == 0 || (t < 2 && n < settings_.min_servers)) continue;
    m.zone[m.count] = it->second;
    m.share[m.count] = w;
    sum += w;
    ++m.count;
  }
  for (size_t t = 0; t < m.count; ++t) {
    m.share[t] /= sum;
    // 2^30 steps: far finer than any share a test of a few million answers could resolve.
    m.weight[t] = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(m.share[t] * 1073741824.0)));
  }
  return m;
}

void GeoView::build_mixes() {
  const auto& infos = snap_->zones();
  for (int fam = 0; fam < 2; ++fam) {
    const bool v6 = fam == 1;
    auto& codes = by_code_[static_cast<size_t>(fam)];
    codes.resize(kCodes + 1);
    codes[kCodes] = make_mix(v6, 0, 0);
    for (size_t i = 0; i < kCodes; ++i) {
      const char text[2] = {static_cast<char>('a' + i / 26), static_cast<char>('a' + i % 26)};
      const auto cc = geo::CountryCode::parse(std::string_view(text, 2));
      const ZoneRow* country = cc ? tree_->country(*cc) : nullptr;
      if (!country) {
        codes[i] = codes[kCodes];  // no zone for the code: as a client not located
        continue;
      }
      const ZoneRow* continent = tree_->continent_of(*country);
      codes[i] = make_mix(v6, country->id, continent ? continent->id : 0);
    }
    auto& zones = by_zone_[static_cast<size_t>(fam)];
    zones.resize(infos.size());
    for (size_t i = 0; i < infos.size(); ++i) {
      const ZoneRow* row = tree_->find(infos[i].id);
      if (!row) continue;
      const ZoneRow& z = tree_->resolve(*row);
      if (z.kind == ZoneKind::Country) {
        const ZoneRow* continent = tree_->continent_of(z);
        zones[i] = make_mix(v6, z.id, continent ? continent->id : 0);
      } else if (z.kind == ZoneKind::Continent) {
        zones[i] = make_mix(v6, 0, z.id);
      }
    }
  }
}

Route GeoView::tiers(const Mix& m, const Node& queried) const {
  Route r;
  for (size_t t = 0; t < m.count; ++t) {
    r.nodes[t] = node_of(m.zone[t], queried);
    r.weights[t] = m.weight[t];
  }
  r.count = m.count;
  return r;
}

const GeoView::Mix& GeoView::client_mix(bool v6, const ecs::ClientLocation& loc) const {
  static const Mix kNone;
  const auto& codes = by_code_[v6 ? 1 : 0];
  return codes.empty() ? kNone : codes[code_slot(loc.country)];
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

Route GeoView::route(const Node& queried, bool v6, const ecs::ClientLocation& loc) const {
  if (!tree_ || queried.zone < 0 || queried.number < -1 || queried.number > 3) return single(&queried);
  const auto zi = static_cast<size_t>(queried.zone);
  const ZoneKind k = snap_->zones()[zi].kind;
  if (k == ZoneKind::Global || k == ZoneKind::Vendor) {
    const Mix& m = client_mix(v6, loc);
    if (m.count) return tiers(m, queried);
    auto it = index_of_.find(choice(v6, loc).zone_id);
    return single(it == index_of_.end() ? &queried : node_of(it->second, queried));
  }
  const auto& zones = by_zone_[v6 ? 1 : 0];
  if (!zones.empty() && zones[zi].count) return tiers(zones[zi], queried);
  const int32_t target = zones_[zi].explicit_target[v6 ? 1 : 0];
  return single(target < 0 ? &queried : node_of(target, queried));
}

std::string GeoView::debug(const ecs::ClientLocation& loc, bool v6) const {
  if (!tree_) return ecs::debug_text(loc, "@", "no zone tree in this snapshot: geo off");
  const auto& ch = choice(v6, loc);
  const Mix& m = client_mix(v6, loc);
  if (!m.count) return ecs::debug_text(loc, ch.zone_name, ch.reason);
  // The balancer's mixture replaces the plain rule: name each tier and its share.
  std::string mix = "mixture";
  for (size_t t = 0; t < m.count; ++t) {
    const ZoneInfo& z = snap_->zones()[static_cast<size_t>(m.zone[t])];
    char share[16];
    std::snprintf(share, sizeof share, "%.4f", m.share[t]);
    mix += std::string(t ? ", " : " ") + (z.kind == ZoneKind::Global ? "@" : z.name) + " " + share;
  }
  const ZoneInfo& first = snap_->zones()[static_cast<size_t>(m.zone[0])];
  return ecs::debug_text(loc, first.kind == ZoneKind::Global ? "@" : first.name, mix);
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
