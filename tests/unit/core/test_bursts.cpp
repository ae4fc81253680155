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

  // Only on 3 of 8 days (different weekdays): still daily, but said as it is.
  auto t = diurnal(kSun, 8 * kDay, 15, rng);
  for (int d : {1, 2, 5}) set(t, kSun + d * kDay + 3 * 60, 5000);
  f = find_bursts(t);
  REQUIRE(f.size() == 1);
  CHECK(f[0].warning.rfind("on 3 of the last 8 days at 03:00 UTC", 0) == 0);
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
  CHECK(find_bursts(once).empty());

  // The same weekly minute in only one week is not yet a pattern.
  auto week = diurnal(kSun, 2 * kWeek, 15, rng);
  set(week, kSun + 600, 9000);
  set(week, kSun + 601, 9000);
  CHECK(find_bursts(week).empty());

  // An idle zone: 30 queries in one minute are above 10x the median (0) but below the floor.
  std::vector<MinuteCount> idle;
  for (int w = 0; w < 3; ++w) idle.push_back({kSun + w * kWeek + 100, 30});
  idle.push_back({kSun + 3 * kWeek, 0});
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
  CHECK(find_bursts(s, strict).empty());
  CHECK(find_spikes({}).empty());
  CHECK(find_bursts({}).empty());
}
