// The published object: everything the workers need to answer and count a batch of queries,
// built in one piece off the query path and swapped in with one atomic store.
//
//   loader (DB or disk copy) -> Snapshot::build -> Publisher::publish
//       -> Published {snapshot, geo routing for both families (with the balancer's mixtures),
//                     statistics slots}
//   worker: Publisher::load() once per batch -> answer(...) -> WorkerStats::count(...)
//
// Nothing is built lazily by a worker, and no worker ever takes a lock: a new geo database or
// geo settings (SIGHUP) republish the current snapshot with a new GeoView, built by the thread
// that configures them.
//
// Threads: load() from any thread, wait-free apart from the shared_ptr reference count.
// publish() (the loader thread) and configure_geo() (the main thread) may run concurrently:
// a mutex that only they take orders them, so the last published object always has the newest
// snapshot and the newest geo settings.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "core/geo.hpp"
#include "server/geo_answer.hpp"
#include "server/mixtures.hpp"
#include "server/snapshot.hpp"
#include "server/stats_slots.hpp"

namespace timepool::server {

struct Published {
  std::shared_ptr<const Snapshot> snapshot;  // nullptr: no data yet (SERVFAIL below the apexes)
  std::shared_ptr<const GeoView> geo;        // nullptr: geo off, or no snapshot
  std::shared_ptr<const StatsSlots> stats;   // nullptr: statistics off, or no snapshot
  std::shared_ptr<const Mixtures> mixtures;  // nullptr: none published (the plain geo rule)
};

class Publisher {
 public:
  // `stats` (may be null: statistics off) must outlive the Publisher. Geo is off until
  // configure_geo().
  explicit Publisher(stats::QueryStats* stats = nullptr);
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Never null: before the first publish() an object without a snapshot.
  std::shared_ptr<const Published> load() const { return cur_.load(std::memory_order_acquire); }

  // Builds the geo view and statistics slots for `snap` and swaps the whole in. Throws
  // std::bad_alloc only (a snapshot without a usable zone tree answers without geo).
  void publish(std::shared_ptr<const Snapshot> snap);
  // The same with new balancer mixtures (null: none), published in the same object so no
  // worker ever sees a snapshot with another snapshot's mixtures.
  void publish(std::shared_ptr<const Snapshot> snap, std::shared_ptr<const Mixtures> mixtures);
  // Replaces the geo database and settings (`db` may be null: nobody is located) and
  // republishes the current snapshot with them.
  void configure_geo(std::shared_ptr<const geo::GeoDb> db, const GeoSettings& settings);

 private:
  // mu_ held. `slots`: the statistics slots of `snap` when they exist already.
  void publish_locked(std::shared_ptr<const Snapshot> snap, std::shared_ptr<const StatsSlots> slots);

  stats::QueryStats* stats_;
  std::mutex mu_;  // publish() and configure_geo() only
  std::shared_ptr<const geo::GeoDb> geo_db_;
  std::shared_ptr<const Mixtures> mixtures_;
  GeoSettings geo_settings_;
  std::atomic<std::shared_ptr<const Published>> cur_;
};

}  // namespace timepool::server
