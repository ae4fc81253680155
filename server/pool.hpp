// A weighted list of server addresses of one family, and the weighted draw without replacement
// that every A/AAAA answer makes from it.
//
// The draw is exact: each pick is proportional to the weight among the servers not yet picked
// (successive sampling). Each pick first tries Walker's alias method (O(1): one random number,
// two loads), rejecting a server already taken; after a few rejections in a row (one server
// holds most of the weight) it switches to an exact O(log n + k) draw over the prefix sums
// with the random point mapped past the intervals already taken. Both give the same
// distribution, so the switch does not bias anything; it only bounds the time. The records
// keep the draw order, so the first one (the only one an SNTP client uses) follows weight.
// Thread safety: immutable after build; pick() may be called from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "server/rng.hpp"

namespace timepool::server {

class Pool {
 public:
  // addr_len is 4 (IPv4) or 16 (IPv6).
  explicit Pool(uint8_t addr_len = 4) : addr_len_(addr_len) {}

  // weight > 0; `server` is the snapshot's dense index of the server (Snapshot::server_id).
  // Then seal() once before the first pick().
  void add(std::span<const uint8_t> addr, uint64_t weight, uint32_t server);
  // Room for n entries (optional; the snapshot build knows each pool's size).
  void reserve(size_t n);
  // Builds the alias table (Vose's method, O(n)).
  void seal();

  size_t size() const { return cum_.size(); }
  bool empty() const { return cum_.empty(); }
  uint8_t addr_len() const { return addr_len_; }
  uint64_t total() const { return cum_.empty() ? 0 : cum_.back(); }
  std::span<const uint8_t> addr(size_t i) const {
    return {addrs_.data() + i * addr_len_, addr_len_};
  }
  uint64_t weight(size_t i) const { return cum_[i] - (i ? cum_[i - 1] : 0); }
  uint32_t server(size_t i) const { return servers_[i]; }

  // Writes min(k, size()) distinct indexes into out (out.size() >= k) and returns how many.
  // They are in draw order: out[0] is drawn with probability weight / total(), each next one
  // proportional to weight among those left, also when k >= size() (then only the order is
  // random, and it is weighted too). k <= kMaxPick.
  static constexpr size_t kMaxPick = 64;
  size_t pick(Rng& rng, size_t k, std::span<uint32_t> out) const;

  // One draw proportional to weight among the entries whose server (server(i)) is not in
  // `taken` (snapshot server indexes, any order, at most kMaxPick of them): the step of a draw
  // that spans several pools holding the same servers (server/tier_draw.hpp). Returns the entry
  // index, or size() when every entry is taken.
  uint32_t pick_one(Rng& rng, std::span<const uint32_t> taken) const;

 private:
  uint8_t addr_len_;
  std::vector<uint8_t> addrs_;
  std::vector<uint64_t> cum_;  // inclusive prefix sums of the weights
  std::vector<uint32_t> servers_;
  // Alias table: slot i keeps i when the low 32 random bits are below threshold_[i], else
  // gives alias_[i].
  std::vector<uint32_t> threshold_;
  std::vector<uint32_t> alias_;
  bool ordered_ = true;  // servers_ ascending (the snapshot adds them so): binary search works

  uint32_t alias_pick(Rng& rng) const;

  uint32_t exact_pick(Rng& rng, const uint32_t* taken_sorted, size_t ntaken, uint64_t remaining) const;
};

}  // namespace timepool::server
