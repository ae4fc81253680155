#include "server/answer.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "server/ecs.hpp"
#include "server/geo_answer.hpp"
#include "server/query.hpp"
#include "server/tier_draw.hpp"
#include "server/wire_writer.hpp"

namespace timepool::server {

namespace {

constexpr size_t kOptLen = 11;      // root name, type, class, ttl, rdlength (no options)
constexpr size_t kEcsEchoMax = 24;  // option code and length, then at most 4 + 16 bytes of data

// Everything one query is answered from.
struct Query {
  std::span<const uint8_t> wire;
  const ParsedQuery& p;
  const AnswerConfig& cfg;
  const Snapshot* snap;
  const GeoView* geo;
  const Client& client;
};

// The response being written: the header and question as the client sent them, then records;
// finish() adds the OPT record, the flags and the counts.
class Response {
 public:
  Response(const Query& x, std::span<uint8_t> out)
      : x_(x), limit_(size_limit(x)), w_(out, limit_) {
    const auto q = x.wire;
    w_.bytes(q.data(), 2);
    w_.u8(static_cast<uint8_t>(flags::kQR | (q[hdr::kFlags1] & (flags::kOpcodeMask | flags::kRD))));
    w_.u8(static_cast<uint8_t>(q[hdr::kFlags2] & flags::kCD));  // CD copied (RFC 4035 3.1.6)
    w_.u16(1);
    w_.u32(0);
    w_.u16(0);
    // The question keeps the client's case (RFC 4343 section 4.1).
    w_.bytes(q.data() + kHeaderSize, x.p.question_end - kHeaderSize);
    started_ = w_.ok();
    w_.remember(x.p.qname, x.p.qname_len, kHeaderSize);
    w_.mark_base();
    after_question_ = w_.size();
    // Reserve room for the OPT (and an echoed ECS option) so truncation never drops it.
    if (x.p.edns) w_.set_limit(limit_ - kOptLen - (x.geo && x.p.ecs ? kEcsEchoMax : 0));
  }

  // false: the header and question did not fit (a buffer under 512 bytes).
  bool started() const { return started_; }
  WireWriter& w() { return w_; }

  uint16_t an = 0, ns = 0, ar = 0;  // ar: additional records besides the OPT
  bool aa = false;
  std::optional<ecs::Echo> echo;

  size_t finish(uint16_t code, AnswerStats& st) {
    bool tc = false;
    if (!w_.ok()) {
      // Does not fit: empty answer with TC, the client retries over TCP (RFC 2181 section 9).
      w_.rewind(after_question_);
      an = ns = ar = 0;
      tc = true;
    }
    w_.set_limit(limit_);
    const uint16_t arcount = x_.p.edns ? write_opt(code) : 0;
    uint8_t* d = w_.data();
    if (aa) d[hdr::kFlags1] |= flags::kAA;
    if (tc) d[hdr::kFlags1] |= flags::kTC;
    d[hdr::kFlags2] = static_cast<uint8_t>((d[hdr::kFlags2] & ~flags::kRcodeMask) |
                                           (code & flags::kRcodeMask));
    w_.put16(hdr::kAncount, an);
    w_.put16(hdr::kNscount, ns);
    w_.put16(hdr::kArcount, static_cast<uint16_t>(ar + arcount));
    st.rcode = code;
    return w_.size();
  }

 private:
  // 512 without EDNS; with it the client's size (below 512 means 512, RFC 6891 section
  // 6.2.3/6.2.5) capped by ours; 65535 over TCP.
  static size_t size_limit(const Query& x) {
    if (x.client.tcp) return 65535;
    if (!x.p.edns) return kUdpPlainMax;
    return std::clamp<size_t>(x.p.edns_size, kUdpPlainMax,
                              std::max<size_t>(x.cfg.edns_max, kUdpPlainMax));
  }

