// What one probe saw, and how the best sample is chosen (pure; no I/O).
//
// A probe sends up to N packets. Each packet ends as one PacketSample: a timeout, a send
// error, a reply that gives no time (kiss-o'-death, unsynchronized, bad timestamps ...), or a
// time sample. choose_best() turns them into the ProbeResult that is scored:
//   1. a kiss-o'-death, stratum 0 or unsynchronized reply (leap 3 / stratum 16) wins outright:
//      it ends the probe at once, and a server that sends one must be scored for it even if an
//      earlier packet of the same probe was answered normally (rate limiters answer the first);
//   2. otherwise the valid sample with the lowest round-trip delay ("no error first, then
//      lowest round-trip");
//   3. otherwise the first reply that was rejected (its reason is the error);
//   4. otherwise the first send error (local_failure: not the server's fault);
//   5. otherwise no response.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/ntp.hpp"
#include "core/scoring.hpp"

namespace timepool::monitor {

struct PacketSample {
  enum class Kind { kTimeout, kSendError, kReply };
  Kind kind = Kind::kTimeout;
  ntp::Reason reason = ntp::Reason::kOk;  // for kReply
  ntp::Kiss kiss = ntp::Kiss::kNone;      // for kReply
  ntp::Packet packet;                      // for kReply
  std::string checks;                      // ntp::Checks::text() for kReply
  double offset_s = 0;                     // for kReply with reason kOk
  double delay_s = 0;                      // for kReply with reason kOk
  std::string error;                       // for kSendError

  // The reply ends the probe at once (kiss-o'-death, stratum 0, leap 3 or stratum 16).
  bool is_final() const;
};

struct ProbeResult {
  scoring::Outcome outcome = scoring::Outcome::kNoResponse;
  bool ok() const { return outcome == scoring::Outcome::kSample; }
  // From the chosen reply (when there was one).
  std::optional<double> offset_s;
  std::optional<double> rtt_s;
  std::optional<int> stratum;
  std::optional<int> leap;
  std::string refid;  // kiss code at stratum 0/1, dotted quad otherwise
  std::string kiss;   // "RATE", "DENY" ... for a kiss-o'-death
  std::string checks; // "1111|1111" (ntp::Checks::text())
  // Empty for a good sample; otherwise a short stable text: "timeout", "kod RATE",
  // "stratum 0 INIT", "unsynchronized", "root_distance", "send: Network is unreachable" ...
  std::string error;
  int packets_sent = 0;
  int replies = 0;  // replies that answered our request (valid or not)
  // No reply and at least one request could not leave this machine (no IPv6, no route, full
  // socket buffer): the fault is ours, so the daemon does not score the server for it.
  bool local_failure = false;
  // Every packet of the probe in the order sent (set by the Prober; what a monitor submits).
  std::vector<PacketSample> packets;
};

ProbeResult choose_best(std::span<const PacketSample> samples);

// The scoring outcome of a reply that gives no time sample.
scoring::Outcome outcome_of_reply(const PacketSample& s);

// One line for logs and for `timepool-monitor check`.
std::string describe(const ProbeResult& r);

}  // namespace timepool::monitor
