// One scored probe as the central side writes it (monitor/api/probe_log.hpp), and the
// timestamp text PostgreSQL reads back exactly. Pure; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/ntp.hpp"

namespace timepool::monitor {

struct ProbeRecord {
  int64_t server_id = 0;
  ntp::TimePoint ts;  // when the probe started (microseconds are kept)
  double step = 0;
  double score = 0;   // the monitor's new score for the server
  std::optional<double> offset_s;
  std::optional<double> rtt_s;
  std::optional<int> stratum;
  std::optional<int> leap;
  std::optional<std::string> error;
};

// "2026-01-02 03:04:05.678901+00"
std::string timestamp_text(ntp::TimePoint t);

}  // namespace timepool::monitor
