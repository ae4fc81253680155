#include "core/version.hpp"
namespace timepool {
std::string_view version() { return "timepool 0.1.0"; }
}  // namespace timepool
