// The HTTP server: cpp-httplib wiring only. Every request goes to dispatch() (app.hpp).
#pragma once

#include <functional>
#include <string>

#include "web/app.hpp"

namespace timepool::web {

class HttpServer {
 public:
  HttpServer(const App& app, DbPool& pool);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Binds host:port (port 0: any free port); returns the bound port, or -1 on failure.
  int bind(const std::string& host, int port);
  // Serves until stop() is called from another thread or a signal handler's helper thread.
  bool serve();
  void stop();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace timepool::web
