#include "server/query_stats.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <time.h>

#include <algorithm>

#include "core/log.hpp"
#include "core/password.hpp"

namespace timepool::stats {

size_t qtype_bucket(uint16_t qtype) {
  switch (qtype) {
    case 1: return 1;
    case 2: return 2;
    case 6: return 3;
    case 16: return 4;
    case 28: return 5;
    case 65: return 6;
    case 255: return 7;
    default: return 0;
  }
}

size_t rcode_bucket(uint16_t rcode) {
  if (rcode <= 5) return rcode;
  return rcode == 16 ? 6 : 7;
}

int64_t current_minute() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) / 60;
}

// --- Recorder --------------------------------------------------------------------------------

Recorder::Recorder(uint32_t max_zones, uint32_t max_servers, std::atomic<uint64_t>* overflow)
    : max_zones_(max_zones), max_servers_(max_servers), overflow_(overflow) {
  for (auto& s : slots_) {
    s.queries = std::make_unique<PagedCounters>(size_t{max_zones} * kPerZone);
    s.answers = std::make_unique<PagedCounters>(max_servers);
    s.demand = std::make_unique<PagedCounters>(size_t{max_zones} * 2);
  }
}

void Recorder::grow(size_t zones, size_t servers) {
  for (auto& s : slots_) {
    s.queries->grow(zones * kPerZone);
    s.answers->grow(servers);
    s.demand->grow(zones * 2);
  }
}

