#include "core/ntp.hpp"

#include <cmath>

namespace timepool::ntp {
namespace {

constexpr uint64_t kNanosPerSecond = 1000000000ULL;

uint32_t get32(std::span<const uint8_t> b, std::size_t off) {
  return (uint32_t{b[off]} << 24) | (uint32_t{b[off + 1]} << 16) | (uint32_t{b[off + 2]} << 8) |
         uint32_t{b[off + 3]};
}

uint64_t get64(std::span<const uint8_t> b, std::size_t off) {
  return (uint64_t{get32(b, off)} << 32) | get32(b, off + 4);
}

void put32(std::span<uint8_t> b, std::size_t off, uint32_t v) {
  b[off] = static_cast<uint8_t>(v >> 24);
  b[off + 1] = static_cast<uint8_t>(v >> 16);
  b[off + 2] = static_cast<uint8_t>(v >> 8);
  b[off + 3] = static_cast<uint8_t>(v);
}

void put64(std::span<uint8_t> b, std::size_t off, uint64_t v) {
  put32(b, off, static_cast<uint32_t>(v >> 32));
  put32(b, off + 4, static_cast<uint32_t>(v));
}

// Floor division for possibly negative nanosecond counts.
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

// RFC 5905 figure 8: LI(2) VN(3) Mode(3) | Stratum | Poll | Precision | Root Delay | Root
// Dispersion | Reference ID | Reference | Origin | Receive | Transmit timestamps.
std::array<uint8_t, kHeaderSize> encode(const Packet& p) {
  std::array<uint8_t, kHeaderSize> out{};
  out[0] = static_cast<uint8_t>(((p.leap & 0x3) << 6) | ((p.version & 0x7) << 3) |
                                (static_cast<uint8_t>(p.mode) & 0x7));
  out[1] = p.stratum;
  out[2] = static_cast<uint8_t>(p.poll);
  out[3] = static_cast<uint8_t>(p.precision);
  put32(out, 4, p.root_delay);
  put32(out, 8, p.root_dispersion);
  put32(out, 12, p.refid);
  put64(out, 16, p.reference);
  put64(out, 24, p.origin);
  put64(out, 32, p.receive);
  put64(out, 40, p.transmit);
  return out;
}

std::optional<Packet> decode(std::span<const uint8_t> b) {
  if (b.size() < kHeaderSize) return std::nullopt;
  Packet p;
  p.leap = static_cast<uint8_t>(b[0] >> 6);
  p.version = static_cast<uint8_t>((b[0] >> 3) & 0x7);
  p.mode = static_cast<Mode>(b[0] & 0x7);
  p.stratum = b[1];
  p.poll = static_cast<int8_t>(b[2]);
  p.precision = static_cast<int8_t>(b[3]);
  p.root_delay = get32(b, 4);
  p.root_dispersion = get32(b, 8);
  p.refid = get32(b, 12);
  p.reference = get64(b, 16);
  p.origin = get64(b, 24);
  p.receive = get64(b, 32);
  p.transmit = get64(b, 40);
  return p;
}

std::array<uint8_t, kHeaderSize> make_request(uint64_t transmit, uint8_t version) {
  Packet p;
  p.leap = 0;
  p.version = version;
  p.mode = Mode::kClient;
  p.transmit = transmit;
  return encode(p);
}

uint64_t to_ntp(TimePoint t) {
  const int64_t ns = t.time_since_epoch().count();
  const int64_t unix_sec = floor_div(ns, static_cast<int64_t>(kNanosPerSecond));
  const auto nsec = static_cast<uint64_t>(ns - unix_sec * static_cast<int64_t>(kNanosPerSecond));
  // Rounded to the nearest 2^-32 s; nsec < 1e9 keeps the result below 2^32 (no carry).
  const uint64_t frac = ((nsec << 32) + kNanosPerSecond / 2) / kNanosPerSecond;
  // Reducing modulo 2^32 seconds drops the era number (RFC 5905 section 6).
  const auto sec = static_cast<uint32_t>(static_cast<uint64_t>(unix_sec + kNtpUnixOffset));
  return (uint64_t{sec} << 32) | frac;
}

TimePoint from_ntp(uint64_t ts, TimePoint pivot) {
  const int64_t pivot_ns = pivot.time_since_epoch().count();
  const int64_t pivot_ntp_sec =
      floor_div(pivot_ns, static_cast<int64_t>(kNanosPerSecond)) + kNtpUnixOffset;
  // The seconds field differs from the pivot's by less than 2^31 in the era nearest the pivot.
  const auto delta = static_cast<int32_t>(static_cast<uint32_t>(ts >> 32) -
                                          static_cast<uint32_t>(pivot_ntp_sec));
  int64_t unix_sec = pivot_ntp_sec + delta - kNtpUnixOffset;
  const uint64_t frac = ts & 0xffffffffULL;
  uint64_t nsec = (frac * kNanosPerSecond + (uint64_t{1} << 31)) >> 32;
  if (nsec >= kNanosPerSecond) {
    nsec -= kNanosPerSecond;
    ++unix_sec;
  }
  return TimePoint(std::chrono::nanoseconds(unix_sec * static_cast<int64_t>(kNanosPerSecond) +
                                            static_cast<int64_t>(nsec)));
}

double diff_seconds(uint64_t a, uint64_t b) {
  // Two's complement subtraction gives the signed 32.32 difference modulo 2^64, i.e. across
  // an era boundary as long as the true difference is within +-2^31 s.
  return static_cast<double>(static_cast<int64_t>(a - b)) / 4294967296.0;
}

double short_to_seconds(uint32_t v) { return static_cast<double>(v) / 65536.0; }

std::string kiss_code(uint32_t refid) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto c = static_cast<unsigned char>(refid >> shift);
    s.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : (c == 0 ? '\0' : '?'));
  }
  while (!s.empty() && s.back() == '\0') s.pop_back();
  for (char& c : s) {
    if (c == '\0') c = '?';
  }
  return s;
}

