#include "server/answer.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "server/ecs.hpp"
#include "server/geo_answer.hpp"

namespace timepool::server {

namespace {

constexpr size_t kHeader = 12;
constexpr size_t kOptLen = 11;  // root name, type, class, ttl, rdlength (no options)
constexpr uint16_t kClassIN = 1, kClassCH = 3;

uint16_t get16(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint16_t>((b[off] << 8) | b[off + 1]);
}

uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c; }

// The query as far as we need it. Offsets index the query buffer.
struct Parsed {
  uint8_t qname[256];        // lower case wire format
  size_t qname_len = 0;      // including the root label
  uint8_t label_off[128];    // start of each label in qname
  size_t labels = 0;
  size_t question_end = 0;   // offset just past QCLASS
  uint16_t qtype = 0, qclass = 0;
  bool edns = false;
  uint16_t edns_size = 0;
  uint8_t edns_version = 0;
  bool edns_do = false;
  const uint8_t* ecs = nullptr;  // EDNS Client Subnet option data (RFC 7871), if any
  uint16_t ecs_len = 0;
};

enum class Parse { Ok, FormErrNoQuestion, FormErr };

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
    if (total > 255 || pos + 1 + l > q.size()) return false;
    pos += 1 + l;
  }
}

Parse parse(std::span<const uint8_t> q, Parsed& p) {
  if (get16(q, 4) != 1) return Parse::FormErrNoQuestion;
  size_t pos = kHeader;
  // The question name: plain labels only. A compression pointer in a query's only question
  // could only point into the header, so it is malformed.
  while (true) {
    if (pos >= q.size()) return Parse::FormErrNoQuestion;
    const uint8_t l = q[pos];
    if (l & 0xC0) return Parse::FormErrNoQuestion;
    if (p.qname_len + 1 + l > 255 || pos + 1 + l > q.size()) return Parse::FormErrNoQuestion;
    if (l == 0) {
      p.qname[p.qname_len++] = 0;
      ++pos;
      break;
    }
    p.label_off[p.labels++] = static_cast<uint8_t>(p.qname_len);
    p.qname[p.qname_len++] = l;
    for (size_t i = 0; i < l; ++i) p.qname[p.qname_len++] = lower(q[pos + 1 + i]);
    pos += 1 + l;
  }
  if (pos + 4 > q.size()) return Parse::FormErrNoQuestion;
  p.qtype = get16(q, pos);
  p.qclass = get16(q, pos + 2);
  pos += 4;
  p.question_end = pos;
  // A query carries no answer or authority records (RFC 1035 section 4.1; NOTIFY and UPDATE
  // would, but those opcodes are NOTIMP here).
  if (get16(q, 6) != 0 || get16(q, 8) != 0) return Parse::FormErr;
  const uint16_t arcount = get16(q, 10);
  for (uint16_t i = 0; i < arcount; ++i) {
    bool root = false;
    if (!skip_name(q, pos, root)) return Parse::FormErr;
    if (pos + 10 > q.size()) return Parse::FormErr;
    const uint16_t type = get16(q, pos);
    const uint16_t rdlen = get16(q, pos + 8);
    if (pos + 10 + rdlen > q.size()) return Parse::FormErr;
    if (type == rrtype::kOPT) {
      // RFC 6891 section 6.1.1: one OPT, owner is the root.
      if (p.edns || !root) return Parse::FormErr;
      p.edns = true;
      p.edns_size = get16(q, pos + 2);
      p.edns_version = q[pos + 5];
      p.edns_do = (q[pos + 6] & 0x80) != 0;
      // Options (RFC 6891 section 6.1.2): code, length, data. Only ECS is looked at; a
      // malformed option list ends the scan (the rest is ignored, as before).
      for (size_t o = pos + 10; o + 4 <= pos + 10 + rdlen;) {
        const uint16_t code = get16(q, o);
        const uint16_t olen = get16(q, o + 2);
        if (o + 4 + olen > pos + 10 + rdlen) break;
        if (code == ecs::kOptionCode && !p.ecs) {
          p.ecs = q.data() + o + 4;
          p.ecs_len = olen;
        }
        o += 4u + olen;
      }
    }
    pos += 10 + rdlen;
  }
  return Parse::Ok;
}

