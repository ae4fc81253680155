// EDNS Client Subnet (RFC 7871): parse the option a resolver sends, decide whether we may
// locate the client by it, and build the option we echo.
//
// Option data (RFC 7871 section 6): FAMILY (2 bytes, 1 = IPv4, 2 = IPv6), SOURCE PREFIX-LENGTH
// (1), SCOPE PREFIX-LENGTH (1), ADDRESS (exactly ceil(source / 8) bytes, bits beyond the source
// prefix zero). Section 7.1.2 makes SCOPE 0 in queries; section 7.1.2/7.2.1 says a server
// receiving too few or too many address bytes or non-zero bits past the prefix SHOULD answer
// FORMERR: parse() reports each of these as its own error so the caller can do that.
//
// All functions are pure, allocation-free and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include <optional>
#include <string>

#include "core/address.hpp"
#include "core/geo.hpp"

namespace timepool::ecs {

inline constexpr uint16_t kOptionCode = 8;  // EDNS0 option code of ECS (RFC 7871 section 6)
inline constexpr uint16_t kFamilyV4 = 1;
inline constexpr uint16_t kFamilyV6 = 2;

enum class Error : uint8_t {
  None,
  Truncated,         // fewer than the 4 fixed bytes
  BadFamily,         // FAMILY not 1 or 2
  PrefixTooLong,     // SOURCE > 32 (IPv4) or > 128 (IPv6)
  ScopeNotZero,      // SCOPE must be 0 in a query
  WrongAddressLength,  // ADDRESS not exactly ceil(SOURCE / 8) bytes
  BitsBeyondPrefix,  // a 1 bit past SOURCE in the last address byte
};
std::string_view error_name(Error e);

struct ClientSubnet {
  uint16_t family = kFamilyV4;
  uint8_t source_prefix = 0;
  uint8_t scope_prefix = 0;
  // The network address, padded with zero bytes to a whole address.
  address::Address address;
};

struct Parsed {
  Error error = Error::None;
  ClientSubnet subnet;  // meaningful only when error == None
};

// `data` is the option's data (after the 2-byte code and 2-byte length).
Parsed parse(std::span<const uint8_t> data);

// Whether the subnet may locate the client: a source prefix above 0 (0 means the client asked
// not to be located, RFC 7871 section 7.1.2) and a public unicast network address. Private,
// loopback, link-local, documentation and other special-purpose networks are ignored and the
// resolver's own address is used instead.
bool usable(const ClientSubnet& s);

// The option data to echo in the response: FAMILY, SOURCE and ADDRESS as the query had them
// and our SCOPE. `scope` is the prefix length the answer is valid for: 0 when the answer did not
// depend on the subnet (it was not usable), else the geo database's block length
// (GeoResult::prefix_len), which may exceed SOURCE (section 7.2.1 allows that).
struct Echo {
  std::array<uint8_t, 4 + 16> data{};
  uint8_t size = 0;
  std::span<const uint8_t> bytes() const { return {data.data(), size}; }
};
Echo make_echo(const ClientSubnet& query, uint8_t scope);

// Where a query comes from, as the DNS server decides it (issue: geo-aware answers): the ECS
// subnet when the query carried a well-formed, usable one, else the resolver's own address.
struct ClientLocation {
  address::Address address;  // the address that was looked up
  bool from_ecs = false;
  std::optional<geo::CountryCode> country;
  // The option to echo when the query carried a well-formed ECS option (scope 0 when it was
  // not used); nullopt when there was none or it was malformed.
  std::optional<Echo> echo;
  Error ecs_error = Error::None;  // a malformed option: the caller may answer FORMERR
};

// `ecs_data` is the ECS option's data when the query had one, else nullopt. `geo` may be null
// (geo disabled): nobody is located then. Loopback and other special-purpose resolver
// addresses are not looked up. Pure, thread-safe, allocation-free.
ClientLocation locate(const geo::GeoDb* geo, const address::Address& resolver,
                      std::optional<std::span<const uint8_t>> ecs_data);

// The text of the `_country.<apex>` debug TXT record, e.g.
// "address=81.2.188.0 source=ecs country=gb zone=gb reason=country gb has 5 servers (>= 3)".
std::string debug_text(const ClientLocation& loc, std::string_view zone_name,
                       std::string_view reason);

}  // namespace timepool::ecs
