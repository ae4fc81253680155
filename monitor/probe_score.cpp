#include "monitor/probe_score.hpp"

namespace timepool::monitor {

ScoredProbe score_probe(int64_t server_id, const ProbeResult& r, ntp::TimePoint started,
                        double previous, bool clock_ok) {
  ScoredProbe out;
  out.score = previous;
  if (!clock_ok) {
    out.unscored = Unscored::kOwnClock;
    return out;
  }
  if (r.local_failure) {
    out.unscored = Unscored::kLocalFailure;
    return out;
  }
  out.step = scoring::step_for(
      scoring::ProbeOutcome{r.outcome, r.offset_s.value_or(0), r.stratum.value_or(0)});
  out.score = scoring::update_score(previous, out.step);
  ProbeRecord& rec = out.record;
  rec.server_id = server_id;
  rec.ts = std::chrono::time_point_cast<std::chrono::microseconds>(started);
  rec.step = out.step.step;
  rec.score = out.score;
  rec.offset_s = r.offset_s;
  rec.rtt_s = r.rtt_s;
  rec.stratum = r.stratum;
  rec.leap = r.leap;
  if (!r.ok()) rec.error = r.error;
  return out;
}

}  // namespace timepool::monitor
