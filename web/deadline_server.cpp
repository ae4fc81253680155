#include "web/deadline_server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace timepool::web {

namespace {

using Clock = std::chrono::steady_clock;

std::string numeric_host(const sockaddr_storage& ss, socklen_t len, int* port) {
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> serv{};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, host.data(), host.size(),
                  serv.data(), serv.size(), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "";
  }
  if (port) *port = std::atoi(serv.data());
  return host.data();
}

std::string peer_of(int fd, int* port = nullptr) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  return numeric_host(ss, len, port);
}

// One connection's stream: cpp-httplib's SocketStream with a read buffer, except that every
// wait for input ends at the current request's deadline.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(int fd, Clock::duration read_timeout, Clock::duration write_timeout)
      : fd_(fd), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  void set_deadline(Clock::time_point t) { deadline_ = t; }

  // Waits for the first byte of the next request, at most `idle` (and never past the deadline).
  bool wait_request(Clock::duration idle) const {
    return off_ < len_ || wait_input(idle);
  }

  bool is_readable() const override { return off_ < len_ || wait_input(read_timeout_); }
  bool is_writable() const override { return wait_for(POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (off_ < len_) {
      size_t n = std::min(size, len_ - off_);
      std::memcpy(ptr, buf_.data() + off_, n);
      off_ += n;
      return static_cast<ssize_t>(n);
    }
    if (!wait_input(read_timeout_)) return -1;
    // Small reads (cpp-httplib reads header lines a byte at a time) go through the buffer.
    bool buffered = size < buf_.size();
    ssize_t n;
    do {
      n = ::recv(fd_, buffered ? buf_.data() : ptr, buffered ? buf_.size() : size, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0 || !buffered) return n;
    size_t take = std::min(size, static_cast<size_t>(n));
    std::memcpy(ptr, buf_.data(), take);
    off_ = take;
    len_ = static_cast<size_t>(n);
    return static_cast<ssize_t>(take);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = peer_of(fd_, &port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      ip = numeric_host(ss, len, &port);
    }
  }

  socket_t socket() const override { return fd_; }

 private:
  // Input within `timeout`, cut at the deadline.
  bool wait_input(Clock::duration timeout) const {
    auto now = Clock::now();
    if (now >= deadline_) return false;
    return wait_for(POLLIN, std::min(timeout, deadline_ - now));
  }

  bool wait_for(short events, Clock::duration timeout) const {
    auto end = Clock::now() + timeout;
    while (true) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(end - Clock::now()).count();
      if (left < 0) left = 0;
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }

  int fd_;
  Clock::duration read_timeout_, write_timeout_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::array<char, 4096> buf_{};
  size_t off_ = 0, len_ = 0;
};

}  // namespace

DeadlineServer::DeadlineServer(std::chrono::milliseconds deadline, int max_per_address,
                               std::function<bool(const std::string&)> exempt)
    : deadline_(deadline), max_per_address_(max_per_address), exempt_(std::move(exempt)) {}

bool DeadlineServer::set_backlog(int backlog) {
  socket_t s = svr_sock_;
  return s != INVALID_SOCKET && ::listen(s, backlog) == 0;
}

bool DeadlineServer::admit(const std::string& peer) {
  if (exempt_ && exempt_(peer)) return true;
  std::lock_guard lock(mu_);
  int& n = per_address_[peer];
  if (n >= max_per_address_) {
    if (n == 0) per_address_.erase(peer);
    return false;
  }
  ++n;
  return true;
}

void DeadlineServer::release(const std::string& peer) {
  if (exempt_ && exempt_(peer)) return;
  std::lock_guard lock(mu_);
  auto it = per_address_.find(peer);
  if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
}

// The keep-alive loop of cpp-httplib's process_server_socket, over a DeadlineStream.
bool DeadlineServer::process_and_close_socket(socket_t sock) {
  std::string peer = peer_of(sock);
  bool ret = false;
  if (admit(peer)) {
    // Nagle would hold the body until the client's delayed ACK (the headers go first).
    int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto read_timeout = std::chrono::seconds(read_timeout_sec_) +
                        std::chrono::microseconds(read_timeout_usec_);
    auto write_timeout = std::chrono::seconds(write_timeout_sec_) +
                         std::chrono::microseconds(write_timeout_usec_);
    DeadlineStream strm(sock, read_timeout, write_timeout);
    for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
      strm.set_deadline(Clock::now() + deadline_);
      if (!strm.wait_request(std::chrono::seconds(keep_alive_timeout_sec_))) break;
      bool closed = false;
      ret = process_request(strm, left == 1, closed, nullptr);
      if (!ret || closed) break;
    }
    release(peer);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

}  // namespace timepool::web
