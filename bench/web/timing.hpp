// What the web benchmarks share: timing one call many times (a function, dispatch(), or a GET
// over HTTP on loopback) and printing the spread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "web/app.hpp"
#include "web/routes.hpp"

namespace timepool::bench {

// The milliseconds of each of `iterations` calls of `run`, after 5 calls to warm up.
template <class Run>
std::vector<double> time_runs(int iterations, Run&& run) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> ms;
  for (int i = 0; i < iterations + 5; ++i) {
    auto t0 = Clock::now();
    run();
    auto t1 = Clock::now();
    if (i >= 5) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return ms;
}

// One line: `what` (padded to `width` columns), the number of runs, min / median / p95 / max
// in milliseconds, and the size of the last answer.
inline void report(const char* what, std::vector<double> ms, std::size_t bytes, int width) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  std::printf("%-*s n=%zu  min %.2f  median %.2f  p95 %.2f  max %.2f ms  (%zu bytes)\n", width,
              what, ms.size(), ms.front(), at(0.5), at(0.95), ms.back(), bytes);
  std::fflush(stdout);
}

// The milliseconds of each dispatch() of GET `path` (the whole request as the daemon handles
// it, without the network), with the session cookie `token` when it is not empty, and the size
// of the last answer. Exits on any status but 200.
inline std::vector<double> time_dispatch(const web::App& app, pg::Connection& conn,
                                         const std::string& path, const std::string& token,
                                         int iterations, std::size_t& bytes) {
  web::Request req;
  req.method = "GET";
  req.path = path;
  req.remote_addr = "127.0.0.1";
  if (!token.empty()) req.cookies["tp_session"] = token;
  return time_runs(iterations, [&] {
    auto r = web::dispatch(app, conn, req);
    if (r.status != 200) {
      std::fprintf(stderr, "%s: status %d\n", path.c_str(), r.status);
      std::exit(1);
    }
    bytes = r.body.size();
  });
}

// The same over HTTP against the real server wiring (routes.cpp) on loopback, with a keep-alive
// client (and TCP_NODELAY, as browsers set it, with `nodelay`). Exits on any status but 200.
inline std::vector<double> time_http(const web::App& app, const std::string& conninfo,
                                     const std::string& path, const std::string& token,
                                     bool nodelay, int iterations, std::size_t& bytes) {
  web::DbPool pool(conninfo, 2);
  web::HttpServer server(app, pool);
  int port = server.bind("127.0.0.1", 0);
  std::thread t([&] { server.serve(); });
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  if (nodelay) client.set_tcp_nodelay(true);
  httplib::Headers h;
  if (!token.empty()) h.emplace("Cookie", "tp_session=" + token);
  auto ms = time_runs(iterations, [&] {
    auto r = client.Get(path.c_str(), h);
    if (!r || r->status != 200) {
      std::fprintf(stderr, "HTTP %s failed\n", path.c_str());
      std::exit(1);
    }
    bytes = r->body.size();
  });
  server.stop();
  t.join();
  return ms;
}

}  // namespace timepool::bench
