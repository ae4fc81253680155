// Writes a DNS message into a caller's buffer up to a size limit, with name compression.
//
// After an overflow every write is a no-op and ok() turns false, so a whole record either fits
// or the caller rewinds and truncates (RFC 2181 section 9). Name compression follows RFC 1035
// section 4.1.4 as ldns does it: the longest suffix already in the message becomes a pointer,
// and each label written becomes a target for later names (targets only below offset 0x4000,
// the most a pointer can reach).
//
// Not thread-safe: one writer per message. The buffer and every name given to name() or
// remember() must outlive the writer (it keeps pointers to them as compression targets).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "server/dns_wire.hpp"

namespace timepool::server {

class WireWriter {
 public:
  WireWriter(std::span<uint8_t> out, size_t limit) : out_(out), limit_(std::min(limit, out.size())) {}
  size_t size() const { return len_; }
  bool ok() const { return ok_; }
  void set_limit(size_t limit) { limit_ = std::min(limit, out_.size()); }
  // Back to `len` bytes, forgetting compression targets written after mark_base().
  void rewind(size_t len) {
    len_ = len;
    ok_ = true;
    ncomp_ = std::min(ncomp_, base_comp_);
  }
  uint8_t* data() { return out_.data(); }

  bool room(size_t n) {
    if (!ok_ || len_ + n > limit_) ok_ = false;
    return ok_;
  }
  void u8(uint8_t v) {
    if (room(1)) out_[len_++] = v;
  }
  void u16(uint16_t v) {
    if (room(2)) {
      out_[len_++] = static_cast<uint8_t>(v >> 8);
      out_[len_++] = static_cast<uint8_t>(v);
    }
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void bytes(const uint8_t* p, size_t n) {
    if (room(n)) {
      std::memcpy(out_.data() + len_, p, n);
      len_ += n;
    }
  }
  void bytes(std::span<const uint8_t> b) { bytes(b.data(), b.size()); }
  // Overwrites two bytes already written (a count or an RDLENGTH).
  void put16(size_t off, uint16_t v) {
    out_[off] = static_cast<uint8_t>(v >> 8);
    out_[off + 1] = static_cast<uint8_t>(v);
  }
  // Starts an RDATA: writes a zero RDLENGTH and returns where it is; end_rdata() fills it in.
  size_t begin_rdata() {
    const size_t at = len_;
    u16(0);
    return at;
  }
  void end_rdata(size_t at) {
    if (ok_) put16(at, static_cast<uint16_t>(len_ - at - 2));
  }

  // Makes each suffix of `name` (lower-case wire format) written at `offset` a target.
  void remember(const uint8_t* name, size_t name_len, size_t offset) {
    remember_prefix(name, name_len, name_len, offset);
  }
  // Targets remembered so far survive rewind().
  void mark_base() { base_comp_ = ncomp_; }
  // Writes `name` (lower-case wire format), compressed against the targets.
  void name(const uint8_t* name, size_t name_len);
  void name(std::span<const uint8_t> n) { name(n.data(), n.size()); }

 private:
  // Targets for the labels of `name` that start before `upto`.
  void remember_prefix(const uint8_t* name, size_t name_len, size_t upto, size_t offset) {
    for (size_t i = 0; i < upto && name[i] != 0 && ncomp_ < kComp; i += name[i] + 1u) {
      if (offset + i > kMaxPointerTarget) break;
      comp_[ncomp_++] = {name + i, name_len - i, static_cast<uint16_t>(offset + i)};
    }
  }
  struct Target {
    const uint8_t* name;
    size_t len;
    uint16_t offset;
  };
  static constexpr size_t kComp = 48;
  std::span<uint8_t> out_;
  size_t limit_;
  size_t len_ = 0;
  bool ok_ = true;
  Target comp_[kComp];
  size_t ncomp_ = 0;
  size_t base_comp_ = 0;
};

}  // namespace timepool::server
