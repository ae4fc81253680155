#include "monitor/own_clock.hpp"

#include <sys/timex.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace timepool::monitor {

ClockReading read_kernel_clock() {
  timex tx{};
  tx.modes = 0;  // read only
  const int state = adjtimex(&tx);
  ClockReading r;
  if (state < 0) {
    r.error = std::string("adjtimex: ") + std::strerror(errno);
    return r;
  }
  r.synchronized = (tx.status & STA_UNSYNC) == 0 && state != TIME_ERROR;
  r.esterror = std::chrono::microseconds(tx.esterror);
  r.maxerror = std::chrono::microseconds(tx.maxerror);
  return r;
}

ClockVerdict judge_clock(const ClockReading& r, std::chrono::microseconds max_error,
                         bool trust_local_clock) {
  ClockVerdict v;
  if (!r.error.empty()) {
    v.reason = r.error;
  } else if (!r.synchronized) {
    v.reason = "kernel reports the clock unsynchronized";
  } else if (r.esterror > max_error) {
    v.reason = "estimated error " + std::to_string(r.esterror.count()) + " us above " +
               std::to_string(max_error.count()) + " us";
  } else if (r.maxerror > max_error) {
    v.reason = "maximum error " + std::to_string(r.maxerror.count()) + " us above " +
               std::to_string(max_error.count()) + " us";
  } else {
    v.ok = true;
    return v;
  }
  if (trust_local_clock) {
    v.ok = true;
    v.trusted = true;
  }
  return v;
}

ReferenceVerdict judge_references(const std::vector<std::optional<double>>& offsets,
                                  double max_offset_s) {
  ReferenceVerdict v;
  std::vector<double> got;
  for (const auto& o : offsets) {
    if (o) got.push_back(*o);
  }
  v.answered = static_cast<int>(got.size());
  if (!got.empty()) {
    std::sort(got.begin(), got.end());
    const std::size_t n = got.size();
    v.median_s = n % 2 == 1 ? got[n / 2] : (got[n / 2 - 1] + got[n / 2]) / 2;
  }
  if (offsets.empty()) {
    v.reason = "no reference servers configured";
  } else if (2 * got.size() <= offsets.size()) {
    v.reason = fmt::format("only {} of {} reference servers answered", got.size(), offsets.size());
  } else if (!(std::fabs(*v.median_s) <= max_offset_s)) {
    v.reason = fmt::format("the median offset of {} reference servers is {:+.1f} ms, more than {:.1f} ms",
                           got.size(), *v.median_s * 1000, max_offset_s * 1000);
  } else {
    v.ok = true;
  }
  return v;
}

}  // namespace timepool::monitor
