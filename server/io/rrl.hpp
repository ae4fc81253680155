// Response rate limiting for UDP, as Knot and NSD do it: responses per second are counted per
// client network block (IPv4 /24, IPv6 /56 by default) and per answer, and beyond the rate
// the response is dropped, except every `slip`-th one, which goes out truncated (TC=1, no
// records) so a real resolver behind a spoofed flood retries over TCP and is still served
// (TCP needs a handshake and cannot be spoofed, so TCP is never limited).
//
// "Per answer" is what a reflection attack amplifies: a positive answer counts under its name
// and type; NXDOMAIN and NODATA under the zone that says so (the owner of the SOA in the
// authority section), so random names do not spread a flood over many buckets; every other
// error (REFUSED, FORMERR, ...) under one bucket per client block.
//
// The table is a fixed array of buckets, each one 64-bit word (tag, second, count) updated
// with compare-and-swap, shared by every UDP worker (SO_REUSEPORT may send one client's
// packets to several workers). Two keys that share a bucket reset each other; that can only
// let responses through, never limit a client that is under the rate.
//
// Thread safety: check() may be called from any number of threads; truncate() is pure.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/address.hpp"

namespace timepool::server::io {

struct RrlConfig {
  uint32_t rate = 200;      // responses per second per block and answer; 0: off
  uint32_t slip = 2;        // every slip-th limited response goes out truncated; 0: none
  int v4_prefix = 24;
  int v6_prefix = 56;
  size_t table_size = 65536;  // buckets (8 bytes each)
};

class Rrl {
 public:
  enum class Verdict { kPass, kDrop, kSlip };

  explicit Rrl(const RrlConfig& cfg);

  // `reply` is the response answer() wrote for `client`; `now_s` a monotonic count of
  // seconds; `slip_count` belongs to the calling thread (it spaces the slipped responses).
  Verdict check(const address::Address& client, std::span<const uint8_t> reply, uint32_t now_s,
                uint32_t& slip_count);

  // Cuts `reply` down to its header and question with TC set and every count but the
  // question's zero; returns the new length (the header alone when there is no question).
  static size_t truncate(std::span<uint8_t> reply);

  const RrlConfig& config() const { return cfg_; }

 private:
  RrlConfig cfg_;
  std::vector<std::atomic<uint64_t>> buckets_;
};

}  // namespace timepool::server::io
