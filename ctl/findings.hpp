// `timepoolctl findings`: what the findings job of timepool-web (web/findings_job.hpp) stored
// in zone_findings; this command only reads that table.
#pragma once

#include <iosfwd>
#include <string>

#include "core/pg.hpp"

namespace timepool::ctl {

// Every zone's findings (or one zone's): zone, kind, period, window (UTC), typical size,
// factor, first and last seen, and the sentence the vendor sees. `json`: one JSON object with
// a "findings" array instead of the table. Throws ctl::Error for an unknown zone.
void findings_list(pg::Connection& conn, const std::string& zone, bool json, std::ostream& out);

}  // namespace timepool::ctl
