#include "core/bursts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <set>

namespace timepool::stats {

namespace {

constexpr int64_t kHour = 60;
constexpr int64_t kDay = 1440;
constexpr int64_t kWeek = 7 * kDay;
constexpr int64_t kSunday0 = 3 * kDay;  // 1970-01-04 00:00, a Sunday: weeks start on Sundays

template <typename T>
T median_of(std::vector<T> v) {
  if (v.empty()) return T{};
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  T upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  T lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t mod_of(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }
int64_t week_of(int64_t minute) { return floor_div(minute - kSunday0, kWeek); }

std::string hhmm(int64_t minute_of_day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(minute_of_day / 60),
                static_cast<int>(minute_of_day % 60));
  return buf;
}

std::string times(double factor) {
  char buf[32];
  if (factor >= 100) {
    // Two significant digits: "about 1,200" reads better than "1234".
    double scale = std::pow(10.0, std::floor(std::log10(factor)) - 1);
    std::snprintf(buf, sizeof buf, "%.0f", std::round(factor / scale) * scale);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", std::round(factor));
  }
  return buf;
}

std::string date_of(int64_t minute) {
  std::time_t t = static_cast<std::time_t>(minute * 60);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// The series as a dense array from `first` (absent minutes are minutes without queries).
struct Dense {
  int64_t first = 0;
  std::vector<uint64_t> counts;
};

Dense densify(std::span<const MinuteCount> series, const BurstOptions& opt) {
  Dense d;
  if (series.empty()) return d;
  int64_t last = series[0].minute;
  for (const auto& p : series) last = std::max(last, p.minute);
  int64_t first = last;
  for (const auto& p : series) {
    if (p.minute > last - opt.max_span_minutes) first = std::min(first, p.minute);
  }
  d.first = first;
  d.counts.assign(static_cast<size_t>(last - first + 1), 0);
  for (const auto& p : series) {
    if (p.minute >= first) d.counts[static_cast<size_t>(p.minute - first)] += p.count;
  }
  return d;
}

// The background around [lo, hi] (indexes into d.counts): the larger median of the
// half_window minutes before and after; a side with under a third of them is left out.
double background(const Dense& d, int64_t lo, int64_t hi, const BurstOptions& opt,
                  std::vector<uint64_t>& scratch) {
  const int64_t n = static_cast<int64_t>(d.counts.size());
  const int64_t half = std::max(1, opt.half_window);
  const int64_t enough = std::max<int64_t>(1, half / 3);
  double best = -1;
  for (int side = 0; side < 2; ++side) {
    int64_t a = side == 0 ? std::max<int64_t>(0, lo - half) : hi + 1;
    int64_t b = side == 0 ? lo - 1 : std::min(n - 1, hi + half);
    if (b - a + 1 < enough) continue;
    scratch.assign(d.counts.begin() + a, d.counts.begin() + b + 1);
    best = std::max(best, static_cast<double>(median_of(scratch)));
  }
  return best;  // -1: no side has enough context
}

// For each i, the minimum of the `half` values before it (before = true) or after it; 0 where
// that side has fewer than a third of them (background() leaves such a side out, and 0 keeps the
// shortcut in find_spikes() from skipping anything there).
std::vector<uint64_t> sliding_min(const std::vector<uint64_t>& v, int half_window, bool before) {
  const int64_t n = static_cast<int64_t>(v.size());
  const int64_t half = std::max(1, half_window);
  const int64_t enough = std::max<int64_t>(1, half / 3);
  std::vector<uint64_t> out(v.size(), 0);
  std::deque<int64_t> q;  // indexes with increasing values
  auto push = [&](int64_t j) {
    while (!q.empty() && v[static_cast<size_t>(q.back())] >= v[static_cast<size_t>(j)]) q.pop_back();
    q.push_back(j);
  };
  if (before) {
    for (int64_t i = 0; i < n; ++i) {
      while (!q.empty() && q.front() < i - half) q.pop_front();
      if (i >= enough && !q.empty()) out[static_cast<size_t>(i)] = v[static_cast<size_t>(q.front())];
      push(i);
    }
  } else {
    for (int64_t i = n - 1; i >= 0; --i) {
      while (!q.empty() && q.front() > i + half) q.pop_front();
      if (n - 1 - i >= enough && !q.empty()) out[static_cast<size_t>(i)] = v[static_cast<size_t>(q.front())];
      push(i);
    }
  }
  return out;
}

bool stands_out(double count, double bg, const BurstOptions& opt) {
  double base = std::max(bg, 1.0);
  if (count > opt.factor * base) return true;
  return count - bg >= static_cast<double>(opt.min_excess) && count >= opt.excess_min_factor * base;
}

struct Cluster {
  std::vector<const BurstEvent*> events;
};

// Groups events whose keys (minute of day or of hour) lie close together.
std::vector<Cluster> cluster_by(const std::vector<const BurstEvent*>& events, int64_t period,
                                int tol) {
  std::vector<const BurstEvent*> sorted = events;
  std::stable_sort(sorted.begin(), sorted.end(), [&](const BurstEvent* a, const BurstEvent* b) {
    return mod_of(a->start, period) < mod_of(b->start, period);
  });
  // A cluster spans at most 2 * tol from its first key: dense noise cannot chain a whole hour
  // or day into one "time".
  std::vector<Cluster> out;
  int64_t first = 0;
  for (const BurstEvent* e : sorted) {
    int64_t k = mod_of(e->start, period);
    if (out.empty() || k - first > 2 * tol) {
      out.emplace_back();
      first = k;
    }
    out.back().events.push_back(e);
  }
  for (auto& c : out) {
    std::sort(c.events.begin(), c.events.end(),
              [](const BurstEvent* a, const BurstEvent* b) { return a->start < b->start; });
  }
  return out;
}

std::string describe_window(const BurstFinding& f) {
  if (f.period == BurstFinding::Period::Hourly) {
    char buf[32];
    int end = f.minute_of_day + f.window_minutes - 1;
    if (f.window_minutes == 1) {
      std::snprintf(buf, sizeof buf, ":%02d", f.minute_of_day);
    } else {
      std::snprintf(buf, sizeof buf, ":%02d-:%02d", f.minute_of_day, end % 60);
    }
    return buf;
  }
  std::string s = hhmm(f.minute_of_day);
  if (f.window_minutes > 1) s += "-" + hhmm((f.minute_of_day + f.window_minutes - 1) % kDay);
  return s;
}

std::string warning_for(const BurstFinding& f) {
  std::string load = times(f.typical_factor) + " times your normal load " +
                     (f.window_minutes == 1 ? std::string("in one minute")
                                            : "for " + std::to_string(f.window_minutes) + " minutes");
  std::string at = describe_window(f) + " UTC";
  switch (f.period) {
    case BurstFinding::Period::Once: {
      return "seen once, watching: on " + std::string(weekday_name(weekday_of(f.first_seen))) +
             " " + date_of(f.first_seen) + " at " + at + " your devices sent " + load;
    }
    case BurstFinding::Period::Hourly:
      return "every hour at " + at + " your devices send " + load;
    case BurstFinding::Period::Daily:
      return "every day at " + at + " your devices send " + load;
    case BurstFinding::Period::Weekly:
    case BurstFinding::Period::EveryOtherWeek: {
      bool single = (f.weekdays & (f.weekdays - 1)) == 0;
      std::string when;
      if (f.period == BurstFinding::Period::EveryOtherWeek) {
        when = "every other " + weekday_list(f.weekdays, false);
      } else if (single) {
        when = "every " + weekday_list(f.weekdays, false);
      } else {
        when = "on " + weekday_list(f.weekdays, true);
      }
      return when + " at " + at + " your devices send " + load;
    }
  }
  return "";
}

BurstFinding make_finding(BurstFinding::Period period, std::vector<const BurstEvent*> group,
                          int64_t period_len) {
  BurstFinding f;
  f.period = period;
  std::sort(group.begin(), group.end(),
            [](const BurstEvent* a, const BurstEvent* b) { return a->start < b->start; });
  std::vector<double> factors;
  std::vector<uint64_t> totals;
  int64_t lo = period_len, hi = -1;
  for (const BurstEvent* e : group) {
    f.events.push_back(*e);
    f.occurrences.push_back(e->start);
    factors.push_back(e->factor);
    totals.push_back(e->total);
    int64_t s = mod_of(e->start, period_len);
    lo = std::min(lo, s);
    hi = std::max(hi, s + (e->end - e->start));
    if (period != BurstFinding::Period::Hourly && period != BurstFinding::Period::Daily) {
      f.weekdays |= 1u << weekday_of(e->start);
    }
  }
  f.minute_of_day = static_cast<int>(lo);
  f.window_minutes = static_cast<int>(hi - lo + 1);
  for (int d = 0; d < 7; ++d) {
    if (f.weekdays & (1u << d)) {
      f.weekday = d;
      break;
    }
  }
  f.first_seen = f.events.front().start;
  f.last_seen = f.events.back().start;
  f.typical_factor = median_of(factors);
  f.typical_count = median_of(totals);
  f.warning = warning_for(f);
  return f;
}

// True when every gap between the sorted distinct weeks is even (and there are at least two).
bool every_other_week(const std::set<int64_t>& weeks) {
  if (weeks.size() < 2) return false;
  int64_t prev = *weeks.begin();
  for (auto it = std::next(weeks.begin()); it != weeks.end(); ++it) {
    if ((*it - prev) % 2 != 0) return false;
    prev = *it;
  }
  return true;
}

int64_t series_start(std::span<const MinuteCount> series) {
  int64_t first = series.empty() ? 0 : series[0].minute;
  for (const auto& p : series) first = std::min(first, p.minute);
  return first;
}

}  // namespace

const char* weekday_name(int weekday) {
  static const char* const kNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
  return weekday >= 0 && weekday < 7 ? kNames[weekday] : "?";
}

std::string weekday_list(unsigned weekdays, bool plural) {
  std::vector<std::string> names;
  for (int d = 0; d < 7; ++d) {
    if (weekdays & (1u << d)) names.push_back(std::string(weekday_name(d)) + (plural ? "s" : ""));
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

int weekday_of(int64_t minute) {
  // 1970-01-01 was a Thursday (4).
  return static_cast<int>((floor_div(minute, kDay) % 7 + 7 + 4) % 7);
}

const char* period_name(BurstFinding::Period p) {
  switch (p) {
    case BurstFinding::Period::Once: return "once";
    case BurstFinding::Period::Hourly: return "hourly";
    case BurstFinding::Period::Daily: return "daily";
    case BurstFinding::Period::Weekly: return "weekly";
    case BurstFinding::Period::EveryOtherWeek: return "every-other-week";
  }
  return "?";
}

std::string BurstFinding::key() const {
  return std::string(period_name(period)) + "/" + std::to_string(weekdays) + "/" +
         std::to_string(period == Period::Once ? first_seen : minute_of_day);
}

std::vector<Spike> find_spikes(std::span<const MinuteCount> series, const BurstOptions& opt) {
  std::vector<Spike> out;
  Dense d = densify(series, opt);
  std::vector<uint64_t> scratch;
  const int64_t n = static_cast<int64_t>(d.counts.size());
  // An exact shortcut for busy zones: the background (a median of a side) is at least that
  // side's minimum, and a spike is at least min(factor, excess_min_factor) times the background,
  // so a minute below that multiple of the larger side minimum needs no medians.
  auto low_before = sliding_min(d.counts, opt.half_window, true);
  auto low_after = sliding_min(d.counts, opt.half_window, false);
  const double least = std::min(opt.factor, opt.excess_min_factor);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t c = d.counts[static_cast<size_t>(i)];
    if (c < opt.min_count || c == 0) continue;
    double low = static_cast<double>(std::max(low_before[static_cast<size_t>(i)],
                                              low_after[static_cast<size_t>(i)]));
    if (static_cast<double>(c) < least * std::max(low, 1.0)) continue;
    double bg = background(d, i, i, opt, scratch);
    if (bg < 0) continue;  // too little context at the edge of the data
    if (stands_out(static_cast<double>(c), bg, opt)) {
      out.push_back(Spike{d.first + i, c, bg, static_cast<double>(c) / std::max(bg, 1.0)});
    }
  }
  return out;
}

std::vector<BurstEvent> find_events(std::span<const MinuteCount> series, const BurstOptions& opt) {
  std::vector<BurstEvent> out;
  auto spikes = find_spikes(series, opt);
  if (spikes.empty()) return out;
  Dense d = densify(series, opt);
  std::vector<uint64_t> scratch;
  size_t i = 0;
  while (i < spikes.size()) {
    size_t j = i;
    while (j + 1 < spikes.size() && spikes[j + 1].minute - spikes[j].minute <= opt.merge_gap + 1) ++j;
    BurstEvent e;
    e.start = spikes[i].minute;
    e.end = spikes[j].minute;
    i = j + 1;
    if (e.minutes() > opt.max_window) continue;  // a level change, not a burst
    for (int64_t m = e.start; m <= e.end; ++m) {
      uint64_t c = d.counts[static_cast<size_t>(m - d.first)];
      e.total += c;
      e.peak = std::max(e.peak, c);
    }
    // The background without the window itself (its minutes would raise the median).
    double bg = background(d, e.start - d.first, e.end - d.first, opt, scratch);
    e.background = std::max(bg, 0.0);
    e.factor = static_cast<double>(e.total) / e.minutes() / std::max(e.background, 1.0);
    out.push_back(e);
  }
  return out;
}

namespace {

using EventList = std::vector<const BurstEvent*>;

// `left` without the events in `used`, order kept.
void remove_used(EventList& left, const EventList& used) {
  std::set<const BurstEvent*> u(used.begin(), used.end());
  EventList rest;
  for (const BurstEvent* e : left) {
    if (!u.count(e)) rest.push_back(e);
  }
  left = rest;
}

// Hourly: the same minute of the hour in many of the hours from the first to the last. The
// events of each finding leave `left`.
std::vector<BurstFinding> hourly_findings(EventList& left, const BurstOptions& opt) {
  std::vector<BurstFinding> hourly;
  for (const auto& c : cluster_by(left, kHour, opt.tolerance)) {
    std::set<int64_t> hours;
    for (const BurstEvent* e : c.events) hours.insert(floor_div(e->start, kHour));
    if (static_cast<int>(hours.size()) < opt.min_hours) continue;
    double span = static_cast<double>(*hours.rbegin() - *hours.begin() + 1);
    if (static_cast<double>(hours.size()) < opt.hourly_share * span) continue;
    hourly.push_back(make_finding(BurstFinding::Period::Hourly, c.events, kHour));
    remove_used(left, c.events);
  }
  return hourly;
}

// A zone with many unexplained spikes a day (noise, not a fleet) needs stronger evidence:
// chance alone puts some of them at the same time of day in two weeks.
bool is_noisy(const EventList& left, std::span<const MinuteCount> series, int64_t now,
              const BurstOptions& opt) {
  if (left.empty()) return false;
  int64_t from = std::max(series_start(series), now - opt.max_span_minutes);
  int64_t days_observed = std::max<int64_t>(1, (now - from) / kDay);
  return static_cast<double>(left.size()) >
         opt.max_events_per_day * static_cast<double>(days_observed);
}

BurstOptions stricter(BurstOptions o) {
  o.tolerance = 0;
  o.min_weeks = std::max(o.min_weeks, 3);
  o.min_days = std::max(o.min_days, 5);
  return o;
}

struct ByTimeOfDay {
  std::vector<BurstFinding> daily, weekly;
  EventList single;  // the newest window of each time of day that does not recur (yet)
};

bool recurs_daily(const EventList& events, const BurstOptions& o) {
  std::set<int64_t> days;
  for (const BurstEvent* e : events) days.insert(floor_div(e->start, kDay));
  double span = static_cast<double>(*days.rbegin() - *days.begin() + 1);
  return static_cast<int>(days.size()) >= o.min_days &&
         static_cast<double>(days.size()) >= o.daily_share * span;
}

// Weekly on the weekdays that recur (every other week when each of them alternates); of what
// does not recur, the newest window is kept in `single`.
void split_weekly(const EventList& events, const BurstOptions& o, ByTimeOfDay& out) {
  std::map<int, std::set<int64_t>> weeks;
  for (const BurstEvent* e : events) weeks[weekday_of(e->start)].insert(week_of(e->start));
  EventList recurring, rest;
  bool alternate = true;
  for (const BurstEvent* e : events) {
    const auto& w = weeks[weekday_of(e->start)];
    (static_cast<int>(w.size()) >= o.min_weeks ? recurring : rest).push_back(e);
  }
  for (const auto& [wd, w] : weeks) {
    if (static_cast<int>(w.size()) >= o.min_weeks && !every_other_week(w)) alternate = false;
  }
  if (!recurring.empty()) {
    out.weekly.push_back(make_finding(
        alternate ? BurstFinding::Period::EveryOtherWeek : BurstFinding::Period::Weekly,
        recurring, kDay));
  }
  if (!rest.empty()) out.single.push_back(rest.back());
}

// By time of day: daily, else weekly on the weekdays that recur.
ByTimeOfDay by_time_of_day(const EventList& left, const BurstOptions& o) {
  ByTimeOfDay out;
  for (const auto& c : cluster_by(left, kDay, o.tolerance)) {
    if (recurs_daily(c.events, o)) {
      out.daily.push_back(make_finding(BurstFinding::Period::Daily, c.events, kDay));
    } else {
      split_weekly(c.events, o, out);
    }
  }
  return out;
}

// The single windows still worth watching: large enough and recent enough, oldest first.
void append_once(EventList single, int64_t now, const BurstOptions& opt,
                 std::vector<BurstFinding>& out) {
  std::sort(single.begin(), single.end(),
            [](const BurstEvent* a, const BurstEvent* b) { return a->start < b->start; });
  for (const BurstEvent* e : single) {
    if (e->total < opt.once_min_queries) continue;
    if (now - e->start > static_cast<int64_t>(opt.watch_days) * kDay) continue;
    out.push_back(make_finding(BurstFinding::Period::Once, {e}, kDay));
  }
}

}  // namespace

std::vector<BurstFinding> find_bursts(std::span<const MinuteCount> series,
                                      const BurstOptions& opt) {
  std::vector<BurstFinding> out;
  auto events = find_events(series, opt);
  if (events.empty()) return out;
  int64_t now = opt.now_minute;
  if (now == 0) {
    for (const auto& p : series) now = std::max(now, p.minute + 1);
  }
  EventList left;
  for (const auto& e : events) left.push_back(&e);

  std::vector<BurstFinding> hourly = hourly_findings(left, opt);
  bool noisy = is_noisy(left, series, now, opt);
  ByTimeOfDay day = by_time_of_day(left, noisy ? stricter(opt) : opt);

  out.insert(out.end(), hourly.begin(), hourly.end());
  out.insert(out.end(), day.daily.begin(), day.daily.end());
  out.insert(out.end(), day.weekly.begin(), day.weekly.end());
  if (!noisy) append_once(std::move(day.single), now, opt, out);
  return out;
}

}  // namespace timepool::stats
