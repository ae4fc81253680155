#include "server/dns_wire.hpp"

#include <stdexcept>

namespace timepool::server {

std::vector<uint8_t> name_to_wire(std::string_view dotted) {
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  std::vector<uint8_t> out;
  while (!dotted.empty()) {
    const size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    if (label.empty() || label.size() > 63) {
      throw std::invalid_argument("bad DNS name label '" + std::string(label) + "'");
    }
    out.push_back(static_cast<uint8_t>(label.size()));
    for (char ch : label) out.push_back(ascii_lower(static_cast<uint8_t>(ch)));
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  out.push_back(0);
  if (out.size() > kMaxNameSize) throw std::invalid_argument("DNS name longer than 255 bytes");
  return out;
}

std::string wire_to_name(std::span<const uint8_t> wire) {
  std::string out;
  for (size_t i = 0; i < wire.size() && wire[i] != 0; i += wire[i] + 1u) {
    if (i + 1 + wire[i] > wire.size()) break;
    out.append(reinterpret_cast<const char*>(wire.data() + i + 1), wire[i]);
    out += '.';
  }
  return out.empty() ? "." : out;
}

}  // namespace timepool::server
