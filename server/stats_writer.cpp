#include "server/stats_writer.hpp"

#include <ctime>

#include "core/log.hpp"
#include "core/prometheus.hpp"

namespace timepool::server {

namespace {

int64_t now_unix() { return static_cast<int64_t>(::time(nullptr)); }

constexpr auto kCollectEvery = std::chrono::seconds(5);

}  // namespace

void WorkerStats::count(const Published& pub, const AnswerStats& st) {
  const StatsSlots* slots = pub.stats.get();
  if (st.dropped || !slots) return;
  if (st.zone_index < 0 && st.rcode == rcode::kRefused) return;  // not one of our names
  const int64_t minute = stats::current_minute();
  rec_.count_query(minute, slots->zone_slot(st.zone_index), st.qtype, st.rcode);
  if (st.demand_zone >= 0) rec_.count_demand(minute, slots->zone_slot(st.demand_zone), st.demand_v6);
  for (size_t i = 0; i < st.picked_count; ++i) {
    rec_.count_answer(minute, slots->server_slot(st.picked_pool[i], st.picked[i]));
  }
}

StatsWriter::StatsWriter(StatsSettings settings) : settings_(std::move(settings)) {
  if (!settings_.enabled) return;
  std::string conninfo = settings_.conninfo;
  // A flush during an outage must give up soon and leave the batch queued.
  if (conninfo.find("connect_timeout") == std::string::npos) conninfo += " connect_timeout=5";
  flusher_ = std::make_unique<stats::StatsFlusher>(
      stats_, conninfo, settings_.instance,
      ReconnectOptions{std::chrono::seconds(1), std::chrono::minutes(5)}, settings_.spool_dir);
}

StatsWriter::~StatsWriter() { stop(); }

WorkerStats* StatsWriter::worker() {
  if (!settings_.enabled) return nullptr;
  std::lock_guard lock(mu_);
  workers_.push_back(std::unique_ptr<WorkerStats>(new WorkerStats(stats_.add_recorder())));
  return workers_.back().get();
}

void StatsWriter::start() {
  if (!settings_.enabled) return;
  log::get("dns")->info("query statistics: instance {}, flushed every {}s", flusher_->instance_id(),
                        settings_.flush_interval.count());
  collector_ = std::thread([this] { collect_loop(); });
  flusher_thread_ = std::thread([this] { flush_loop(); });
}

void StatsWriter::collect_loop() {
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, kCollectEvery, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    stats_.collect(now_unix());
    lock.lock();
  }
}

void StatsWriter::flush_loop() {
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, settings_.flush_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    note(flusher_->flush(now_unix()));
    lock.lock();
  }
}

void StatsWriter::note(const stats::FlushResult& r) {
  ++flushes_;
  batches_written_ += r.written;
  duplicates_ += r.duplicates;
  discarded_ += r.discarded;
  queued_ = r.queued;
  // The outage and the recovery are logged once each by the flusher's reconnect policy.
  if (!r.error.empty()) ++flush_failures_;
  log::get("dns")->debug("query statistics: {} batches written, {} queued{}{}", r.written,
                         r.queued, r.error.empty() ? "" : ": ", r.error);
}

void StatsWriter::stop() {
  if (!settings_.enabled) return;
  {
    std::lock_guard lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (collector_.joinable()) collector_.join();
  if (flusher_thread_.joinable()) flusher_thread_.join();
  stats_.collect_all();
  stats_.seal();
  const auto r = flusher_->write_queued();
  note(r);
  log::get("dns")->info("query statistics at shutdown: {} batches written, {} not written", r.written,
                        r.queued);
}

std::string StatsWriter::metrics_text() const {
  if (!settings_.enabled) return {};
  prometheus::TextWriter w;
  w.counter("timepool_dns_stats_flushes_total", "Statistics flush attempts.", flushes_.load());
  w.counter("timepool_dns_stats_flush_failures_total",
            "Statistics flushes stopped by a database error.", flush_failures_.load());
  w.counter("timepool_dns_stats_batches_written_total", "Statistics batches written.",
            batches_written_.load());
  w.counter("timepool_dns_stats_batches_duplicate_total",
            "Batches found already written (a retry after a lost commit acknowledgement).",
            duplicates_.load());
  w.counter("timepool_dns_stats_batches_discarded_total",
            "Batches the database refused for their content.", discarded_.load());
  w.gauge("timepool_dns_stats_batches_queued", "Batches waiting to be written.",
          static_cast<int64_t>(queued_.load()));
  w.counter("timepool_dns_stats_batches_dropped_total",
            "Oldest batches dropped because the queue was full.", stats_.dropped_batches());
  w.counter("timepool_dns_stats_overflow_total", "Counts dropped for lack of slots.",
            stats_.overflow());
  return w.take();
}

}  // namespace timepool::server
