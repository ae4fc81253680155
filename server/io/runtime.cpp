#include "server/io/runtime.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace timepool::server::io {

Runtime::Runtime() : stop_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (stop_fd < 0) throw std::runtime_error("eventfd failed");
}

Runtime::~Runtime() {
  if (stop_fd >= 0) ::close(stop_fd);
}

void Runtime::request_stop() {
  stop = true;
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(stop_fd, &one, sizeof one);
}

namespace {

int make_socket(const ListenAddr& a, uint16_t port, int type, bool reuseport) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (a.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    ::inet_pton(AF_INET6, a.host.c_str(), &s6->sin6_addr);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    ::inet_pton(AF_INET, a.host.c_str(), &s4->sin_addr);
    len = sizeof *s4;
  }
  const int fd = ::socket(a.v6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(a.text() + ": socket: " + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (a.v6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (type == SOCK_DGRAM) {
    // Reply from the address the query was sent to, also on a wildcard bind (IP_PKTINFO).
    if (a.v6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    else ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    const int buf = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(a.host + " port " + std::to_string(port) + ": bind: " + std::strerror(err));
  }
  return fd;
}

}  // namespace

int bind_udp(const ListenAddr& a, uint16_t port, bool reuseport) {
  return make_socket(a, port, SOCK_DGRAM, reuseport);
}

int bind_tcp(const ListenAddr& a, uint16_t port) {
  const int fd = make_socket(a, port, SOCK_STREAM, false);
  if (::listen(fd, 1024) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(a.text() + ": listen: " + std::strerror(err));
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace timepool::server::io