Recorder::Slot& Recorder::enter(int64_t minute) {
  if (minute != minute_) {
    minute_ = minute;
    current_ = &slots_[static_cast<size_t>(minute) % kRing];
    // Seqlock-style: the new tag is stored before any count of the new minute, with a release
    // fence between, so a collector that read one of those counts (and then an acquire fence)
    // sees the new tag and knows its read straddled the change.
    current_->minute.store(minute, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  return *current_;
}

void Recorder::count_query(int64_t minute, uint32_t zone_slot, uint16_t qtype, uint16_t rcode) {
  if (zone_slot >= max_zones_ || minute < 0) {
    overflow_->fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Slot& s = enter(minute);
  bump((*s.queries)[size_t{zone_slot} * kPerZone + qtype_bucket(qtype) * kRcodes.size() +
                    rcode_bucket(rcode)]);
}

void Recorder::count_answer(int64_t minute, uint32_t server_slot) {
  if (server_slot >= max_servers_ || minute < 0) {
    overflow_->fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bump((*enter(minute).answers)[server_slot]);
}

void Recorder::count_demand(int64_t minute, uint32_t zone_slot, bool v6) {
  if (zone_slot >= max_zones_ || minute < 0) {
    overflow_->fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bump((*enter(minute).demand)[size_t{zone_slot} * 2 + (v6 ? 1 : 0)]);
}

// --- QueryStats ------------------------------------------------------------------------------

QueryStats::QueryStats(Limits limits) : limits_(limits) {}

uint32_t QueryStats::zone_slot(int32_t zone_id) {
  std::lock_guard lock(setup_mu_);
  const uint32_t slot = zone_slot_locked(zone_id);
  grow_recorders_locked();
  return slot;
}

uint32_t QueryStats::server_slot(int64_t server_id) {
  std::lock_guard lock(setup_mu_);
  const uint32_t slot = server_slot_locked(server_id);
  grow_recorders_locked();
  return slot;
}

std::vector<uint32_t> QueryStats::zone_slots(std::span<const int64_t> zone_ids) {
  std::vector<uint32_t> out(zone_ids.size());
  std::lock_guard lock(setup_mu_);
  for (size_t i = 0; i < zone_ids.size(); ++i) out[i] = zone_slot_locked(static_cast<int32_t>(zone_ids[i]));
  grow_recorders_locked();
  return out;
}

std::vector<uint32_t> QueryStats::server_slots(std::span<const int64_t> server_ids) {
  std::vector<uint32_t> out(server_ids.size());
  std::lock_guard lock(setup_mu_);
  for (size_t i = 0; i < server_ids.size(); ++i) out[i] = server_slot_locked(server_ids[i]);
  grow_recorders_locked();
  return out;
}

void QueryStats::grow_recorders_locked() {
  for (auto& r : recorders_) r->grow(zone_ids_.size(), server_ids_.size());
}

namespace {

// The slot of `id`, a new one while there is room, else kNoSlot.
template <typename Id>
uint32_t slot_of(std::map<Id, uint32_t>& slots, std::vector<Id>& ids, Id id, size_t max) {
  auto it = slots.find(id);
  if (it != slots.end()) return it->second;
  if (ids.size() >= max) return kNoSlot;
  const auto slot = static_cast<uint32_t>(ids.size());
  ids.push_back(id);
  slots.emplace(id, slot);
  return slot;
}

}  // namespace

uint32_t QueryStats::zone_slot_locked(int32_t zone_id) {
  return slot_of(zone_slots_, zone_ids_, zone_id, limits_.max_zones);
}

uint32_t QueryStats::server_slot_locked(int64_t server_id) {
  return slot_of(server_slots_, server_ids_, server_id, limits_.max_servers);
}

Recorder& QueryStats::add_recorder() {
  std::lock_guard lock(setup_mu_);
  recorders_.push_back(
      std::unique_ptr<Recorder>(new Recorder(limits_.max_zones, limits_.max_servers, &overflow_)));
  recorders_.back()->grow(zone_ids_.size(), server_ids_.size());
  return *recorders_.back();
}

uint64_t QueryStats::collect(int64_t now_unix_s) { return collect_slots(now_unix_s, false); }
uint64_t QueryStats::collect_all() { return collect_slots(0, true); }

uint64_t QueryStats::collect_slots(int64_t now_unix_s, bool all) {
  std::vector<int32_t> zone_ids;
  std::vector<int64_t> server_ids;
  std::vector<Recorder*> recorders;
  {
    std::lock_guard lock(setup_mu_);
    zone_ids = zone_ids_;
    server_ids = server_ids_;
    for (auto& r : recorders_) recorders.push_back(r.get());
  }
  std::lock_guard lock(collect_mu_);
  uint64_t total = 0;
  for (Recorder* r : recorders) {
    for (size_t s = 0; s < Recorder::kRing; ++s) {
      Recorder::Slot& slot = r->slots_[s];
      int64_t minute = slot.minute.load(std::memory_order_relaxed);
      if (minute < 0) continue;
      // A minute still being written is read once it has ended (plus grace for threads that
      // read the clock just before the boundary).
      if (!all && (minute + 1) * 60 + limits_.grace_seconds > now_unix_s) continue;
      Recorder::Seen& seen = r->seen_[s];
      // Counters are cumulative per slot and never reset (a reset would race with the writer):
      // what is new since the last read belongs to the slot's minute. Unsigned subtraction is
      // right across a wrap of the 32-bit counter.
      size_t nq = zone_ids.size() * Recorder::kPerZone;
      size_t na = server_ids.size();
      size_t nd = zone_ids.size() * 2;
      if (seen.queries.size() < nq) seen.queries.resize(nq, 0);
      if (seen.answers.size() < na) seen.answers.resize(na, 0);
      if (seen.demand.size() < nd) seen.demand.resize(nd, 0);
      fresh_.resize(nq + na + nd);
      for (size_t i = 0; i < nq; ++i) fresh_[i] = (*slot.queries)[i].load(std::memory_order_relaxed);
      for (size_t i = 0; i < na; ++i) {
        fresh_[nq + i] = (*slot.answers)[i].load(std::memory_order_relaxed);
      }
      for (size_t i = 0; i < nd; ++i) {
        fresh_[nq + na + i] = (*slot.demand)[i].load(std::memory_order_relaxed);
      }
      std::atomic_thread_fence(std::memory_order_acquire);
      // The writer moved this slot to a new minute while we read: some of what we read may
      // belong to that minute. Take nothing now; the next collect reads it under the new tag.
      if (slot.minute.load(std::memory_order_relaxed) != minute) continue;
      for (size_t i = 0; i < nq; ++i) {
        uint32_t delta = fresh_[i] - seen.queries[i];
        if (delta == 0) continue;
        seen.queries[i] = fresh_[i];
        size_t zone = i / Recorder::kPerZone;
        size_t q = (i % Recorder::kPerZone) / kRcodes.size();
        size_t rc = i % kRcodes.size();
        open_queries_[{zone_ids[zone], minute, kQtypes[q], kRcodes[rc]}] += delta;
        total += delta;
      }
      for (size_t i = 0; i < na; ++i) {
        uint32_t delta = fresh_[nq + i] - seen.answers[i];
        if (delta == 0) continue;
        seen.answers[i] = fresh_[nq + i];
        open_answers_[{server_ids[i], minute / 60}] += delta;
      }
      for (size_t i = 0; i < nd; ++i) {
        uint32_t delta = fresh_[nq + na + i] - seen.demand[i];
        if (delta == 0) continue;
        seen.demand[i] = fresh_[nq + na + i];
        open_demand_[{zone_ids[i / 2], static_cast<uint8_t>(i % 2 ? 6 : 4), minute}] += delta;
      }
      seen.minute = minute;
    }
  }
  return total;
}

void QueryStats::seal() {
  Batch b;
  {
    std::lock_guard lock(collect_mu_);
    if (open_queries_.empty() && open_answers_.empty() && open_demand_.empty()) return;
    b.queries.reserve(open_queries_.size());
    for (const auto& [k, count] : open_queries_) {
      const auto& [zone_id, minute, qtype, rcode] = k;
      b.queries.push_back(QueryRow{minute, zone_id, qtype, rcode, count});
    }
    b.answers.reserve(open_answers_.size());
    for (const auto& [k, count] : open_answers_) {
      b.answers.push_back(AnswerRow{k.second, k.first, count});
    }
    b.demand.reserve(open_demand_.size());
    for (const auto& [k, count] : open_demand_) {
      const auto& [zone_id, family, minute] = k;
      b.demand.push_back(DemandCount{minute, zone_id, family, count});
    }
    open_queries_.clear();
    open_answers_.clear();
    open_demand_.clear();
  }
  std::lock_guard lock(queue_mu_);
  b.seq = next_seq_++;
  queue_.push_back(std::move(b));
  enqueue_locked_trim();
}

void QueryStats::enqueue_locked_trim() {
  while (queue_.size() > limits_.max_queued_batches) {
    queue_.pop_front();
    ++dropped_;
  }
}

std::optional<Batch> QueryStats::take() {
  std::lock_guard lock(queue_mu_);
  if (queue_.empty()) return std::nullopt;
  Batch b = std::move(queue_.front());
  queue_.pop_front();
  return b;
}

void QueryStats::put_back(Batch b) {
  std::lock_guard lock(queue_mu_);
  queue_.push_front(std::move(b));
  enqueue_locked_trim();
}

size_t QueryStats::queued() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

uint64_t QueryStats::dropped_batches() const {
  std::lock_guard lock(queue_mu_);
  return dropped_;
}

}  // namespace timepool::stats
