// Files served by the app itself, compiled in from web/static/ (no external assets).
#pragma once

#include <string_view>

namespace timepool::web {

std::string_view style_css();

}  // namespace timepool::web
