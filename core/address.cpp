#include "core/address.hpp"

#include <cstdio>
#include <vector>

namespace timepool::address {

namespace {

constexpr size_t kMaxV6Text = 45;  // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::array<uint8_t, 4>> parse_v4_bytes(std::string_view s) {
  std::array<uint8_t, 4> out{};
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
    size_t start = i;
    unsigned value = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    size_t len = i - start;
    if (len == 0 || value > 255) return std::nullopt;
    // A leading zero reads as octal to inet_aton: refuse it rather than guess.
    if (len > 1 && s[start] == '0') return std::nullopt;
    out[part] = static_cast<uint8_t>(value);
  }
  if (i != s.size()) return std::nullopt;
  return out;
}

// RFC 4291 section 2.2 text forms.
std::optional<std::array<uint8_t, 16>> parse_v6_bytes(std::string_view s) {
  if (s.size() < 2 || s.size() > kMaxV6Text) return std::nullopt;
  std::array<uint16_t, 8> head{}, tail{};
  int nhead = 0, ntail = 0;
  bool compressed = false;
  size_t i = 0;
  if (s[0] == ':') {
    if (s[1] != ':') return std::nullopt;
    compressed = true;
    i = 2;
  }
  auto push = [&](uint16_t g) {
    if (compressed) {
      if (ntail >= 8) return false;
      tail[ntail++] = g;
    } else {
      if (nhead >= 8) return false;
      head[nhead++] = g;
    }
    return true;
  };
  while (i < s.size()) {
    size_t j = s.find(':', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view piece = s.substr(i, j - i);
    if (piece.empty()) return std::nullopt;
    if (piece.find('.') != std::string_view::npos) {
      // An embedded IPv4 address ends the text and fills the last two groups.
      if (j != s.size()) return std::nullopt;
      auto v4 = parse_v4_bytes(piece);
      if (!v4) return std::nullopt;
      if (!push(static_cast<uint16_t>((*v4)[0] << 8 | (*v4)[1]))) return std::nullopt;
      if (!push(static_cast<uint16_t>((*v4)[2] << 8 | (*v4)[3]))) return std::nullopt;
      break;
    }
    if (piece.size() > 4) return std::nullopt;
    unsigned g = 0;
    for (char c : piece) {
      int h = hex_value(c);
      if (h < 0) return std::nullopt;
      g = g << 4 | static_cast<unsigned>(h);
    }
    if (!push(static_cast<uint16_t>(g))) return std::nullopt;
    if (j == s.size()) break;
    if (j + 1 < s.size() && s[j + 1] == ':') {
      if (compressed) return std::nullopt;  // a second "::"
      compressed = true;
      i = j + 2;
    } else {
      i = j + 1;
      if (i == s.size()) return std::nullopt;  // a trailing single ':'
    }
  }
  int total = nhead + ntail;
  // "::" stands for one or more zero groups.
  if (compressed ? total > 7 : total != 8) return std::nullopt;
  std::array<uint16_t, 8> groups{};
  for (int k = 0; k < nhead; ++k) groups[k] = head[k];
  for (int k = 0; k < ntail; ++k) groups[8 - ntail + k] = tail[k];
  std::array<uint8_t, 16> out{};
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(groups[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(groups[k] & 0xff);
  }
  return out;
}

struct Block {
  Address prefix;
  int bits;
  Kind kind;
};

Address must_parse(std::string_view text) {
  auto a = parse(text);
  // Only reached with the literals below; a typo there is caught by the unit tests.
  return a ? *a : Address();
}

const std::vector<Block>& blocks() {
  static const std::vector<Block> table = [] {
    struct Row {
      const char* prefix;
      int bits;
      Kind kind;
    };
    static const Row rows[] = {
        // IPv4 special-purpose address registry.
        {"0.0.0.0", 8, Kind::ThisNetwork},
        {"0.0.0.0", 32, Kind::Unspecified},
        {"10.0.0.0", 8, Kind::Private},
        {"100.64.0.0", 10, Kind::SharedCgnat},
        {"127.0.0.0", 8, Kind::Loopback},
        {"169.254.0.0", 16, Kind::LinkLocal},
        {"172.16.0.0", 12, Kind::Private},
        {"192.0.0.0", 24, Kind::IetfProtocol},
        {"192.0.0.0", 29, Kind::DsLite},
        {"192.0.0.8", 32, Kind::DummyAddress},
        {"192.0.0.9", 32, Kind::PcpAnycast},
        {"192.0.0.10", 32, Kind::TurnAnycast},
        {"192.0.0.170", 32, Kind::Nat64Discovery},
        {"192.0.0.171", 32, Kind::Nat64Discovery},
        {"192.0.2.0", 24, Kind::Documentation},
        {"192.31.196.0", 24, Kind::As112},
        {"192.52.193.0", 24, Kind::Amt},
        {"192.88.99.0", 24, Kind::SixToFourRelay},
        {"192.168.0.0", 16, Kind::Private},
        {"192.175.48.0", 24, Kind::As112},
        {"198.18.0.0", 15, Kind::Benchmarking},
        {"198.51.100.0", 24, Kind::Documentation},
        {"203.0.113.0", 24, Kind::Documentation},
        {"224.0.0.0", 4, Kind::Multicast},
        {"240.0.0.0", 4, Kind::Reserved},
        {"255.255.255.255", 32, Kind::Broadcast},
        // IPv6 special-purpose address registry.
        {"::", 128, Kind::Unspecified},
        {"::1", 128, Kind::Loopback},
        {"::", 96, Kind::V4Compatible},
        {"::ffff:0:0", 96, Kind::V4Mapped},
        {"64:ff9b::", 96, Kind::Nat64},
        {"64:ff9b:1::", 48, Kind::Nat64Local},
        {"100::", 64, Kind::DiscardOnly},
        {"100:0:0:1::", 64, Kind::DummyAddress},
        {"2001::", 23, Kind::IetfProtocol},
        {"2001::", 32, Kind::Teredo},
        {"2001:1::1", 128, Kind::PcpAnycast},
        {"2001:1::2", 128, Kind::TurnAnycast},
        {"2001:1::3", 128, Kind::DnsSdSrpAnycast},
        {"2001:2::", 48, Kind::Benchmarking},
        {"2001:3::", 32, Kind::Amt},
        {"2001:4:112::", 48, Kind::As112},
        {"2001:10::", 28, Kind::OrchidV1},
        {"2001:20::", 28, Kind::OrchidV2},
        {"2001:30::", 28, Kind::DroneRemoteId},
        {"2001:db8::", 32, Kind::Documentation},
        {"2002::", 16, Kind::SixToFour},
        {"2620:4f:8000::", 48, Kind::As112},
        {"3fff::", 20, Kind::Documentation},
        {"5f00::", 16, Kind::Srv6Sid},
        {"fc00::", 7, Kind::UniqueLocal},
        {"fe80::", 10, Kind::LinkLocal},
        {"fec0::", 10, Kind::SiteLocal},
        {"ff00::", 8, Kind::Multicast},
    };
    std::vector<Block> out;
    for (const auto& r : rows) out.push_back(Block{must_parse(r.prefix), r.bits, r.kind});
    return out;
  }();
  return table;
}

std::string v4_text(const uint8_t* b) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  return buf;
}

}  // namespace

