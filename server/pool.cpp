#include "server/pool.hpp"

#include <algorithm>
#include <cassert>
#include <vector>

namespace timepool::server {

void Pool::reserve(size_t n) {
  addrs_.reserve(n * addr_len_);
  cum_.reserve(n);
  servers_.reserve(n);
}

void Pool::add(std::span<const uint8_t> addr, uint64_t weight, uint32_t server) {
  assert(addr.size() == addr_len_ && weight > 0);
  addrs_.insert(addrs_.end(), addr.begin(), addr.end());
  cum_.push_back(total() + weight);
  ordered_ &= servers_.empty() || servers_.back() < server;
  servers_.push_back(server);
}

void Pool::seal() {
  const size_t n = cum_.size();
  threshold_.assign(n, 0xffffffffu);
  alias_.resize(n);
  if (n == 0) return;
  // Working space kept by the building thread from one pool to the next: a snapshot seals a
  // few thousand pools per rebuild (bench/dns --scale).
  thread_local std::vector<double> scaled;
  thread_local std::vector<uint32_t> work;
  scaled.resize(n);
  work.resize(n);
  // Vose: scale each weight to n * w / total; pair each small slot with a large one. Both
  // stacks share `work`: the small one grows up from the front, the large one down from the
  // back (an index is on at most one of them).
  const double total = static_cast<double>(this->total());
  size_t small = 0, large = 0;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = static_cast<double>(weight(i)) * static_cast<double>(n) / total;
    alias_[i] = static_cast<uint32_t>(i);
    if (scaled[i] < 1.0) work[small++] = static_cast<uint32_t>(i);
    else work[n - 1 - large++] = static_cast<uint32_t>(i);
  }
  while (small > 0 && large > 0) {
    const uint32_t s = work[--small];
    const uint32_t l = work[n - large];
    threshold_[s] = static_cast<uint32_t>(std::min(scaled[s] * 4294967296.0, 4294967295.0));
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      --large;
      work[small++] = l;
    }
  }
  // Left-overs are 1.0 up to rounding: they keep their own slot.
}

uint32_t Pool::exact_pick(Rng& rng, const uint32_t* taken, size_t ntaken, uint64_t remaining) const {
  // A point of the reduced line [0, remaining) maps back to the full line by stepping over each
  // taken interval that starts at or before it (taken is sorted by index).
  uint64_t u = rng.below(remaining);
  for (size_t t = 0; t < ntaken; ++t) {
    const uint32_t idx = taken[t];
    const uint64_t start = idx ? cum_[idx - 1] : 0;
    if (u >= start) u += weight(idx); else break;
  }
  return static_cast<uint32_t>(std::upper_bound(cum_.begin(), cum_.end(), u) - cum_.begin());
}

uint32_t Pool::alias_pick(Rng& rng) const {
  const uint64_t r = rng();
  const auto slot = static_cast<uint32_t>(((r >> 32) * cum_.size()) >> 32);
  return static_cast<uint32_t>(r) < threshold_[slot] ? slot : alias_[slot];
}

uint32_t Pool::pick_one(Rng& rng, std::span<const uint32_t> taken) const {
  const size_t n = cum_.size();
  assert(threshold_.size() == n && taken.size() <= kMaxPick);
  // The entries of this pool that are taken, sorted by entry index (for exact_pick).
  uint32_t idx[kMaxPick];
  size_t ni = 0;
  uint64_t remaining = total();
  for (uint32_t s : taken) {
    size_t e = n;
    if (ordered_) {
      auto it = std::lower_bound(servers_.begin(), servers_.end(), s);
      if (it != servers_.end() && *it == s) e = static_cast<size_t>(it - servers_.begin());
    } else {
      e = static_cast<size_t>(std::find(servers_.begin(), servers_.end(), s) - servers_.begin());
    }
    if (e == n || std::find(idx, idx + ni, static_cast<uint32_t>(e)) != idx + ni) continue;
    idx[ni++] = static_cast<uint32_t>(e);
    remaining -= weight(e);
  }
  if (remaining == 0) return static_cast<uint32_t>(n);
  if (ni == 0) return alias_pick(rng);
  std::sort(idx, idx + ni);
  // As in pick(): the alias table with rejection, then the exact draw if one server holds
  // most of the weight and keeps being rejected. Same distribution either way.
  constexpr int kTries = 8;
  for (int t = 0; t < kTries; ++t) {
    const uint32_t e = alias_pick(rng);
    if (!std::binary_search(idx, idx + ni, e)) return e;
  }
  return exact_pick(rng, idx, ni, remaining);
}

size_t Pool::pick(Rng& rng, size_t k, std::span<uint32_t> out) const {
  const size_t n = cum_.size();
  k = std::min({k, n, kMaxPick, out.size()});
  assert(threshold_.size() == n);
  // Every record is a weighted draw among the servers not drawn yet, written in draw order: the
  // first record is proportional to weight (SNTP clients use it alone), even when the answer
  // holds every server of the pool. No shuffle afterwards: that would make the first uniform.
  constexpr int kTries = 8;
  uint32_t taken[kMaxPick];  // sorted, for exact_pick
  size_t ntaken = 0;
  uint64_t remaining = total();
  for (size_t p = 0; p < k; ++p) {
    uint32_t idx = 0;
    if (p + 1 == n) {
      // One server left: the first gap in the sorted taken list (or the end).
      while (idx < ntaken && taken[idx] == idx) ++idx;
    } else {
      bool found = false;
      for (int t = 0; t < kTries && !found; ++t) {
        const uint64_t r = rng();
        const auto slot = static_cast<uint32_t>(((r >> 32) * n) >> 32);
        idx = static_cast<uint32_t>(r) < threshold_[slot] ? slot : alias_[slot];
        found = true;
        for (size_t j = 0; j < ntaken; ++j) found &= taken[j] != idx;
      }
      if (!found) idx = exact_pick(rng, taken, ntaken, remaining);
    }
    out[p] = idx;
    remaining -= weight(idx);
    size_t pos = ntaken++;
    while (pos > 0 && taken[pos - 1] > idx) {
      taken[pos] = taken[pos - 1];
      --pos;
    }
    taken[pos] = idx;
  }
  return k;
}

}  // namespace timepool::server
