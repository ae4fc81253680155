#include "server/tier_draw.hpp"

#include <algorithm>
#include <array>
#include <cassert>

namespace timepool::server {

size_t draw_tiers(Rng& rng, std::span<const Tier> tiers, size_t k, std::span<uint32_t> pools,
                  std::span<uint32_t> entries) {
  constexpr size_t kMaxTiers = 8;
  assert(tiers.size() <= kMaxTiers);
  k = std::min({k, Pool::kMaxPick, pools.size(), entries.size()});
  std::array<uint64_t, kMaxTiers> weight{};
  uint64_t total = 0;
  const size_t nt = std::min(tiers.size(), kMaxTiers);
  for (size_t t = 0; t < nt; ++t) {
    if (tiers[t].pool && !tiers[t].pool->empty()) weight[t] = tiers[t].weight;
    total += weight[t];
  }
  uint32_t taken[Pool::kMaxPick];  // snapshot server indexes already in the answer
  size_t n = 0;
  while (n < k && total > 0) {
    uint64_t u = rng.below(total);
    size_t t = 0;
    while (u >= weight[t]) u -= weight[t++];
    const Pool& pool = *tiers[t].pool;
    const uint32_t e = pool.pick_one(rng, std::span<const uint32_t>(taken, n));
    if (e == pool.size()) {  // every server of this tier is in the answer already
      total -= weight[t];
      weight[t] = 0;
      continue;
    }
    pools[n] = tiers[t].pool_index;
    entries[n] = e;
    taken[n++] = pool.server(e);
  }
  return n;
}

}  // namespace timepool::server
