#include "core/metrics_http.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <list>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/log.hpp"
#include "core/prometheus.hpp"

namespace timepool::prometheus {

namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  net::UniqueFd fd;
  Clock::time_point deadline;
  std::string in;
  std::string out;  // the answer, once the request is complete
  std::size_t sent = 0;
};

std::string answer(int status, std::string_view reason, std::string_view type,
                   const std::string& body, bool head) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  r += "Content-Type: " + std::string(type) + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (status == 405) r += "Allow: GET, HEAD\r\n";
  r += "Connection: close\r\n\r\n";
  if (!head) r += body;
  return r;
}

// The end of the request head ("\r\n\r\n", or "\n\n" from a lax client), or npos.
std::size_t head_end(const std::string& in) {
  std::size_t crlf = in.find("\r\n\r\n");
  std::size_t lf = in.find("\n\n");
  if (crlf != std::string::npos) crlf += 4;
  if (lf != std::string::npos) lf += 2;
  return std::min(crlf, lf);
}

// The answer to a complete request head: "METHOD TARGET VERSION"; the target's query string
// is ignored.
std::string respond(const std::string& in, const HttpServer::Render& render) {
  const std::string_view line(in.data(), in.find_first_of("\r\n"));
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.find(' ', sp1 == std::string_view::npos ? 0 : sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) {
    return answer(400, "Bad Request", "text/plain", "bad request\n", false);
  }
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    return answer(405, "Method Not Allowed", "text/plain", "GET or HEAD only\n", false);
  }
  if (target != "/metrics") return answer(404, "Not Found", "text/plain", "not found\n", head);
  return answer(200, "OK", kContentType, render(), head);
}

// The listener thread's state: the epoll set and the open connections, in accept order (the
// front is the oldest), found by descriptor.
class Loop {
 public:
  Loop(net::UniqueFd ep, int listen_fd, const HttpOptions& opts,
       const HttpServer::Render& render)
      : ep_(std::move(ep)), listen_fd_(listen_fd), opts_(opts), render_(render) {
    watch(listen_fd_, EPOLLIN, EPOLL_CTL_ADD);
  }

  int epoll_fd() const { return ep_.get(); }

  void watch(int fd, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(ep_.get(), op, fd, &ev);
  }

  // Wake for the nearest deadline (connections are in accept order, all with the same
  // deadline length, so the front has the nearest one), at most every 250 ms.
  int timeout_ms() const {
    if (conns_.empty()) return 250;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        conns_.front().deadline - Clock::now());
    return static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, 250));
  }

  void handle(const epoll_event& ev) {
    const int fd = ev.data.fd;
    if (fd == listen_fd_) return accept_all();
    auto found = by_fd_.find(fd);
    if (found == by_fd_.end()) return;  // closed earlier in this round
    Connection& c = *found->second;
    bool finished;
    if (ev.events & (EPOLLERR | EPOLLHUP)) {
      finished = true;
    } else if (!c.out.empty()) {
      finished = flush(c);
    } else {
      finished = receive(c);
    }
    if (finished) close_conn(found->second);
  }

  void expire(Clock::time_point now) {
    while (!conns_.empty() && conns_.front().deadline <= now) close_conn(conns_.begin());
  }

 private:
  using Iter = std::list<Connection>::iterator;

  void close_conn(Iter it) {
    by_fd_.erase(it->fd.get());
    conns_.erase(it);  // closing the descriptor removes it from the epoll set
  }

  // When max_connections are open, the oldest is closed for the newcomer.
  void accept_all() {
    for (;;) {
      net::UniqueFd c(::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!c) return;
      if (conns_.size() >= opts_.max_connections) close_conn(conns_.begin());
      const int cfd = c.get();
      conns_.push_back(Connection{std::move(c), Clock::now() + opts_.request_deadline, {}, {}, 0});
      by_fd_[cfd] = std::prev(conns_.end());
      watch(cfd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
    }
  }

  // Writes what is left of the answer; true when the connection is finished with.
  bool flush(Connection& c) {
    while (c.sent < c.out.size()) {
      const ssize_t n =
          ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(c.fd.get(), EPOLLOUT, EPOLL_CTL_MOD);
        return false;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return true;
      }
    }
    ::shutdown(c.fd.get(), SHUT_WR);
    return true;
  }

  // Reads what arrived; true when the connection is finished with.
  bool receive(Connection& c) {
    char buf[2048];
    for (;;) {
      const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
      c.in.append(buf, static_cast<std::size_t>(n));
      if (head_end(c.in) != std::string::npos) {
        c.out = respond(c.in, render_);
        return flush(c);
      }
      if (c.in.size() > opts_.max_request_bytes) {
        c.out = answer(431, "Request Header Fields Too Large", "text/plain", "too large\n",
                       false);
        return flush(c);
      }
    }
  }

  net::UniqueFd ep_;
  const int listen_fd_;
  const HttpOptions& opts_;
  const HttpServer::Render& render_;
  std::list<Connection> conns_;
  std::unordered_map<int, Iter> by_fd_;
};

}  // namespace

HttpServer::HttpServer(Render render, HttpOptions opts)
    : render_(std::move(render)), opts_(opts) {
  if (opts_.max_connections == 0) opts_.max_connections = 1;
}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::start(const net::Endpoint& listen) {
  if (thread_.joinable()) throw std::logic_error("metrics: already started");
  const std::string where = "metrics: cannot listen on " + listen.to_string();
  net::UniqueFd fd(::socket(listen.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(where);
  // SO_REUSEADDR for a quick restart, but not SO_REUSEPORT: a second daemon on the same port
  // must fail to start, not share the scrapes at random.
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen.is_v6()) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  const auto sa = listen.to_sockaddr();
  if (::bind(fd.get(), sa.get(), sa.len) != 0 || ::listen(fd.get(), 128) != 0) {
    throw std::runtime_error(where);
  }
  const auto bound = net::Endpoint::local_of(fd.get());
  if (!bound) throw std::runtime_error(where);
  net::UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake) throw std::runtime_error("metrics: eventfd failed");
  listen_fd_ = std::move(fd);
  wake_fd_ = std::move(wake);
  port_ = bound->port();
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return port_;
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  const uint64_t one = 1;
  if (::write(wake_fd_.get(), &one, sizeof one) < 0) {
    // The eventfd cannot be full with one write; the loop also sees stopping_ on its tick.
  }
  thread_.join();
  listen_fd_.reset();
  wake_fd_.reset();
}

void HttpServer::run() {
  auto logger = log::get("metrics");
  net::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep) {
    logger->error("metrics: epoll_create1 failed: {}", std::strerror(errno));
    return;
  }
  Loop loop(std::move(ep), listen_fd_.get(), opts_, render_);
  loop.watch(wake_fd_.get(), EPOLLIN, EPOLL_CTL_ADD);
  std::vector<epoll_event> events(64);
  while (!stopping_) {
    const int n = ::epoll_wait(loop.epoll_fd(), events.data(), static_cast<int>(events.size()),
                               loop.timeout_ms());
    if (n < 0 && errno != EINTR) {
      logger->error("metrics: epoll_wait failed: {}", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd != wake_fd_.get()) loop.handle(events[i]);
    }
    loop.expire(Clock::now());
  }
}

}  // namespace timepool::prometheus
