#include "monitor/probe_plan.hpp"

#include <algorithm>

namespace timepool::monitor {

namespace {

// splitmix64: a well-mixed fixed point per server id, so neighbouring ids spread apart.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// a mod m in [0, m) for any sign of a.
int64_t floor_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}

}  // namespace

Slot plan_slot(const PlanServer& s, int slot, int slots, int64_t now_ms, const PlanSettings& p) {
  slots = std::max(slots, 1);
  slot = static_cast<int>(floor_mod(slot, slots));
  Slot out;
  const bool recent_recheck =
      s.recheck_ms && now_ms - *s.recheck_ms < p.recheck_window.count() && *s.recheck_ms <= now_ms;
  out.slow = s.pool_score <= p.slow_below_score && !recent_recheck;
  const int64_t base = (out.slow ? p.slow_interval : p.interval).count();
  const int64_t spaced = p.min_spacing.count() * slots;
  out.cycle_ms = std::max<int64_t>({base, spaced, 1});
  int64_t anchor;
  if (recent_recheck) {
    out.recheck = true;
    anchor = *s.recheck_ms;
  } else {
    anchor = static_cast<int64_t>(mix(static_cast<uint64_t>(s.id)) %
                                  static_cast<uint64_t>(out.cycle_ms));
  }
  const int64_t offset = anchor + out.cycle_ms * slot / slots;
  // The first time at or after now that is congruent to offset modulo the cycle.
  out.next_due_ms = now_ms + floor_mod(offset - now_ms, out.cycle_ms);
  if (out.recheck) out.recheck_due_ms = offset;
  return out;
}

}  // namespace timepool::monitor
