#include "monitor/daemon.hpp"

#include <httplib.h>
#include <sodium.h>

#include <algorithm>

#include <chrono>

#include "core/log.hpp"
#include "core/password.hpp"
#include "core/pg.hpp"

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
    out.push_back(ServerRef{r.get<int64_t>(i, "id"), Endpoint(*a, port)});
  }
  return out;
}

}  // namespace

Daemon::Daemon(Settings settings, std::string conninfo, ClockSource clock)
    : settings_(std::move(settings)),
      conninfo_(std::move(conninfo)),
      clock_(std::move(clock)),
      queue_(settings_.queue_max),
      schedule_(settings_.interval, settings_.new_server_within, settings_.rate_backoff_max,
                random_seed()) {}

Daemon::~Daemon() {
  stop_.store(true);
  writer_.reset();
  if (http_) http_->stop();
  if (http_thread_.joinable()) http_thread_.join();
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

  if (settings_.trust_local_clock) {
    log->warn("trust_local_clock is set: scores are written even when the kernel says this "
              "clock is not synchronized; use it only where the clock is known to be good");
  }
  prober_ = std::make_unique<Prober>(settings_.probe, [this](uint64_t tag, const ProbeResult& res,
                                                             ntp::TimePoint started) {
    on_probe_done(static_cast<int64_t>(tag), res, started);
  });
  WriterOptions wo;
  wo.batch_max = settings_.batch_max;
  wo.batch_interval = settings_.batch_interval;
  wo.refresh = settings_.refresh;
  writer_ = std::make_unique<Writer>(conninfo_, monitor_id_, queue_, metrics_, wo,
                                     [this](pg::Connection& c) { refresh(c); });
  writer_->start();

  if (!settings_.metrics_listen.empty()) {
    const auto colon = settings_.metrics_listen.rfind(':');
    std::string host = settings_.metrics_listen.substr(0, colon);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    const int port = colon == std::string::npos ? 0 : std::stoi(settings_.metrics_listen.substr(colon + 1));
    http_ = std::make_unique<httplib::Server>();
    http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_text(), "text/plain; version=0.0.4");
    });
    if (port == 0) {
      metrics_port_ = static_cast<uint16_t>(http_->bind_to_any_port(host));
    } else if (http_->bind_to_port(host, port)) {
      metrics_port_ = static_cast<uint16_t>(port);
    }
    if (metrics_port_ == 0) throw std::runtime_error("metrics: cannot listen on " + settings_.metrics_listen);
    http_thread_ = std::thread([this] { http_->listen_after_bind(); });
    log->info("metrics on http://{}:{}/metrics", host, metrics_port_);
  }
}

std::string Daemon::metrics_text() const {
  static const ProberStats kNone;
  return render_metrics(metrics_, prober_ ? prober_->stats() : kNone, queue_);
}

void Daemon::check_clock() {
  const auto v = judge_clock(clock_(), settings_.max_clock_error, settings_.trust_local_clock);
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
  if (!clock_ok_) {
    metrics_.probes_unscored.fetch_add(1);
    return;
  }
  if (r.local_failure) {
    // Our side could not send (no IPv6 route, full buffers): not the server's fault.
    metrics_.probes_unscored.fetch_add(1);
    log->debug("server={} not scored: {}", id, r.error);
    return;
  }
  const auto step = scoring::step_for(scoring::ProbeOutcome{r.outcome, r.offset_s.value_or(0), r.stratum.value_or(0)});
  double& score = scores_[id];
  score = scoring::update_score(score, step);
  log->debug("server={} {} step={} ({}) score={:.3f}", id, describe(r), step.step, step.rule, score);
  ProbeRecord rec;
  rec.server_id = id;
  rec.ts = std::chrono::time_point_cast<std::chrono::microseconds>(started);
  rec.step = step.step;
  rec.score = score;
  rec.offset_s = r.offset_s;
  rec.rtt_s = r.rtt_s;
  rec.stratum = r.stratum;
  rec.leap = r.leap;
  if (!r.ok()) rec.error = r.error;
  if (!queue_.push(std::move(rec))) {
    log->warn("result queue full ({} records): dropped the oldest", settings_.queue_max);
  }
}

void Daemon::run(std::chrono::milliseconds drain) {
  auto log = log::get("monitor");
  auto next_clock_check = SteadyClock::now();
  while (!stop_.load()) {
    auto now = SteadyClock::now();
    {
      std::optional<ServerList> list;
      {
        std::lock_guard lock(list_mu_);
        list.swap(new_list_);
      }
      if (list) {
        const std::size_t before = schedule_.size();
        schedule_.set_servers(list->servers, now);
        metrics_.servers.store(static_cast<int64_t>(schedule_.size()));
        if (schedule_.size() != before) log->info("probing {} servers", schedule_.size());
        const bool probing = list->status == "active" || list->status == "testing";
        if (probing != probing_) {
          if (probing) log->info("monitor {} is {}: probing", monitor_name_, list->status);
          else log->warn("monitor {} is {}: not probing", monitor_name_, list->status.empty() ? "gone" : list->status);
        }
        probing_ = probing;
        metrics_.probing.store(probing ? 1 : 0);
      }
    }
    if (now >= next_clock_check) {
      check_clock();
      next_clock_check = now + 1s;
    }
    if (probing_ && prober_->in_flight() < settings_.max_in_flight) {
      for (const auto& s : schedule_.take_due(now, settings_.max_in_flight - prober_->in_flight())) {
        prober_->start(static_cast<uint64_t>(s.id), s.endpoint);
      }
    }
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
