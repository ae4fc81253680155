#include "core/minute_series.hpp"

namespace timepool::stats {

std::vector<MinuteCount> read_minute_series(pg::Connection& conn, int32_t zone_id,
                                            int64_t from_minute, int64_t to_minute) {
  auto res = conn.exec(
      "SELECT (extract(epoch FROM minute)::bigint / 60) AS m, sum(count)::bigint AS n "
      "FROM dns_query_counts WHERE zone_id = $1 "
      "AND minute >= to_timestamp($2 * 60) AND minute < to_timestamp($3 * 60) "
      "GROUP BY minute ORDER BY minute",
      zone_id, from_minute, to_minute);
  std::vector<MinuteCount> out;
  out.reserve(static_cast<size_t>(res.rows()));
  for (int i = 0; i < res.rows(); ++i) {
    out.push_back(MinuteCount{res.get<int64_t>(i, 0), static_cast<uint64_t>(res.get<int64_t>(i, 1))});
  }
  return out;
}

}  // namespace timepool::stats