  uint16_t write_opt(uint16_t code) {
    w_.u8(0);
    w_.u16(rrtype::kOPT);
    w_.u16(std::max<uint16_t>(x_.cfg.edns_max, kUdpPlainMax));
    w_.u8(static_cast<uint8_t>(code >> 4));  // extended RCODE (upper 8 bits)
    w_.u8(0);                                // version 0
    w_.u8(x_.p.edns_do ? flags::kDO : 0);    // DO copied (RFC 3225 section 3)
    w_.u8(0);
    if (echo) {
      // RFC 7871 section 7.2.1: the option as received, with our SCOPE PREFIX-LENGTH.
      w_.u16(static_cast<uint16_t>(4 + echo->size));
      w_.u16(ecs::kOptionCode);
      w_.u16(echo->size);
      w_.bytes(echo->bytes());
    } else {
      w_.u16(0);
    }
    return 1;
  }

  const Query& x_;
  size_t limit_;
  WireWriter w_;
  bool started_ = false;
  size_t after_question_ = 0;
};

// --- records ----------------------------------------------------------------------------

// Owner names are always pointers: to the question name or to the apex inside it.
void rr_header(WireWriter& w, size_t owner_off, uint16_t type, uint16_t cls, uint32_t ttl) {
  w.u16(static_cast<uint16_t>(kPointer | owner_off));
  w.u16(type);
  w.u16(cls);
  w.u32(ttl);
}

void write_soa(Response& r, const AnswerConfig& cfg, size_t apex_off, uint32_t serial,
               uint32_t ttl) {
  WireWriter& w = r.w();
  rr_header(w, kHeaderSize + apex_off, rrtype::kSOA, rrclass::kIN, ttl);
  const size_t rd = w.begin_rdata();
  w.name(cfg.ns.front());
  w.name(cfg.soa_rname);
  w.u32(serial);
  w.u32(cfg.soa_refresh);
  w.u32(cfg.soa_retry);
  w.u32(cfg.soa_expire);
  w.u32(cfg.negative_ttl);
  w.end_rdata(rd);
}

// The SOA in the authority section of NXDOMAIN and NODATA answers (RFC 2308 section 3).
void write_negative(Response& r, const Query& x, size_t apex_off) {
  write_soa(r, x.cfg, apex_off, x.snap->serial(), std::min(x.cfg.soa_ttl, x.cfg.negative_ttl));
  r.ns = 1;
}

void write_ns(Response& r, const AnswerConfig& cfg, size_t apex_off) {
  WireWriter& w = r.w();
  for (const auto& n : cfg.ns) {
    rr_header(w, kHeaderSize + apex_off, rrtype::kNS, rrclass::kIN, cfg.ns_ttl);
    const size_t rd = w.begin_rdata();
    w.name(n);
    w.end_rdata(rd);
    ++r.an;
  }
}

// One A or AAAA record of our own NS name `n` (the name written compressed, normally a pointer
// into the NS record that names it).
void write_ns_address(WireWriter& w, const AnswerConfig& cfg, const AnswerConfig::NsAddress& n) {
  const bool v4 = n.addr.is_v4();
  w.name(cfg.ns[n.ns]);
  w.u16(v4 ? rrtype::kA : rrtype::kAAAA);
  w.u16(rrclass::kIN);
  w.u32(cfg.ns_ttl);
  w.u16(v4 ? 4 : 16);
  w.bytes(n.addr.bytes().data(), v4 ? 4 : 16);
}

// Glue for an NS answer: the addresses of the NS names in the additional section, each record
// only if it fits (RFC 1034 section 4.3.2: additional data is optional, so a full answer is
// not truncated for it; IPv4 first, as ldns and Knot order them).
void write_glue(Response& r, const AnswerConfig& cfg) {
  WireWriter& w = r.w();
  for (const bool v4 : {true, false}) {
    for (const auto& n : cfg.ns_addresses) {
      if (n.addr.is_v4() != v4) continue;
      const size_t before = w.size();
      write_ns_address(w, cfg, n);
      if (!w.ok()) {
        w.rewind(before);
        return;
      }
      ++r.ar;
    }
  }
}

// A query for one of our own NS names: its configured addresses (A or AAAA), else NODATA.
bool emit_ns_name(Response& r, const Query& x, size_t ns_index) {
  const uint16_t t = x.p.qtype;
  if (t != rrtype::kA && t != rrtype::kAAAA) return false;
  for (const auto& n : x.cfg.ns_addresses) {
    if (n.ns != ns_index || n.addr.is_v4() != (t == rrtype::kA)) continue;
    write_ns_address(r.w(), x.cfg, n);
    ++r.an;
  }
  return r.an > 0;
}

// The index of our NS name the question names, if it has configured addresses.
std::optional<size_t> own_ns_name(const Query& x) {
  for (const auto& n : x.cfg.ns_addresses) {
    const auto& name = x.cfg.ns[n.ns];
    if (name.size() == x.p.qname_len && std::memcmp(name.data(), x.p.qname, name.size()) == 0) {
      return n.ns;
    }
  }
  return std::nullopt;
}

// TXT with the text split into strings of at most 255 bytes (RFC 1035 section 3.3.14); `max`
// bytes of text at most.
void write_txt(Response& r, uint16_t cls, std::string_view text, size_t max) {
  WireWriter& w = r.w();
  rr_header(w, kHeaderSize, rrtype::kTXT, cls, 0);
  const size_t rd = w.begin_rdata();
  text = text.substr(0, max);
  do {
    const size_t n = std::min<size_t>(text.size(), 255);
    w.u8(static_cast<uint8_t>(n));
    w.bytes(reinterpret_cast<const uint8_t*>(text.data()), n);
    text.remove_prefix(n);
  } while (!text.empty());
  w.end_rdata(rd);
  ++r.an;
}

// RFC 8482 section 4.2: one synthesized HINFO instead of everything.
void write_hinfo(Response& r, uint32_t ttl) {
  static constexpr uint8_t kHinfo[] = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
  rr_header(r.w(), kHeaderSize, rrtype::kHINFO, rrclass::kIN, ttl);
  r.w().u16(sizeof kHinfo);
  r.w().bytes(kHinfo, sizeof kHinfo);
  r.an = 1;
}

// The records of the address family `type` drawn from the route's pools for that family: one
// pool draws by netspeed alone (Pool::pick), several by the mixture, then netspeed.
// false: no pool for the family.
bool write_pool(Response& r, const Query& x, const Route& route, uint16_t type, Rng& rng,
                AnswerStats& st) {
  const bool v6 = type == rrtype::kAAAA;
  std::array<Tier, 3> tiers;
  size_t nt = 0;
  for (size_t t = 0; t < route.count; ++t) {
    const uint32_t pi = v6 ? route.nodes[t]->v6 : route.nodes[t]->v4;
    if (pi == Node::kNoPool) continue;
    tiers[nt++] = Tier{&x.snap->pool(pi), pi, route.weights[t]};
  }
  if (nt == 0) return false;
  size_t n = 0;
  if (nt == 1) {
    n = tiers[0].pool->pick(rng, x.cfg.max_answers, st.picked);
    std::fill_n(st.picked_pool.begin(), n, tiers[0].pool_index);
  } else {
    n = draw_tiers(rng, std::span<const Tier>(tiers.data(), nt), x.cfg.max_answers, st.picked_pool,
                   st.picked);
  }
  st.pool = n ? st.picked_pool[0] : Node::kNoPool;
  st.picked_count = static_cast<uint8_t>(n);
  const uint8_t len = v6 ? 16 : 4;
  // Every record is the same 12 bytes (owner pointer to the question, type, class, TTL,
  // length) and then the address.
  const uint32_t ttl = x.cfg.ttl;
  uint8_t rr[12 + 16] = {kPointer >> 8, kHeaderSize, static_cast<uint8_t>(type >> 8),
                         static_cast<uint8_t>(type), 0, rrclass::kIN,
                         static_cast<uint8_t>(ttl >> 24), static_cast<uint8_t>(ttl >> 16),
                         static_cast<uint8_t>(ttl >> 8), static_cast<uint8_t>(ttl), 0, len};
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(rr + 12, x.snap->pool(st.picked_pool[i]).addr(st.picked[i]).data(), len);
    r.w().bytes(rr, 12u + len);
  }
  r.an = static_cast<uint16_t>(n);
  return true;
}

// --- step 1: classify -------------------------------------------------------------------

// Where the apex starts in the question name: byte offset and label index.
struct Apex {
  size_t off = 0;
  size_t label = 0;
};

// The longest apex that is a suffix of the name on a label boundary.
std::optional<Apex> find_apex(const ParsedQuery& p, const AnswerConfig& cfg) {
  std::optional<Apex> best;
  size_t best_size = 0;
  for (const auto& a : cfg.apexes) {
    if (a.size() > p.qname_len || (best && a.size() <= best_size)) continue;
    const size_t off = p.qname_len - a.size();
    size_t li = 0;
    while (li < p.labels && p.label_off[li] < off) ++li;
    if (off != p.qname_len - 1 && (li == p.labels || p.label_off[li] != off)) continue;
    if (std::memcmp(p.qname + off, a.data(), a.size()) != 0) continue;
    best = Apex{off, li};
    best_size = a.size();
  }
  return best;
}

enum class Kind { Done, Chaos, BelowApex };
struct Verdict {
  Kind kind = Kind::Done;
  uint16_t rcode = rcode::kNoError;  // for Done
  Apex apex;                         // for BelowApex
};

Verdict done(uint16_t code) { return Verdict{Kind::Done, code, {}}; }

// What the query gets before any name is looked up: an error, CHAOS, or a name below an apex.
// Parses the ECS option when geo is on and prepares its echo (scope 0 until a lookup uses it).
Verdict classify(const Query& x, ParseResult pr, Response& r) {
  const ParsedQuery& p = x.p;
  if (pr == ParseResult::FormErr) return done(rcode::kFormErr);
  if (p.edns && p.edns_version > 0) return done(rcode::kBadVers);  // RFC 6891 section 6.1.3
  if (p.qtype == rrtype::kOPT) return done(rcode::kFormErr);
  if (x.geo && p.ecs) {
    const ecs::Parsed e = ecs::parse(*p.ecs);
    // RFC 7871 section 7.1.2 / 7.2.1: a malformed option SHOULD get FORMERR.
    if (e.error != ecs::Error::None) return done(rcode::kFormErr);
    r.echo = ecs::make_echo(e.subnet, 0);
  }
  if (p.qclass == rrclass::kCH) return Verdict{Kind::Chaos, 0, {}};
  if (p.qclass != rrclass::kIN) return done(rcode::kRefused);
  const auto apex = find_apex(p, x.cfg);
  if (!apex) return done(rcode::kRefused);  // not a resolver (RFC 8906 section 3.1.3.1)
  if (p.qtype == rrtype::kAXFR || p.qtype == rrtype::kIXFR) return done(rcode::kRefused);
  if (!x.snap) return done(rcode::kServFail);
  return Verdict{Kind::BelowApex, 0, *apex};
}

bool is_name(const ParsedQuery& p, std::string_view wire_without_root) {
  return p.qname_len == wire_without_root.size() + 1 &&
         std::memcmp(p.qname, wire_without_root.data(), wire_without_root.size()) == 0;
}

// Server identification (RFC 4892).
size_t answer_chaos(const Query& x, Response& r, AnswerStats& st) {
  std::string_view text;
  if (is_name(x.p, "\x07version\x04" "bind") || is_name(x.p, "\x07version\x06server")) {
    text = x.cfg.version;
  } else if (is_name(x.p, "\x08hostname\x04" "bind") || is_name(x.p, "\x02id\x06server")) {
    text = x.cfg.identity;
  }
  if (text.empty()) return r.finish(rcode::kRefused, st);
  r.aa = true;
  if (x.p.qtype == rrtype::kTXT || x.p.qtype == rrtype::kANY) write_txt(r, rrclass::kCH, text, 255);
  return r.finish(rcode::kNoError, st);
}

// --- step 2: locate ---------------------------------------------------------------------

// The name relative to the apex, dotted: "0.europe"; "" at the apex.
struct RelativeName {
  char text[kMaxNameSize + 1];
  size_t len = 0;
  bool has_dot = false;  // a label holds a '.': no such name in the snapshot
  std::string_view view() const { return {text, len}; }
};

RelativeName relative_name(const ParsedQuery& p, const Apex& apex) {
  RelativeName rel;
  for (size_t li = 0; li < apex.label; ++li) {
    const size_t o = p.label_off[li];
    const uint8_t l = p.qname[o];
    if (rel.len) rel.text[rel.len++] = '.';
    for (size_t i = 0; i < l; ++i) {
      const char ch = static_cast<char>(p.qname[o + 1 + i]);
      rel.has_dot |= ch == '.';
      rel.text[rel.len++] = ch;
    }
  }
  return rel;
}

// Where the address records come from: the name's own pools, or with geo the chosen zone's
// node with the same number (so the quarters stay disjoint at every level). Sets the ECS echo
// when the client's location was used.
// Also notes the zone the query counts for as the balancer's demand, when it asks for
// addresses this label gives.
Route locate(const Query& x, const Node& node, Response& r, AnswerStats& st) {
  const uint16_t qtype = x.p.qtype;
  if (!x.geo || !node.terminal || (qtype != rrtype::kA && qtype != rrtype::kAAAA)) {
    Route own;
    own.nodes[0] = &node;
    own.weights[0] = 1;
    own.count = 1;
    return own;
  }
  const bool v6 = qtype == rrtype::kAAAA;
  const bool draws = !v6 || x.cfg.aaaa_all_labels || node.number == 2;  // as emit() decides
  ecs::ClientLocation loc;
  if (x.geo->needs_location(node)) {
    loc = x.geo->locate(x.client, x.p.ecs);
    if (loc.echo) r.echo = loc.echo;
  }
  if (draws) {
    st.demand_zone = x.geo->demand_zone(node, loc);
    st.demand_v6 = v6;
  }
  return x.geo->route(node, v6, loc);
}

// `_country.<apex>`: which zone would answer this client, as TXT. Only for loopback clients
// unless configured otherwise; others get REFUSED, so the name reveals nothing and is not
// cached as a negative answer.
size_t answer_debug(const Query& x, const Apex& apex, Response& r, AnswerStats& st) {
  if (!x.geo->debug_allowed(x.client)) {
    r.aa = false;
    return r.finish(rcode::kRefused, st);
  }
  const ecs::ClientLocation loc = x.geo->locate(x.client, x.p.ecs);
  if (loc.echo) r.echo = loc.echo;
  if (x.p.qtype == rrtype::kTXT || x.p.qtype == rrtype::kANY) {
    write_txt(r, rrclass::kIN, x.geo->debug(loc, false), 65535);
  } else {
    write_negative(r, x, apex.off);
  }
  return r.finish(rcode::kNoError, st);
}

// --- step 3: emit -----------------------------------------------------------------------

// The records for the query type at `node` (drawn from `src`'s pools); false: none (NODATA).
bool emit(const Query& x, const Node& node, const Route& src, bool at_apex, size_t apex_off,
          Rng& rng, Response& r, AnswerStats& st) {
  switch (x.p.qtype) {
    case rrtype::kA:
      return write_pool(r, x, src, rrtype::kA, rng, st);
    case rrtype::kAAAA:
      if (!(x.cfg.aaaa_all_labels || node.number == 2)) return false;
      return write_pool(r, x, src, rrtype::kAAAA, rng, st);
    case rrtype::kSOA:
      if (!at_apex) return false;
      write_soa(r, x.cfg, apex_off, x.snap->serial(), x.cfg.soa_ttl);
      r.an = 1;
      return true;
    case rrtype::kNS:
      if (!at_apex) return false;
      write_ns(r, x.cfg, apex_off);
      write_glue(r, x.cfg);
      return true;
    case rrtype::kANY:
      write_hinfo(r, x.cfg.ttl);
      return true;
    default:
      return false;
  }
}

size_t answer_below_apex(const Query& x, const Apex& apex, Rng& rng, Response& r,
                         AnswerStats& st) {
  const RelativeName rel = relative_name(x.p, apex);
  r.aa = true;
  if (x.geo && rel.view() == "_country") return answer_debug(x, apex, r, st);
  if (const auto ns = own_ns_name(x)) {
    if (!emit_ns_name(r, x, *ns)) write_negative(r, x, apex.off);
    return r.finish(rcode::kNoError, st);
  }
  const Node* node = rel.has_dot ? nullptr : x.snap->find(rel.view());
  if (!node) {
    write_negative(r, x, apex.off);
    return r.finish(rcode::kNxDomain, st);
  }
  if (node->zone >= 0) st.zone_id = x.snap->zones()[static_cast<size_t>(node->zone)].id;
  st.zone_index = node->zone;
  const Route src = locate(x, *node, r, st);
  if (!emit(x, *node, src, rel.len == 0, apex.off, rng, r, st)) {
    write_negative(r, x, apex.off);  // NODATA (RFC 2308 section 2.2)
  }
  return r.finish(rcode::kNoError, st);
}

// Header only (no question): for queries whose question could not be parsed.
size_t header_only(std::span<const uint8_t> q, std::span<uint8_t> out, uint16_t rc) {
  std::memset(out.data(), 0, kHeaderSize);
  out[0] = q[0];
  out[1] = q[1];
  out[hdr::kFlags1] =
      static_cast<uint8_t>(flags::kQR | (q[hdr::kFlags1] & (flags::kOpcodeMask | flags::kRD)));
  out[hdr::kFlags2] = static_cast<uint8_t>(rc & flags::kRcodeMask);
  return kHeaderSize;
}

void reset(AnswerStats& st) {
  // Field by field: `picked` is only valid below picked_count and need not be cleared.
  st.zone_id = -1;
  st.qtype = st.rcode = 0;
  st.dropped = false;
  st.zone_index = -1;
  st.pool = Node::kNoPool;
  st.picked_count = 0;
  st.demand_zone = -1;
  st.demand_v6 = false;
}

}  // namespace

