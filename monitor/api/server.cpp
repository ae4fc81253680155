#include "monitor/api/server.hpp"

#include <httplib.h>

#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/log.hpp"
#include "core/prometheus.hpp"
#include "monitor/api/ingest.hpp"

namespace timepool::monitor::api {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void error(httplib::Response& res, int status, std::string_view code, std::string_view message) {
  reply(res, status, {{"error", code}, {"message", message}});
}

std::string bearer(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (h.size() <= kPrefix.size() || h.compare(0, kPrefix.size(), kPrefix) != 0) return "";
  return h.substr(kPrefix.size());
}

// The server ids a body names (whatever else is wrong with it; parse_batch judges that).
std::set<int64_t> named_servers(const json& body) {
  std::set<int64_t> ids;
  if (!body.is_object()) return ids;
  auto it = body.find("results");
  if (it == body.end() || !it->is_array()) return ids;
  for (const auto& r : *it) {
    if (!r.is_object()) continue;
    auto s = r.find("server_id");
    if (s != r.end() && s->is_number_integer()) ids.insert(s->get<int64_t>());
  }
  return ids;
}

ntp::TimePoint now() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

}  // namespace

class ApiServer::Lease {
 public:
  // `fresh`: a new connection, not one from the pool.
  explicit Lease(ApiServer& api, bool fresh = false)
      : api_(api), fresh_(fresh), conn_(api.take(fresh_)) {}
  ~Lease() {
    if (!broken_) api_.give_back(std::move(conn_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  pg::Connection& operator*() { return conn_; }
  void broken() { broken_ = true; }
  bool fresh() const { return fresh_; }

 private:
  ApiServer& api_;
  bool fresh_;  // before conn_: take() sets it
  pg::Connection conn_;
  bool broken_ = false;
};

ApiServer::ApiServer(ApiSettings settings, std::string conninfo)
    : settings_(std::move(settings)), conninfo_(std::move(conninfo)) {}

ApiServer::~ApiServer() { stop(); }

pg::Connection ApiServer::take(bool& fresh) {
  if (!fresh) {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  fresh = true;
  return pg::Connection::open(conninfo_);
}

template <typename F>
void ApiServer::with_db(F&& f) {
  for (int attempt = 0;; ++attempt) {
    Lease conn(*this, attempt > 0);
    try {
      f(*conn);
      return;
    } catch (const pg::Error& e) {
      if (!e.is_connection()) throw;
      conn.broken();
      if (conn.fresh()) throw;
      // The pool's other connections are as old as this one: after a restart of the database
      // they are dead too.
      {
        std::lock_guard lock(pool_mu_);
        idle_.clear();
      }
      metrics_.db_retried.fetch_add(1);
      log::get("monitor-api")->info(
          "database: a pooled connection was dead ({}); the request runs again on a new one",
          e.what());
    }
  }
}

void ApiServer::unavailable(httplib::Response& res, const pg::Error& e) {
  metrics_.db_errors.fetch_add(1);
  if (e.is_connection()) metrics_.db_up.store(0);
  log::get("monitor-api")->warn("database: {}", e.what());
  // RFC 9110 section 10.2.3: when to ask again, in seconds.
  res.set_header("Retry-After", std::to_string(settings_.retry_after.count()));
  error(res, 503, "unavailable", "the database is unavailable; try again later");
}

void ApiServer::give_back(pg::Connection c) {
  if (!c.ok()) return;
  std::lock_guard lock(pool_mu_);
  if (idle_.size() < settings_.workers) idle_.push_back(std::move(c));
}

uint16_t ApiServer::start() {
  auto log = log::get("monitor-api");
  std::unique_ptr<httplib::Server> http;
  if (settings_.plain_http) {
    http = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(settings_.tls_cert.c_str(),
                                                    settings_.tls_key.c_str());
    if (!tls->is_valid()) {
      throw std::runtime_error("cannot load the TLS certificate " + settings_.tls_cert +
                               " and key " + settings_.tls_key);
    }
    http = std::move(tls);
  }
  const std::size_t workers = settings_.workers;
  http->new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  http->set_read_timeout(settings_.read_timeout);
  http->set_write_timeout(settings_.read_timeout);
  http->set_keep_alive_timeout(settings_.read_timeout.count());
  http->set_payload_max_length(settings_.max_body_bytes);
  http->set_socket_options([](int sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http->Get("/v1/assignment", [this](const httplib::Request& q, httplib::Response& r) {
    on_assignment(q, r);
  });
  http->Post("/v1/results", [this](const httplib::Request& q, httplib::Response& r) {
    on_results(q, r);
  });
  http->set_exception_handler([this](const httplib::Request&, httplib::Response& res,
                                     std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::get("monitor-api")->error("request failed: {}", what);
    metrics_.db_errors.fetch_add(1);
    error(res, 500, "internal", "internal error");
  });

  const std::string host = settings_.listen.address().to_string();
  int port = settings_.listen.port();
  if (port == 0) {
    port = http->bind_to_any_port(host);
  } else if (!http->bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) throw std::runtime_error("cannot listen on " + settings_.listen.to_string());
  http_ = std::move(http);
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!http_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  log->info("monitor API on {}://{}", settings_.plain_http ? "http" : "https",
            net::Endpoint(settings_.listen.address(), static_cast<uint16_t>(port)).to_string());
  if (settings_.metrics_listen) {
    metrics_http_ = std::make_unique<prometheus::HttpServer>([this] { return metrics_text(); });
    metrics_port_ = metrics_http_->start(*settings_.metrics_listen);
    log->info("metrics on http://{}/metrics",
              net::Endpoint(settings_.metrics_listen->address(), metrics_port_).to_string());
  }
  maint_thread_ = std::thread([this] { maintenance(); });
  return static_cast<uint16_t>(port);
}

void ApiServer::stop() {
  {
    std::lock_guard lock(maint_mu_);
    stopping_ = true;
  }
  maint_cv_.notify_all();
  if (maint_thread_.joinable()) maint_thread_.join();
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
  if (metrics_http_) metrics_http_->stop();
}

void ApiServer::on_assignment(const httplib::Request& req, httplib::Response& res) {
  metrics_.requests.fetch_add(1);
  try {
    with_db([&](pg::Connection& conn) {
      auto who = authenticate(conn, bearer(req));
      if (!who) {
        metrics_.unauthorized.fetch_add(1);
        return error(res, 401, "unauthorized", "unknown monitor key");
      }
      if (req.has_param("clock_ok")) {
        record_clock_state(conn, who->id, req.get_param_value("clock_ok") == "1",
                           req.get_param_value("clock_reason"));
      }
      json servers = json::array();
      if (who->probing()) {
        PlanSettings plan = settings_.plan;
        plan.interval = settings_.interval;
        for (const auto& s : assignment(conn, who->id, plan)) {
          json one{{"id", s.id},
                   {"address", s.address},
                   {"pair", s.pair},
                   {"cycle_ms", s.slot.cycle_ms},
                   {"due_ms", s.slot.next_due_ms}};
          if (s.slot.slow) one["slow"] = true;
          if (s.slot.recheck) one["recheck_due_ms"] = s.slot.recheck_due_ms;
          servers.push_back(std::move(one));
        }
      }
      metrics_.assignments.fetch_add(1);
      metrics_.db_up.store(1);
      reply(res, 200,
            {{"monitor", who->name},
             {"status", who->status},
             {"interval_ms", settings_.interval.count()},
             {"refresh_ms", settings_.refresh.count()},
             {"servers", std::move(servers)}});
    });
  } catch (const pg::Error& e) {
    unavailable(res, e);
  }
}

void ApiServer::on_results(const httplib::Request& req, httplib::Response& res) {
  metrics_.requests.fetch_add(1);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    with_db([&](pg::Connection& conn) { apply_results(conn, req, res, t0); });
  } catch (const pg::Error& e) {
    unavailable(res, e);
  }
}

void ApiServer::apply_results(pg::Connection& conn, const httplib::Request& req,
                              httplib::Response& res, std::chrono::steady_clock::time_point t0) {
  auto log = log::get("monitor-api");
  auto who = authenticate(conn, bearer(req));
  if (!who) {
    metrics_.unauthorized.fetch_add(1);
    return error(res, 401, "unauthorized", "unknown monitor key");
  }
  if (!who->probing()) {
    metrics_.not_probing.fetch_add(1);
    return error(res, 403, "not_probing", "monitor " + who->name + " is " + who->status);
  }
  const json body = json::parse(req.body, nullptr, false);
  std::set<int64_t> assigned;
  if (!body.is_discarded()) {
    assigned = assigned_among(conn, who->id, named_servers(body), settings_.limits.max_age);
  }
  auto parsed = body.is_discarded()
                    ? std::variant<Batch, Refusal>(Refusal{Refusal::Code::kMalformed,
                                                           "the body is not JSON"})
                    : parse_batch(body, assigned, now(), settings_.limits);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) {
    metrics_.refused[static_cast<std::size_t>(refusal->code)].fetch_add(1);
    log->warn("monitor {}: batch refused ({}): {}", who->name, code_name(refusal->code),
              refusal->message);
    return error(res, refusal->code == Refusal::Code::kMalformed ? 400 : 422,
                 code_name(refusal->code), refusal->message);
  }
  const auto& batch = std::get<Batch>(parsed);
  const auto done = ingest(conn, who->id, batch, settings_.max_clock_error_s);
  metrics_.db_up.store(1);
  if (done.duplicate) {
    metrics_.duplicates.fetch_add(1);
    log->info("monitor {}: batch {} was applied before: acknowledged again", who->name,
              batch.batch_id);
  } else {
    metrics_.batches.fetch_add(1);
    metrics_.results.fetch_add(done.results);
    metrics_.scored.fetch_add(done.scored);
    log->debug("monitor {}: batch {}: {} results, {} scored", who->name, batch.batch_id,
               done.results, done.scored);
  }
  metrics_.ingest_us_total.fetch_add(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count()));
  reply(res, 200,
        {{"batch_id", batch.batch_id},
         {"duplicate", done.duplicate},
         {"results", done.results},
         {"scored", done.scored}});
}

void ApiServer::maintenance() {
  auto log = log::get("monitor-api");
  // Batch ids are kept as long as a result of theirs could still be accepted.
  const auto keep = settings_.limits.max_age + settings_.limits.max_future + std::chrono::hours(1);
  using Clock = std::chrono::steady_clock;
  auto next_upkeep = Clock::now();
  auto next_shift = Clock::now() + settings_.shift_check_interval;
  std::unique_lock lock(maint_mu_);
  while (!stopping_) {
    lock.unlock();
    if (settings_.shift_check_interval.count() > 0 && Clock::now() >= next_shift) {
      next_shift = Clock::now() + settings_.shift_check_interval;
      try {
        Lease conn(*this);
        try {
          for (const auto& m : check_shifts(*conn, settings_.shift_window, settings_.shift)) {
            if (m.shifted) {
              metrics_.shifted.fetch_add(1);
              log->warn("monitor id={} results shifted {:+.1f} ms from the other monitors' over {} "
                        "servers: moved back to testing",
                        m.monitor_id, m.shift_s * 1000, m.servers);
            }
          }
        } catch (const pg::Error& e) {
          if (e.is_connection()) conn.broken();
          throw;
        }
      } catch (const pg::Error& e) {
        log->warn("shift check: {}", e.what());
      }
    }
    if (Clock::now() < next_upkeep) {
      lock.lock();
      maint_cv_.wait_until(lock, std::min(next_upkeep, next_shift), [this] { return stopping_; });
      continue;
    }
    auto wait = std::chrono::minutes(60);
    try {
      Lease conn(*this);
      try {
        (*conn).exec("SELECT probe_log_ensure_partitions(current_date, 3)");
        if (settings_.probe_log_retention_days > 0) {
          auto n = (*conn).exec("SELECT probe_log_drop_before(current_date - $1::integer)",
                                settings_.probe_log_retention_days)
                       .get<int64_t>(0, 0);
          if (n > 0) {
            log->info("probe log: dropped {} daily partitions older than {} days", n,
                      settings_.probe_log_retention_days);
          }
        }
        prune_batches(*conn, keep);
      } catch (const pg::Error& e) {
        if (e.is_connection()) conn.broken();
        throw;
      }
    } catch (const pg::Error& e) {
      log->warn("maintenance: {}", e.what());
      wait = std::chrono::minutes(1);
    }
    next_upkeep = Clock::now() + wait;
    lock.lock();
    const auto until = settings_.shift_check_interval.count() > 0 ? std::min(next_upkeep, next_shift)
                                                                  : next_upkeep;
    maint_cv_.wait_until(lock, until, [this] { return stopping_; });
  }
}

std::string ApiServer::metrics_text() const {
  prometheus::TextWriter w;
  const auto& m = metrics_;
  w.counter("timepool_monitor_api_requests_total", "Requests to the monitor API.", m.requests.load());
  w.counter("timepool_monitor_api_shifted_total",
            "Times the shift check found a monitor's results shifted from the others'.",
            m.shifted.load());
  w.counter("timepool_monitor_api_unauthorized_total", "Requests with no key or an unknown key.",
            m.unauthorized.load());
  w.counter("timepool_monitor_api_not_probing_total",
            "Batches from paused or pending monitors (refused).", m.not_probing.load());
  w.family("timepool_monitor_api_batches_refused_total", prometheus::Type::kCounter,
           "Batches refused and written nowhere, by reason.");
  for (std::size_t i = 0; i < m.refused.size(); ++i) {
    w.sample("timepool_monitor_api_batches_refused_total",
             {{"reason", code_name(static_cast<Refusal::Code>(i))}}, m.refused[i].load());
  }
  w.counter("timepool_monitor_api_batches_total", "Batches applied.", m.batches.load());
  w.counter("timepool_monitor_api_batches_duplicate_total",
            "Batches whose id was applied before: acknowledged, written nowhere again.",
            m.duplicates.load());
  w.counter("timepool_monitor_api_results_total", "Results in applied batches.", m.results.load());
  w.counter("timepool_monitor_api_results_scored_total", "Results that moved a score.",
            m.scored.load());
  w.counter("timepool_monitor_api_assignments_total", "Assignments handed out.",
            m.assignments.load());
  w.counter("timepool_monitor_api_database_errors_total", "Requests that failed in the database.",
            m.db_errors.load());
  w.counter("timepool_monitor_api_database_retried_total",
            "Requests run again on a new connection after a pooled one was found dead.",
            m.db_retried.load());
  w.counter("timepool_monitor_api_ingest_seconds_total", "Time spent applying batches.",
            double(m.ingest_us_total.load()) / 1e6);
  w.gauge("timepool_monitor_api_database_up", "1 while the database answers.",
          int64_t{m.db_up.load()});
  return w.take();
}

}  // namespace timepool::monitor::api
