// When each server is probed (pure: the caller passes the time and the random seed).
//
// - Every server has its own phase within the interval, so probes spread evenly over it and
//   never come in a burst at the top of a minute or hour. The servers known at the first
//   set_servers() are spread by stratified sampling (server i of n, shuffled, at
//   (i + u) / n of the interval, u uniform in [0,1)): as even as possible, still random.
// - A server that appears later is probed within `new_server_within` (at a random moment in
//   it) and then keeps that phase.
// - Removed servers are forgotten (a probe in flight finishes; its result is the caller's).
// - The next probe is one interval after the previous one was due (the phase is kept even if
//   the probe ran late), never sooner: a server that does not answer is probed on the normal
//   schedule. After a RATE kiss-o'-death the gap is interval * 2^n for n consecutive RATE
//   answers, at most interval * max_backoff.
// - A server may come with the monitor API's slot (monitor/probe_plan.hpp): its own cycle and
//   the time of its next slot. The slot then replaces the random phase (all monitors of a server
//   keep their spacing), and a slot that this monitor has just probed is not probed twice. A
//   re-check slot not seen before is due at its time, or at once when that has passed.
//
// Not thread-safe: one thread owns a Schedule.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <random>
#include <unordered_map>
#include <vector>

#include "core/net.hpp"

namespace timepool::monitor {

// The monitor API's slot for one server, in this monitor's steady clock.
struct SlotHint {
  std::chrono::milliseconds cycle{0};
  std::chrono::steady_clock::time_point due;
  int64_t recheck_key = 0;  // the re-check slot's Unix ms; 0: none
  std::chrono::steady_clock::time_point recheck_due;
};

struct ServerRef {
  int64_t id = 0;
  net::Endpoint endpoint;
  std::optional<SlotHint> hint = std::nullopt;
};

class Schedule {
 public:
  using Clock = std::chrono::steady_clock;

  Schedule(std::chrono::milliseconds interval, std::chrono::milliseconds new_server_within,
           int max_backoff, uint64_t seed);

  // A new interval (the monitor API's hint): the next probe of each server is due one new
  // interval after its previous one.
  void set_interval(std::chrono::milliseconds interval);
  std::chrono::milliseconds interval() const { return interval_; }

  // The full current list of servers to probe.
  void set_servers(const std::vector<ServerRef>& servers, Clock::time_point now);

  // Servers due at or before `now`, earliest first, at most `max`. Each is "in flight" until
  // probe_done(): it is not handed out again meanwhile.
  std::vector<ServerRef> take_due(Clock::time_point now, std::size_t max);

  // The probe of `id` finished; `rate_limited`: it ended with a RATE kiss-o'-death.
  void probe_done(int64_t id, Clock::time_point now, bool rate_limited);

  // When the next server is due (nullopt: none waiting).
  std::optional<Clock::time_point> next_due();

  std::size_t size() const { return servers_.size(); }
  bool contains(int64_t id) const { return servers_.contains(id); }
  // Current backoff factor of a server (1 = none).
  int backoff(int64_t id) const;
  // When `id` is due next (nullopt: unknown or in flight); its cycle (the interval when the
  // server has no slot).
  std::optional<Clock::time_point> due_of(int64_t id) const;
  std::chrono::milliseconds cycle_of(int64_t id) const;

 private:
  struct Entry {
    net::Endpoint endpoint;
    Clock::time_point due;
    uint32_t gen = 0;
    bool in_flight = false;
    int rate_count = 0;
    std::chrono::milliseconds cycle{0};  // from the API's slot; 0: the interval
    std::optional<Clock::time_point> last_taken_due;  // the slot last handed out
    int64_t recheck_key = 0;                           // the re-check slot acted on
  };
  struct Item {
    Clock::time_point due;
    int64_t id;
    uint32_t gen;
    bool operator>(const Item& o) const { return due > o.due; }
  };
  void push(int64_t id, Entry& e);
  void apply_hint(Entry& e, const SlotHint& h, Clock::time_point now);
  int backoff_of(const Entry& e) const;
  std::chrono::milliseconds cycle(const Entry& e) const {
    return e.cycle.count() > 0 ? e.cycle : interval_;
  }

  std::chrono::milliseconds interval_;
  std::chrono::milliseconds new_within_;
  std::chrono::milliseconds new_within_config_;
  int max_backoff_;
  std::mt19937_64 rng_;
  bool first_ = true;
  std::unordered_map<int64_t, Entry> servers_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap_;
};

}  // namespace timepool::monitor
