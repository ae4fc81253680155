// The on-disk snapshot parser: any text either throws std::runtime_error or parses into data
// that builds a snapshot and formats back to text that parses to the same thing.
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "server/snapshot.hpp"

using namespace timepool::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  uint32_t serial = 0;
  SourceData src;
  try {
    src = parse_source(text, &serial);
  } catch (const std::runtime_error&) {
    return 0;
  }
  auto snap = Snapshot::build(src, serial);
  (void)snap->names();
  const std::string again = format_source(src, serial);
  uint32_t serial2 = 0;
  SourceData src2;
  try {
    src2 = parse_source(again, &serial2);
  } catch (const std::runtime_error&) {
    std::abort();  // what we write we must read back
  }
  if (serial2 != serial || format_source(src2, serial2) != again) std::abort();
  return 0;
}
