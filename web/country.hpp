// The country a new server joins: GeoIP's answer when a database is configured and knows the
// address, else the volunteer's choice from the list. Pure; the caller checks that the result
// is a country zone (and resolves aliases such as uk -> gb).
#pragma once

#include <string>
#include <string_view>

#include "core/address.hpp"
#include "core/geo.hpp"

namespace timepool::web {

std::string pick_country(const geo::GeoDb* geo, const address::Address& a, std::string_view chosen);

}  // namespace timepool::web
