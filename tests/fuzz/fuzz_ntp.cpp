// The NTP reply path as the monitor runs it, on any bytes: ntp::check_reply() against an
// arbitrary request, the offset/delay of an accepted reply, the PacketSample the prober builds
// from it, and choose_best() + the daemon's own scoring step (score_probe) over a probe of such
// samples. Plus the codec's round trips: decode(bytes) re-encodes to the same 48 bytes, a
// packet built from arbitrary field values survives encode -> decode, make_request() decodes
// to what was asked, and NTP timestamps survive from_ntp() -> to_ntp().
//
// Input: origin (8 bytes, big-endian: the transmit timestamp we sent), t1 and t4 (8 bytes each:
// our send and receive times, NTP format), one flags byte, then the datagram.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/ntp.hpp"
#include "core/scoring.hpp"
#include "monitor/probe_score.hpp"
#include "monitor/sample.hpp"

using namespace timepool;

namespace {

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void check(bool ok) {
  if (!ok) std::abort();
}

bool is_length_reason(ntp::Reason r) {
  return r == ntp::Reason::kShort || r == ntp::Reason::kOversized || r == ntp::Reason::kBadLength;
}

// The verdict must agree with its own checks and with the packet.
void check_verdict(const ntp::Verdict& v, std::span<const uint8_t> pkt, const ntp::Request& req) {
  check(!ntp::reason_name(v.reason).empty());
  if (pkt.size() < ntp::kHeaderSize) check(v.reason == ntp::Reason::kShort);
  if (pkt.size() > ntp::kMaxPacketSize) check(v.reason == ntp::Reason::kOversized);
  check(v.checks.length == !is_length_reason(v.reason));
  check(v.checks.text().size() >= 8);
  if (is_length_reason(v.reason)) {
    check(!ntp::is_reply(v.reason));
    return;
  }
  check(pkt.size() % 4 == 0);
  const auto again = ntp::decode(pkt);
  check(again && *again == v.packet);
  // A reply to us is exactly: mode 4, our version or an older one down to NTPv3, our origin.
  const bool version_ok =
      v.packet.version == req.version ||
      (v.packet.version >= ntp::kMinReplyVersion && v.packet.version < req.version);
  const bool ours = v.packet.mode == ntp::Mode::kServer && version_ok &&
                    v.packet.origin == req.transmit;
  check(ntp::is_reply(v.reason) == ours);
  if (v.reason == ntp::Reason::kOk) {
    const auto& c = v.checks;
    check(c.mode && c.version && c.origin && c.not_kiss && c.timestamps && c.synchronized &&
          c.distance);
    check(v.packet.stratum >= 1 && v.packet.stratum <= 15 && v.packet.leap != 3);
    check(v.kiss == ntp::Kiss::kNone);
  }
  if (v.reason == ntp::Reason::kKissOfDeath) check(v.packet.stratum == 0 && v.kiss != ntp::Kiss::kNone);
  if (v.packet.stratum != 0) check(v.kiss == ntp::Kiss::kNone);
  const std::string kiss = ntp::kiss_code(v.packet.refid);
  check(kiss.size() <= 4);
  for (char ch : kiss) check(ch >= 0x20 && ch < 0x7f);
  check(!ntp::refid_text(v.packet).empty() || v.packet.stratum <= 1);
}

// What Prober::handle_datagram() records for a datagram that check_reply() calls a reply.
monitor::PacketSample sample_of(const ntp::Verdict& v, uint64_t t1, uint64_t t4) {
  monitor::PacketSample s;
  s.kind = monitor::PacketSample::Kind::kReply;
  s.reason = v.reason;
  s.kiss = v.kiss;
  s.packet = v.packet;
  s.checks = v.checks.text();
  if (v.reason == ntp::Reason::kOk) {
    const auto od = ntp::offset_delay(t1, v.packet.receive, v.packet.transmit, t4);
    s.offset_s = od.offset_s;
    s.delay_s = od.delay_s;
  }
  return s;
}

void check_probe(std::span<const monitor::PacketSample> samples) {
  const monitor::ProbeResult r = monitor::choose_best(samples);
  check(r.packets_sent >= 0 && r.packets_sent <= static_cast<int>(samples.size()));
  check(r.replies <= r.packets_sent);
  check(r.ok() == r.error.empty());
  if (r.ok()) check(r.offset_s && r.rtt_s && r.stratum && std::isfinite(*r.offset_s));
  check(!monitor::describe(r).empty());
  // The daemon's own scoring step for this probe (monitor/probe_score.hpp).
  const ntp::TimePoint started{std::chrono::seconds(1700000000)};
  for (double score : {20.0, 0.0, -100.0}) {
    check(!monitor::score_probe(7, r, started, score, false).scored());
    const auto s = monitor::score_probe(7, r, started, score, true);
    check(s.scored() == !r.local_failure);
    if (!s.scored()) {
      check(s.score == score && s.unscored == monitor::Unscored::kLocalFailure);
      continue;
    }
    check(std::isfinite(s.step.step) && !s.step.rule.empty());
    check(std::isfinite(s.score) && s.score <= scoring::kMaxScore);
    if (s.step.cap) check(s.score <= *s.step.cap);
    check(s.record.server_id == 7 && s.record.score == s.score && s.record.step == s.step.step);
    check(s.record.error.has_value() == !r.ok());
    check(s.record.offset_s == r.offset_s && s.record.stratum == r.stratum);
  }
}

// Field values taken straight from the bytes (not through decode()), in their valid ranges.
ntp::Packet packet_from_fields(const uint8_t* f) {
  ntp::Packet p;
  p.leap = f[0] & 3;
  p.version = f[1] & 7;
  p.mode = static_cast<ntp::Mode>(f[2] & 7);
  p.stratum = f[3];
  p.poll = static_cast<int8_t>(f[4]);
  p.precision = static_cast<int8_t>(f[5]);
  p.root_delay = be32(f + 6);
  p.root_dispersion = be32(f + 10);
  p.refid = be32(f + 14);
  p.reference = be64(f + 18);
  p.origin = be64(f + 26);
  p.receive = be64(f + 34);
  p.transmit = be64(f + 42);
  return p;  // reads 50 bytes
}

void check_codec(std::span<const uint8_t> pkt, uint64_t origin, uint64_t t1) {
  if (pkt.size() >= ntp::kHeaderSize) {
    const auto p = ntp::decode(pkt);
    check(p.has_value());
    const auto wire = ntp::encode(*p);
    check(std::memcmp(wire.data(), pkt.data(), ntp::kHeaderSize) == 0);
  } else {
    check(!ntp::decode(pkt).has_value());
  }
  if (pkt.size() >= 50) {
    const ntp::Packet p = packet_from_fields(pkt.data());
    const auto wire = ntp::encode(p);
    const auto back = ntp::decode(wire);
    check(back && *back == p);
  }
  for (uint8_t version : {uint8_t{3}, uint8_t{4}}) {
    const auto req = ntp::make_request(origin, version);
    const auto q = ntp::decode(req);
    check(q && q->mode == ntp::Mode::kClient && q->version == version && q->transmit == origin &&
          q->origin == 0 && q->receive == 0 && q->reference == 0);
    // Our own request reflected back is never a reply.
    check(ntp::check_reply(req, ntp::Request{origin, version}).reason == ntp::Reason::kWrongMode);
  }
  // NTP time <-> wall clock with a pivot between 1970 and 2150 (the monitor's "now").
  const int64_t span_ns = int64_t{180} * 365 * 86400 * 1'000'000'000;
  const ntp::TimePoint pivot{std::chrono::nanoseconds(static_cast<int64_t>(t1 % span_ns))};
  const ntp::TimePoint t = ntp::from_ntp(origin, pivot);
  const double away = std::chrono::duration<double>(t - pivot).count();
  check(std::fabs(away) <= 2147483648.0 + 1);
  check(std::fabs(ntp::diff_seconds(ntp::to_ntp(t), origin)) < 1e-9);
  check(ntp::from_ntp(ntp::to_ntp(pivot), pivot) == pivot);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 25) return 0;
  const uint64_t origin = be64(data);
  const uint64_t t1 = be64(data + 8);
  const uint64_t t4 = be64(data + 16);
  const uint8_t flags = data[24];
  const std::span<const uint8_t> pkt(data + 25, size - 25);

