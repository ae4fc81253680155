#include <catch2/catch.hpp>

#include <cmath>

#include "core/scoring.hpp"

using namespace timepool::scoring;

namespace {

ProbeOutcome sample(double offset_s, int stratum = 2) {
  return ProbeOutcome{Outcome::kSample, offset_s, stratum};
}

double step_of(double offset_s, int stratum = 2) { return step_for(sample(offset_s, stratum)).step; }

}  // namespace

TEST_CASE("step table: errors", "[scoring]") {
  CHECK(step_for({Outcome::kNoResponse}).step == -5);
  CHECK_FALSE(step_for({Outcome::kNoResponse}).cap);
  CHECK(step_for({Outcome::kKissRate}).step == -3.5);
  CHECK_FALSE(step_for({Outcome::kKissRate}).cap);
  CHECK(step_for({Outcome::kKissDeny}).step == -10);
  CHECK(*step_for({Outcome::kKissDeny}).cap == -50);
  CHECK(step_for({Outcome::kKissRstr}).step == -10);
  CHECK(*step_for({Outcome::kKissRstr}).cap == -50);
  CHECK(step_for({Outcome::kKissOther}).step == -4);
  CHECK_FALSE(step_for({Outcome::kKissOther}).cap);
  CHECK(step_for({Outcome::kError}).step == -4);
  CHECK_FALSE(step_for({Outcome::kError}).cap);
}

TEST_CASE("step table: offsets and their boundaries", "[scoring]") {
  SECTION("<= 25 ms is +1, sign does not matter") {
    CHECK(step_of(0) == 1);
    CHECK(step_of(0.010) == 1);
    CHECK(step_of(0.025) == 1);
    CHECK(step_of(-0.025) == 1);
    CHECK(step_for(sample(0.025)).rule == "offset<=25ms");
  }
  SECTION("25-100 ms") {
    CHECK(step_for(sample(0.0251)).rule == "offset>25ms");
    CHECK(step_of(0.02501) == 1);  // min(1, 1.0003): the formula exceeds 1 just above 25 ms
    CHECK(step_of(0.0251) == Approx(-6.667 * 0.0251 + 1.167));
    CHECK(step_of(0.050) == Approx(-6.667 * 0.05 + 1.167));
    CHECK(step_of(-0.050) == Approx(-6.667 * 0.05 + 1.167));
    CHECK(step_of(0.100) == Approx(-6.667 * 0.1 + 1.167));  // exactly 100 ms: this row
    CHECK(step_for(sample(0.100)).rule == "offset>25ms");
  }
  SECTION("100-750 ms") {
    CHECK(step_for(sample(0.1001)).rule == "offset>100ms");
    CHECK(step_of(0.1001) == Approx(-2.308 * 0.1001 + 0.731));
    CHECK(step_of(0.400) == Approx(-2.308 * 0.4 + 0.731));
    CHECK(step_of(0.750) == Approx(-2.308 * 0.75 + 0.731));  // exactly 750 ms: this row
    CHECK(step_for(sample(0.750)).rule == "offset>100ms");
    CHECK_FALSE(step_for(sample(0.750)).cap);
  }
  SECTION("750 ms - 3 s") {
    CHECK(step_of(0.7501) == -2);
    CHECK(step_of(-2.0) == -2);
    CHECK(step_of(3.0) == -2);  // exactly 3 s: this row, no cap
    CHECK_FALSE(step_for(sample(3.0)).cap);
  }
  SECTION("> 3 s") {
    CHECK(step_of(3.0001) == -4);
    CHECK(*step_for(sample(3.0001)).cap == -20);
    CHECK(*step_for(sample(-5.0)).cap == -20);
    CHECK(step_for(sample(NAN)).step == -4);
  }
  SECTION("the rows meet at 100 ms") {
    CHECK(step_of(0.1) == Approx(-2.308 * 0.1 + 0.731).epsilon(0.001));
  }
}

TEST_CASE("step table: stratum", "[scoring]") {
  CHECK(step_of(0.001, 7) == 1);
  CHECK(step_of(0.001, 8) == -4);
  CHECK(step_for(sample(0.001, 8)).rule == "stratum>=8");
  CHECK_FALSE(step_for(sample(0.001, 8)).cap);
  CHECK(step_of(0.001, 15) == -4);
  // The offset row comes first: a far-off stratum-9 server gets the cap.
  CHECK(*step_for(sample(4.0, 9)).cap == -20);
  // Stratum is checked before the 750 ms - 3 s row.
  CHECK(step_of(1.0, 8) == -4);
}

TEST_CASE("score update: decay, step, caps, maximum", "[scoring]") {
  CHECK(update_score(0, step_for(sample(0))) == 1);
  CHECK(update_score(10, step_for(sample(0))) == Approx(10.5));
  CHECK(update_score(20, step_for(sample(0))) == 20);  // 0.95*20+1 = 20
  CHECK(update_score(20, Step{5, std::nullopt, "x"}) == 20);  // never above 20
  CHECK(update_score(20, step_for({Outcome::kKissDeny})) == -50);
  CHECK(update_score(-60, step_for({Outcome::kKissDeny})) == Approx(-67));
  CHECK(update_score(20, step_for({Outcome::kKissOther})) == 15);  // no cap
  CHECK(update_score(0, step_for({Outcome::kKissOther})) == -4);
  CHECK(update_score(20, step_for(sample(5.0))) == -20);
  CHECK(update_score(-20, step_for(sample(5.0))) == Approx(-23));
  CHECK(update_score(20, step_for({Outcome::kKissRate})) == Approx(15.5));
}

TEST_CASE("score convergence", "[scoring]") {
  SECTION("20 good probes from 0") {
    double s = 0;
    int crossed = 0;
    for (int i = 1; i <= 20; ++i) {
      s = update_score(s, step_for(sample(0.001)));
      CHECK(s == Approx(20 * (1 - std::pow(0.95, i))));
      if (s >= 10 && crossed == 0) crossed = i;
    }
    CHECK(crossed == 14);  // 0.95^14 < 0.5 < 0.95^13
    CHECK(s == Approx(12.83).margin(0.01));
  }
  SECTION("two timeouts from 20 drop below 10") {
    double s = update_score(20, step_for({Outcome::kNoResponse}));
    CHECK(s == Approx(14));
    CHECK(s >= 10);
    s = update_score(s, step_for({Outcome::kNoResponse}));
    CHECK(s == Approx(8.3));
    CHECK(s < kPoolThreshold);
  }
  SECTION("a server that never answers converges to -100") {
    double s = 20;
    for (int i = 0; i < 1000; ++i) s = update_score(s, step_for({Outcome::kNoResponse}));
    CHECK(s == Approx(-100).margin(1e-6));
  }
}
