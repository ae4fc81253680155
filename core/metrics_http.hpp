// The /metrics listener every daemon runs: GET /metrics answers with what `render` returns
// (Prometheus text, core/prometheus.hpp); every other path is 404, every other method 405.
//
// A scrape endpoint must not become a way to tie a daemon up, so it is one thread with an
// epoll loop rather than a thread per connection: a connection has `request_deadline` from
// accept to the last byte of its answer (a client trickling a header line now and then is cut
// like one that sends nothing), requests are limited in size, every answer closes its
// connection, and when `max_connections` are open the oldest is closed for the newcomer. A
// scrape is therefore answered however many slow clients are connected.
//
//   prometheus::HttpServer http([&] { return render(); });
//   uint16_t port = http.start(*net::Endpoint::parse("127.0.0.1:9124"));  // port 0: any free
//   ...
//   http.stop();   // also done by the destructor
//
// start() and stop() are called by the owning thread; `render` runs on the listener's thread,
// so it may only read what is safe to read concurrently (atomics, or data under the caller's
// own lock).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "core/net.hpp"

namespace timepool::prometheus {

struct HttpOptions {
  std::size_t max_connections = 64;
  std::chrono::milliseconds request_deadline{3000};  // accept to the answer's last byte
  std::size_t max_request_bytes = 8192;              // request line and headers
};

class HttpServer {
 public:
  using Render = std::function<std::string()>;
  explicit HttpServer(Render render, HttpOptions opts = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `listen` and starts serving on a thread of its own. Returns the bound port (the
  // one chosen when listen.port() is 0). Throws std::runtime_error when it cannot bind.
  uint16_t start(const net::Endpoint& listen);
  // Stops serving, closes every connection and joins the thread.
  void stop();
  uint16_t port() const { return port_; }

 private:
  void run();

  Render render_;
  HttpOptions opts_;
  net::UniqueFd listen_fd_;
  net::UniqueFd wake_fd_;  // eventfd: stop() wakes the loop
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  uint16_t port_ = 0;
};

}  // namespace timepool::prometheus
