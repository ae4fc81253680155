// The monitor's own clock: a monitor whose clock is not synchronized must not score anyone.
// The kernel knows (adjtimex(2): STA_UNSYNC, TIME_ERROR and the estimated error that NTP
// daemons keep up to date); the reading is a plain function so tests can inject any state.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace timepool::monitor {

struct ClockReading {
  bool synchronized = false;           // !STA_UNSYNC and the state is not TIME_ERROR
  std::chrono::microseconds esterror{0};  // the kernel's estimated error
  std::chrono::microseconds maxerror{0};  // the kernel's maximum error (grows while unsynced)
  std::string error;                   // adjtimex() failed: why
};

using ClockSource = std::function<ClockReading()>;

// Reads adjtimex() without changing anything (modes = 0).
ClockReading read_kernel_clock();

struct ClockVerdict {
  bool ok = false;       // scores may be written
  bool trusted = false;  // ok only because trust_local_clock is set
  std::string reason;    // why not ok, or why trusted ("kernel reports unsynchronized")
};

ClockVerdict judge_clock(const ClockReading& r, std::chrono::microseconds max_error,
                         bool trust_local_clock);

// The check against the world: the monitor's offsets to its reference servers, measured every
// cycle. The kernel's state is only what the time daemon last wrote there; a clock that the
// kernel calls synchronized may still be wrong. The clock is good when more than half of the
// reference servers answered and the median of their offsets is at most `max_offset_s`
// (trust_local_clock does not skip this check).
struct ReferenceVerdict {
  bool ok = false;
  int answered = 0;
  std::optional<double> median_s;  // when any answered
  std::string reason;              // why not ok
};
// `offsets`: one per reference server, nullopt when it gave no time sample.
ReferenceVerdict judge_references(const std::vector<std::optional<double>>& offsets,
                                  double max_offset_s);

}  // namespace timepool::monitor
