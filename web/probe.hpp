// The one probe the site makes before it accepts a server: what it saw, and whether that is
// good enough to join the pool. The probe itself is the monitor's code (real_probe()); the
// handlers take it as a function so that their refusal logic is tested on its own too.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/address.hpp"

namespace timepool::web {

struct ProbeReport {
  bool answered = false;   // a valid time sample came back
  std::string error;       // why not ("timeout", "KoD DENY", ...) when !answered
  int stratum = 0;
  int leap = 0;
  double offset_s = 0;
  double rtt_s = 0;
  std::string refid;       // text form ("GPS", "192.0.2.1", kiss code)
};

using ProbeFn = std::function<ProbeReport(const address::Address&, uint16_t port)>;

// The monitor's one-shot probe (up to 3 packets, as the monitor probes).
ProbeReport real_probe(const address::Address& a, uint16_t port);

// Empty when the report allows the server in; else the reason, for the volunteer.
// Refused: no answer, stratum 0 (kiss-o'-death / unspecified), stratum 16 (unsynchronized)
// and above, and stratum above 5 (too far from a reference clock for a public pool).
std::string judge_probe(const ProbeReport& r);

}  // namespace timepool::web
