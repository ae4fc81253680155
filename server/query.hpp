// The parsed DNS query: what the answer steps need of a query, read without allocating.
//
// parse_query() reads the question (plain labels only, lower-cased), checks that a query
// carries no answer or authority records, and walks the additional section for the one OPT
// record (RFC 6891) and its EDNS Client Subnet option (RFC 7871). Every length is checked
// before use; names in the additional section may be compressed and are skipped, never
// followed.
//
// Pure and reentrant. A ParsedQuery points into the query buffer (ecs): it must not outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "server/dns_wire.hpp"

namespace timepool::server {

struct ParsedQuery {
  uint8_t qname[kMaxNameSize + 1];  // lower-case wire format
  size_t qname_len = 0;             // including the root label
  uint8_t label_off[128];           // start of each label in qname
  size_t labels = 0;
  size_t question_end = 0;          // offset in the query just past QCLASS
  uint16_t qtype = 0, qclass = 0;
  bool edns = false;
  uint16_t edns_size = 0;
  uint8_t edns_version = 0;
  bool edns_do = false;
  std::optional<std::span<const uint8_t>> ecs;  // the ECS option's data, if the OPT had one

  std::span<const uint8_t> name() const { return {qname, qname_len}; }
};

enum class ParseResult {
  Ok,
  FormErrNoQuestion,  // no usable question: answer FORMERR with the header only
  FormErr,            // the question is fine, the rest is not: FORMERR with the question
};

// `q` is at least kHeaderSize bytes (the caller checks).
ParseResult parse_query(std::span<const uint8_t> q, ParsedQuery& p);

}  // namespace timepool::server
