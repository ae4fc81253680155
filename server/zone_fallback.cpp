#include "server/zone_fallback.hpp"

namespace timepool::server {

ZoneTree::ZoneTree(std::vector<ZoneRow> rows) : rows_(std::move(rows)) {
  bool have_global = false;
  for (size_t i = 0; i < rows_.size(); ++i) {
    const auto& r = rows_[i];
    if (!by_id_.emplace(r.id, i).second) {
      throw std::invalid_argument("zones: duplicate id " + std::to_string(r.id));
    }
    if (!by_name_.emplace(r.name, i).second) {
      throw std::invalid_argument("zones: duplicate name " + r.name);
    }
    if (r.kind == ZoneKind::Global) {
      if (have_global) throw std::invalid_argument("zones: more than one global zone");
      have_global = true;
      global_index_ = i;
    }
  }
  if (!have_global) throw std::invalid_argument("zones: no global zone");
  for (const auto& r : rows_) {
    if (r.parent_id && !by_id_.count(*r.parent_id)) {
      throw std::invalid_argument("zones: " + r.name + " has unknown parent " +
                                  std::to_string(*r.parent_id));
    }
    if (r.alias_of && !by_id_.count(*r.alias_of)) {
      throw std::invalid_argument("zones: " + r.name + " is an alias of unknown zone " +
                                  std::to_string(*r.alias_of));
    }
  }
}

ZoneTree load_zone_tree(pg::Connection& conn) {
  auto res = conn.exec("SELECT id, name, kind, parent_id, alias_of FROM zones ORDER BY id");
  std::vector<ZoneRow> rows;
  rows.reserve(static_cast<size_t>(res.rows()));
  for (int i = 0; i < res.rows(); ++i) {
    auto kind = parse_zone_kind(res.get<std::string>(i, "kind"));
    if (!kind) throw std::invalid_argument("zones: unknown kind " + res.get<std::string>(i, "kind"));
    rows.push_back(ZoneRow{res.get<int64_t>(i, "id"), res.get<std::string>(i, "name"), *kind,
                           res.get<std::optional<int64_t>>(i, "parent_id"),
                           res.get<std::optional<int64_t>>(i, "alias_of")});
  }
  return ZoneTree(std::move(rows));
}

const ZoneRow* ZoneTree::find(int64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &rows_[it->second];
}

const ZoneRow* ZoneTree::find_name(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &rows_[it->second];
}

const ZoneRow& ZoneTree::resolve(const ZoneRow& z) const {
  if (z.alias_of) {
    if (const ZoneRow* target = find(*z.alias_of)) return *target;
  }
  return z;
}

const ZoneRow* ZoneTree::country(const geo::CountryCode& cc) const {
  const ZoneRow* z = find_name(cc.str());
  if (!z || z->kind != ZoneKind::Country) return nullptr;
  return &resolve(*z);
}

const ZoneRow* ZoneTree::continent_of(const ZoneRow& country) const {
  if (country.kind != ZoneKind::Country) return nullptr;
  const ZoneRow& c = resolve(country);
  if (!c.parent_id) return nullptr;
  const ZoneRow* p = find(*c.parent_id);
  return p && p->kind == ZoneKind::Continent ? p : nullptr;
}

namespace {

uint64_t count_of(const ServerCounts& counts, int64_t id) {
  auto it = counts.find(id);
  return it == counts.end() ? 0 : it->second;
}

std::string servers(uint64_t n) {
  return std::to_string(n) + (n == 1 ? " server" : " servers");
}

std::string label(const ZoneRow& z) { return z.kind == ZoneKind::Global ? "global" : z.name; }

ZoneChoice make(const ZoneRow& z, std::string reason) {
  return ZoneChoice{z.id, z.name, std::move(reason)};
}

}  // namespace

ZoneChoice choose_geo_zone(const ZoneTree& tree, const std::optional<geo::CountryCode>& client,
                           const ServerCounts& counts, uint64_t min_servers) {
  const ZoneRow& global = tree.global();
  std::string why;
  std::string min = std::to_string(min_servers);
  if (!client) return make(global, "client not located: global");
  const ZoneRow* country = tree.country(*client);
  if (!country) {
    return make(global, "no zone for country " + std::string(client->str()) + ": global");
  }
  uint64_t n = count_of(counts, country->id);
  if (n >= min_servers) {
    return make(*country, "country " + country->name + " has " + servers(n) + " (>= " + min + ")");
  }
  why = "country " + country->name + " has " + servers(n) + " (< " + min + ")";
  if (const ZoneRow* continent = tree.continent_of(*country)) {
    uint64_t c = count_of(counts, continent->id);
    if (c >= min_servers) {
      return make(*continent, why + "; continent " + continent->name + " has " + servers(c) +
                                  " (>= " + min + ")");
    }
    why += "; continent " + continent->name + " has " + servers(c) + " (< " + min + ")";
  } else {
    why += "; no continent";
  }
  return make(global, why + ": global");
}

ZoneChoice choose_explicit_zone(const ZoneTree& tree, int64_t requested_zone,
                                const ServerCounts& counts) {
  const ZoneRow* asked = tree.find(requested_zone);
  if (!asked) throw std::invalid_argument("zones: unknown zone id " + std::to_string(requested_zone));
  const ZoneRow& zone = tree.resolve(*asked);
  std::string prefix =
      &zone == asked ? std::string() : asked->name + " is an alias of " + zone.name + "; ";
  uint64_t n = count_of(counts, zone.id);
  if (n > 0 || (zone.kind != ZoneKind::Country && zone.kind != ZoneKind::Continent)) {
    return make(zone, prefix + "zone " + label(zone) + " asked for, " + servers(n));
  }
  std::string why = prefix + "zone " + zone.name + " asked for, no servers";
  if (zone.kind == ZoneKind::Country) {
    if (const ZoneRow* continent = tree.continent_of(zone)) {
      uint64_t c = count_of(counts, continent->id);
      if (c > 0) return make(*continent, why + "; continent " + continent->name + " has " + servers(c));
      why += "; continent " + continent->name + " has none";
    }
  }
  return make(tree.global(), why + ": global");
}

namespace {
constexpr size_t kCodes = 26 * 26;

size_t code_slot(const geo::CountryCode& cc) {
  auto s = cc.str();
  return static_cast<size_t>(s[0] - 'a') * 26 + static_cast<size_t>(s[1] - 'a');
}
}  // namespace

GeoSelector::GeoSelector(const ZoneTree& tree, const ServerCounts& counts, uint64_t min_servers) {
  by_code_.reserve(kCodes + 1);
  for (size_t i = 0; i < kCodes; ++i) {
    const char text[2] = {static_cast<char>('a' + i / 26), static_cast<char>('a' + i % 26)};
    by_code_.push_back(
        choose_geo_zone(tree, geo::CountryCode::parse(std::string_view(text, 2)), counts, min_servers));
  }
  by_code_.push_back(choose_geo_zone(tree, std::nullopt, counts, min_servers));
  for (const auto& z : tree.rows()) explicit_.emplace(z.id, choose_explicit_zone(tree, z.id, counts));
}

const ZoneChoice& GeoSelector::for_client(const std::optional<geo::CountryCode>& client) const {
  return client ? by_code_[code_slot(*client)] : by_code_.back();
}

const ZoneChoice* GeoSelector::for_explicit(int64_t zone_id) const {
  auto it = explicit_.find(zone_id);
  return it == explicit_.end() ? nullptr : &it->second;
}

}  // namespace timepool::server