  const ntp::Request req{origin, static_cast<uint8_t>(flags & 1 ? 3 : 4)};
  const double max_dist = flags & 2 ? 0.01 : ntp::kDefaultMaxRootDistance;
  const ntp::Verdict v = ntp::check_reply(pkt, req, max_dist);
  check_verdict(v, pkt, req);

  if (ntp::is_reply(v.reason)) {
    const monitor::PacketSample s = sample_of(v, t1, t4);
    if (v.reason == ntp::Reason::kOk) {
      check(std::isfinite(s.offset_s) && std::isfinite(s.delay_s));
      check(std::fabs(s.offset_s) <= 4294967296.0 && std::fabs(s.delay_s) <= 4294967296.0);
    }
    check(monitor::outcome_of_reply(s) == scoring::Outcome::kSample ||
          v.reason != ntp::Reason::kOk);
    // A probe of up to 8 packets: the flag bits say which of the others timed out, failed to
    // send, or got this same reply; the reply itself sits at position (flags >> 5).
    std::vector<monitor::PacketSample> probe;
    for (int i = 0; i < 8; ++i) {
      monitor::PacketSample other;
      const int sel = (flags >> (2 + i % 3)) & 1;
      if (i == (flags >> 5)) {
        probe.push_back(s);
      } else if (i < 3) {
        if (sel) {
          other.kind = monitor::PacketSample::Kind::kSendError;
          other.error = "Network is unreachable";
        }
        probe.push_back(other);
      }
    }
    check_probe(probe);
  } else {
    // A probe where nothing usable arrived.
    std::vector<monitor::PacketSample> probe(static_cast<size_t>(1 + flags % 3));
    if (flags & 4) probe.back().kind = monitor::PacketSample::Kind::kSendError;
    check_probe(probe);
  }

  check_codec(pkt, origin, t1);
  return 0;
}
