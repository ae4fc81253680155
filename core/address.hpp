// IP addresses: strict parsing of IPv4/IPv6 text and classification against the IANA
// special-purpose registries, so the web app accepts only public unicast servers.
//
// Parsing (parse()) accepts exactly:
//   - IPv4 dotted quad "a.b.c.d", each part decimal 0..255 without leading zeros
//     (inet_aton's "1.2.3", "0x7f.1" and "010.0.0.1" are refused: they are ambiguous);
//   - IPv6 in the RFC 4291 section 2.2 forms: eight groups of 1-4 hex digits, at most one "::",
//     optionally ending in a dotted quad; no zone index ("%eth0"), no brackets, no prefix length.
// Nothing else, no surrounding whitespace. The result never depends on the locale.
//
// Classification (classify()) returns the most specific matching block of
//   https://www.iana.org/assignments/iana-ipv4-special-registry (plus 224.0.0.0/4 multicast)
//   https://www.iana.org/assignments/iana-ipv6-special-registry (plus ff00::/8 multicast,
//   fec0::/10 site-local and ::/96 IPv4-compatible, both deprecated)
// and, for IPv6, everything outside 2000::/3 (the only space IANA allocates for global unicast)
// is Reserved. All functions are pure and thread-safe.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace timepool::address {

enum class Family : uint8_t { V4, V6 };

class Address {
 public:
  // 0.0.0.0
  Address() = default;
  static Address v4(uint32_t host_order);
  static Address v4(const std::array<uint8_t, 4>& bytes);
  static Address v6(const std::array<uint8_t, 16>& bytes);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::V4; }
  bool is_v6() const { return family_ == Family::V6; }
  // IPv4: the first 4 bytes hold the address, the rest are zero.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  uint32_t v4_host_order() const;  // only meaningful for is_v4()

  // Canonical text: dotted quad, or RFC 5952 for IPv6 (lower case, the longest run of two or
  // more zero groups shortened to "::", "::ffff:a.b.c.d" for IPv4-mapped).
  std::string to_string() const;

  // True when the first `bits` bits equal those of `prefix` (same family only).
  bool in(const Address& prefix, int bits) const;

  friend auto operator<=>(const Address&, const Address&) = default;
  friend bool operator==(const Address&, const Address&) = default;

 private:
  Family family_ = Family::V4;
  std::array<uint8_t, 16> bytes_{};
};

// nullopt for anything that is not exactly one address in the forms above.
std::optional<Address> parse(std::string_view text);

// Special-purpose blocks. GlobalUnicast means "in no special block".
enum class Kind : uint8_t {
  GlobalUnicast,
  Unspecified,      // 0.0.0.0/32, ::/128
  ThisNetwork,      // 0.0.0.0/8 (RFC 791)
  Private,          // 10/8, 172.16/12, 192.168/16 (RFC 1918)
  SharedCgnat,      // 100.64.0.0/10 (RFC 6598)
  Loopback,         // 127.0.0.0/8, ::1/128
  LinkLocal,        // 169.254.0.0/16, fe80::/10
  IetfProtocol,     // 192.0.0.0/24, 2001::/23 (RFC 6890) and their sub-blocks not listed below
  DsLite,           // 192.0.0.0/29 (RFC 7335)
  DummyAddress,     // 192.0.0.8/32 (RFC 7600), 100:0:0:1::/64 (RFC 9780)
  PcpAnycast,       // 192.0.0.9/32, 2001:1::1/128 (RFC 7723)
  TurnAnycast,      // 192.0.0.10/32, 2001:1::2/128 (RFC 8155)
  DnsSdSrpAnycast,  // 2001:1::3/128 (RFC 9665)
  Nat64Discovery,   // 192.0.0.170/32, 192.0.0.171/32 (RFC 7050)
  Documentation,    // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
  As112,            // 192.31.196.0/24, 192.175.48.0/24, 2001:4:112::/48, 2620:4f:8000::/48
  Amt,              // 192.52.193.0/24, 2001:3::/32 (RFC 7450)
  SixToFourRelay,   // 192.88.99.0/24 (RFC 7526, deprecated)
  Benchmarking,     // 198.18.0.0/15, 2001:2::/48 (RFC 2544, RFC 5180)
  Multicast,        // 224.0.0.0/4, ff00::/8
  Reserved,         // 240.0.0.0/4, IPv6 outside 2000::/3 and not listed elsewhere
  Broadcast,        // 255.255.255.255/32 (RFC 919)
  V4Mapped,         // ::ffff:0:0/96 (RFC 4291)
  V4Compatible,     // ::/96 (RFC 4291, deprecated)
  Nat64,            // 64:ff9b::/96 (RFC 6052)
  Nat64Local,       // 64:ff9b:1::/48 (RFC 8215)
  DiscardOnly,      // 100::/64 (RFC 6666)
  Teredo,           // 2001::/32 (RFC 4380)
  OrchidV1,         // 2001:10::/28 (RFC 4843, deprecated)
  OrchidV2,         // 2001:20::/28 (RFC 7343)
  DroneRemoteId,    // 2001:30::/28 (RFC 9374)
  SixToFour,        // 2002::/16 (RFC 3056)
  Srv6Sid,          // 5f00::/16 (RFC 9602)
  UniqueLocal,      // fc00::/7 (RFC 4193)
  SiteLocal,        // fec0::/10 (RFC 3879, deprecated)
};

Kind classify(const Address& a);

// Short English description for messages ("private network (RFC 1918)").
std::string_view describe(Kind k);
// Stable identifier for logs and JSON ("private").
std::string_view kind_name(Kind k);

// A unicast address reachable from the whole Internet: GlobalUnicast only, or Loopback when
// `allow_loopback` (a development switch for local runs and tests).
bool is_public_unicast(const Address& a, bool allow_loopback);

}  // namespace timepool::address