size_t answer(std::span<const uint8_t> q, const Snapshot* snap, const AnswerConfig& cfg,
              Rng& rng, const Client& client, std::span<uint8_t> out, AnswerStats& st,
              const GeoView* geo) {
  reset(st);
  // Silence for what cannot be a query: too short for a header, or a response (answering
  // responses is how reflection loops start).
  if (q.size() < kHeaderSize || (q[hdr::kFlags1] & flags::kQR) || out.size() < kHeaderSize) {
    st.dropped = true;
    return 0;
  }
  const uint8_t opcode = (q[hdr::kFlags1] & flags::kOpcodeMask) >> flags::kOpcodeShift;
  if (opcode != 0) {
    st.rcode = rcode::kNotImp;
    return header_only(q, out, rcode::kNotImp);
  }
  ParsedQuery p;
  const ParseResult pr = parse_query(q, p);
  st.qtype = p.qtype;
  if (pr == ParseResult::FormErrNoQuestion) {
    st.rcode = rcode::kFormErr;
    return header_only(q, out, rcode::kFormErr);
  }
  const Query x{q, p, cfg, snap, geo, client};
  Response r(x, out);
  if (!r.started()) {
    st.dropped = true;  // a buffer too small for the question; the loops never pass one
    return 0;
  }
  const Verdict v = classify(x, pr, r);
  switch (v.kind) {
    case Kind::Done: return r.finish(v.rcode, st);
    case Kind::Chaos: return answer_chaos(x, r, st);
    case Kind::BelowApex: return answer_below_apex(x, v.apex, rng, r, st);
  }
  return 0;
}

}  // namespace timepool::server
