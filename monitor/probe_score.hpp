// The daemon's step for one finished probe, as one pure function: whether it is scored, the
// step and new score by the pool's rules (core/scoring.hpp), and the record to write.
// The daemon (monitor/daemon.cpp), the fuzzer (tests/fuzz/fuzz_ntp.cpp) and the benchmark
// (bench/monitor) all call exactly this.
//
// A probe is not scored when our own clock is not good (a monitor whose clock is not
// synchronized must not score anyone), or when it failed on our side only (no IPv6 route,
// full socket buffer: not the server's fault). Pure and thread-safe.
#pragma once

#include <cstdint>

#include "core/ntp.hpp"
#include "core/scoring.hpp"
#include "monitor/sample.hpp"
#include "monitor/store.hpp"

namespace timepool::monitor {

enum class Unscored { kNo, kOwnClock, kLocalFailure };

struct ScoredProbe {
  Unscored unscored = Unscored::kNo;
  bool scored() const { return unscored == Unscored::kNo; }
  scoring::Step step;   // when scored
  double score = 0;     // the new score; the previous one when not scored
  ProbeRecord record;   // what is written, when scored
};

// `previous`: this monitor's score of the server so far (0 for a new server).
ScoredProbe score_probe(int64_t server_id, const ProbeResult& r, ntp::TimePoint started,
                        double previous, bool clock_ok);

}  // namespace timepool::monitor
