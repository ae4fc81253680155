// The read side of the DNS query statistics: one zone's queries per minute, as the web pages
// and the burst finder (core/bursts.hpp) use them. The DNS server writes these rows
// (server/query_stats); everything else only reads them, through this one query.
//
// Thread safety: a plain function over the caller's connection.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bursts.hpp"
#include "core/pg.hpp"

namespace timepool::stats {

// One zone's queries per minute (all qtypes and rcodes added up) for minutes in
// [from_minute, to_minute), oldest first; minutes without queries are absent. The input of
// find_bursts() and of the per-minute chart. Throws pg::Error.
std::vector<MinuteCount> read_minute_series(pg::Connection& conn, int32_t zone_id,
                                            int64_t from_minute, int64_t to_minute);

}  // namespace timepool::stats
