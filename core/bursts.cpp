#include "core/bursts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace timepool::stats {

namespace {

constexpr int64_t kDay = 1440;
constexpr int64_t kWeek = 7 * kDay;

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

std::string hhmm(int minute_of_day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute_of_day / 60, minute_of_day % 60);
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

std::string warning_for(const BurstFinding& f, int64_t days_observed) {
  std::string when;
  if (f.period == BurstFinding::Period::Weekly) {
    when = std::string("every ") + weekday_name(f.weekday);
  } else {
    std::set<int64_t> days;
    for (int64_t m : f.occurrences) days.insert(floor_div(m, kDay));
    // "every day" only when it really happened on (nearly) every day we have data for.
    if (static_cast<double>(days.size()) >= 0.8 * static_cast<double>(days_observed)) {
      when = "every day";
    } else {
      when = "on " + std::to_string(days.size()) + " of the last " +
             std::to_string(days_observed) + " days";
    }
  }
  return when + " at " + hhmm(f.minute_of_day) + " UTC your devices send " +
         times(f.typical_factor) + " times your normal load in one minute";
}

}  // namespace

const char* weekday_name(int weekday) {
  static const char* const kNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
  return weekday >= 0 && weekday < 7 ? kNames[weekday] : "?";
}

int weekday_of(int64_t minute) {
  // 1970-01-01 was a Thursday (4).
  return static_cast<int>((floor_div(minute, kDay) % 7 + 7 + 4) % 7);
}

std::vector<Spike> find_spikes(std::span<const MinuteCount> series, const BurstOptions& opt) {
  std::vector<Spike> out;
  if (series.empty()) return out;
  int64_t last = series[0].minute;
  for (const auto& p : series) last = std::max(last, p.minute);
  int64_t first = last;
  for (const auto& p : series) {
    if (p.minute > last - opt.max_span_minutes) first = std::min(first, p.minute);
  }
  // Dense copy: absent minutes are minutes without queries.
  std::vector<uint64_t> dense(static_cast<size_t>(last - first + 1), 0);
  for (const auto& p : series) {
    if (p.minute >= first) dense[static_cast<size_t>(p.minute - first)] += p.count;
  }
  const int64_t n = static_cast<int64_t>(dense.size());
  const int64_t half = std::max(1, opt.half_window);
  std::vector<uint64_t> window;
  window.reserve(static_cast<size_t>(2 * half));
  for (int64_t i = 0; i < n; ++i) {
    uint64_t c = dense[static_cast<size_t>(i)];
    if (c < opt.min_count || c == 0) continue;
    window.clear();
    for (int64_t j = std::max<int64_t>(0, i - half); j <= std::min(n - 1, i + half); ++j) {
      if (j != i) window.push_back(dense[static_cast<size_t>(j)]);
    }
    // At the edges of the data a third of an hour of context is the least we judge by.
    if (static_cast<int64_t>(window.size()) < half * 2 / 3) continue;
    double median = static_cast<double>(median_of(window));
    double base = std::max(median, 1.0);
    if (static_cast<double>(c) > opt.factor * base) {
      out.push_back(Spike{first + i, c, median, static_cast<double>(c) / base});
    }
  }
  return out;
}

std::vector<BurstFinding> find_bursts(std::span<const MinuteCount> series,
                                      const BurstOptions& opt) {
  std::vector<BurstFinding> out;
  auto spikes = find_spikes(series, opt);
  if (spikes.empty()) return out;
  int64_t first = series[0].minute, last = series[0].minute;
  for (const auto& p : series) {
    first = std::min(first, p.minute);
    last = std::max(last, p.minute);
  }
  first = std::max(first, last - opt.max_span_minutes + 1);
  int64_t days_observed = floor_div(last, kDay) - floor_div(first, kDay) + 1;

  std::map<int, std::vector<const Spike*>> by_minute_of_day;
  for (const auto& s : spikes) {
    by_minute_of_day[static_cast<int>(s.minute - floor_div(s.minute, kDay) * kDay)].push_back(&s);
  }
  auto make = [&](BurstFinding::Period period, int weekday, int mod,
                  const std::vector<const Spike*>& group) {
    BurstFinding f{period, weekday, mod, {}, 0, 0, {}};
    std::vector<double> factors;
    std::vector<uint64_t> counts;
    for (const Spike* s : group) {
      f.occurrences.push_back(s->minute);
      factors.push_back(s->factor);
      counts.push_back(s->count);
    }
    f.typical_factor = median_of(factors);
    f.typical_count = median_of(counts);
    f.warning = warning_for(f, days_observed);
    return f;
  };

  std::vector<BurstFinding> weekly;
  for (const auto& [mod, group] : by_minute_of_day) {
    std::set<int64_t> days;
    std::map<int, std::vector<const Spike*>> by_weekday;
    for (const Spike* s : group) {
      days.insert(floor_div(s->minute, kDay));
      by_weekday[weekday_of(s->minute)].push_back(s);
    }
    if (static_cast<int>(days.size()) >= opt.min_days && by_weekday.size() >= 2) {
      out.push_back(make(BurstFinding::Period::Daily, -1, mod, group));
      continue;
    }
    for (const auto& [wd, g] : by_weekday) {
      std::set<int64_t> weeks;
      for (const Spike* s : g) weeks.insert(floor_div(s->minute, kWeek));
      if (static_cast<int>(weeks.size()) >= opt.min_weeks) {
        weekly.push_back(make(BurstFinding::Period::Weekly, wd, mod, g));
      }
    }
  }
  out.insert(out.end(), weekly.begin(), weekly.end());
  return out;
}

}  // namespace timepool::stats
