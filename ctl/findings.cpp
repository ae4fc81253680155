#include "ctl/findings.hpp"

#include <cstdio>
#include <ostream>

#include <nlohmann/json.hpp>

#include "ctl/commands.hpp"

namespace timepool::ctl {

void findings_list(pg::Connection& conn, const std::string& zone, bool json, std::ostream& out) {
  if (!zone.empty() && conn.exec("SELECT 1 FROM zones WHERE name = $1", zone).rows() == 0) {
    throw Error("no zone named \"" + zone + "\" (timepoolctl zones list shows them)");
  }
  auto r = conn.exec(
      "SELECT z.name, f.kind, f.period, f.weekdays, f.window_start, f.window_minutes, "
      "f.typical_count, f.factor, "
      "to_char(f.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI\"Z\"'), "
      "to_char(f.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI\"Z\"'), f.warning "
      "FROM zone_findings f JOIN zones z ON z.id = f.zone_id "
      "WHERE $1 = '' OR z.name = $1 ORDER BY z.name, f.kind = 'once', f.window_start",
      zone);
  auto updated = conn.exec(
      "SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM zone_findings_runs");
  std::string at = updated.rows() == 1 ? updated.get<std::string>(0, 0) : "";
  auto window = [&](int i) {
    int start = r.get<int32_t>(i, 4), len = r.get<int32_t>(i, 5);
    char buf[32];
    if (r.get<std::string>(i, 2) == "hourly") {
      std::snprintf(buf, sizeof buf, ":%02d+%dm", start, len);
    } else {
      std::snprintf(buf, sizeof buf, "%02d:%02d+%dm", start / 60, start % 60, len);
    }
    return std::string(buf);
  };
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (int i = 0; i < r.rows(); ++i) {
      arr.push_back({{"zone", r.get<std::string>(i, 0)},
                     {"kind", r.get<std::string>(i, 1)},
                     {"period", r.get<std::string>(i, 2)},
                     {"weekdays", r.get<int32_t>(i, 3)},
                     {"minute_of_day", r.get<int32_t>(i, 4)},
                     {"window_minutes", r.get<int32_t>(i, 5)},
                     {"typical_count", r.get<int64_t>(i, 6)},
                     {"typical_factor", r.get<double>(i, 7)},
                     {"first_seen", r.get<std::string>(i, 8)},
                     {"last_seen", r.get<std::string>(i, 9)},
                     {"warning", r.get<std::string>(i, 10)}});
    }
    out << nlohmann::json{{"updated", at.empty() ? nlohmann::json() : nlohmann::json(at)},
                          {"findings", arr}}
               .dump()
        << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < r.rows(); ++i) {
    char factor[32];
    std::snprintf(factor, sizeof factor, "%.0fx", r.get<double>(i, 7));
    rows.push_back({r.get<std::string>(i, 0), r.get<std::string>(i, 2), window(i),
                    std::to_string(r.get<int64_t>(i, 6)), factor, r.get<std::string>(i, 8),
                    r.get<std::string>(i, 9), r.get<std::string>(i, 10)});
  }
  if (rows.empty()) {
    out << "no findings" << (zone.empty() ? "" : " for " + zone) << "\n";
  } else {
    out << format_table({"ZONE", "PERIOD", "WINDOW", "QUERIES", "FACTOR", "FIRST", "LAST",
                         "FINDING"},
                        rows);
  }
  out << (at.empty() ? std::string("the findings job has not run yet")
                     : "computed by timepool-web at " + at)
      << "\n";
}

}  // namespace timepool::ctl
