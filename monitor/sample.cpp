#include "monitor/sample.hpp"

#include <fmt/format.h>

namespace timepool::monitor {

using scoring::Outcome;

bool PacketSample::is_final() const {
  return kind == Kind::kReply &&
         (reason == ntp::Reason::kKissOfDeath || reason == ntp::Reason::kUnsynchronized);
}

Outcome outcome_of_reply(const PacketSample& s) {
  if (s.reason == ntp::Reason::kOk) return Outcome::kSample;
  if (s.reason == ntp::Reason::kKissOfDeath) {
    switch (s.kiss) {
      case ntp::Kiss::kRate: return Outcome::kKissRate;
      case ntp::Kiss::kDeny: return Outcome::kKissDeny;
      case ntp::Kiss::kRstr: return Outcome::kKissRstr;
      default: return Outcome::kKissOther;
    }
  }
  return Outcome::kError;
}

namespace {

void fill_from_reply(ProbeResult& r, const PacketSample& s) {
  r.outcome = outcome_of_reply(s);
  r.stratum = s.packet.stratum;
  r.leap = s.packet.leap;
  r.refid = ntp::refid_text(s.packet);
  r.checks = s.checks;
  if (s.reason == ntp::Reason::kOk) {
    r.offset_s = s.offset_s;
    r.rtt_s = s.delay_s;
    r.error.clear();
  } else if (s.reason == ntp::Reason::kKissOfDeath) {
    r.kiss = ntp::kiss_code(s.packet.refid);
    r.error = (s.kiss == ntp::Kiss::kOther ? "stratum 0 " : "kod ") + r.kiss;
  } else {
    r.error = std::string(ntp::reason_name(s.reason));
  }
}

}  // namespace

ProbeResult choose_best(std::span<const PacketSample> samples) {
  ProbeResult r;
  r.error = "timeout";
  const PacketSample* best = nullptr;
  const PacketSample* first_bad = nullptr;
  const PacketSample* first_send_error = nullptr;
  for (const auto& s : samples) {
    if (s.kind != PacketSample::Kind::kSendError) ++r.packets_sent;
    if (s.kind == PacketSample::Kind::kReply) ++r.replies;
  }
  for (const auto& s : samples) {
    if (s.is_final()) {
      fill_from_reply(r, s);
      return r;
    }
    if (s.kind == PacketSample::Kind::kReply) {
      if (s.reason == ntp::Reason::kOk) {
        if (!best || s.delay_s < best->delay_s) best = &s;
      } else if (!first_bad) {
        first_bad = &s;
      }
    } else if (s.kind == PacketSample::Kind::kSendError && !first_send_error) {
      first_send_error = &s;
    }
  }
  if (best) {
    fill_from_reply(r, *best);
  } else if (first_bad) {
    fill_from_reply(r, *first_bad);
  } else if (first_send_error) {
    r.outcome = Outcome::kError;
    r.error = "send: " + first_send_error->error;
    r.local_failure = true;
  }
  return r;
}

std::string describe(const ProbeResult& r) {
  std::string s;
  if (r.ok()) {
    s = fmt::format("offset {:+.6f} s, rtt {:.6f} s, stratum {}, leap {}, refid {}", *r.offset_s,
                    *r.rtt_s, *r.stratum, *r.leap, r.refid);
  } else {
    s = "error: " + r.error;
    if (r.stratum) s += fmt::format(" (stratum {}, leap {}, refid {})", *r.stratum, *r.leap, r.refid);
  }
  s += fmt::format("; {} sent, {} answered", r.packets_sent, r.replies);
  if (!r.checks.empty()) s += ", tests " + r.checks;
  return s;
}

}  // namespace timepool::monitor
