// The scoring rules of the pool as pure functions: the step for one probe result, the score
// update with its caps. The pool score (the lower median over monitors) is computed in SQL by
// refresh_pool_score (schema/0004_monitors_scores.sql, tested by integration.schema.pool_score).
//
// The step table (DESIGN.md "Step for one probe"), checked in this order:
//   no response                    -5
//   KoD RATE                       -3.5
//   KoD DENY or RSTR               -10    new score capped at -50
//   stratum 0, any other refid     -4     (AUTH, INIT, STEP, ... or not a code at all)
//   other error                    -4
//   abs(offset) > 3 s              -4     new score capped at -20
//   stratum >= 8                   -4
//   750 ms < abs(offset) <= 3 s    -2
//   100 ms < abs(offset) <= 750 ms -2.308*abs(offset) + 0.731
//   25 ms < abs(offset) <= 100 ms  min(1, -6.667*abs(offset) + 1.167)
//   abs(offset) <= 25 ms           +1
//
// Stratum-0 replies are scored as the NTP Pool's monitor scores them
// (github.com/ntppool/monitor): its client (client/monitor/monitor.go, CheckHost) ends the
// probe on any stratum-0 reply with an error that is the kiss code itself when the refid is
// four printable ASCII characters (beevik/ntp kissCode) and "bad stratum 0 (referenceID: ...)"
// otherwise; its scorer (scorer/statusscore/statusscore.go, calc) gives RATE -3.5, DENY and
// RSTR -10 capped at -50, and every other error -4 with no cap. Its "stratum 0 with no error:
// -2 capped at 5" row is only reached by a client that reports a stratum-0 reply without its
// refid, which ours never does (the raw packet is judged here), so AUTH, INIT, STEP, every
// other code and a refid that is no code at all take -4. An unsynchronized reply (leap 3 or
// stratum 16) and every other rejected reply or network error take "other error".
//
// A cap is an upper bound on the new score (the score may not be above it); the score is never
// above kMaxScore. Scores have no lower bound other than the one the decay sets (-5/0.05 = -100
// for a server that never answers, -200 for one that always denies).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace timepool::scoring {

constexpr double kMaxScore = 20.0;
constexpr double kDecay = 0.95;
// A server is in the pool when its pool score is at least this.
constexpr double kPoolThreshold = 10.0;

enum class Outcome {
  kNoResponse,   // every packet timed out
  kKissRate,     // stratum 0, refid RATE
  kKissDeny,     // stratum 0, refid DENY
  kKissRstr,     // stratum 0, refid RSTR
  kKissOther,    // stratum 0 with any other refid (AUTH, INIT, STEP, ..., or not a code)
  kError,        // any other error (unsynchronized, bad reply, network error)
  kSample,       // a valid time sample: offset_s and stratum are meaningful
};

struct ProbeOutcome {
  Outcome outcome = Outcome::kNoResponse;
  double offset_s = 0;  // for kSample
  int stratum = 0;      // for kSample
};

struct Step {
  double step = 0;
  std::optional<double> cap;  // upper bound on the new score
  std::string_view rule;      // the row of the table that applied ("offset<=25ms", "kod_rate")
};

// The step for one probe (the table above, in order).
Step step_for(const ProbeOutcome& p);

// score' = min(kDecay * score + step, cap, kMaxScore).
double update_score(double score, const Step& step);

}  // namespace timepool::scoring
