#include "monitor/daemon.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>

#include "core/log.hpp"
#include "core/password.hpp"
#include "core/pg.hpp"
#include "monitor/probe_score.hpp"

namespace timepool::monitor {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

uint64_t random_seed() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium initialization failed");
  uint64_t s;
  randombytes_buf(&s, sizeof s);
  return s;
}

std::vector<ServerRef> read_servers(pg::Connection& conn, uint16_t port) {
  // Deleted servers and servers an admin disabled are not probed. A server whose deletion is
  // only scheduled is still probed until it is deleted, so its history stays meaningful.
  auto r = conn.exec(
      "SELECT id, host(address) AS addr FROM servers "
      "WHERE deleted_at IS NULL AND disabled_at IS NULL ORDER BY id");
  std::vector<ServerRef> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    auto a = address::parse(r.get<std::string>(i, "addr"));
    if (!a) continue;
    out.push_back(ServerRef{r.get<int64_t>(i, "id"), net::Endpoint(*a, port)});
  }
  return out;
}

void warn_trusted_clock() {
  log::get("monitor")->warn(
      "trust_local_clock is set: scores are written even when the kernel says this clock is not "
      "synchronized; use it only where the clock is known to be good");
}

}  // namespace

Daemon::Daemon(Settings settings, std::string conninfo, ClockSource clock)
    : settings_(std::move(settings)),
      applied_(reloadable(settings_)),
      conninfo_(std::move(conninfo)),
      clock_(std::move(clock)),
      trust_local_clock_(settings_.trust_local_clock),
      max_clock_error_(settings_.max_clock_error),
      max_in_flight_(settings_.max_in_flight),
      queue_(settings_.queue_max),
      schedule_(settings_.interval, settings_.new_server_within, settings_.rate_backoff_max,
                random_seed()) {}

Daemon::~Daemon() {
  stop_.store(true);
  writer_.reset();
  http_.reset();
}

void Daemon::start() {
  auto log = log::get("monitor");
  auto conn = pg::Connection::open(conninfo_);
  auto r = conn.exec("SELECT id, name, status FROM monitors WHERE key_hash = $1",
                     password::hash_token(settings_.key));
  if (r.rows() != 1) throw AuthError("unknown monitor key (register with `timepoolctl monitor add NAME`)");
  monitor_id_ = static_cast<int>(r.get<int64_t>(0, "id"));
  monitor_name_ = r.get<std::string>(0, "name");
  const std::string status = r.get<std::string>(0, "status");
  if (status == "paused") throw AuthError("monitor " + monitor_name_ + " is paused");
  log->info("monitor {} (id {}) status {}", monitor_name_, monitor_id_, status);
  if (status == "pending") {
    log->warn("monitor {} is pending: not probing until an admin sets it to testing or active",
              monitor_name_);
  }

  auto scores = conn.exec("SELECT server_id, score FROM server_scores WHERE monitor_id = $1",
                          monitor_id_);
  for (int i = 0; i < scores.rows(); ++i) {
    scores_[scores.get<int64_t>(i, "server_id")] = scores.get<double>(i, "score");
  }
  {
    std::lock_guard lock(list_mu_);
    new_list_ = ServerList{read_servers(conn, settings_.ntp_port), status};
  }
  conn.exec("UPDATE monitors SET last_seen = now() WHERE id = $1", monitor_id_);

  if (settings_.trust_local_clock) warn_trusted_clock();
  prober_ = std::make_unique<Prober>(settings_.probe, [this](uint64_t tag, const ProbeResult& res,
                                                             ntp::TimePoint started) {
    on_probe_done(static_cast<int64_t>(tag), res, started);
  });
  WriterOptions wo;
  wo.batch_max = settings_.batch_max;
  wo.batch_interval = settings_.batch_interval;
  wo.refresh = settings_.refresh;
  wo.probe_log_retention_days = settings_.probe_log_retention_days;
  writer_ = std::make_unique<Writer>(conninfo_, monitor_id_, queue_, metrics_, wo,
                                     [this](pg::Connection& c) { refresh(c); });
  writer_->start();

  start_metrics();
}

void Daemon::start_metrics() {
  if (!settings_.metrics_listen) return;
  http_ = std::make_unique<prometheus::HttpServer>([this] { return metrics_text(); });
  metrics_port_ = http_->start(*settings_.metrics_listen);
  log::get("monitor")->info("metrics on http://{}/metrics",
                            net::Endpoint(settings_.metrics_listen->address(), metrics_port_).to_string());
}

void Daemon::reload(const Settings& fresh) {
  auto log = log::get("monitor");
  const std::string restart_only = restart_only_changes(settings_, fresh);
  if (!restart_only.empty()) log->warn("{} change only on restart", restart_only);
  const Reloadable r = reloadable(fresh);
  if (r == applied_) {
    log->info("reloaded the configuration (SIGHUP): nothing that can change at run time changed");
    return;
  }
  trust_local_clock_.store(r.trust_local_clock);
  max_clock_error_.store(r.max_clock_error);
  max_in_flight_.store(r.max_in_flight);
  if (writer_) writer_->set_batching(r.batch_max, r.batch_interval, r.refresh);
  if (r.trust_local_clock && !applied_.trust_local_clock) warn_trusted_clock();
  applied_ = r;
  log->info("reloaded the configuration (SIGHUP)");
}