Address Address::v4(uint32_t host_order) {
  return v4(std::array<uint8_t, 4>{static_cast<uint8_t>(host_order >> 24),
                                   static_cast<uint8_t>(host_order >> 16),
                                   static_cast<uint8_t>(host_order >> 8),
                                   static_cast<uint8_t>(host_order)});
}

Address Address::v4(const std::array<uint8_t, 4>& bytes) {
  Address a;
  a.family_ = Family::V4;
  for (int i = 0; i < 4; ++i) a.bytes_[i] = bytes[i];
  return a;
}

Address Address::v6(const std::array<uint8_t, 16>& bytes) {
  Address a;
  a.family_ = Family::V6;
  a.bytes_ = bytes;
  return a;
}

uint32_t Address::v4_host_order() const {
  return static_cast<uint32_t>(bytes_[0]) << 24 | static_cast<uint32_t>(bytes_[1]) << 16 |
         static_cast<uint32_t>(bytes_[2]) << 8 | static_cast<uint32_t>(bytes_[3]);
}

bool Address::in(const Address& prefix, int bits) const {
  if (family_ != prefix.family_) return false;
  int max = is_v4() ? 32 : 128;
  if (bits < 0 || bits > max) return false;
  int full = bits / 8;
  for (int i = 0; i < full; ++i)
    if (bytes_[i] != prefix.bytes_[i]) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes_[full] & mask) == (prefix.bytes_[full] & mask);
}

