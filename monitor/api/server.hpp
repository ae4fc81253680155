// timepool-monitor-api's HTTP side: its own listener and worker pool (never the public web
// site's), HTTPS unless configured for plain HTTP, and the monitors' two calls:
//
//   GET  /v1/assignment   the servers this monitor probes, with schedule hints
//   POST /v1/results      a batch of raw results (monitor/batch.hpp); 200 once applied or when
//                         the batch id was applied before (duplicate: true), 400 malformed,
//                         422 refused (unassigned, future, too_old), 401 unknown key,
//                         403 paused or pending monitor, 503 database unavailable
//
// Each request carries the monitor's key as "Authorization: Bearer KEY". Every refusal is
// counted in /metrics (a listener of its own, core/metrics_http.hpp) and written nowhere.
//
// Threads: start() and stop() by the owner; the handlers run on the worker threads and share
// a small pool of database connections (one per worker at most). A maintenance thread keeps
// the probe log's daily partitions, its retention, and forgets old batch ids.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics_http.hpp"
#include "core/pg.hpp"
#include "monitor/api/settings.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace timepool::monitor::api {

struct ApiMetrics {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> unauthorized{0};      // no key or an unknown key
  std::atomic<uint64_t> not_probing{0};       // paused or pending monitors
  std::array<std::atomic<uint64_t>, 4> refused{};  // by Refusal::Code
  std::atomic<uint64_t> batches{0};           // applied
  std::atomic<uint64_t> duplicates{0};        // acknowledged, written nowhere again
  std::atomic<uint64_t> results{0};           // in applied batches
  std::atomic<uint64_t> scored{0};            // results that moved a score
  std::atomic<uint64_t> assignments{0};
  std::atomic<uint64_t> db_errors{0};
  std::atomic<uint64_t> db_retried{0};        // requests run again on a new connection
  std::atomic<uint64_t> shifted{0};           // monitors found shifted by the shift check
  std::atomic<uint64_t> ingest_us_total{0};
  std::atomic<int> db_up{0};
};

class ApiServer {
 public:
  ApiServer(ApiSettings settings, std::string conninfo);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the API and metrics listeners and starts serving. Returns the API's port (the one
  // chosen when listen's port is 0). Throws std::runtime_error when it cannot bind or load the
  // certificate.
  uint16_t start();
  void stop();
  uint16_t metrics_port() const { return metrics_port_; }
  std::string metrics_text() const;
  const ApiMetrics& metrics() const { return metrics_; }

 private:
  // A connection borrowed from the pool (or a new one); returned on destruction unless broken.
  class Lease;
  pg::Connection take(bool& fresh);
  void give_back(pg::Connection c);
  // Runs `f` with a database connection. A pooled connection found dead (the database
  // restarted, an idle session was ended) is dropped with the rest of the pool and `f` runs
  // once more on a new one, so the request is not failed for it; a new connection that fails
  // too throws (the database is away: the handler answers 503).
  template <typename F>
  void with_db(F&& f);
  void unavailable(httplib::Response& res, const pg::Error& e);

  void on_assignment(const httplib::Request& req, httplib::Response& res);
  void on_results(const httplib::Request& req, httplib::Response& res);
  // The body of on_results on one connection: refusals and the batch's once-only write.
  void apply_results(pg::Connection& conn, const httplib::Request& req, httplib::Response& res,
                     std::chrono::steady_clock::time_point t0);
  void maintenance();

  const ApiSettings settings_;
  const std::string conninfo_;
  ApiMetrics metrics_;
  std::mutex pool_mu_;
  std::vector<pg::Connection> idle_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::unique_ptr<prometheus::HttpServer> metrics_http_;
  uint16_t metrics_port_ = 0;
  std::mutex maint_mu_;
  std::condition_variable maint_cv_;
  bool stopping_ = false;
  std::thread maint_thread_;
};

}  // namespace timepool::monitor::api
