// cpp-httplib's Server with a deadline for a whole request and a cap on connections per client.
//
// cpp-httplib 0.11 has only per-read timeouts: a client that sends one header line every 3 s
// holds a worker thread for as long as it likes, and 8 of them blocked every page. Here each
// connection is served by our own loop over our own Stream (cpp-httplib's process_request does
// the parsing, routing and writing): every read waits at most until the request's deadline,
// `deadline` after the connection started waiting for it (the connection's start, or the end of
// the previous response on a kept-alive connection). A client that has not sent a whole
// request by then is disconnected. One client address may hold at most `max_per_address`
// connections (the trusted proxies are exempt: all their clients share their address); more
// are closed at once. With enough worker threads the slow clients that fit under these limits
// cannot starve the others; in production nginx in front buffers them all (deploy/nginx).
//
// Thread safety: as httplib::Server; process_and_close_socket runs on its worker threads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <httplib.h>

namespace timepool::web {

class DeadlineServer : public httplib::Server {
 public:
  // exempt(address text): true for peers without the per-address cap.
  DeadlineServer(std::chrono::milliseconds deadline, int max_per_address,
                 std::function<bool(const std::string&)> exempt);
  // After bind: cpp-httplib listens with a backlog of 5, so a burst of connections (50 slow
  // clients, a page with its stylesheet from many visitors) loses SYNs and waits 1-3 s for
  // the retry. listen() again on the bound socket sets the backlog.
  bool set_backlog(int backlog);

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool admit(const std::string& peer);
  void release(const std::string& peer);

  std::chrono::milliseconds deadline_;
  int max_per_address_;
  std::function<bool(const std::string&)> exempt_;
  std::mutex mu_;
  std::map<std::string, int> per_address_;
};

}  // namespace timepool::web
