// A batch of raw probe results as a monitor submits it, its validation, and the central
// scoring of each result (pure; no I/O).
//
// A monitor reports what it saw, never a score: per probe the server, the probe's start time,
// its own clock state, and per packet either a timeout, a send error, or a reply (stratum, leap,
// refid, NTP version and either the four timestamps or offset and delay). The central side
// classifies each reply again from those fields (a stratum-0 reply is a kiss-o'-death whatever
// the monitor called it), chooses the best sample with monitor/sample's choose_best and scores
// it with monitor/probe_score, the same step the daemon used.
//
// A batch is accepted whole or refused whole: one malformed result, one result for a server the
// monitor was not assigned, one from the future or too far in the past refuses the batch, and
// nothing of it is written.
//
// The JSON form (to_json writes it, parse_batch reads it):
//   {"batch_id": "m12-000001",              1-64 of A-Z a-z 0-9 . _ -, chosen by the monitor
//    "results": [                            1..max_probes
//      {"server_id": 42, "started_us": 1700000000123456,      microseconds since 1970 (UTC)
//       "clock": {"synchronized": true, "est_error_s": 0.0001, "max_error_s": 0.002},
//       "packets": [                         1..max_packets, in the order sent
//         {"kind": "timeout"},
//         {"kind": "send_error", "error": "Network is unreachable"},
//         {"kind": "reply", "stratum": 2, "leap": 0, "version": 4, "refid": "7f000001",
//          "offset_s": 0.0012, "delay_s": 0.0104,            or "t1".."t4" (NTP 64-bit)
//          "rejected": "root_distance"}]}]}                  optional
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/ntp.hpp"
#include "monitor/probe_score.hpp"
#include "monitor/sample.hpp"

namespace timepool::monitor {

struct ClockState {
  bool synchronized = false;  // the kernel says the clock is synchronized
  double est_error_s = 0;     // the kernel's estimated error
  double max_error_s = 0;     // the kernel's maximum error
};

struct SubmittedPacket {
  PacketSample::Kind kind = PacketSample::Kind::kTimeout;
  // For kReply.
  int stratum = 0;
  int leap = 0;
  int version = 4;
  uint32_t refid = 0;
  double offset_s = 0;
  double delay_s = 0;
  // A reply the monitor rejected for a reason the fields above do not show ("root_distance",
  // "zero_transmit", "zero_receive"); empty when it found none.
  std::string rejected;
  std::string error;  // for kSendError
};

struct SubmittedProbe {
  int64_t server_id = 0;
  ntp::TimePoint started;
  ClockState clock;
  std::vector<SubmittedPacket> packets;
};

struct Batch {
  std::string batch_id;
  std::vector<SubmittedProbe> probes;
};

// Why a batch was refused. `code` is the metric label; `message` is for the monitor's log.
struct Refusal {
  enum class Code { kMalformed, kUnassigned, kFuture, kTooOld };
  Code code = Code::kMalformed;
  std::string message;
};
std::string_view code_name(Refusal::Code c);  // "malformed", "unassigned", "future", "too_old"

struct BatchLimits {
  std::size_t max_probes = 5000;
  std::size_t max_packets = 16;
  std::chrono::seconds max_future{60};     // clock skew allowed between monitor and API
  std::chrono::seconds max_age{86400};     // a spooled result older than this is refused
};

// Parses and validates one batch against the servers this monitor is assigned.
std::variant<Batch, Refusal> parse_batch(const nlohmann::json& body,
                                         const std::set<int64_t>& assigned,
                                         ntp::TimePoint now, const BatchLimits& limits = {});

// The JSON a monitor sends for `batch` (parse_batch reads it back).
nlohmann::json to_json(const Batch& batch);

// The central step for one accepted result: the best sample of its packets, scored from
// `previous` (this monitor's score of the server so far). The monitor's clock counts as good
// when the kernel says synchronized and its maximum error is at most `max_clock_error_s`.
ScoredProbe score_submitted(const SubmittedProbe& p, double previous,
                            double max_clock_error_s = 0.1);

}  // namespace timepool::monitor
