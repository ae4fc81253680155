#include "server/wire_writer.hpp"

namespace timepool::server {

void WireWriter::name(const uint8_t* name, size_t name_len) {
  const size_t start = len_;
  for (size_t i = 0; name[i] != 0; i += name[i] + 1u) {
    for (size_t c = 0; c < ncomp_; ++c) {
      if (comp_[c].len == name_len - i && std::memcmp(comp_[c].name, name + i, name_len - i) == 0) {
        bytes(name, i);
        u16(static_cast<uint16_t>(kPointer | comp_[c].offset));
        if (ok_) remember_prefix(name, name_len, i, start);
        return;
      }
    }
  }
  bytes(name, name_len);
  if (ok_) remember(name, name_len, start);
}

}  // namespace timepool::server
