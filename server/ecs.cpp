#include "server/ecs.hpp"

#include <algorithm>

namespace timepool::ecs {

std::string_view error_name(Error e) {
  switch (e) {
    case Error::None: return "none";
    case Error::Truncated: return "truncated";
    case Error::BadFamily: return "bad family";
    case Error::PrefixTooLong: return "source prefix too long";
    case Error::ScopeNotZero: return "scope prefix not 0 in a query";
    case Error::WrongAddressLength: return "wrong address length";
    case Error::BitsBeyondPrefix: return "address bits set beyond the source prefix";
  }
  return "?";
}

Parsed parse(std::span<const uint8_t> data) {
  Parsed out;
  if (data.size() < 4) return Parsed{Error::Truncated, {}};
  uint16_t family = static_cast<uint16_t>((data[0] << 8) | data[1]);
  uint8_t source = data[2];
  uint8_t scope = data[3];
  size_t max_bits;
  if (family == kFamilyV4) {
    max_bits = 32;
  } else if (family == kFamilyV6) {
    max_bits = 128;
  } else {
    return Parsed{Error::BadFamily, {}};
  }
  if (source > max_bits) return Parsed{Error::PrefixTooLong, {}};
  if (scope != 0) return Parsed{Error::ScopeNotZero, {}};
  auto addr = data.subspan(4);
  size_t need = (static_cast<size_t>(source) + 7) / 8;
  if (addr.size() != need) return Parsed{Error::WrongAddressLength, {}};
  if (source % 8 != 0) {
    uint8_t host_mask = static_cast<uint8_t>(0xff >> (source % 8));
    if (addr[need - 1] & host_mask) return Parsed{Error::BitsBeyondPrefix, {}};
  }
  out.subnet.family = family;
  out.subnet.source_prefix = source;
  out.subnet.scope_prefix = scope;
  if (family == kFamilyV4) {
    std::array<uint8_t, 4> b{};
    std::copy(addr.begin(), addr.end(), b.begin());
    out.subnet.address = address::Address::v4(b);
  } else {
    std::array<uint8_t, 16> b{};
    std::copy(addr.begin(), addr.end(), b.begin());
    out.subnet.address = address::Address::v6(b);
  }
  return out;
}

bool usable(const ClientSubnet& s) {
  return s.source_prefix > 0 && address::is_public_unicast(s.address, false);
}

Echo make_echo(const ClientSubnet& query, uint8_t scope) {
  Echo e;
  size_t max_bits = query.family == kFamilyV4 ? 32 : 128;
  scope = static_cast<uint8_t>(std::min<size_t>(scope, max_bits));
  e.data[0] = static_cast<uint8_t>(query.family >> 8);
  e.data[1] = static_cast<uint8_t>(query.family & 0xff);
  e.data[2] = query.source_prefix;
  e.data[3] = scope;
  size_t n = (static_cast<size_t>(query.source_prefix) + 7) / 8;
  const auto& b = query.address.bytes();
  std::copy(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n), e.data.begin() + 4);
  e.size = static_cast<uint8_t>(4 + n);
  return e;
}

ClientLocation locate(const geo::GeoDb* geo, const address::Address& resolver,
                      std::optional<std::span<const uint8_t>> ecs_data) {
  ClientLocation loc;
  loc.address = resolver;
  std::optional<ClientSubnet> subnet;
  if (ecs_data) {
    Parsed p = parse(*ecs_data);
    loc.ecs_error = p.error;
    if (p.error == Error::None) subnet = p.subnet;
  }
  uint8_t scope = 0;
  if (subnet && usable(*subnet)) {
    loc.address = subnet->address;
    loc.from_ecs = true;
    if (geo) {
      geo::GeoResult r = geo->lookup(loc.address);
      loc.country = r.country;
      // The answer holds for the whole block the database maps alike (RFC 7871 7.2.1).
      scope = r.prefix_len;
    }
  } else if (geo && address::is_public_unicast(resolver, false)) {
    loc.country = geo->lookup(resolver).country;
  }
  if (subnet) loc.echo = make_echo(*subnet, scope);
  return loc;
}

std::string debug_text(const ClientLocation& loc, std::string_view zone_name,
                       std::string_view reason) {
  std::string out = "address=" + loc.address.to_string();
  out += loc.from_ecs ? " source=ecs" : " source=resolver";
  if (loc.ecs_error != Error::None) out += " ecs-error=" + std::string(error_name(loc.ecs_error));
  out += " country=" + (loc.country ? std::string(loc.country->str()) : std::string("unknown"));
  out += " zone=" + std::string(zone_name);
  out += " reason=" + std::string(reason);
  return out;
}

}  // namespace timepool::ecs
