// A zone's DNS load as counted by the DNS servers (schema/0008): the series behind the charts
// of the vendor page, the admin zone pages and /api/zone/<name>/queries, the recurring bursts
// found in it (core/bursts.hpp), and how often each server was handed out in answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bursts.hpp"
#include "core/pg.hpp"
#include "web/graph.hpp"

namespace timepool::web {

inline constexpr int kMinuteSeriesHours = 24;   // queries per minute: the last day
inline constexpr int kHourSeriesDays = 90;      // queries per hour: the last 90 days
inline constexpr int kBurstWindowDays = 28;     // minutes read for burst detection

// One series with the range it covers (epoch seconds, [t0, t1)).
struct LoadSeries {
  double t0 = 0, t1 = 0;
  std::vector<Point> points;  // oldest first; periods without queries are absent
};

// The zone's id by name; nullopt when there is no such zone.
std::optional<int32_t> zone_id_by_name(pg::Connection& db, const std::string& name);

// Queries per minute over the last day (stats::read_minute_series) and per hour over the last
// 90 days (dns_query_counts_hourly), all qtypes and rcodes added up, up to `now` (epoch s).
LoadSeries minute_series(pg::Connection& db, int32_t zone_id, double now);
LoadSeries hour_series(pg::Connection& db, int32_t zone_id, double now);

// Recurring bursts in the last 28 days of minute counts.
std::vector<stats::BurstFinding> zone_bursts(pg::Connection& db, int32_t zone_id, double now);

// Both charts as inline SVG (svg_chart), in <figure>s.
std::string load_charts(const LoadSeries& minutes, const LoadSeries& hours);
// The findings' warning sentences with kBurstAdvice, or "" when there are none. `id` is the
// HTML id of the list.
std::string burst_warnings_html(const std::vector<stats::BurstFinding>& findings,
                                const std::string& id);

// How many answers included the server, per hour over the last day (dns_server_answers).
LoadSeries answer_series(pg::Connection& db, int64_t server_id, double now);

double now_epoch();

}  // namespace timepool::web
