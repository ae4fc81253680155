#include "server/published.hpp"

namespace timepool::server {

Publisher::Publisher(stats::QueryStats* stats) : stats_(stats) {
  geo_settings_.enabled = false;
  cur_.store(std::make_shared<const Published>(), std::memory_order_release);
}

void Publisher::publish(std::shared_ptr<const Snapshot> snap) {
  std::lock_guard lock(mu_);
  publish_locked(std::move(snap), nullptr);
}

void Publisher::publish(std::shared_ptr<const Snapshot> snap,
                        std::shared_ptr<const Mixtures> mixtures) {
  std::lock_guard lock(mu_);
  mixtures_ = std::move(mixtures);
  publish_locked(std::move(snap), nullptr);
}

void Publisher::configure_geo(std::shared_ptr<const geo::GeoDb> db, const GeoSettings& settings) {
  std::lock_guard lock(mu_);
  geo_db_ = std::move(db);
  geo_settings_ = settings;
  const auto cur = cur_.load(std::memory_order_acquire);
  publish_locked(cur->snapshot, cur->stats);
}

void Publisher::publish_locked(std::shared_ptr<const Snapshot> snap,
                               std::shared_ptr<const StatsSlots> slots) {
  auto next = std::make_shared<Published>();
  if (snap) {
    if (geo_settings_.enabled) {
      next->geo = std::make_shared<const GeoView>(snap, geo_db_, geo_settings_, mixtures_);
    }
    if (stats_) {
      if (!slots) {
        // The slots published now (their snapshot stays alive through `cur` meanwhile) give
        // those of the servers both snapshots hold.
        const auto cur = cur_.load(std::memory_order_acquire);
        slots = std::make_shared<const StatsSlots>(*snap, *stats_, cur->stats.get());
      }
      next->stats = std::move(slots);
    }
  }
  next->mixtures = mixtures_;
  next->snapshot = std::move(snap);
  cur_.store(std::move(next), std::memory_order_release);
}

}  // namespace timepool::server
