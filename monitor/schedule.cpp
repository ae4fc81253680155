#include "monitor/schedule.hpp"

#include <algorithm>
#include <unordered_set>

namespace timepool::monitor {

Schedule::Schedule(std::chrono::milliseconds interval, std::chrono::milliseconds new_server_within,
                   int max_backoff, uint64_t seed)
    : interval_(interval),
      new_within_(std::min(new_server_within, interval)),
      new_within_config_(new_server_within),
      max_backoff_(std::max(1, max_backoff)),
      rng_(seed) {}

void Schedule::set_interval(std::chrono::milliseconds interval) {
  interval_ = interval;
  new_within_ = std::min(new_within_config_, interval);
}

void Schedule::push(int64_t id, Entry& e) {
  ++e.gen;
  heap_.push(Item{e.due, id, e.gen});
}

void Schedule::apply_hint(Entry& e, const SlotHint& h, Clock::time_point now) {
  if (e.in_flight) return;  // the next assignment applies it
  if (h.recheck_key != 0 && h.recheck_key != e.recheck_key) {
    e.cycle = h.cycle;
    e.recheck_key = h.recheck_key;
    e.due = std::max(now, h.recheck_due);
    return;
  }
  // Within this tolerance two times are the same slot: 2 s, or half the cycle when shorter.
  const Clock::duration cycle(h.cycle);
  const auto tolerance = std::min<Clock::duration>(std::chrono::seconds(2), cycle / 2);
  // The same cycle and a slot on the grid this server already follows: keep its own next time
  // (a RATE backoff included). Only a new cycle or a new phase moves it.
  if (e.cycle == h.cycle && cycle.count() > 0) {
    auto off = (h.due - e.due) % cycle;
    if (off < Clock::duration::zero()) off += cycle;
    if (off <= tolerance || cycle - off <= tolerance) return;
  }
  e.cycle = h.cycle;
  Clock::time_point due = h.due;
  // A slot just probed (the assignment was computed before it was taken) is not probed twice.
  if (e.last_taken_due && due <= *e.last_taken_due + tolerance) due += cycle * backoff_of(e);
  e.due = due;
}

void Schedule::set_servers(const std::vector<ServerRef>& servers, Clock::time_point now) {
  std::unordered_set<int64_t> seen;
  std::vector<const ServerRef*> added;
  for (const auto& s : servers) {
    if (!seen.insert(s.id).second) continue;
    auto it = servers_.find(s.id);
    if (it == servers_.end()) {
      added.push_back(&s);
    } else {
      it->second.endpoint = s.endpoint;  // an address may change; the phase stays
      if (s.hint) {
        apply_hint(it->second, *s.hint, now);
        if (!it->second.in_flight) push(s.id, it->second);
      }
    }
  }
  for (auto it = servers_.begin(); it != servers_.end();) {
    it = seen.contains(it->first) ? std::next(it) : servers_.erase(it);
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // Servers with a slot take it; the others get a random phase.
  std::vector<const ServerRef*> unhinted;
  for (const ServerRef* s : added) {
    if (!s->hint) {
      unhinted.push_back(s);
      continue;
    }
    Entry& e = servers_[s->id];
    e.endpoint = s->endpoint;
    apply_hint(e, *s->hint, now);
    push(s->id, e);
  }
  added.swap(unhinted);
  if (first_) {
    // Stratified: one server per 1/n of the interval, in random order.
    std::shuffle(added.begin(), added.end(), rng_);
    const double n = static_cast<double>(added.size());
    for (std::size_t i = 0; i < added.size(); ++i) {
      const double frac = (static_cast<double>(i) + unit(rng_)) / n;
      Entry& e = servers_[added[i]->id];
      e.endpoint = added[i]->endpoint;
      e.due = now + std::chrono::duration_cast<Clock::duration>(interval_ * frac);
      push(added[i]->id, e);
    }
    first_ = false;
    return;
  }
  for (const ServerRef* s : added) {
    Entry& e = servers_[s->id];
    e.endpoint = s->endpoint;
    e.due = now + std::chrono::duration_cast<Clock::duration>(new_within_ * unit(rng_));
    push(s->id, e);
  }
}

std::vector<ServerRef> Schedule::take_due(Clock::time_point now, std::size_t max) {
  std::vector<ServerRef> out;
  while (!heap_.empty() && out.size() < max && heap_.top().due <= now) {
    const Item item = heap_.top();
    heap_.pop();
    auto it = servers_.find(item.id);
    if (it == servers_.end() || it->second.gen != item.gen || it->second.in_flight) continue;
    it->second.in_flight = true;
    it->second.last_taken_due = item.due;
    out.push_back(ServerRef{item.id, it->second.endpoint, std::nullopt});
  }
  return out;
}

void Schedule::probe_done(int64_t id, Clock::time_point now, bool rate_limited) {
  auto it = servers_.find(id);
  if (it == servers_.end()) return;  // removed while in flight
  Entry& e = it->second;
  e.in_flight = false;
  e.rate_count = rate_limited ? e.rate_count + 1 : 0;
  const auto gap = cycle(e) * backoff(id);
  // Keep the phase: the next slot of this server's grid that is after now.
  Clock::time_point next = e.due + gap;
  if (next <= now) {
    const auto behind = now - e.due;
    const auto steps = behind / gap + 1;
    next = e.due + gap * steps;
  }
  e.due = next;
  push(id, e);
}

int Schedule::backoff_of(const Entry& e) const {
  int f = 1;
  for (int i = 0; i < e.rate_count && f < max_backoff_; ++i) f *= 2;
  return std::min(f, max_backoff_);
}

int Schedule::backoff(int64_t id) const {
  auto it = servers_.find(id);
  if (it == servers_.end()) return 1;
  return backoff_of(it->second);
}

std::optional<Schedule::Clock::time_point> Schedule::due_of(int64_t id) const {
  auto it = servers_.find(id);
  if (it == servers_.end() || it->second.in_flight) return std::nullopt;
  return it->second.due;
}

std::chrono::milliseconds Schedule::cycle_of(int64_t id) const {
  auto it = servers_.find(id);
  return it == servers_.end() ? interval_ : cycle(it->second);
}

std::optional<Schedule::Clock::time_point> Schedule::next_due() {
  while (!heap_.empty()) {
    const Item& top = heap_.top();
    auto it = servers_.find(top.id);
    if (it != servers_.end() && it->second.gen == top.gen && !it->second.in_flight) return top.due;
    heap_.pop();
  }
  return std::nullopt;
}

}  // namespace timepool::monitor
