#include "core/bursts.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <regex>

#include "tests/support/seed.hpp"

using namespace timepool::stats;

namespace {

constexpr int64_t kSun = 29891520;  // 2026-11-01 00:00 UTC, a Sunday, in Unix minutes
constexpr int64_t kDay = 1440, kWeek = 7 * kDay;

// A day-night load between 100 and 300 queries per minute, with Gaussian noise of `noise`.
std::vector<MinuteCount> diurnal(int64_t start, int64_t minutes, double noise, std::mt19937& rng) {
  std::normal_distribution<double> n(0, noise);
  std::vector<MinuteCount> s;
  for (int64_t m = start; m < start + minutes; ++m) {
    double base = 200 + 100 * std::sin(2 * M_PI * static_cast<double>(m % kDay) / kDay);
    s.push_back({m, static_cast<uint64_t>(std::max(0.0, base + n(rng)))});
  }
  return s;
}

void set(std::vector<MinuteCount>& s, int64_t minute, uint64_t count) {
  for (auto& p : s) {
    if (p.minute == minute) p.count = count;
  }
}

}  // namespace

TEST_CASE("bursts: weekdays of Unix minutes") {
  CHECK(weekday_of(0) == 4);  // 1970-01-01, Thursday
  CHECK(weekday_of(3 * kDay) == 0);
  CHECK(weekday_of(kSun) == 0);
  CHECK(weekday_of(kSun + kDay - 1) == 0);
  CHECK(weekday_of(kSun + kDay) == 1);
  CHECK(weekday_of(-1) == 3);
  CHECK(std::string(weekday_name(6)) == "Saturday");
}

TEST_CASE("bursts: a weekly spike on a flat load gives the exact warning") {
  std::vector<MinuteCount> s;
  for (int64_t m = kSun; m < kSun + 3 * kWeek; ++m) s.push_back({m, 100});
  const int64_t at = 19 * 60 + 45;
  for (int w = 0; w < 3; ++w) set(s, kSun + w * kWeek + at, 4000);
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Weekly);
  CHECK(f[0].weekday == 0);
  CHECK(f[0].minute_of_day == at);
  CHECK(f[0].occurrences.size() == 3);
  CHECK(f[0].typical_factor == Approx(40));
  CHECK(f[0].typical_count == 4000);
  CHECK(f[0].warning ==
        "every Sunday at 19:45 UTC your devices send 40 times your normal load in one minute");
}

TEST_CASE("bursts: a weekly spike in noisy day-night load is found at its minute and weekday") {
  std::mt19937 rng(20261101);
  auto s = diurnal(kSun, 3 * kWeek, 15, rng);
  // Wednesday 06:17 UTC, 40 times the load of that time of day.
  const int64_t wed = 3 * kDay + 6 * 60 + 17;
  double base = 200 + 100 * std::sin(2 * M_PI * static_cast<double>(wed % kDay) / kDay);
  for (int w = 0; w < 3; ++w) set(s, kSun + w * kWeek + wed, static_cast<uint64_t>(40 * base));
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Weekly);
  CHECK(f[0].weekday == 3);
  CHECK(f[0].minute_of_day == 6 * 60 + 17);
  CHECK(f[0].occurrences ==
        std::vector<int64_t>{kSun + wed, kSun + kWeek + wed, kSun + 2 * kWeek + wed});
  CHECK(f[0].typical_factor > 35);
  CHECK(f[0].typical_factor < 45);
  CHECK(std::regex_match(f[0].warning,
                         std::regex("every Wednesday at 06:17 UTC your devices send [34][0-9] "
                                    "times your normal load in one minute")));
}

