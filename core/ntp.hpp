// The NTP packet codec (RFC 5905): the 48-byte header by offsets, NTP <-> Unix time across eras,
// kiss codes, the four-timestamp offset and delay, and the checks a client applies to a reply.
//
// Everything here is pure: no clock, no socket, no allocation on the hot path. Callers pass the
// times they measured. Functions never throw on packet input; they return a verdict.
//
// Length policy (decided here, see check_length()): a reply is the 48-byte header, optionally
// followed by extension fields and/or a MAC (RFC 7822, RFC 5905 section 7.3). Those only ever
// add whole 32-bit words, so a valid packet's length is a multiple of 4; we never need their
// contents, so we do not parse them, but we accept packets up to kMaxPacketSize (1024 bytes:
// room for NTS cookies and a MAC) and reject anything larger as oversized.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace timepool::ntp {

constexpr std::size_t kHeaderSize = 48;
constexpr std::size_t kMaxPacketSize = 1024;
// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch).
constexpr int64_t kNtpUnixOffset = 2208988800LL;

enum class Mode : uint8_t {
  kReserved = 0,
  kSymmetricActive = 1,
  kSymmetricPassive = 2,
  kClient = 3,
  kServer = 4,
  kBroadcast = 5,
  kControl = 6,
  kPrivate = 7,
};

// Wall-clock time with nanosecond resolution (CLOCK_REALTIME).
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

// The header fields, decoded. Timestamps stay in the raw 64-bit format (32.32 fixed point,
// seconds since the start of their era); root delay/dispersion in the raw 16.16 short format.
struct Packet {
  uint8_t leap = 0;     // 0..3; 3 = unsynchronized ("alarm")
  uint8_t version = 4;  // 0..7
  Mode mode = Mode::kClient;
  uint8_t stratum = 0;  // 0 = kiss-o'-death / unspecified, 16 = unsynchronized
  int8_t poll = 0;
  int8_t precision = 0;
  uint32_t root_delay = 0;       // 16.16 seconds
  uint32_t root_dispersion = 0;  // 16.16 seconds
  uint32_t refid = 0;            // big-endian bytes as read (kiss code for stratum 0)
  uint64_t reference = 0;
  uint64_t origin = 0;
  uint64_t receive = 0;
  uint64_t transmit = 0;

  bool operator==(const Packet&) const = default;
};

// Header encode/decode by offsets (RFC 5905 figure 8). decode() needs at least 48 bytes and
// ignores anything after the header.
std::array<uint8_t, kHeaderSize> encode(const Packet& p);
std::optional<Packet> decode(std::span<const uint8_t> bytes);

// A client request (mode 3) whose transmit timestamp is `transmit`: callers put a random value
// there (as chrony does) so the reply's origin proves it answers us and the packet reveals
// nothing about our clock; every other timestamp is zero (RFC 5905 section 8).
std::array<uint8_t, kHeaderSize> make_request(uint64_t transmit, uint8_t version = 4);

// --- Time conversion -----------------------------------------------------------------------
// The 64-bit timestamp of `t`, reduced to its era (era 1 begins 2036-02-07 06:28:16 UTC).
uint64_t to_ntp(TimePoint t);
// The time that `ts` stands for, in whichever era puts it nearest `pivot` (within 68 years), as
// RFC 5905 section 6 recommends: a timestamp alone cannot name its era.
TimePoint from_ntp(uint64_t ts, TimePoint pivot);
// Signed difference a - b in seconds, correct across an era boundary for |a - b| < 68 years.
double diff_seconds(uint64_t a, uint64_t b);
// 16.16 short format to seconds.
double short_to_seconds(uint32_t v);

