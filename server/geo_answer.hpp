// Geo-aware answers: which zone's servers answer a client, per snapshot.
//
// The pool rule itself (country -> continent -> global with a minimum number of servers) lives
// in server/zone_fallback; the client's location (EDNS Client Subnet, else the resolver
// address) in server/ecs. GeoView joins them to one immutable snapshot: it maps every zone to
// the five nodes it publishes (bare, 0-3) so a routed answer draws from the chosen zone's node
// with the same number, and the numbered labels keep their disjoint quarters at every level.
// It holds one GeoSelector per address family (IPv4 counts for A, IPv6 counts for AAAA).
//
// Threads: a GeoView is built by the thread that publishes a snapshot (server/published.hpp)
// and is immutable after construction; route()/locate() may run on any number of workers.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/ecs.hpp"
#include "core/geo.hpp"
#include "server/mixtures.hpp"
#include "server/zone_fallback.hpp"
#include "server/snapshot.hpp"

namespace timepool::server {

struct Client;

struct GeoSettings {
  bool enabled = true;
  std::string mmdb_path;         // "" : the tor-geoipdb range files
  uint32_t min_servers = kDefaultMinServers;
  bool debug_any_client = false;  // `_country.<apex>` TXT for every client, not only loopback
};

// Where an A/AAAA answer draws from: one node, or up to three (the client's country, its
// continent, the global zone) with the share of records each gives (server/tier_draw.hpp).
struct Route {
  std::array<const Node*, 3> nodes{};
  std::array<uint64_t, 3> weights{};
  uint8_t count = 0;
};

class GeoView {
 public:
  // `db` may be null (the database could not be loaded): nobody is located, global names then
  // answer from the global zone and explicit names keep their own fallback. `mixtures` (may be
  // null: none published) are the balancer's; an origin with a mixture draws from its tiers
  // (a country or continent tier only while it has min_servers servers of the family), one
  // without answers by the plain rule.
  GeoView(std::shared_ptr<const Snapshot> snap, std::shared_ptr<const geo::GeoDb> db,
          const GeoSettings& settings, std::shared_ptr<const Mixtures> mixtures = nullptr);

  const Snapshot* snapshot() const { return snap_.get(); }
  bool debug_allowed(const Client& c) const;

  // Whether answers at this node depend on the client's location (global and vendor zones).
  bool needs_location(const Node& n) const;
  ecs::ClientLocation locate(const Client& c, std::optional<std::span<const uint8_t>> ecs) const;

  // The nodes whose pools answer an A (v6 false) or AAAA query at `queried`, each with the
  // node of the same number (bare or 0-3) so numbered labels draw from quarters; `queried`
  // itself alone when nothing changes. `loc` is only read when needs_location(queried).
  Route route(const Node& queried, bool v6, const ecs::ClientLocation& loc) const;

  // The zone (index into Snapshot::zones()) a query at `queried` counts for as the balancer's
  // demand: for geo-routed names (needs_location) the client's country zone, or the global
  // zone when the client is not located or its country has no zone; for explicit country and
  // continent names the zone itself; -1 for any other name or without a zone tree.
  int32_t demand_zone(const Node& queried, const ecs::ClientLocation& loc) const;

  // The `_country.<apex>` text for an A query at the apex from this client.
  std::string debug(const ecs::ClientLocation& loc, bool v6) const;

 private:
  struct ZoneNodes {
    std::array<const Node*, 5> nodes{};  // bare, 0, 1, 2, 3
    std::array<int32_t, 2> explicit_target{-1, -1};  // zone index for v4, v6; -1: itself
  };
  // The tiers of one origin as zones_ indexes; count 0: no mixture, the plain rule answers.
  struct Mix {
    std::array<int32_t, 3> zone{-1, -1, -1};
    std::array<uint64_t, 3> weight{};
    std::array<double, 3> share{};
    uint8_t count = 0;
  };
  const ZoneChoice& choice(bool v6, const ecs::ClientLocation& loc) const;
  const Node* node_of(int32_t zone_index, const Node& queried) const;
  Mix make_mix(bool v6, int64_t country, int64_t continent) const;
  void build_mixes();
  Route tiers(const Mix& m, const Node& queried) const;
  const Mix& client_mix(bool v6, const ecs::ClientLocation& loc) const;

  std::shared_ptr<const Snapshot> snap_;
  std::shared_ptr<const geo::GeoDb> db_;
  GeoSettings settings_;
  std::optional<ZoneTree> tree_;
  std::optional<GeoSelector> v4_, v6_;
  std::vector<ZoneNodes> zones_;                  // by Snapshot::zones() index
  std::unordered_map<int64_t, int32_t> index_of_;  // zone id -> zones_ index
  std::shared_ptr<const Mixtures> mixtures_;
  std::array<std::vector<Mix>, 2> by_code_;  // per family (v4, v6): 26*26 codes, then unknown
  std::array<std::vector<Mix>, 2> by_zone_;  // per family, by zones_ index (explicit names)
  std::vector<int32_t> demand_by_code_;      // 26*26 codes, then unknown: the demand zone
};

// Loads the configured geo database (throws geo::GeoError) and logs what was loaded.
std::shared_ptr<const geo::GeoDb> load_geo_db(const std::string& mmdb_path);

}  // namespace timepool::server
