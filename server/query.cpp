#include "server/query.hpp"

#include "server/ecs.hpp"

namespace timepool::server {

namespace {

// Skips one owner name in the additional section. Names there may be compressed; a pointer
// ends the name (we never follow it, so loops and pointers past the end cannot hurt).
bool skip_name(std::span<const uint8_t> q, size_t& pos, bool& root) {
  size_t total = 0;
  root = true;
  while (true) {
    if (pos >= q.size()) return false;
    const uint8_t l = q[pos];
    if (l == 0) {
      ++pos;
      return true;
    }
    root = false;
    if ((l & 0xC0) == 0xC0) {
      if (pos + 2 > q.size()) return false;
      pos += 2;
      return true;
    }
    if (l & 0xC0) return false;  // 0x40/0x80 label types are obsolete (RFC 6891 section 5)
    total += l + 1u;
    if (total > kMaxNameSize || pos + 1 + l > q.size()) return false;
    pos += 1 + l;
  }
}

// The question name: plain labels only. A compression pointer in a query's only question
// could only point into the header, so it is malformed.
bool read_qname(std::span<const uint8_t> q, size_t& pos, ParsedQuery& p) {
  while (true) {
    if (pos >= q.size()) return false;
    const uint8_t l = q[pos];
    if (l & 0xC0) return false;
    if (p.qname_len + 1 + l > kMaxNameSize || pos + 1 + l > q.size()) return false;
    if (l == 0) {
      p.qname[p.qname_len++] = 0;
      ++pos;
      return true;
    }
    p.label_off[p.labels++] = static_cast<uint8_t>(p.qname_len);
    p.qname[p.qname_len++] = l;
    for (size_t i = 0; i < l; ++i) p.qname[p.qname_len++] = ascii_lower(q[pos + 1 + i]);
    pos += 1 + l;
  }
}

// The OPT record at `pos` (RFC 6891 section 6.1.2): payload size, version, DO, and the ECS
// option. A malformed option list ends the scan (the rest is ignored).
void read_opt(std::span<const uint8_t> q, size_t pos, uint16_t rdlen, ParsedQuery& p) {
  p.edns = true;
  p.edns_size = get16(q, pos + 2);
  p.edns_version = q[pos + 5];
  p.edns_do = (q[pos + 6] & flags::kDO) != 0;
  const size_t end = pos + 10 + rdlen;
  for (size_t o = pos + 10; o + 4 <= end;) {
    const uint16_t code = get16(q, o);
    const uint16_t olen = get16(q, o + 2);
    if (o + 4 + olen > end) break;
    if (code == ecs::kOptionCode && !p.ecs) p.ecs = q.subspan(o + 4, olen);
    o += 4u + olen;
  }
}

}  // namespace

ParseResult parse_query(std::span<const uint8_t> q, ParsedQuery& p) {
  if (get16(q, hdr::kQdcount) != 1) return ParseResult::FormErrNoQuestion;
  size_t pos = kHeaderSize;
  if (!read_qname(q, pos, p)) return ParseResult::FormErrNoQuestion;
  if (pos + 4 > q.size()) return ParseResult::FormErrNoQuestion;
  p.qtype = get16(q, pos);
  p.qclass = get16(q, pos + 2);
  pos += 4;
  p.question_end = pos;
  // A query carries no answer or authority records (RFC 1035 section 4.1; NOTIFY and UPDATE
  // would, but those opcodes are NOTIMP here). IXFR is the exception: it carries the client's
  // SOA in the authority section (RFC 1995 section 3). We skip it; the transfer is refused
  // like AXFR, not answered with FORMERR.
  const uint16_t nscount = get16(q, hdr::kNscount);
  if (get16(q, hdr::kAncount) != 0) return ParseResult::FormErr;
  if (nscount != 0 && (p.qtype != rrtype::kIXFR || nscount > 1)) return ParseResult::FormErr;
  for (uint16_t i = 0; i < nscount; ++i) {
    bool root = false;
    if (!skip_name(q, pos, root)) return ParseResult::FormErr;
    if (pos + 10 > q.size()) return ParseResult::FormErr;
    const uint16_t rdlen = get16(q, pos + 8);
    if (pos + 10 + rdlen > q.size()) return ParseResult::FormErr;
    pos += 10 + rdlen;
  }
  const uint16_t arcount = get16(q, hdr::kArcount);
  for (uint16_t i = 0; i < arcount; ++i) {
    bool root = false;
    if (!skip_name(q, pos, root)) return ParseResult::FormErr;
    if (pos + 10 > q.size()) return ParseResult::FormErr;
    const uint16_t type = get16(q, pos);
    const uint16_t rdlen = get16(q, pos + 8);
    if (pos + 10 + rdlen > q.size()) return ParseResult::FormErr;
    if (type == rrtype::kOPT) {
      // RFC 6891 section 6.1.1: one OPT, owner is the root.
      if (p.edns || !root) return ParseResult::FormErr;
      read_opt(q, pos, rdlen, p);
    }
    pos += 10 + rdlen;
  }
  return ParseResult::Ok;
}

}  // namespace timepool::server