// --- Kiss codes ----------------------------------------------------------------------------
enum class Kiss {
  kNone,   // not a kiss-o'-death (stratum != 0)
  kRate,   // RATE: reduce the rate (RFC 5905 section 7.4)
  kDeny,   // DENY: access denied, stop
  kRstr,   // RSTR: access restricted, stop
  kOther,  // any other code (INIT, STEP, AUTH, ...), or a refid that is not ASCII
};
// The refid of a stratum-0 packet as four printable characters ("RATE"); non-printable bytes
// become '?' and trailing NULs are dropped.
std::string kiss_code(uint32_t refid);
Kiss classify_kiss(const Packet& p);
// The refid as text for logs: a kiss code at stratum 0/1, dotted quad otherwise.
std::string refid_text(const Packet& p);

// --- Validating a reply --------------------------------------------------------------------
// Why a packet was not accepted as a time sample. The first group means "not a reply to our
// request" (dropped, the probe keeps waiting); the second is a reply to us that gives no usable
// time and ends the probe.
enum class Reason {
  kOk,
  // Not a reply to us.
  kShort,           // fewer than 48 bytes
  kOversized,       // more than kMaxPacketSize
  kBadLength,       // not a whole number of 32-bit words after the header (RFC 7822)
  kWrongMode,       // not mode 4 (server)
  kWrongVersion,    // neither the version we sent nor an older one from kMinReplyVersion
  kOriginMismatch,  // origin != our transmit timestamp (RFC 5905 test2: bogus or replayed)
  // A reply to us without a usable time.
  kKissOfDeath,     // stratum 0: the refid is a kiss code
  kZeroTransmit,    // transmit timestamp zero (test3)
  kZeroReceive,     // receive timestamp zero (test3)
  kUnsynchronized,  // leap 3 or stratum >= 16 (test6)
  kRootDistance,    // root delay/2 + root dispersion too large (test7)
};
std::string_view reason_name(Reason r);  // "short", "kod", "unsynchronized" ...
// True for the reasons that mean "a reply to our request" (it ends the probe).
bool is_reply(Reason r);

// Length checks alone (kShort, kOversized, kBadLength or kOk).
Reason check_length(std::size_t size);

// The oldest reply version taken (NTPv3, RFC 1305): a v4 request may get a v3 answer.
inline constexpr uint8_t kMinReplyVersion = 3;

// What we sent, to check a reply against.
struct Request {
  uint64_t transmit = 0;  // the random transmit timestamp we sent (the reply's origin)
  uint8_t version = 4;
};

// chrony's named tests for one reply, each a bool, in the order they are applied.
struct Checks {
  bool length = false;       // 48..1024 bytes, whole words
  bool mode = false;         // mode 4
  bool version = false;      // the version we sent, or an older one down to NTPv3
  bool origin = false;       // test2
  bool not_kiss = false;     // stratum != 0
  bool timestamps = false;   // test3: receive and transmit non-zero
  bool synchronized = false; // test6: leap != 3, stratum <= 15
  bool distance = false;     // test7
  // "111|11111"-style text for logs (1 = passed), as in chrony's measurement log.
  std::string text() const;
};

struct Verdict {
  Reason reason = Reason::kShort;
  Checks checks;
  Packet packet;     // valid when reason is not kShort/kOversized/kBadLength
  Kiss kiss = Kiss::kNone;
};

constexpr double kDefaultMaxRootDistance = 1.5;  // seconds, as ntpd's MAXDIST

// Checks `bytes` as a reply to `req`. Never throws; any input gives a verdict.
Verdict check_reply(std::span<const uint8_t> bytes, const Request& req,
                    double max_root_distance = kDefaultMaxRootDistance);

// --- Offset and delay (RFC 5905 section 8) -------------------------------------------------
// t1: our transmit time (local clock), t2: server receive, t3: server transmit, t4: our
// receive time (local clock). offset = ((t2 - t1) + (t3 - t4)) / 2, delay = (t4 - t1) - (t3 - t2).
// Differences are taken in 64-bit fixed point, so an era boundary between them is harmless.
struct OffsetDelay {
  double offset_s = 0;
  double delay_s = 0;
};
OffsetDelay offset_delay(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4);

}  // namespace timepool::ntp
