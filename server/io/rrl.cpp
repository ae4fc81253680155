#include "server/io/rrl.hpp"

#include <algorithm>

#include "server/dns_wire.hpp"

namespace timepool::server::io {

namespace {

// FNV-1a, 64 bits: fast and good enough to spread keys over the table (the key holds no
// secret an attacker could use to aim at one bucket other than its own block's).
struct Hash {
  uint64_t h = 1469598103934665603ull;
  void add(uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  }
  void add(std::span<const uint8_t> s) {
    for (uint8_t b : s) add(b);
  }
};

// The end of the (uncompressed) name at `pos`, or 0 if it runs past the message.
size_t name_end(std::span<const uint8_t> m, size_t pos) {
  while (pos < m.size()) {
    const uint8_t l = m[pos];
    if (l == 0) return pos + 1;
    if (l & 0xC0) return 0;
    pos += 1u + l;
  }
  return 0;
}

void add_lower(Hash& h, std::span<const uint8_t> name) {
  for (uint8_t b : name) h.add(ascii_lower(b));
}

// Packed bucket: tag (24 bits) | second (16 bits) | count (24 bits).
constexpr uint64_t kCountMask = (1u << 24) - 1;

}  // namespace

Rrl::Rrl(const RrlConfig& cfg) : cfg_(cfg), buckets_(std::max<size_t>(cfg.table_size, 1)) {}

Rrl::Verdict Rrl::check(const address::Address& client, std::span<const uint8_t> reply,
                        uint32_t now_s, uint32_t& slip_count) {
  if (cfg_.rate == 0 || reply.size() < kHeaderSize) return Verdict::kPass;
  Hash h;
  // The client's block.
  const bool v4 = client.is_v4();
  const int bits = v4 ? cfg_.v4_prefix : cfg_.v6_prefix;
  h.add(v4 ? 4 : 6);
  const auto& b = client.bytes();
  for (int i = 0; i < bits / 8; ++i) h.add(b[static_cast<size_t>(i)]);
  if (bits % 8) h.add(static_cast<uint8_t>(b[static_cast<size_t>(bits / 8)] & (0xFF << (8 - bits % 8))));
  // The answer.
  const uint8_t rc = reply[hdr::kFlags2] & flags::kRcodeMask;
  const uint16_t qd = get16(reply, hdr::kQdcount);
  const uint16_t an = get16(reply, hdr::kAncount);
  const size_t qend = qd == 1 ? name_end(reply, kHeaderSize) : 0;
  if (qend == 0 || qend + 4 > reply.size() || (rc != rcode::kNoError && rc != rcode::kNxDomain)) {
    h.add(3);  // an error: one bucket per block
    h.add(rc);
  } else if (rc == rcode::kNoError && an > 0) {
    h.add(0);  // an answer: its name and type
    add_lower(h, reply.subspan(kHeaderSize, qend - kHeaderSize));
    h.add(reply.subspan(qend, 2));
  } else {
    // NXDOMAIN or NODATA: the zone, i.e. the owner of the authority SOA, which answer()
    // writes as a pointer into the question name.
    h.add(rc == rcode::kNxDomain ? 2 : 1);
    size_t zone = kHeaderSize;
    const size_t at = qend + 4;
    if (at + 2 <= reply.size() && (reply[at] & 0xC0) == 0xC0) {
      const size_t off = static_cast<size_t>(((reply[at] & 0x3F) << 8) | reply[at + 1]);
      if (off >= kHeaderSize && off < qend) zone = off;
    }
    add_lower(h, reply.subspan(zone, qend - zone));
  }
  auto& bucket = buckets_[h.h % buckets_.size()];
  const uint64_t tag = (h.h >> 40) & 0xFFFFFF;
  const uint64_t sec = now_s & 0xFFFF;
  uint64_t old = bucket.load(std::memory_order_relaxed);
  uint64_t count = 0;
  while (true) {
    const bool same = (old >> 40) == tag && ((old >> 24) & 0xFFFF) == sec;
    count = same ? std::min<uint64_t>((old & kCountMask) + 1, kCountMask) : 1;
    const uint64_t next = (tag << 40) | (sec << 24) | count;
    if (next == old ||
        bucket.compare_exchange_weak(old, next, std::memory_order_relaxed)) {
      break;
    }
  }
  if (count <= cfg_.rate) return Verdict::kPass;
  if (cfg_.slip == 0) return Verdict::kDrop;
  return (++slip_count % cfg_.slip == 0) ? Verdict::kSlip : Verdict::kDrop;
}

size_t Rrl::truncate(std::span<uint8_t> reply) {
  if (reply.size() < kHeaderSize) return reply.size();
  size_t end = kHeaderSize;
  if (get16(reply, hdr::kQdcount) == 1) {
    const size_t ne = name_end(reply, kHeaderSize);
    if (ne != 0 && ne + 4 <= reply.size()) end = ne + 4;
  }
  reply[hdr::kFlags1] |= flags::kTC;
  for (size_t off : {size_t{hdr::kAncount}, size_t{hdr::kNscount}, size_t{hdr::kArcount}}) {
    reply[off] = reply[off + 1] = 0;
  }
  if (end == kHeaderSize) reply[hdr::kQdcount] = reply[hdr::kQdcount + 1] = 0;
  return end;
}

}  // namespace timepool::server::io
