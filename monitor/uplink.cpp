#include "monitor/uplink.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "core/reconnect.hpp"

namespace timepool::monitor {

using namespace std::chrono_literals;

namespace {

ntp::TimePoint wall_now() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

}  // namespace

Uplink::Uplink(ApiClient& client, Spool& spool, Metrics& metrics, std::string batch_prefix,
               UplinkOptions opts, OnAssignment on_assignment)
    : client_(client),
      spool_(spool),
      metrics_(metrics),
      prefix_(std::move(batch_prefix)),
      on_assignment_(std::move(on_assignment)),
      batch_max_(opts.batch_max),
      batch_interval_(opts.batch_interval),
      refresh_(opts.refresh),
      backoff_min_(opts.backoff_min),
      backoff_max_(opts.backoff_max),
      fetch_at_once_(opts.fetch_at_once) {}

Uplink::~Uplink() { stop(); }

void Uplink::start() {
  metrics_.spool_batches.store(static_cast<int64_t>(spool_.batches()));
  metrics_.spool_bytes.store(static_cast<int64_t>(spool_.bytes()));
  next_refresh_ = SteadyClock::now() + (fetch_at_once_ ? std::chrono::milliseconds(0) : refresh_.load());
  thread_ = std::thread([this] { loop(); });
}

void Uplink::stop(std::chrono::milliseconds drain) {
  if (!thread_.joinable()) return;
  drain_until_ = SteadyClock::now() + drain;
  draining_.store(true);
  stop_.store(true);
  thread_.join();
}

void Uplink::push(SubmittedProbe p) {
  std::lock_guard lock(mu_);
  if (pending_.empty()) first_pending_ = SteadyClock::now();
  pending_.push_back(std::move(p));
}

void Uplink::set_batching(std::size_t batch_max, std::chrono::milliseconds batch_interval) {
  batch_max_.store(batch_max);
  batch_interval_.store(batch_interval);
}

void Uplink::set_state(std::string query) {
  std::lock_guard lock(state_mu_);
  if (query == state_) return;
  state_ = std::move(query);
  state_changed_.store(true);
}

std::size_t Uplink::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void Uplink::seal(bool force) {
  const std::size_t batch_max = batch_max_.load();
  for (;;) {
    Batch batch;
    {
      std::lock_guard lock(mu_);
      if (pending_.empty()) return;
      const bool due = pending_.size() >= batch_max ||
                       SteadyClock::now() - first_pending_ >= batch_interval_.load();
      if (!due && !force) return;
      const std::size_t n = std::min(batch_max, pending_.size());
      batch.probes.assign(std::make_move_iterator(pending_.begin()),
                          std::make_move_iterator(pending_.begin() + static_cast<std::ptrdiff_t>(n)));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
      first_pending_ = SteadyClock::now();
    }
    batch.batch_id = prefix_ + fmt::format("{:08}", ++seq_);
    try {
      note_dropped(spool_.put(batch.batch_id, to_json(batch).dump(), wall_now()).dropped);
    } catch (const SpoolError&) {
      // Not on disk: keep the results in memory (first again) and try on the next turn.
      std::lock_guard lock(mu_);
      pending_.insert(pending_.begin(), std::make_move_iterator(batch.probes.begin()),
                      std::make_move_iterator(batch.probes.end()));
      throw;
    }
    metrics_.spool_batches.store(static_cast<int64_t>(spool_.batches()));
    metrics_.spool_bytes.store(static_cast<int64_t>(spool_.bytes()));
    metrics_.batches_sealed.fetch_add(1);
  }
}

void Uplink::note_dropped(const std::vector<Dropped>& dropped) {
  if (dropped.empty()) return;
  std::size_t results = 0;
  for (const auto& d : dropped) {
    results += d.results;
    log_->debug("spool full: deleted {} unsent ({} results, {} bytes)", d.name, d.results, d.bytes);
  }
  metrics_.spool_dropped_batches.fetch_add(dropped.size());
  metrics_.spool_dropped_results.fetch_add(results);
  unlogged_drops_ += dropped.size();
  unlogged_results_ += results;
  // Loud, but one line a minute while the spool stays full, not one a batch.
  const auto now = SteadyClock::now();
  if (now < next_drop_log_) return;
  next_drop_log_ = now + std::chrono::minutes(1);
  const auto& limits = spool_.limits();
  log_->error(
      "spool {} is full ({} batches, {} bytes; monitor.spool_max_batches={}, "
      "monitor.spool_max_bytes={}): deleted the oldest {} unsent batches ({} results lost), "
      "the last {}: results have waited for the monitor API longer than the spool holds",
      spool_.dir(), spool_.batches(), spool_.bytes(), limits.max_batches, limits.max_bytes,
      unlogged_drops_, unlogged_results_, dropped.back().name);
  unlogged_drops_ = unlogged_results_ = 0;
}

void Uplink::seal_or_keep(bool force) {
  try {
    seal(force);
    if (spool_failing_) log_->info("spool: writing again");
    spool_failing_ = false;
  } catch (const SpoolError& e) {
    metrics_.spool_errors.fetch_add(1);
    if (!spool_failing_) log_->error("{}: results wait in memory", e.what());
    spool_failing_ = true;
  }
}

std::optional<Reply> Uplink::refresh_assignment(SteadyClock::time_point now) {
  std::string state;
  {
    std::lock_guard lock(state_mu_);
    state = state_;
  }
  Reply r = client_.get_assignment(state);
  if (r.outcome != Outcome::kOk) return r;
  if (auto a = parse_assignment(r.body)) {
    spool_.save_assignment(r.body);
    refresh_.store(a->refresh);
    on_assignment_(*a);
  } else {
    log_->warn("assignment: the API's answer is not an assignment");
  }
  next_refresh_ = now + refresh_.load();
  return std::nullopt;
}

std::optional<Reply> Uplink::send(const std::string& name) {
  const auto text = spool_.read(name);
  if (!text) {
    spool_.reject(name);  // unreadable: out of the way of the others
    return std::nullopt;
  }
  Reply r = client_.submit(*text);
  if (r.outcome == Outcome::kOk) {
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    const bool duplicate = j.is_object() && j.value("duplicate", false);
    spool_.remove(name);
    metrics_.batches_sent.fetch_add(1);
    if (duplicate) metrics_.batches_duplicate.fetch_add(1);
    log_->debug("sent {}{}", name, duplicate ? " (the API had it already)" : "");
  } else if (r.outcome == Outcome::kRefused) {
    spool_.reject(name);
    metrics_.batches_refused.fetch_add(1);
    log_->error("the monitor API refused {} for good ({}); kept in {}/rejected", name, r.message,
                spool_.dir());
  } else {
    return r;
  }
  return std::nullopt;
}

std::optional<Reply> Uplink::deliver() {
  for (;;) {
    const auto names = spool_.list();
    metrics_.spool_batches.store(static_cast<int64_t>(names.size()));
    metrics_.spool_bytes.store(static_cast<int64_t>(spool_.bytes()));
    if (names.empty()) return std::nullopt;
    if (auto failed = send(names.front())) return failed;
    if (stop_.load() && SteadyClock::now() >= drain_until_) return std::nullopt;
  }
}

void Uplink::record(Reconnect& link, const std::optional<Reply>& failed) {
  if (!failed) {
    link.succeeded();
    api_up_.store(true);
    metrics_.api_up.store(1);
    return;
  }
  metrics_.api_errors.fetch_add(1);
  if (failed->outcome == Outcome::kUnauthorized) {
    log_->error("the monitor API does not know this monitor's key: {}", failed->message);
  } else if (failed->outcome == Outcome::kNotProbing) {
    log_->warn("{}: results wait in the spool", failed->message);
  }
  // A 503's Retry-After says when the API expects its database back: wait that long (bounded
  // by the backoff's limits) instead of guessing.
  link.failed(failed->message, SteadyClock::now(), failed->retry_after);
  api_up_.store(false);
  metrics_.api_up.store(0);
}

void Uplink::talk(Reconnect& link, bool stopping) {
  const auto now = SteadyClock::now();
  if (!link.due(now)) return;
  std::optional<Reply> failed;
  if (!stopping && (now >= next_refresh_ || state_changed_.exchange(false))) {
    failed = refresh_assignment(now);
  }
  if (!failed) failed = deliver();
  record(link, failed);
}

void Uplink::loop() {
  log_ = log::get("monitor");
  Reconnect link("monitor API", log_, ReconnectOptions{backoff_min_, backoff_max_},
                 [this] { return fmt::format("{} batches wait in the spool", spool_.list().size()); });
  for (;;) {
    const bool stopping = stop_.load();
    seal_or_keep(stopping);
    talk(link, stopping);
    if (stopping) {
      if (SteadyClock::now() >= drain_until_ || spool_.list().empty() || !link.up()) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  metrics_.spool_batches.store(static_cast<int64_t>(spool_.list().size()));
}

}  // namespace timepool::monitor
