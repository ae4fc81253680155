// core/address on any bytes, both ways: text -> parse -> to_string -> parse must give the same
// address and the same text (to_string() is canonical), and raw 4- or 16-byte addresses ->
// to_string -> parse must give them back. Classification must not depend on the spelling.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/address.hpp"

using namespace timepool;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_canonical(const address::Address& a) {
  const std::string s = a.to_string();
  check(!s.empty() && s.size() <= 45);  // INET6_ADDRSTRLEN - 1
  const auto b = address::parse(s);
  check(b && *b == a && b->to_string() == s);
  check(b->family() == a.family() && b->bytes() == a.bytes());
  check(address::classify(*b) == address::classify(a));
  check(a.in(a, a.is_v4() ? 32 : 128) && a.in(a, 0));
  if (a.is_v4()) check(address::Address::v4(a.v4_host_order()) == a);
  const address::Kind k = address::classify(a);
  check(!address::describe(k).empty() && !address::kind_name(k).empty());
  if (address::is_public_unicast(a, false)) check(k == address::Kind::GlobalUnicast);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto a = address::parse(text)) {
    check_canonical(*a);
    // Parsing is exact: the input with anything appended or cut short is another question,
    // but the input itself with surrounding space is never an address.
    check(!address::parse(" " + std::string(text)) && !address::parse(std::string(text) + " "));
  }
  // The bytes as an address.
  if (size >= 16) {
    std::array<uint8_t, 16> b16{};
    std::memcpy(b16.data(), data, 16);
    check_canonical(address::Address::v6(b16));
  }
  if (size >= 4) {
    std::array<uint8_t, 4> b4{};
    std::memcpy(b4.data(), data, 4);
    const auto a = address::Address::v4(b4);
    check_canonical(a);
    check(a.to_string() == std::to_string(b4[0]) + "." + std::to_string(b4[1]) + "." +
                               std::to_string(b4[2]) + "." + std::to_string(b4[3]));
  }
  return 0;
}
