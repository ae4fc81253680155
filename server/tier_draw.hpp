// One answer's records drawn from several tiers (a client's country, continent and global
// zone, server/balancer.hpp): each record first picks a tier with probability proportional to
// the tier's weight, then a server in the tier's pool proportional to netspeed, skipping
// servers already in the answer (the continent's pool holds the country's servers too). A
// tier with nothing left drops out and the others share its weight. So the first record,
// the one an SNTP client uses, follows the mixture exactly and netspeed within each tier.
//
// Pure; reentrant; `rng` belongs to the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "server/pool.hpp"
#include "server/rng.hpp"

namespace timepool::server {

struct Tier {
  const Pool* pool = nullptr;  // nullptr or empty: the tier gives nothing
  uint32_t pool_index = 0;     // Snapshot::pool() index of `pool`, copied to the picks
  uint64_t weight = 0;
};

// Writes at most k (<= Pool::kMaxPick) records as (pool index, entry) pairs in draw order and
// returns how many: fewer than k only when the tiers with weight hold fewer distinct servers.
size_t draw_tiers(Rng& rng, std::span<const Tier> tiers, size_t k, std::span<uint32_t> pools,
                  std::span<uint32_t> entries);

}  // namespace timepool::server