std::string Address::to_string() const {
  if (is_v4()) return v4_text(bytes_.data());
  std::array<unsigned, 8> g{};
  for (int k = 0; k < 8; ++k) g[k] = static_cast<unsigned>(bytes_[2 * k]) << 8 | bytes_[2 * k + 1];
  bool mapped = g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff;
  int groups = mapped ? 6 : 8;
  // RFC 5952 section 4.2: shorten the longest run (the first on a tie) of at least two zeros.
  int best = -1, best_len = 0;
  for (int k = 0; k < groups;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    int start = k;
    while (k < groups && g[k] == 0) ++k;
    if (k - start > best_len) {
      best = start;
      best_len = k - start;
    }
  }
  if (best_len < 2) best = -1;
  std::string out;
  for (int k = 0; k < groups;) {
    if (k == best) {
      out += "::";
      k += best_len;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    char buf[8];
    std::snprintf(buf, sizeof buf, "%x", g[k]);
    out += buf;
    ++k;
  }
  if (mapped) {
    if (out.back() != ':') out += ':';
    out += v4_text(bytes_.data() + 12);
  }
  return out;
}

std::optional<Address> parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    auto b = parse_v6_bytes(text);
    if (!b) return std::nullopt;
    return Address::v6(*b);
  }
  auto b = parse_v4_bytes(text);
  if (!b) return std::nullopt;
  return Address::v4(*b);
}

Kind classify(const Address& a) {
  const Block* best = nullptr;
  for (const auto& b : blocks()) {
    if (a.in(b.prefix, b.bits) && (best == nullptr || b.bits > best->bits)) best = &b;
  }
  if (best != nullptr) return best->kind;
  // Only 2000::/3 is allocated for global unicast; the rest is reserved by the IETF.
  if (a.is_v6() && (a.bytes()[0] & 0xe0) != 0x20) return Kind::Reserved;
  return Kind::GlobalUnicast;
}

bool is_public_unicast(const Address& a, bool allow_loopback) {
  Kind k = classify(a);
  return k == Kind::GlobalUnicast || (allow_loopback && k == Kind::Loopback);
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::GlobalUnicast: return "global-unicast";
    case Kind::Unspecified: return "unspecified";
    case Kind::ThisNetwork: return "this-network";
    case Kind::Private: return "private";
    case Kind::SharedCgnat: return "shared";
    case Kind::Loopback: return "loopback";
    case Kind::LinkLocal: return "link-local";
    case Kind::IetfProtocol: return "ietf-protocol";
    case Kind::DsLite: return "ds-lite";
    case Kind::DummyAddress: return "dummy";
    case Kind::PcpAnycast: return "pcp-anycast";
    case Kind::TurnAnycast: return "turn-anycast";
    case Kind::DnsSdSrpAnycast: return "dns-sd-srp-anycast";
    case Kind::Nat64Discovery: return "nat64-discovery";
    case Kind::Documentation: return "documentation";
    case Kind::As112: return "as112";
    case Kind::Amt: return "amt";
    case Kind::SixToFourRelay: return "6to4-relay";
    case Kind::Benchmarking: return "benchmarking";
    case Kind::Multicast: return "multicast";
    case Kind::Reserved: return "reserved";
    case Kind::Broadcast: return "broadcast";
    case Kind::V4Mapped: return "v4-mapped";
    case Kind::V4Compatible: return "v4-compatible";
    case Kind::Nat64: return "nat64";
    case Kind::Nat64Local: return "nat64-local";
    case Kind::DiscardOnly: return "discard-only";
    case Kind::Teredo: return "teredo";
    case Kind::OrchidV1: return "orchid";
    case Kind::OrchidV2: return "orchid-v2";
    case Kind::DroneRemoteId: return "drone-remote-id";
    case Kind::SixToFour: return "6to4";
    case Kind::Srv6Sid: return "srv6-sid";
    case Kind::UniqueLocal: return "unique-local";
    case Kind::SiteLocal: return "site-local";
  }
  return "unknown";
}