Kiss classify_kiss(const Packet& p) {
  if (p.stratum != 0) return Kiss::kNone;
  const std::string code = kiss_code(p.refid);
  if (code == "RATE") return Kiss::kRate;
  if (code == "DENY") return Kiss::kDeny;
  if (code == "RSTR") return Kiss::kRstr;
  return Kiss::kOther;
}

std::string refid_text(const Packet& p) {
  if (p.stratum <= 1) return kiss_code(p.refid);
  return std::to_string(p.refid >> 24) + "." + std::to_string((p.refid >> 16) & 0xff) + "." +
         std::to_string((p.refid >> 8) & 0xff) + "." + std::to_string(p.refid & 0xff);
}

std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::kOk: return "ok";
    case Reason::kShort: return "short";
    case Reason::kOversized: return "oversized";
    case Reason::kBadLength: return "bad_length";
    case Reason::kWrongMode: return "wrong_mode";
    case Reason::kWrongVersion: return "wrong_version";
    case Reason::kOriginMismatch: return "origin_mismatch";
    case Reason::kKissOfDeath: return "kod";
    case Reason::kZeroTransmit: return "zero_transmit";
    case Reason::kZeroReceive: return "zero_receive";
    case Reason::kUnsynchronized: return "unsynchronized";
    case Reason::kRootDistance: return "root_distance";
  }
  return "unknown";
}

bool is_reply(Reason r) {
  switch (r) {
    case Reason::kOk:
    case Reason::kKissOfDeath:
    case Reason::kZeroTransmit:
    case Reason::kZeroReceive:
    case Reason::kUnsynchronized:
    case Reason::kRootDistance:
      return true;
    default:
      return false;
  }
}

Reason check_length(std::size_t size) {
  if (size < kHeaderSize) return Reason::kShort;
  if (size > kMaxPacketSize) return Reason::kOversized;
  if (size % 4 != 0) return Reason::kBadLength;
  return Reason::kOk;
}

std::string Checks::text() const {
  std::string s;
  for (bool b : {length, mode, version, origin}) s.push_back(b ? '1' : '0');
  s.push_back('|');
  for (bool b : {not_kiss, timestamps, synchronized, distance}) s.push_back(b ? '1' : '0');
  return s;
}

Verdict check_reply(std::span<const uint8_t> bytes, const Request& req, double max_root_distance) {
  Verdict v;
  const Reason len = check_length(bytes.size());
  v.checks.length = len == Reason::kOk;
  if (!v.checks.length) {
    v.reason = len;
    return v;
  }
  v.packet = *decode(bytes);
  const Packet& p = v.packet;
  Checks& c = v.checks;
  c.mode = p.mode == Mode::kServer;
  // A server answers with the version it speaks, at most ours: NTPv3 servers answer a v4
  // request with v3, and chrony and ntpd take such replies. Older versions are not taken.
  c.version = p.version == req.version || (p.version >= kMinReplyVersion && p.version < req.version);
  c.origin = p.origin == req.transmit;
  c.not_kiss = p.stratum != 0;
  c.timestamps = p.receive != 0 && p.transmit != 0;
  c.synchronized = p.leap != 3 && p.stratum < 16;
  c.distance =
      short_to_seconds(p.root_delay) / 2 + short_to_seconds(p.root_dispersion) < max_root_distance;
  v.kiss = classify_kiss(p);

  if (!c.mode) v.reason = Reason::kWrongMode;
  else if (!c.version) v.reason = Reason::kWrongVersion;
  else if (!c.origin) v.reason = Reason::kOriginMismatch;
  // A kiss-o'-death echoes our timestamps and carries LI=3; it is recognized before the
  // timestamp and synchronization tests, which it would fail for a different reason.
  else if (!c.not_kiss) v.reason = Reason::kKissOfDeath;
  else if (p.transmit == 0) v.reason = Reason::kZeroTransmit;
  else if (p.receive == 0) v.reason = Reason::kZeroReceive;
  else if (!c.synchronized) v.reason = Reason::kUnsynchronized;
  else if (!c.distance) v.reason = Reason::kRootDistance;
  else v.reason = Reason::kOk;
  return v;
}

OffsetDelay offset_delay(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4) {
  OffsetDelay r;
  r.offset_s = (diff_seconds(t2, t1) + diff_seconds(t3, t4)) / 2;
  r.delay_s = diff_seconds(t4, t1) - diff_seconds(t3, t2);
  return r;
}

}  // namespace timepool::ntp