// Appends to the response buffer up to a limit; after an overflow every write is a no-op and
// ok() turns false, so a whole record either fits or the answer is truncated.
class Writer {
 public:
  Writer(std::span<uint8_t> out, size_t limit) : out_(out), limit_(std::min(limit, out.size())) {}
  size_t size() const { return len_; }
  bool ok() const { return ok_; }
  void set_limit(size_t limit) { limit_ = std::min(limit, out_.size()); }
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
  void put16(size_t off, uint16_t v) {
    out_[off] = static_cast<uint8_t>(v >> 8);
    out_[off + 1] = static_cast<uint8_t>(v);
  }

  // Name compression (RFC 1035 section 4.1.4) as ldns does it: the longest suffix already in
  // the packet becomes a pointer, and each label written here becomes a target for later names.
  // `name` is lower-case wire format and must stay alive while this writer is used.
  void remember(const uint8_t* name, size_t name_len, size_t offset) {
    for (size_t i = 0; name[i] != 0 && ncomp_ < kComp;) {
      if (offset + i >= 0x4000) break;
      comp_[ncomp_++] = {name + i, name_len - i, static_cast<uint16_t>(offset + i)};
      i += name[i] + 1u;
    }
  }
  void mark_base() { base_comp_ = ncomp_; }
  void name(const uint8_t* name, size_t name_len) {
    const size_t start = len_;
    for (size_t i = 0; name[i] != 0; i += name[i] + 1u) {
      for (size_t c = 0; c < ncomp_; ++c) {
        if (comp_[c].len == name_len - i && std::memcmp(comp_[c].name, name + i, name_len - i) == 0) {
          bytes(name, i);
          u16(static_cast<uint16_t>(0xC000 | comp_[c].offset));
          if (ok_) remember_prefix(name, name_len, i, start);
          return;
        }
      }
    }
    bytes(name, name_len);
    if (ok_) remember(name, name_len, start);
  }

 private:
  void remember_prefix(const uint8_t* name, size_t name_len, size_t upto, size_t offset) {
    for (size_t i = 0; i < upto && ncomp_ < kComp; i += name[i] + 1u) {
      if (offset + i >= 0x4000) break;
      comp_[ncomp_++] = {name + i, name_len - i, static_cast<uint16_t>(offset + i)};
    }
  }
  struct Comp {
    const uint8_t* name;
    size_t len;
    uint16_t offset;
  };
  static constexpr size_t kComp = 48;
  std::span<uint8_t> out_;
  size_t limit_;
  size_t len_ = 0;
  bool ok_ = true;
  Comp comp_[kComp];
  size_t ncomp_ = 0;
  size_t base_comp_ = 0;
};

// Header only (no question): for queries whose question could not be parsed.
size_t header_only(std::span<const uint8_t> q, std::span<uint8_t> out, uint16_t rc) {
  if (out.size() < kHeader) return 0;
  std::memset(out.data(), 0, kHeader);
  out[0] = q[0];
  out[1] = q[1];
  out[2] = static_cast<uint8_t>(0x80 | (q[2] & 0x79));  // QR, opcode, RD
  out[3] = static_cast<uint8_t>(rc & 0x0F);
  return kHeader;
}

struct Ctx {
  std::span<const uint8_t> q;
  const Parsed& p;
  const AnswerConfig& cfg;
  Writer& w;
  uint16_t an = 0, ns = 0;
};

void rr_header(Ctx& c, uint16_t owner_ptr, uint16_t type, uint16_t cls, uint32_t ttl) {
  c.w.u16(static_cast<uint16_t>(0xC000 | owner_ptr));
  c.w.u16(type);
  c.w.u16(cls);
  c.w.u32(ttl);
}

