// A weighted list of server addresses of one family, and the weighted draw without replacement
// that every A/AAAA answer makes from it.
//
// The draw is exact (each pick is proportional to the weight among the servers not yet picked)
// and costs O(k log n + k^2) for k picks from n servers: one binary search over the prefix sums
// per pick, with the random point mapped past the intervals already taken. No rejection loop,
// so a single very heavy server cannot make it slow.
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

  // weight > 0.
  void add(std::span<const uint8_t> addr, uint64_t weight, int64_t server_id);

  size_t size() const { return cum_.size(); }
  bool empty() const { return cum_.empty(); }
  uint8_t addr_len() const { return addr_len_; }
  uint64_t total() const { return cum_.empty() ? 0 : cum_.back(); }
  std::span<const uint8_t> addr(size_t i) const {
    return {addrs_.data() + i * addr_len_, addr_len_};
  }
  uint64_t weight(size_t i) const { return cum_[i] - (i ? cum_[i - 1] : 0); }
  int64_t server_id(size_t i) const { return ids_[i]; }

  // Writes min(k, size()) distinct indexes into out (out.size() >= k) in random order and
  // returns how many. k <= kMaxPick.
  static constexpr size_t kMaxPick = 64;
  size_t pick(Rng& rng, size_t k, std::span<uint32_t> out) const;

 private:
  uint8_t addr_len_;
  std::vector<uint8_t> addrs_;
  std::vector<uint64_t> cum_;  // inclusive prefix sums of the weights
  std::vector<int64_t> ids_;
};

}  // namespace timepool::server
