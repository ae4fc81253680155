#include "monitor/probe_once.hpp"

#include <optional>

namespace timepool::monitor {

ProbeResult probe_once(std::string_view host, uint16_t port, const ProbeOptions& opts) {
  std::string error;
  const auto ep = net::Endpoint::resolve(host, port, &error);
  if (!ep) {
    ProbeResult r;
    r.outcome = scoring::Outcome::kError;
    r.error = error;
    return r;
  }
  std::optional<ProbeResult> result;
  Prober prober(opts, [&](uint64_t, const ProbeResult& r, ntp::TimePoint) { result = r; });
  prober.start(0, *ep);
  while (!result) prober.poll(std::chrono::milliseconds(1000));
  return *result;
}

}  // namespace timepool::monitor