void write_soa(Ctx& c, size_t apex_off, uint32_t serial, uint32_t ttl) {
  rr_header(c, static_cast<uint16_t>(kHeader + apex_off), rrtype::kSOA, kClassIN, ttl);
  const size_t rdlen_at = c.w.size();
  c.w.u16(0);
  const auto& mname = c.cfg.ns.front();
  c.w.name(mname.data(), mname.size());
  c.w.name(c.cfg.soa_rname.data(), c.cfg.soa_rname.size());
  c.w.u32(serial);
  c.w.u32(c.cfg.soa_refresh);
  c.w.u32(c.cfg.soa_retry);
  c.w.u32(c.cfg.soa_expire);
  c.w.u32(c.cfg.negative_ttl);
  if (c.w.ok()) c.w.put16(rdlen_at, static_cast<uint16_t>(c.w.size() - rdlen_at - 2));
}

void write_ns(Ctx& c, size_t apex_off) {
  for (const auto& n : c.cfg.ns) {
    rr_header(c, static_cast<uint16_t>(kHeader + apex_off), rrtype::kNS, kClassIN, c.cfg.ns_ttl);
    const size_t rdlen_at = c.w.size();
    c.w.u16(0);
    c.w.name(n.data(), n.size());
    if (c.w.ok()) c.w.put16(rdlen_at, static_cast<uint16_t>(c.w.size() - rdlen_at - 2));
    ++c.an;
  }
}

void write_txt(Ctx& c, std::string_view text) {
  rr_header(c, kHeader, rrtype::kTXT, kClassCH, 0);
  const size_t n = std::min<size_t>(text.size(), 255);
  c.w.u16(static_cast<uint16_t>(n + 1));
  c.w.u8(static_cast<uint8_t>(n));
  c.w.bytes(reinterpret_cast<const uint8_t*>(text.data()), n);
  ++c.an;
}

// TXT in class IN with the text split into strings of at most 255 bytes (RFC 1035 3.3.14).
void write_txt_in(Ctx& c, std::string_view text) {
  rr_header(c, kHeader, rrtype::kTXT, kClassIN, 0);
  const size_t rdlen_at = c.w.size();
  c.w.u16(0);
  do {
    const size_t n = std::min<size_t>(text.size(), 255);
    c.w.u8(static_cast<uint8_t>(n));
    c.w.bytes(reinterpret_cast<const uint8_t*>(text.data()), n);
    text.remove_prefix(n);
  } while (!text.empty());
  if (c.w.ok()) c.w.put16(rdlen_at, static_cast<uint16_t>(c.w.size() - rdlen_at - 2));
  ++c.an;
}

void write_pool(Ctx& c, const Snapshot& snap, uint32_t pool_index, Rng& rng, uint16_t type,
                AnswerStats& st) {
  const Pool& pool = snap.pool(pool_index);
  uint32_t* picks = st.picked.data();
  const size_t n = pool.pick(rng, c.cfg.max_answers, st.picked);
  st.pool = pool_index;
  st.picked_count = static_cast<uint8_t>(n);
  const uint8_t len = pool.addr_len();
  // Every record is the same 12 bytes (owner pointer to the question, type, class, TTL,
  // length) and then the address.
  const uint32_t ttl = c.cfg.ttl;
  uint8_t rr[12 + 16] = {0xC0, kHeader, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type),
                         0, kClassIN, static_cast<uint8_t>(ttl >> 24), static_cast<uint8_t>(ttl >> 16),
                         static_cast<uint8_t>(ttl >> 8), static_cast<uint8_t>(ttl), 0, len};
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(rr + 12, pool.addr(picks[i]).data(), len);
    c.w.bytes(rr, 12u + len);
  }
  c.an = static_cast<uint16_t>(n);
}

bool chaos_name(const Parsed& p, std::string_view name) {
  // name is wire format without the root label
  return p.qname_len == name.size() + 1 && std::memcmp(p.qname, name.data(), name.size()) == 0;
}

}  // namespace