TEST_CASE("bursts: a daily spike is one daily finding, not seven weekly ones") {
  std::mt19937 rng(7);
  auto s = diurnal(kSun, 8 * kDay, 15, rng);
  for (int d = 0; d < 8; ++d) set(s, kSun + d * kDay + 3 * 60, 5000);
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Daily);
  CHECK(f[0].weekday == -1);
  CHECK(f[0].minute_of_day == 180);
  CHECK(f[0].occurrences.size() == 8);
  CHECK(f[0].warning.rfind("every day at 03:00 UTC your devices send ", 0) == 0);

  // On 3 of 8 days, one week each: no daily or weekly pattern yet; the newest is watched.
  auto t = diurnal(kSun, 8 * kDay, 15, rng);
  for (int d : {1, 2, 5}) set(t, kSun + d * kDay + 3 * 60, 5000);
  f = find_bursts(t);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Once);
  CHECK(f[0].first_seen == kSun + 5 * kDay + 180);
}

namespace {

// A near-empty zone: 0-4 queries a minute.
std::vector<MinuteCount> quiet(int64_t start, int64_t minutes, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(0, 4);
  std::vector<MinuteCount> s;
  for (int64_t m = start; m < start + minutes; ++m) s.push_back({m, static_cast<uint64_t>(d(rng))});
  return s;
}

std::vector<MinuteCount> flat(int64_t start, int64_t minutes, uint64_t per_minute) {
  std::vector<MinuteCount> s;
  for (int64_t m = start; m < start + minutes; ++m) s.push_back({m, per_minute});
  return s;
}

void add(std::vector<MinuteCount>& s, int64_t minute, uint64_t count) {
  for (auto& p : s) {
    if (p.minute == minute) p.count += count;
  }
}

constexpr int64_t k1945 = 19 * 60 + 45;

}  // namespace

TEST_CASE("bursts: the seed's fleet, weekly at 19:45 with 2 minutes of clock skew, is one finding") {
  std::mt19937 rng(1945);
  auto s = quiet(kSun, 5 * kWeek, rng);
  for (int w = 0; w < 5; ++w) {
    add(s, kSun + w * kWeek + k1945, 250);
    add(s, kSun + w * kWeek + k1945 + 1, 170);
    add(s, kSun + w * kWeek + k1945 + 2, 80);
  }
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Weekly);
  CHECK(f[0].weekdays == 1u);
  CHECK(f[0].minute_of_day == k1945);
  CHECK(f[0].window_minutes == 3);
  REQUIRE(f[0].events.size() == 5);
  CHECK(f[0].events[0].start == kSun + k1945);
  CHECK(f[0].events[0].end == kSun + k1945 + 2);
  CHECK(f[0].typical_count >= 500);
  CHECK(f[0].typical_count <= 512);
  CHECK(f[0].first_seen == kSun + k1945);
  CHECK(f[0].last_seen == kSun + 4 * kWeek + k1945);
  CHECK(std::regex_match(f[0].warning,
                         std::regex("every Sunday at 19:45-19:47 UTC your devices send [0-9]+ "
                                    "times your normal load for 3 minutes")));
  CHECK(f[0].key() == "weekly/1/1185");
  // A skipped middle minute (250, 30, 220) is still one window.
  auto g = quiet(kSun, 3 * kWeek, rng);
  for (int w = 0; w < 3; ++w) {
    add(g, kSun + w * kWeek + k1945, 250);
    add(g, kSun + w * kWeek + k1945 + 2, 220);
  }
  f = find_bursts(g);
  REQUIRE(f.size() == 1);
  CHECK(f[0].window_minutes == 3);
}

TEST_CASE("bursts: an absolute burst on a busy background is flagged, configurably") {
  auto s = flat(kSun, 4 * kWeek, 60);
  for (int w = 0; w < 4; ++w) add(s, kSun + w * kWeek + 3 * kDay + 7 * 60, 440);  // 500 in all
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Weekly);
  CHECK(f[0].weekday == 3);
  CHECK(f[0].typical_count == 500);
  CHECK(f[0].warning ==
        "every Wednesday at 07:00 UTC your devices send 8 times your normal load in one minute");
  BurstOptions relative_only;
  relative_only.min_excess = 1000000;
  CHECK(find_bursts(s, relative_only).empty());
  BurstOptions lower_factor;
  lower_factor.min_excess = 1000000;
  lower_factor.factor = 5;
  CHECK(find_bursts(s, lower_factor).size() == 1);
}

