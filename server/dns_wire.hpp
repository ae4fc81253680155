// DNS wire format constants and name conversions shared by the query parser, the response
// writer and the answer steps (RFC 1035 section 4.1, RFC 6891, RFC 4035).
//
// Pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace timepool::server {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameSize = 255;  // RFC 1035 section 2.3.4
inline constexpr size_t kUdpPlainMax = 512;  // without EDNS (RFC 1035 section 4.2.1)

// Header flags (RFC 1035 section 4.1.1), by the byte of the header they live in.
namespace flags {
// byte 2: QR | Opcode (4 bits) | AA | TC | RD
inline constexpr uint8_t kQR = 0x80;
inline constexpr uint8_t kOpcodeMask = 0x78;
inline constexpr uint8_t kOpcodeShift = 3;
inline constexpr uint8_t kAA = 0x04;
inline constexpr uint8_t kTC = 0x02;
inline constexpr uint8_t kRD = 0x01;
// byte 3: RA | Z | AD | CD (RFC 4035 section 3.1.6) | RCODE (4 bits)
inline constexpr uint8_t kCD = 0x10;
inline constexpr uint8_t kRcodeMask = 0x0F;
// The OPT record's flags (RFC 3225 section 3): DO is the top bit of the first flag byte.
inline constexpr uint8_t kDO = 0x80;
}  // namespace flags

// Header field offsets.
namespace hdr {
inline constexpr size_t kFlags1 = 2, kFlags2 = 3, kQdcount = 4, kAncount = 6, kNscount = 8,
                        kArcount = 10;
}

namespace rcode {
inline constexpr uint16_t kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kNotImp = 4,
                          kRefused = 5, kBadVers = 16;
}
namespace rrtype {
inline constexpr uint16_t kA = 1, kNS = 2, kSOA = 6, kHINFO = 13, kTXT = 16, kAAAA = 28,
                          kOPT = 41, kIXFR = 251, kAXFR = 252, kANY = 255;
}
namespace rrclass {
inline constexpr uint16_t kIN = 1, kCH = 3;
}

// A compression pointer (RFC 1035 section 4.1.4): the two top bits set, 14 bits of offset.
inline constexpr uint16_t kPointer = 0xC000;
inline constexpr size_t kMaxPointerTarget = 0x3FFF;

inline uint16_t get16(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint16_t>((b[off] << 8) | b[off + 1]);
}
inline uint8_t ascii_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
}

// "pool.example" or "pool.example." to lower-case wire format; throws std::invalid_argument
// for an empty label, a label over 63 bytes or a name over 255 bytes.
std::vector<uint8_t> name_to_wire(std::string_view dotted);
std::string wire_to_name(std::span<const uint8_t> wire);

}  // namespace timepool::server
