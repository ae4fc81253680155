#pragma once
#include <string_view>
namespace timepool {
// The release, reported by --version, CHAOS version.bind and the web footer.
std::string_view version();
}  // namespace timepool
