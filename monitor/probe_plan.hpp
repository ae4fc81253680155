// The central probe plan: when each monitor probes each server (pure; the monitor API calls it
// for every server of an assignment, the monitor follows the times it is handed).
//
// - Each server has a cycle: `interval` normally, `slow_interval` when its pool score is at or
//   below `slow_below_score` (a server that answered DENY or RSTR is capped at -50, one that
//   has not answered for about ten probes is below -40): such a server is probed much less
//   often, as the NTP Pool does (about every 2 hours).
// - The probing monitors (testing or active, ordered by id) share each server's cycle in
//   `slots` equal slots; monitor j of them probes at anchor + j * cycle / slots (mod cycle), so
//   two monitors never probe one server closer together than cycle / slots. The cycle is
//   stretched to slots * min_spacing when that is longer, so all monitors together probe a
//   server no more often than once per `min_spacing`.
// - The anchor is a fixed pseudo-random point of the server's own (so servers spread over the
//   cycle), or the time of a re-check its volunteer asked for: the first slot is then due at
//   once, the others follow at their spacing, and for `recheck_window` after the request the
//   server keeps the normal cycle even if its score is still very low.
//
// Times are Unix milliseconds. A monitor turns a due time into its own clock; an error of its
// clock of a few hundred milliseconds moves its slot by as much, far below any spacing used.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace timepool::monitor {

struct PlanSettings {
  std::chrono::milliseconds interval{540000};        // 9 minutes
  std::chrono::milliseconds slow_interval{7200000};  // 2 hours
  double slow_below_score = -40;
  std::chrono::milliseconds min_spacing{60000};
  std::chrono::milliseconds recheck_window{3600000};
};

struct PlanServer {
  int64_t id = 0;
  double pool_score = 0;
  std::optional<int64_t> recheck_ms;  // when its volunteer last asked for a re-check
};

struct Slot {
  int64_t cycle_ms = 0;     // this monitor probes the server once per cycle
  int64_t next_due_ms = 0;  // the first slot at or after now
  bool slow = false;        // the slow cycle applies
  bool recheck = false;     // anchored at a re-check request
  // For a re-check: this monitor's slot of the cycle that starts at the request (may be past:
  // a monitor that has not probed it yet probes at once). 0 when there is none.
  int64_t recheck_due_ms = 0;
};

// The slot of monitor `slot` (0-based) of `slots` probing monitors for server `s`, at `now_ms`.
// `slots` below 1 counts as 1 and `slot` is taken modulo `slots`.
Slot plan_slot(const PlanServer& s, int slot, int slots, int64_t now_ms, const PlanSettings& p);

}  // namespace timepool::monitor
