// One-shot probe of one NTP server, for `timepool-monitor check ADDRESS` and the web app's
// "test my server" (link timepool_monitor and include this header).
//
//   auto r = timepool::monitor::probe_once("192.0.2.7");          // blocking, up to ~7 s
//   if (r.ok()) use(*r.offset_s, *r.rtt_s, *r.stratum, *r.leap, r.refid);
//   else show(r.error);   // "timeout", "kod RATE", "stratum 0 INIT", "unsynchronized", ...
//   timepool::monitor::describe(r);   // one line of text
//
// It runs exactly the monitor's probing code (monitor/prober.hpp): up to 3 packets 2 s apart,
// 3 s timeout each, the same checks and the same best-sample choice; r.outcome is what the
// scoring rules (core/scoring.hpp) would see. `host` may be a numeric IPv4/IPv6 address or a
// name (resolved first, blocking; a failure gives outcome kError with the reason in error).
// It opens its own sockets, so it is safe to call from any thread, several at once.
// It does not check whether the address is public: callers that need that use core/address.
#pragma once

#include <cstdint>
#include <string_view>

#include "monitor/prober.hpp"
#include "monitor/sample.hpp"

namespace timepool::monitor {

ProbeResult probe_once(std::string_view host, uint16_t port = 123, const ProbeOptions& opts = {});

}  // namespace timepool::monitor