TEST_CASE("bursts: a Sunday and Wednesday fleet is one finding naming both weekdays") {
  std::mt19937 rng(3);
  auto s = quiet(kSun, 5 * kWeek, rng);
  for (int w = 0; w < 5; ++w) {
    add(s, kSun + w * kWeek + k1945, 500);
    add(s, kSun + w * kWeek + 3 * kDay + k1945, 500);
  }
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Weekly);
  CHECK(f[0].weekdays == ((1u << 0) | (1u << 3)));
  CHECK(f[0].events.size() == 10);
  CHECK(f[0].warning.rfind("on Sundays and Wednesdays at 19:45 UTC your devices send ", 0) == 0);
  CHECK(weekday_list(0x2a, true) == "Mondays, Wednesdays and Fridays");
}

TEST_CASE("bursts: a fleet every other week is named so") {
  std::mt19937 rng(14);
  auto s = quiet(kSun, 5 * kWeek, rng);
  for (int w : {0, 2, 4}) add(s, kSun + w * kWeek + k1945, 500);
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::EveryOtherWeek);
  CHECK(f[0].warning.rfind("every other Sunday at 19:45 UTC your devices send ", 0) == 0);
  // With one week missed, a weekly fleet is still weekly.
  auto t = quiet(kSun, 5 * kWeek, rng);
  for (int w : {0, 1, 3, 4}) add(t, kSun + w * kWeek + k1945, 500);
  f = find_bursts(t);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Weekly);
}

TEST_CASE("bursts: an hourly burst at a fixed minute is hourly, not 24 daily findings") {
  std::mt19937 rng(15);
  auto s = quiet(kSun, 3 * kDay, rng);
  for (int64_t h = 0; h < 3 * 24; ++h) add(s, kSun + h * 60 + 15, 400);
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Hourly);
  CHECK(f[0].minute_of_day == 15);
  CHECK(f[0].events.size() == 72);
  CHECK(f[0].warning.rfind("every hour at :15 UTC your devices send ", 0) == 0);
}

TEST_CASE("bursts: a first large burst is watched at once and becomes weekly when it repeats") {
  std::mt19937 rng(29);
  // Three quiet weeks, then the fleet's first Sunday burst; now is 20:00 that Sunday.
  auto s = quiet(kSun, 4 * kWeek + k1945 + 15, rng);
  add(s, kSun + 4 * kWeek + k1945, 500);
  BurstOptions opt;
  opt.now_minute = kSun + 4 * kWeek + 20 * 60;
  auto f = find_bursts(s, opt);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Once);
  CHECK(f[0].weekdays == 1u);
  CHECK(std::regex_match(f[0].warning,
                         std::regex("seen once, watching: on Sunday 2026-11-29 at 19:45 UTC your "
                                    "devices sent [0-9]+ times your normal load in one minute")));
  // Still watched 14 days later, forgotten after watch_days.
  opt.now_minute += 14 * kDay;
  CHECK(find_bursts(s, opt).size() == 1);
  opt.now_minute += 2 * kDay;
  CHECK(find_bursts(s, opt).empty());
  // The same time a week later: a weekly finding, and no longer "seen once".
  auto t = quiet(kSun, 5 * kWeek + k1945 + 15, rng);
  add(t, kSun + 4 * kWeek + k1945, 500);
  add(t, kSun + 5 * kWeek + k1945, 500);
  f = find_bursts(t);
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Weekly);
  CHECK(f[0].events.size() == 2);
}

