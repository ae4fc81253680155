// Synchronized-burst detection on one zone's queries-per-minute series.
//
// A fleet of devices that all poll at one fixed minute ("every Sunday at 19:45") hits the
// pool's volunteers with a wall of packets at once. We find it in two steps:
//   1. spikes: minutes whose count is more than `factor` times the median of the surrounding
//      hour (the 30 minutes before and after, the minute itself excluded) and at least
//      `min_count`;
//   2. recurrence: spikes at the same UTC minute of the day on at least `min_days` days (on
//      two or more different weekdays) make a daily finding; spikes at the same weekday and
//      minute in at least `min_weeks` different weeks make a weekly finding.
// A single spike, noise, or a flat series yields nothing.
//
// Pure functions of their input: thread-safe, no clock, no I/O. Input is the zone's rows of
// dns_query_counts summed over qtype and rcode, e.g.
//   SELECT extract(epoch FROM minute)::bigint / 60, sum(count) FROM dns_query_counts
//   WHERE zone_id = $1 AND minute >= now() - interval '28 days' GROUP BY 1 ORDER BY 1
// Minutes absent from the input count as 0.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace timepool::stats {

struct BurstOptions {
  double factor = 10.0;       // a spike is more than factor x the median of its hour
  uint64_t min_count = 50;    // ... and at least this many queries in the minute
  int half_window = 30;       // minutes on each side that make "the surrounding hour"
  int min_days = 3;           // daily: the same minute of day on at least this many days
  int min_weeks = 2;          // weekly: the same weekday and minute in this many weeks
  int64_t max_span_minutes = 400 * 1440;  // longer input: only the newest part is read
};

struct MinuteCount {
  int64_t minute;  // Unix minutes (seconds / 60), UTC
  uint64_t count;
};

struct Spike {
  int64_t minute;
  uint64_t count;
  double median;  // of the surrounding hour
  double factor;  // count / max(median, 1)
};

struct BurstFinding {
  enum class Period { Daily, Weekly };
  Period period;
  int weekday;        // 0 = Sunday ... 6 = Saturday for weekly findings; -1 for daily
  int minute_of_day;  // 0 ... 1439, UTC
  std::vector<int64_t> occurrences;  // the spike minutes, oldest first
  double typical_factor;  // median factor of the occurrences
  uint64_t typical_count;  // median count of the occurrences
  // "every Sunday at 19:45 UTC your devices send 40 times your normal load in one minute"
  std::string warning;
};

// The advice shown with every finding.
inline constexpr const char* kBurstAdvice =
    "Spread the polls at random: let each device wait a random time (for example up to the "
    "full poll interval) before its first query and between queries, instead of polling at a "
    "fixed clock time.";

// Spikes in time order. The input may be in any order; duplicate minutes are added up.
std::vector<Spike> find_spikes(std::span<const MinuteCount> series, const BurstOptions& opt = {});

// Recurring spikes, daily findings first, each group by time of day.
std::vector<BurstFinding> find_bursts(std::span<const MinuteCount> series,
                                      const BurstOptions& opt = {});

// "Sunday"; weekday 0 = Sunday.
const char* weekday_name(int weekday);
// The UTC weekday (0 = Sunday) of a Unix minute.
int weekday_of(int64_t minute);

}  // namespace timepool::stats