std::string_view describe(Kind k) {
  switch (k) {
    case Kind::GlobalUnicast: return "global unicast";
    case Kind::Unspecified: return "the unspecified address";
    case Kind::ThisNetwork: return "\"this network\" (RFC 791)";
    case Kind::Private: return "a private network (RFC 1918)";
    case Kind::SharedCgnat: return "shared address space for carrier-grade NAT (RFC 6598)";
    case Kind::Loopback: return "loopback";
    case Kind::LinkLocal: return "link-local";
    case Kind::IetfProtocol: return "reserved for IETF protocol assignments (RFC 6890)";
    case Kind::DsLite: return "the DS-Lite IPv4 service continuity prefix (RFC 7335)";
    case Kind::DummyAddress: return "a dummy address (RFC 7600, RFC 9780)";
    case Kind::PcpAnycast: return "the PCP anycast address (RFC 7723)";
    case Kind::TurnAnycast: return "the TURN anycast address (RFC 8155)";
    case Kind::DnsSdSrpAnycast: return "the DNS-SD SRP anycast address (RFC 9665)";
    case Kind::Nat64Discovery: return "a NAT64/DNS64 discovery address (RFC 7050)";
    case Kind::Documentation: return "reserved for documentation (RFC 5737, RFC 3849, RFC 9637)";
    case Kind::As112: return "AS112 DNS service (RFC 7534, RFC 7535)";
    case Kind::Amt: return "automatic multicast tunneling (RFC 7450)";
    case Kind::SixToFourRelay: return "the deprecated 6to4 relay anycast prefix (RFC 7526)";
    case Kind::Benchmarking: return "reserved for benchmarking (RFC 2544, RFC 5180)";
    case Kind::Multicast: return "multicast";
    case Kind::Reserved: return "reserved";
    case Kind::Broadcast: return "the limited broadcast address";
    case Kind::V4Mapped: return "an IPv4-mapped IPv6 address (enter the IPv4 address itself)";
    case Kind::V4Compatible: return "a deprecated IPv4-compatible IPv6 address";
    case Kind::Nat64: return "the NAT64 well-known prefix (RFC 6052)";
    case Kind::Nat64Local: return "local-use IPv4/IPv6 translation (RFC 8215)";
    case Kind::DiscardOnly: return "the discard-only prefix (RFC 6666)";
    case Kind::Teredo: return "Teredo (RFC 4380)";
    case Kind::OrchidV1: return "deprecated ORCHID (RFC 4843)";
    case Kind::OrchidV2: return "ORCHIDv2 (RFC 7343)";
    case Kind::DroneRemoteId: return "drone remote ID (RFC 9374)";
    case Kind::SixToFour: return "6to4 (RFC 3056)";
    case Kind::Srv6Sid: return "SRv6 segment identifiers (RFC 9602)";
    case Kind::UniqueLocal: return "unique local (RFC 4193)";
    case Kind::SiteLocal: return "deprecated site-local (RFC 3879)";
  }
  return "unknown";
}

}  // namespace timepool::address