std::vector<uint8_t> name_to_wire(std::string_view dotted) {
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  std::vector<uint8_t> out;
  while (!dotted.empty()) {
    const size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    if (label.empty() || label.size() > 63) {
      throw std::invalid_argument("bad DNS name label '" + std::string(label) + "'");
    }
    out.push_back(static_cast<uint8_t>(label.size()));
    for (char ch : label) out.push_back(lower(static_cast<uint8_t>(ch)));
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  out.push_back(0);
  if (out.size() > 255) throw std::invalid_argument("DNS name longer than 255 bytes");
  return out;
}

std::string wire_to_name(std::span<const uint8_t> wire) {
  std::string out;
  for (size_t i = 0; i < wire.size() && wire[i] != 0; i += wire[i] + 1u) {
    if (i + 1 + wire[i] > wire.size()) break;
    out.append(reinterpret_cast<const char*>(wire.data() + i + 1), wire[i]);
    out += '.';
  }
  return out.empty() ? "." : out;
}

size_t answer(std::span<const uint8_t> q, const Snapshot* snap, const AnswerConfig& cfg,
              Rng& rng, const Client& client, std::span<uint8_t> out, AnswerStats& st,
              const GeoView* geo) {
  // Field by field: `picked` is only valid below picked_count and need not be cleared.
  st.zone_id = -1;
  st.qtype = st.rcode = 0;
  st.dropped = false;
  st.zone_index = -1;
  st.pool = Node::kNoPool;
  st.picked_count = 0;
  // Silence for what cannot be a query: too short for a header, or a response (answering
  // responses is how reflection loops start).
  if (q.size() < kHeader || (q[2] & 0x80) || out.size() < kHeader) {
    st.dropped = true;
    return 0;
  }
  const uint8_t opcode = (q[2] >> 3) & 0x0F;
  if (opcode != 0) {
    st.rcode = rcode::kNotImp;
    return header_only(q, out, rcode::kNotImp);
  }
  Parsed p;
  const Parse pr = parse(q, p);
  st.qtype = p.qtype;
  if (pr == Parse::FormErrNoQuestion) {
    st.rcode = rcode::kFormErr;
    return header_only(q, out, rcode::kFormErr);
  }

  // Size limit (RFC 6891 section 6.2.3/6.2.5: below 512 means 512).
  size_t limit = 65535;
  if (!client.tcp) {
    limit = p.edns ? std::clamp<size_t>(p.edns_size, 512, std::max<size_t>(cfg.edns_max, 512)) : 512;
  }
  Writer w(out, limit);
  // Header and question, copied as the client sent them (case included, RFC 4343 section 4.1).
  w.bytes(q.data(), 2);
  w.u8(static_cast<uint8_t>(0x80 | (q[2] & 0x79)));
  w.u8(static_cast<uint8_t>(q[3] & 0x10));  // CD copied (RFC 4035 section 3.1.6)
  w.u16(1);
  w.u32(0);
  w.u16(0);
  w.bytes(q.data() + kHeader, p.question_end - kHeader);
  if (!w.ok()) {
    st.dropped = true;
    return 0;  // cannot happen with a 512-byte buffer; defensive
  }
  w.remember(p.qname, p.qname_len, kHeader);
  w.mark_base();
  const size_t after_question = w.size();
  Ctx c{q, p, cfg, w};
  bool aa = false;
  bool tc = false;

  // Reserve room for the OPT so truncation never drops it.
  // An echoed ECS option adds 4 bytes of option header and at most 20 of data.
  const size_t opt_len = kOptLen + (geo && p.ecs ? 24 : 0);
  if (p.edns) w.set_limit(limit - opt_len);
  std::optional<ecs::Echo> echo;

  auto finish = [&](uint16_t code) -> size_t {
    if (!w.ok()) {
      // Does not fit: empty answer with TC, the client retries over TCP (RFC 2181 section 9).
      w.rewind(after_question);
      c.an = c.ns = 0;
      tc = true;
    }
    w.set_limit(limit);
    uint16_t arcount = 0;
    if (p.edns) {
      w.u8(0);
      w.u16(rrtype::kOPT);
      w.u16(std::max<uint16_t>(cfg.edns_max, 512));
      w.u8(static_cast<uint8_t>(code >> 4));  // extended RCODE (upper 8 bits)
      w.u8(0);                                // version 0
      w.u8(p.edns_do ? 0x80 : 0);              // DO copied (RFC 3225 section 3)
      w.u8(0);
      if (echo) {
        // RFC 7871 section 7.2.1: the option as received, with our SCOPE PREFIX-LENGTH.
        w.u16(static_cast<uint16_t>(4 + echo->size));
        w.u16(ecs::kOptionCode);
        w.u16(echo->size);
        w.bytes(echo->data.data(), echo->size);
      } else {
        w.u16(0);
      }
      arcount = 1;
    }
    uint8_t* d = w.data();
    if (aa) d[2] |= 0x04;
    if (tc) d[2] |= 0x02;
    d[3] = static_cast<uint8_t>((d[3] & 0xF0) | (code & 0x0F));
    w.put16(6, c.an);
    w.put16(8, c.ns);
    w.put16(10, arcount);
    st.rcode = code;
    return w.size();
  };

  if (pr == Parse::FormErr) return finish(rcode::kFormErr);
  if (p.edns && p.edns_version > 0) return finish(rcode::kBadVers);  // RFC 6891 section 6.1.3
  if (p.qtype == rrtype::kOPT) return finish(rcode::kFormErr);
  std::optional<std::span<const uint8_t>> ecs_data;
  if (geo && p.ecs && p.edns) {
    ecs_data = std::span<const uint8_t>(p.ecs, p.ecs_len);
    const ecs::Parsed e = ecs::parse(*ecs_data);
    // RFC 7871 section 7.1.2 / 7.2.1: a malformed option SHOULD get FORMERR.
    if (e.error != ecs::Error::None) return finish(rcode::kFormErr);
    echo = ecs::make_echo(e.subnet, 0);  // scope 0 unless the answer depends on it
  }

  if (p.qclass == kClassCH) {
    // Server identification (RFC 4892).
    std::string_view text;
    if (chaos_name(p, "\x07version\x04" "bind") || chaos_name(p, "\x07version\x06server")) {
      text = cfg.version;
    } else if (chaos_name(p, "\x08hostname\x04" "bind") || chaos_name(p, "\x02id\x06server")) {
      text = cfg.identity;
    }
    if (text.empty()) return finish(rcode::kRefused);
    aa = true;
    if (p.qtype == rrtype::kTXT || p.qtype == rrtype::kANY) write_txt(c, text);
    return finish(rcode::kNoError);
  }
  if (p.qclass != kClassIN) return finish(rcode::kRefused);

  // Longest apex that is a suffix of the name on a label boundary.
  const std::vector<uint8_t>* apex = nullptr;
  size_t apex_off = 0;
  size_t apex_label = 0;
  for (const auto& a : cfg.apexes) {
    if (a.size() > p.qname_len || (apex && a.size() <= apex->size())) continue;
    const size_t off = p.qname_len - a.size();
    size_t li = 0;
    while (li < p.labels && p.label_off[li] < off) ++li;
    if (off != p.qname_len - 1 && (li == p.labels || p.label_off[li] != off)) continue;
    if (std::memcmp(p.qname + off, a.data(), a.size()) != 0) continue;
    apex = &a;
    apex_off = off;
    apex_label = li;
  }
  if (!apex) return finish(rcode::kRefused);  // not a resolver (RFC 8906 section 3.1.3.1)
  if (p.qtype == rrtype::kAXFR || p.qtype == rrtype::kIXFR) return finish(rcode::kRefused);
  if (!snap) return finish(rcode::kServFail);

  // The name relative to the apex, dotted: "0.europe".
  char rel[256];
  size_t rel_len = 0;
  bool has_dot = false;
  for (size_t li = 0; li < apex_label; ++li) {
    const size_t o = p.label_off[li];
    const uint8_t l = p.qname[o];
    if (rel_len) rel[rel_len++] = '.';
    for (size_t i = 0; i < l; ++i) {
      const char ch = static_cast<char>(p.qname[o + 1 + i]);
      has_dot |= ch == '.';
      rel[rel_len++] = ch;
    }
  }
  aa = true;
  if (geo && rel_len == 8 && std::memcmp(rel, "_country", 8) == 0) {
    // The debug name: only for loopback clients unless configured otherwise. Others get
    // REFUSED, so the name reveals nothing and is not cached as a negative answer.
    if (!geo->debug_allowed(client)) {
      aa = false;
      return finish(rcode::kRefused);
    }
    const ecs::ClientLocation loc = geo->locate(client, ecs_data);
    if (loc.echo) echo = loc.echo;
    if (p.qtype == rrtype::kTXT || p.qtype == rrtype::kANY) {
      write_txt_in(c, geo->debug(loc, false));
    } else {
      write_soa(c, apex_off, snap->serial(), std::min(cfg.soa_ttl, cfg.negative_ttl));
      c.ns = 1;
    }
    return finish(rcode::kNoError);
  }
  const Node* node = has_dot ? nullptr : snap->find(std::string_view(rel, rel_len));
  const uint32_t neg_ttl = std::min(cfg.soa_ttl, cfg.negative_ttl);
  if (!node) {
    write_soa(c, apex_off, snap->serial(), neg_ttl);
    c.ns = 1;
    return finish(rcode::kNxDomain);
  }
  if (node->zone >= 0) st.zone_id = snap->zones()[static_cast<size_t>(node->zone)].id;
  st.zone_index = node->zone;
  // Where the address records come from: the name's own pools, or with geo the chosen zone's
  // node with the same number (so the quarters stay disjoint at every level).
  const Node* src = node;
  if (geo && node->terminal && (p.qtype == rrtype::kA || p.qtype == rrtype::kAAAA)) {
    const bool v6 = p.qtype == rrtype::kAAAA;
    if (geo->needs_location(*node)) {
      const ecs::ClientLocation loc = geo->locate(client, ecs_data);
      if (loc.echo) echo = loc.echo;
      src = geo->route(*node, v6, loc);
    } else {
      src = geo->route(*node, v6, ecs::ClientLocation{});
    }
  }

  const bool at_apex = rel_len == 0;
  bool answered = false;
  switch (p.qtype) {
    case rrtype::kA:
      if (src->v4 != Node::kNoPool) {
        write_pool(c, *snap, src->v4, rng, rrtype::kA, st);
        answered = true;
      }
      break;
    case rrtype::kAAAA:
      if (src->v6 != Node::kNoPool && (cfg.aaaa_all_labels || node->number == 2)) {
        write_pool(c, *snap, src->v6, rng, rrtype::kAAAA, st);
        answered = true;
      }
      break;
    case rrtype::kSOA:
      if (at_apex) {
        write_soa(c, apex_off, snap->serial(), cfg.soa_ttl);
        c.an = 1;
        answered = true;
      }
      break;
    case rrtype::kNS:
      if (at_apex) {
        write_ns(c, apex_off);
        answered = true;
      }
      break;
    case rrtype::kANY: {
      // RFC 8482 section 4.2: one synthesized HINFO instead of everything.
      rr_header(c, kHeader, rrtype::kHINFO, kClassIN, cfg.ttl);
      static constexpr uint8_t kHinfo[] = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
      w.u16(sizeof kHinfo);
      w.bytes(kHinfo, sizeof kHinfo);
      c.an = 1;
      answered = true;
      break;
    }
    default:
      break;
  }
  if (!answered) {
    write_soa(c, apex_off, snap->serial(), neg_ttl);  // NODATA (RFC 2308 section 2.2)
    c.ns = 1;
  }
  (void)client;
  return finish(rcode::kNoError);
}

}  // namespace timepool::server
