// Why a server is in DNS or not, in words, with what its owner can do: a pure function of the
// facts the score page already reads (the server row, the newest probes, an admin's reason),
// so every case is unit-tested without a database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/pg.hpp"
#include "web/queries.hpp"

namespace timepool::web {

// One probe as the probe log holds it.
struct ProbeFact {
  std::optional<double> offset_s;
  std::optional<int> stratum;
  std::optional<std::string> error;  // "timeout", "kod DENY", "kod RATE", "unsynchronized" ...
  double step = 0;
};

struct StatusFacts {
  bool in_dns = false;
  double score = 0;
  int netspeed = 0;
  std::optional<std::string> deletion_on;
  std::optional<std::string> disabled_at;      // by an admin (or timepoolctl)
  std::optional<std::string> disabled_reason;  // their reason, when one was recorded
  bool owner_disabled = false;                 // the owner's account is disabled
  bool held = false;  // someone reported the address as theirs; an admin has not decided yet
  bool stale = false;                          // no fresh pool score (monitoring_check)
  bool outage = false;                         // no monitor reports at all (the pool is frozen)
  int64_t probes_total = 0;                    // probes in the log so far (counted up to 100)
  std::vector<ProbeFact> recent;               // the newest probes, newest first
};

struct StatusExplanation {
  bool in_dns = false;
  std::string headline;            // one line: "Not in DNS: no reply from the server"
  std::vector<std::string> why;    // plain sentences with the numbers
  std::vector<std::string> todo;   // what the owner can do
};

// How many recent probes are judged (about 90 minutes of one monitor, or less of several).
inline constexpr size_t kRecentProbes = 10;

StatusExplanation explain_status(const StatusFacts& f);

// Reads the facts for `s` (probes, an admin's reason from the audit log, staleness, outage).
// `with_reason`: include the admin's reason (the owner and admins only).
StatusFacts load_status_facts(pg::Connection& db, const ServerInfo& s, bool with_reason);

// The explanation as HTML (<section id="why">), escaped.
std::string status_html(const StatusExplanation& e);

}  // namespace timepool::web
