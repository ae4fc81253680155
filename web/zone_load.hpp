// A zone's DNS load as counted by the DNS servers (schema/0008): the series behind the charts
// of the vendor page, the admin zone pages and /api/zone/<name>/queries, the findings stored by
// the findings job (schema/0009, web/findings_job), and how often each server was handed out
// in answers.
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

// One series with the range it covers (epoch seconds, [t0, t1)).
struct LoadSeries {
  double t0 = 0, t1 = 0;
  double step = 0;            // seconds per point (60 or 3600)
  std::vector<Point> points;  // oldest first, one per step: periods without queries are 0
};

// The zone's id by name; nullopt when there is no such zone.
std::optional<int32_t> zone_id_by_name(pg::Connection& db, const std::string& name);

// One zone's queries per minute (all qtypes and rcodes added up) for minutes in
// [from_minute, to_minute), oldest first; minutes without queries are absent
// (stats::read_minute_series, core/minute_series).
std::vector<stats::MinuteCount> minute_counts(pg::Connection& db, int32_t zone_id,
                                              int64_t from_minute, int64_t to_minute);

// Queries per minute over the last day and per hour over the last 90 days
// (dns_query_counts_hourly), all qtypes and rcodes added up, up to `now` (epoch s). Every
// minute (hour) of the range has a point: missing ones are 0.
LoadSeries minute_series(pg::Connection& db, int32_t zone_id, double now);
LoadSeries hour_series(pg::Connection& db, int32_t zone_id, double now);
// Fills the gaps of `sparse` (points at multiples of `step`) with zeros over [t0, t1).
LoadSeries dense_series(double t0, double t1, double step, const std::vector<Point>& sparse);

// A finding as stored in zone_findings.
struct StoredFinding {
  std::string zone;
  std::string kind;    // recurring, once
  std::string period;  // once, hourly, daily, weekly, every-other-week
  int weekdays = 0;
  int window_start = 0, window_minutes = 1;
  int64_t typical_count = 0;
  double factor = 0;
  std::string first_seen, last_seen;  // ISO 8601 UTC
  std::vector<std::pair<int64_t, int64_t>> windows;  // Unix minutes, inclusive
  std::string warning;
};
// The zone's findings, recurring first, then by time of day.
std::vector<StoredFinding> zone_findings(pg::Connection& db, int32_t zone_id);
// The `limit` most recently seen findings of vendor zones (for the admin queue), and how many
// there are in all: the queue costs the same however many zones and findings there are.
std::vector<StoredFinding> vendor_zone_findings(pg::Connection& db, int limit, int64_t* total);
// Every zone's findings (for /admin/zones).
std::vector<StoredFinding> all_zone_findings(pg::Connection& db);
// When the findings job last finished ("" when it never ran).
std::string findings_updated(pg::Connection& db);

// Both charts as inline SVG (svg_chart, step lines), in <figure>s, with the findings' windows
// marked on them.
std::string load_charts(const LoadSeries& minutes, const LoadSeries& hours,
                        const std::vector<StoredFinding>& findings = {});
// The findings' warning sentences with kBurstAdvice, or "" when there are none. `id` is the
// HTML id of the list.
std::string burst_warnings_html(const std::vector<StoredFinding>& findings, const std::string& id);
// A finding in memory as it would be stored (tests, previews).
StoredFinding stored(const stats::BurstFinding& f, const std::string& zone = "");

// How many answers included the server, per hour over the last day (dns_server_answers).
LoadSeries answer_series(pg::Connection& db, int64_t server_id, double now);

double now_epoch();

}  // namespace timepool::web