std::string Daemon::metrics_text() const {
  static const ProberStats kNone;
  return render_metrics(metrics_, prober_ ? prober_->stats() : kNone, queue_);
}

void Daemon::check_clock() {
  const auto v = judge_clock(clock_(), max_clock_error_.load(), trust_local_clock_.load());
  auto log = log::get("monitor");
  if (v.ok != clock_ok_ || v.reason != clock_reason_) {
    if (!v.ok) {
      log->warn("own clock not good ({}): probing continues, no scores are written", v.reason);
    } else if (v.trusted) {
      log->warn("own clock not verified ({}): scoring anyway because trust_local_clock is set", v.reason);
    } else {
      log->info("own clock good: scoring");
    }
  }
  clock_ok_ = v.ok;
  clock_reason_ = v.reason;
  metrics_.clock_ok.store(v.ok ? 1 : 0);
  metrics_.clock_trusted.store(v.trusted ? 1 : 0);
}

void Daemon::on_probe_done(int64_t id, const ProbeResult& r, ntp::TimePoint started) {
  const bool rate = r.outcome == scoring::Outcome::kKissRate;
  schedule_.probe_done(id, SteadyClock::now(), rate);
  metrics_.probes[static_cast<std::size_t>(r.outcome)].fetch_add(1);
  auto log = log::get("monitor");
  if (rate) {
    log->info("server={} kod=RATE: backing off to {}x the interval", id, schedule_.backoff(id));
  }
  if (!schedule_.contains(id)) return;  // removed while the probe ran
  double& score = scores_[id];
  auto scored = score_probe(id, r, started, score, clock_ok_);
  if (!scored.scored()) {
    metrics_.probes_unscored.fetch_add(1);
    if (scored.unscored == Unscored::kLocalFailure) log->debug("server={} not scored: {}", id, r.error);
    return;
  }
  score = scored.score;
  log->debug("server={} {} step={} ({}) score={:.3f}", id, describe(r), scored.step.step,
             scored.step.rule, score);
  if (!queue_.push(std::move(scored.record))) {
    log->warn("result queue full ({} records): dropped the oldest", settings_.queue_max);
  }
}

void Daemon::take_new_list(SteadyClock::time_point now) {
  std::optional<ServerList> list;
  {
    std::lock_guard lock(list_mu_);
    list.swap(new_list_);
  }
  if (!list) return;
  auto log = log::get("monitor");
  const std::size_t before = schedule_.size();
  schedule_.set_servers(list->servers, now);
  metrics_.servers.store(static_cast<int64_t>(schedule_.size()));
  if (schedule_.size() != before) log->info("probing {} servers", schedule_.size());
  const bool probing = list->status == "active" || list->status == "testing";
  if (probing != probing_) {
    if (probing) {
      log->info("monitor {} is {}: probing", monitor_name_, list->status);
    } else {
      log->warn("monitor {} is {}: not probing", monitor_name_,
                list->status.empty() ? "gone" : list->status);
    }
  }
  probing_ = probing;
  metrics_.probing.store(probing ? 1 : 0);
}

void Daemon::start_due(SteadyClock::time_point now) {
  const std::size_t max_in_flight = max_in_flight_.load();
  if (!probing_ || prober_->in_flight() >= max_in_flight) return;
  for (const auto& s : schedule_.take_due(now, max_in_flight - prober_->in_flight())) {
    prober_->start(static_cast<uint64_t>(s.id), s.endpoint);
  }
}

void Daemon::run(std::chrono::milliseconds drain) {
  auto next_clock_check = SteadyClock::now();
  while (!stop_.load()) {
    const auto now = SteadyClock::now();
    take_new_list(now);
    if (now >= next_clock_check) {
      check_clock();
      next_clock_check = now + 1s;
    }
    start_due(now);
    auto wait = std::chrono::milliseconds(200);
    if (probing_) {
      if (auto due = schedule_.next_due()) {
        const auto until = std::chrono::ceil<std::chrono::milliseconds>(*due - SteadyClock::now());
        wait = std::clamp(until, std::chrono::milliseconds(0), wait);
      }
    }
    prober_->poll(wait);
  }
  // Let the writer empty the queue before it stops.
  writer_->stop(drain);
}

void Daemon::refresh(pg::Connection& conn) {
  auto servers = read_servers(conn, settings_.ntp_port);
  auto r = conn.exec("SELECT status FROM monitors WHERE id = $1", monitor_id_);
  std::lock_guard lock(list_mu_);
  new_list_ = ServerList{std::move(servers), r.rows() ? r.get<std::string>(0, "status") : ""};
}

}  // namespace timepool::monitor
