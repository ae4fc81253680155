// Synchronized-burst detection on one zone's queries-per-minute series.
//
// A fleet of devices that all poll at one fixed clock time ("every Sunday at 19:45") hits the
// pool's volunteers with a wall of packets at once. We find it in three steps:
//   1. spikes: minutes with at least `min_count` queries that stand out from the background
//      (the median of the `half_window` minutes before, and of those after; the larger of the
//      two, so the first minutes after an outage are judged by the load that resumes), either
//      by a relative `factor` or by an absolute `min_excess` queries above it (then still at
//      least `excess_min_factor` times it, so the noise of a very busy zone is no burst);
//   2. windows: spikes at most `merge_gap` quiet minutes apart merge into one burst window, so
//      a fleet whose clocks are a minute or two apart (19:45-19:47) is one burst, not three;
//   3. periods: windows at the same minute of the hour in many hours make an hourly finding;
//      windows at the same time of day (within `tolerance` minutes) on nearly every day make a
//      daily one; on the same weekdays in `min_weeks` weeks a weekly one (one finding names all
//      its weekdays, "on Sundays and Wednesdays"), every other week when the weeks between
//      never have it. A large window that does not (yet) recur is reported once, "seen once,
//      watching", for `watch_days` after it happened; then it is forgotten.
// Noise, evenly spread load and the recovery after an outage yield nothing.
//
// Pure functions of their input: thread-safe, no clock (the present is opt.now_minute), no
// I/O. Input is the zone's rows of dns_query_counts summed over qtype and rcode (see
// stats::read_minute_series). Minutes absent from the input count as 0.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace timepool::stats {

struct BurstOptions {
  double factor = 10.0;          // relative: more than factor x the background
  uint64_t min_excess = 250;     // absolute: at least this many queries above the background
  double excess_min_factor = 2;  // ... and then still at least this multiple of it
  uint64_t min_count = 50;       // a spike minute has at least this many queries
  int half_window = 30;          // minutes on each side that make the background
  int merge_gap = 1;             // spikes at most this many quiet minutes apart: one window
  int max_window = 30;           // longer runs of spikes are a change of level, not a burst
  int tolerance = 2;             // windows starting this many minutes apart: the same time
  int min_days = 3;              // daily: on at least this many days ...
  double daily_share = 0.7;      // ... and on this share of the days from the first to the last
  int min_weeks = 2;             // weekly: the same weekday in at least this many weeks
  int min_hours = 6;             // hourly: the same minute of the hour in this many hours ...
  double hourly_share = 0.5;     // ... and in this share of the hours from the first to the last
  // More unexplained windows than this per day make a zone noisy: then only an exact time of
  // day in 3 weeks (weekly) or on 5 days (daily) counts, and nothing is "seen once".
  double max_events_per_day = 4;
  int watch_days = 15;           // a burst seen once is shown this long (every other week fits)
  uint64_t once_min_queries = 200;  // ... when its window had at least this many queries
  int64_t now_minute = 0;        // the present (Unix minutes); 0: after the newest input minute
  int64_t max_span_minutes = 400 * 1440;  // longer input: only the newest part is read
};

struct MinuteCount {
  int64_t minute;  // Unix minutes (seconds / 60), UTC
  uint64_t count;
};

struct Spike {
  int64_t minute;
  uint64_t count;
  double median;  // the background: the larger median of the minutes before and after
  double factor;  // count / max(median, 1)
};

// One burst window: adjacent spike minutes merged.
struct BurstEvent {
  int64_t start = 0, end = 0;  // Unix minutes, both inclusive
  uint64_t total = 0;          // queries in the window
  uint64_t peak = 0;           // the busiest minute's count
  double background = 0;       // queries per minute around the window
  double factor = 0;           // mean queries per minute in the window / max(background, 1)
  int minutes() const { return static_cast<int>(end - start + 1); }
  friend bool operator==(const BurstEvent&, const BurstEvent&) = default;
};

struct BurstFinding {
  enum class Period { Once, Hourly, Daily, Weekly, EveryOtherWeek };
  Period period = Period::Once;
  unsigned weekdays = 0;   // bit d set: weekday d (0 = Sunday); weekly, every other week, once
  int weekday = -1;        // the first of the weekdays, -1 for hourly and daily findings
  int minute_of_day = 0;   // window start, 0 ... 1439, UTC (hourly: 0 ... 59, the minute)
  int window_minutes = 1;  // from the earliest start to the latest end, time of day
  std::vector<BurstEvent> events;     // the windows found, oldest first
  std::vector<int64_t> occurrences;   // their start minutes
  int64_t first_seen = 0, last_seen = 0;  // start of the first and of the last window
  double typical_factor = 0;   // median factor of the windows
  uint64_t typical_count = 0;  // median queries in a window
  // "every Sunday at 19:45-19:47 UTC your devices send 170 times your normal load for 3
  // minutes"; "seen once, watching: on Sunday 2026-11-29 at 19:45 UTC ..."
  std::string warning;
  // Stable identity across runs while the pattern holds: "weekly/9/1185".
  std::string key() const;
};

const char* period_name(BurstFinding::Period p);  // "once", "hourly", "daily", "weekly",
                                                   // "every-other-week"

// The advice shown with every finding.
inline constexpr const char* kBurstAdvice =
    "Spread the polls at random: let each device wait a random time (for example up to the "
    "full poll interval) before its first query and between queries, instead of polling at a "
    "fixed clock time.";

// Spike minutes in time order. The input may be in any order; duplicate minutes are added up.
std::vector<Spike> find_spikes(std::span<const MinuteCount> series, const BurstOptions& opt = {});

// Spikes merged into windows, oldest first.
std::vector<BurstEvent> find_events(std::span<const MinuteCount> series,
                                    const BurstOptions& opt = {});

// Findings: hourly, daily, weekly (and every other week) by time of day, then the bursts seen
// once and still watched.
std::vector<BurstFinding> find_bursts(std::span<const MinuteCount> series,
                                      const BurstOptions& opt = {});

// "Sunday"; weekday 0 = Sunday.
const char* weekday_name(int weekday);
// "Sundays and Wednesdays" for a weekday bit set.
std::string weekday_list(unsigned weekdays, bool plural);
// The UTC weekday (0 = Sunday) of a Unix minute.
int weekday_of(int64_t minute);

}  // namespace timepool::stats
