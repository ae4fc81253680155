#include "monitor/own_clock.hpp"

#include <sys/timex.h>

#include <cerrno>
#include <cstring>

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

}  // namespace timepool::monitor
