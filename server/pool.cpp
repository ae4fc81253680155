#include "server/pool.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace timepool::server {

void Pool::add(std::span<const uint8_t> addr, uint64_t weight, int64_t server_id) {
  assert(addr.size() == addr_len_ && weight > 0);
  addrs_.insert(addrs_.end(), addr.begin(), addr.end());
  cum_.push_back(total() + weight);
  ids_.push_back(server_id);
}

size_t Pool::pick(Rng& rng, size_t k, std::span<uint32_t> out) const {
  const size_t n = cum_.size();
  k = std::min({k, n, kMaxPick, out.size()});
  if (k == n) {
    // Everything goes out; only the order is random (Fisher-Yates).
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint32_t>(i);
    for (size_t i = n; i > 1; --i) std::swap(out[i - 1], out[rng.below(i)]);
    return n;
  }
  // taken[] is kept sorted by index: mapping a point of the reduced line [0, remaining) back to
  // the full line means stepping over each taken interval that starts at or before it.
  uint32_t taken[kMaxPick];
  size_t ntaken = 0;
  uint64_t remaining = total();
  for (size_t p = 0; p < k; ++p) {
    uint64_t u = rng.below(remaining);
    for (size_t t = 0; t < ntaken; ++t) {
      const uint32_t idx = taken[t];
      const uint64_t start = idx ? cum_[idx - 1] : 0;
      if (u >= start) u += weight(idx); else break;
    }
    const auto it = std::upper_bound(cum_.begin(), cum_.end(), u);
    const auto idx = static_cast<uint32_t>(it - cum_.begin());
    out[p] = idx;
    remaining -= weight(idx);
    size_t pos = ntaken++;
    while (pos > 0 && taken[pos - 1] > idx) {
      taken[pos] = taken[pos - 1];
      --pos;
    }
    taken[pos] = idx;
  }
  // Sequential weighted picks come out heavy-first more often than not; clients use the first
  // address most, so shuffle to spread that too.
  for (size_t i = k; i > 1; --i) std::swap(out[i - 1], out[rng.below(i)]);
  return k;
}

}  // namespace timepool::server
