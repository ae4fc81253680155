#include "core/scoring.hpp"

#include <algorithm>
#include <cmath>

namespace timepool::scoring {

Step step_for(const ProbeOutcome& p) {
  switch (p.outcome) {
    case Outcome::kNoResponse: return {-5.0, std::nullopt, "no_response"};
    case Outcome::kKissRate: return {-3.5, std::nullopt, "kod_rate"};
    case Outcome::kKissDeny: return {-10.0, -50.0, "kod_deny"};
    case Outcome::kKissRstr: return {-10.0, -50.0, "kod_rstr"};
    case Outcome::kKissOther: return {-4.0, std::nullopt, "kod_other"};
    case Outcome::kError: return {-4.0, std::nullopt, "error"};
    case Outcome::kSample: break;
  }
  const double off = std::fabs(p.offset_s);
  if (!(off <= 3.0)) return {-4.0, -20.0, "offset>3s"};  // also catches NaN
  if (p.stratum >= 8) return {-4.0, std::nullopt, "stratum>=8"};
  if (off > 0.750) return {-2.0, std::nullopt, "offset>750ms"};
  if (off > 0.100) return {-2.308 * off + 0.731, std::nullopt, "offset>100ms"};
  if (off > 0.025) return {std::min(1.0, -6.667 * off + 1.167), std::nullopt, "offset>25ms"};
  return {1.0, std::nullopt, "offset<=25ms"};
}

double update_score(double score, const Step& step) {
  double s = kDecay * score + step.step;
  if (step.cap) s = std::min(s, *step.cap);
  return std::min(s, kMaxScore);
}

}  // namespace timepool::scoring
