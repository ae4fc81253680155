// The monitor API's database side: who a key belongs to, what a monitor is assigned, and the
// once-only write of an accepted batch (scores computed here, from the raw samples).
//
// All functions take a connection the caller owns (one thread at a time) and throw pg::Error.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/ntp.hpp"
#include "monitor/batch.hpp"
#include "monitor/probe_plan.hpp"
#include "monitor/shift.hpp"

namespace timepool::pg {
class Connection;
}

namespace timepool::monitor::api {

struct MonitorIdentity {
  int id = 0;
  std::string name;
  std::string status;  // pending, testing, active, paused
  bool probing() const { return status == "testing" || status == "active"; }
};

// The monitor whose key this is (looked up by the key's SHA-256); nullopt for an unknown key.
std::optional<MonitorIdentity> authenticate(pg::Connection& conn, std::string_view key);

struct AssignedServer {
  int64_t id = 0;
  std::string address;
  std::string pair;  // candidate, testing or active (server_monitors)
  Slot slot;         // when this monitor probes it (monitor/probe_plan.hpp)
};

// The servers a monitor probes: every server that is not deleted or disabled and that the
// selector paired the monitor with (candidate, testing or active: select_monitors keeps a bounded
// set per server, never one in the monitor's own /24 or /48); its selection state for each, and
// its slot: the monitors that probe the server (testing or active, and paired with it unless
// their address is not known) ordered by id share its cycle, this monitor taking its rank's
// slot, so a monitor that does not probe a server leaves no empty slot in its cycle. A monitor
// whose address is not known is never selected and is a candidate for every server.
std::vector<AssignedServer> assignment(pg::Connection& conn, int monitor_id,
                                       const PlanSettings& plan = {});

// Which of `ids` the monitor may submit results for: those assignment() names, servers the
// selector unpaired it from within `grace`, and servers deleted or disabled within `grace`
// (their results were taken before that).
std::set<int64_t> assigned_among(pg::Connection& conn, int monitor_id,
                                 const std::set<int64_t>& ids, std::chrono::seconds grace);

struct IngestResult {
  bool duplicate = false;   // this batch id was applied before: nothing written now
  std::size_t results = 0;  // results in the batch
  std::size_t scored = 0;   // results that moved a score (the others: the monitor's clock was
                            // not good, the failure was the monitor's own, or a newer result
                            // of the same server was applied already)
};

// Applies an accepted batch once, in one transaction: records its id (a repeated id changes
// nothing and says duplicate), scores each result from this monitor's previous score of the
// server in order of start time (monitor/batch.hpp score_submitted), writes the probe log, the
// per-monitor scores and the pool scores of the servers touched, and the monitor's last_seen.
// Results of batches from one monitor are applied one batch at a time (the monitor's row is
// locked first).
IngestResult ingest(pg::Connection& conn, int monitor_id, const Batch& batch,
                    double max_clock_error_s);

// What the monitor says of its own clock (it reports with each assignment request).
void record_clock_state(pg::Connection& conn, int monitor_id, bool ok, std::string_view reason);

// The shift check (monitor/shift.hpp) over the probe log of the last `window`: each monitor's
// median offset per server against the other monitors'. Every active monitor found shifted is
// moved back to testing (its results then move no pool score) with the reason recorded for
// admins (monitors.demoted_reason). Returns the monitors compared.
std::vector<MonitorShift> check_shifts(pg::Connection& conn, std::chrono::seconds window,
                                       const ShiftSettings& s);

// Forgets batch ids received before now - keep; returns how many.
int64_t prune_batches(pg::Connection& conn, std::chrono::seconds keep);

}  // namespace timepool::monitor::api
