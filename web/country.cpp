#include "web/country.hpp"

#include "web/validate.hpp"

namespace timepool::web {

std::string pick_country(const geo::GeoDb* geo, const address::Address& a, std::string_view chosen) {
  if (geo != nullptr) {
    if (auto cc = geo->country(a)) return std::string(cc->str());
  }
  std::string c = trim(chosen);
  for (auto& ch : c) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
  }
  return c;
}

}  // namespace timepool::web
