// The /metrics listener every daemon runs: GET /metrics answers with what `render` returns
// (Prometheus text, core/prometheus.hpp); every other path is 404.
//
// A scrape endpoint must not become a way to tie a daemon up: requests are served by a fixed
// number of worker threads, a client that sends nothing is cut after `read_timeout`, a
// connection serves a few requests at most, and request bodies are refused.
//
//   prometheus::HttpServer http([&] { return render(); });
//   uint16_t port = http.start(*net::Endpoint::parse("127.0.0.1:9124"));  // port 0: any free
//   ...
//   http.stop();   // also done by the destructor
//
// start() and stop() are called by the owning thread; `render` runs on the worker threads
// (several at once), so it may only read what is safe to read concurrently (atomics, or data
// under the caller's own lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/net.hpp"

namespace httplib {
class Server;
}

namespace timepool::prometheus {

struct HttpOptions {
  std::size_t workers = 2;
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
  std::size_t keep_alive_max = 5;  // requests on one connection
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
  // Stops serving and joins the threads; in-flight requests finish first.
  void stop();
  uint16_t port() const { return port_; }

 private:
  Render render_;
  HttpOptions opts_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace timepool::prometheus
