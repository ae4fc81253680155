// DNS queries in wire format for tests, fuzzers and benchmarks: the one builder they share.
//
// Header only and free of ldns and Catch2, so a fuzzer or a benchmark includes it without
// linking the test libraries. The unit tests check its bytes against ldns's own query
// builder (tests/unit/server/test_dns_query.cpp), so the parser under test is never checked
// only against a copy of itself.
//
//   auto q = test::dns_query("0.pool.example", 1);                       // A, RD, no EDNS
//   auto e = test::dns_query("pool.example", 28, {.edns_size = 1232});   // AAAA with EDNS
//   auto c = test::dns_query("pool.example", 1,
//                            {.edns_size = 1232, .ecs = test::ecs_v4({53, 1, 2, 0}, 24)});
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace timepool::test {

struct QueryOptions {
  uint16_t id = 0x1234;
  bool rd = true;
  uint16_t qclass = 1;  // IN
  int edns_size = -1;   // < 0: no OPT record
  uint8_t edns_version = 0;
  bool edns_do = false;
  // The data of an EDNS Client Subnet option (RFC 7871 section 6); needs edns_size >= 0.
  std::optional<std::vector<uint8_t>> ecs;
};

namespace detail {
inline void put16(std::vector<uint8_t>& q, uint16_t v) {
  q.push_back(static_cast<uint8_t>(v >> 8));
  q.push_back(static_cast<uint8_t>(v));
}
}  // namespace detail

// `name` dotted, with or without the final dot; labels are copied as given (case kept).
// Labels longer than 63 bytes are not checked: tests may want malformed names.
inline std::vector<uint8_t> dns_query(std::string_view name, uint16_t qtype,
                                      const QueryOptions& o = {}) {
  std::vector<uint8_t> q;
  detail::put16(q, o.id);
  q.push_back(o.rd ? 0x01 : 0x00);  // QR=0, opcode QUERY, RD
  q.push_back(0x00);
  detail::put16(q, 1);  // QDCOUNT
  detail::put16(q, 0);
  detail::put16(q, 0);
  detail::put16(q, o.edns_size >= 0 ? 1 : 0);  // ARCOUNT
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    q.push_back(static_cast<uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  q.push_back(0);
  detail::put16(q, qtype);
  detail::put16(q, o.qclass);
  if (o.edns_size < 0) return q;
  // OPT (RFC 6891 section 6.1.2): root owner, type 41, CLASS = payload size, TTL = extended
  // rcode, version, DO and zero flags, then the options.
  q.push_back(0);
  detail::put16(q, 41);
  detail::put16(q, static_cast<uint16_t>(o.edns_size));
  q.push_back(0);
  q.push_back(o.edns_version);
  q.push_back(o.edns_do ? 0x80 : 0x00);
  q.push_back(0);
  if (!o.ecs) {
    detail::put16(q, 0);
    return q;
  }
  detail::put16(q, static_cast<uint16_t>(4 + o.ecs->size()));
  detail::put16(q, 8);  // ECS
  detail::put16(q, static_cast<uint16_t>(o.ecs->size()));
  q.insert(q.end(), o.ecs->begin(), o.ecs->end());
  return q;
}

// ECS option data for an IPv4 subnet: family 1, source prefix, scope 0, ceil(prefix / 8)
// address bytes (the caller keeps bits past the prefix zero, or not, to test FORMERR).
inline std::vector<uint8_t> ecs_v4(const std::array<uint8_t, 4>& addr, uint8_t prefix) {
  std::vector<uint8_t> d = {0, 1, prefix, 0};
  d.insert(d.end(), addr.begin(), addr.begin() + (prefix + 7) / 8);
  return d;
}

}  // namespace timepool::test
