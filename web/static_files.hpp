// Files served by the app itself, compiled in from web/static/ (no external assets).
#pragma once

#include <string_view>

namespace timepool::web {

std::string_view style_css();
// Live updates of the netspeed estimates (web/netspeed_rates.hpp); the forms work without it.
std::string_view netspeed_js();
// web/API.md, rendered as the /api page.
std::string_view api_md();

}  // namespace timepool::web