TEST_CASE("bursts: controls stay quiet: spread load, one-off spikes, outage recovery") {
  std::mt19937 rng(99);
  // The fleet's weekly volume (500) spread evenly: about one query every 20 minutes.
  std::vector<MinuteCount> spread;
  for (int64_t m = kSun; m < kSun + 5 * kWeek; ++m) {
    spread.push_back({m, (m % 20 == 0) ? 1u : 0u});
  }
  CHECK(find_bursts(spread).empty());
  // A one-off spike three weeks ago.
  auto once = quiet(kSun, 5 * kWeek, rng);
  add(once, kSun + 2 * kWeek + 3 * kDay + 600, 9000);
  CHECK(find_spikes(once).size() == 1);
  CHECK(find_bursts(once).empty());
  // A busy zone's DNS outage of two hours, twice, and the catch-up of 3 times the load after.
  auto outage = flat(kSun, 3 * kWeek, 60);
  for (int64_t at : {kSun + 5 * kDay + 600, kSun + 12 * kDay + 600}) {
    for (int64_t m = at; m < at + 120; ++m) set(outage, m, 0);
    set(outage, at + 120, 180);
  }
  CHECK(find_bursts(outage).empty());
  // The same with minutes missing (no rows) instead of zero rows.
  std::vector<MinuteCount> gaps;
  for (const auto& p : outage) {
    if (p.count != 0) gaps.push_back(p);
  }
  CHECK(find_bursts(gaps).empty());
}

TEST_CASE("bursts: flat, noisy, one-off and small spikes are not flagged") {
  std::vector<MinuteCount> flat;
  for (int64_t m = kSun; m < kSun + 2 * kWeek; ++m) flat.push_back({m, 500});
  CHECK(find_spikes(flat).empty());
  CHECK(find_bursts(flat).empty());

  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937 rng(seed);
  // Heavy noise (sd 60 on a 100-300 load) plus random bumps of up to 600 in 2% of minutes.
  auto noisy = diurnal(kSun, 2 * kWeek, 60, rng);
  std::uniform_int_distribution<int> wild(0, 600);
  for (auto& p : noisy) {
    if (rng() % 50 == 0) p.count += static_cast<uint64_t>(wild(rng));
  }
  CHECK(find_bursts(noisy).empty());

  auto once = diurnal(kSun, 2 * kWeek, 15, rng);
  set(once, kSun + 5 * kDay + 600, 9000);
  CHECK(find_spikes(once).size() == 1);
  BurstOptions later;  // a one-off is watched for watch_days, then forgotten
  later.now_minute = kSun + 5 * kDay + 600 + 16 * kDay;
  CHECK(find_bursts(once, later).empty());

  // The same weekly minute in only one week is not yet a pattern.
  auto week = diurnal(kSun, 2 * kWeek, 15, rng);
  set(week, kSun + 600, 9000);
  set(week, kSun + 601, 9000);
  CHECK(find_bursts(week, later).empty());

  // An idle zone: 30 queries in one minute are above 10x the median (0) but below the floor.
  std::vector<MinuteCount> idle;
  for (int w = 0; w < 3; ++w) idle.push_back({kSun + w * kWeek + 100, 30});
  idle.push_back({kSun + 3 * kWeek, 0});
  for (int64_t m = kSun; m < kSun + 3 * kWeek; m += 15) idle.push_back({m, 0});
  CHECK(find_bursts(idle).empty());
  BurstOptions low;
  low.min_count = 20;
  auto f = find_bursts(idle, low);
  REQUIRE(f.size() == 1);
  CHECK(f[0].warning ==
        "every Sunday at 01:40 UTC your devices send 30 times your normal load in one minute");
}

TEST_CASE("bursts: sparse, unsorted input and options") {
  // Only the spike minutes and a few quiet minutes are given: absent minutes count as 0.
  std::vector<MinuteCount> s = {{kSun + 2 * kWeek + 10, 800}, {kSun + 10, 700},
                                {kSun + kWeek + 10, 900},     {kSun + 11, 5},
                                {kSun + 3 * kWeek, 1}};
  auto f = find_bursts(s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].occurrences.front() == kSun + 10);
  CHECK(f[0].typical_count == 800);
  BurstOptions strict;
  strict.min_weeks = 4;
  f = find_bursts(s, strict);  // not weekly: the newest is watched
  REQUIRE(f.size() == 1);
  CHECK(f[0].period == BurstFinding::Period::Once);
  CHECK(find_spikes({}).empty());
  CHECK(find_bursts({}).empty());
}
