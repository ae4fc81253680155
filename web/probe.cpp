#include "web/probe.hpp"

#include "monitor/probe_once.hpp"

namespace timepool::web {

ProbeReport real_probe(const address::Address& a, uint16_t port) {
  auto r = monitor::probe_once(a.to_string(), port);
  ProbeReport p;
  p.answered = r.ok();
  p.error = r.error;
  if (p.error.empty() && !p.answered) p.error = monitor::describe(r);
  p.stratum = r.stratum.value_or(0);
  p.leap = r.leap.value_or(0);
  p.offset_s = r.offset_s.value_or(0);
  p.rtt_s = r.rtt_s.value_or(0);
  p.refid = r.refid;
  return p;
}

std::string judge_probe(const ProbeReport& r) {
  if (!r.answered) {
    std::string why = r.error.empty() ? "no answer" : r.error;
    if (why == "timeout") why = "no answer within the timeout";
    return "The server did not answer our NTP check (" + why +
           "). Make sure it serves time on UDP port 123 to the Internet, then try again.";
  }
  if (r.stratum == 0) {
    return "The server answered with stratum 0 (a kiss-o'-death or no time to give).";
  }
  if (r.stratum >= 16) {
    return "The server says it is not synchronized (stratum " + std::to_string(r.stratum) +
           "). Let it synchronize to its sources first, then try again.";
  }
  if (r.stratum > 5) {
    return "The server is at stratum " + std::to_string(r.stratum) +
           ": pool servers must be at stratum 1 to 5, close to a reference clock.";
  }
  return "";
}

}  // namespace timepool::web
