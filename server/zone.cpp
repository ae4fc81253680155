#include "server/zone.hpp"

namespace timepool::server {

std::optional<ZoneKind> parse_zone_kind(std::string_view text) {
  if (text == "global") return ZoneKind::Global;
  if (text == "continent") return ZoneKind::Continent;
  if (text == "country") return ZoneKind::Country;
  if (text == "vendor") return ZoneKind::Vendor;
  return std::nullopt;
}

std::string_view zone_kind_name(ZoneKind k) {
  switch (k) {
    case ZoneKind::Global: return "global";
    case ZoneKind::Continent: return "continent";
    case ZoneKind::Country: return "country";
    case ZoneKind::Vendor: return "vendor";
  }
  return "?";
}

std::optional<ClientType> parse_client_type(std::string_view text) {
  if (text == "ntp") return ClientType::Ntp;
  if (text == "sntp") return ClientType::Sntp;
  if (text == "both") return ClientType::Both;
  return std::nullopt;
}

std::string_view client_type_name(ClientType c) {
  switch (c) {
    case ClientType::Ntp: return "ntp";
    case ClientType::Sntp: return "sntp";
    case ClientType::Both: return "both";
  }
  return "?";
}

}  // namespace timepool::server
