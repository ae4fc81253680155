#include "server/io/runtime.hpp"

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

// SO_REUSEPORT must be set before bind(), so the socket is made here rather than by
// net::bind_socket().
net::UniqueFd make_socket(const net::Endpoint& local, int type, bool reuseport) {
  const bool v6 = local.is_v6();
  net::UniqueFd fd(::socket(local.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(local.to_string() + ": socket: " + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (v6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (type == SOCK_DGRAM) {
    // Reply from the address the query was sent to, also on a wildcard bind (IP_PKTINFO).
    if (v6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    else ::setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    const int buf = 4 << 20;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  }
  const net::SockAddr sa = local.to_sockaddr();
  if (::bind(fd.get(), sa.get(), sa.len) != 0) {
    throw std::runtime_error(local.address().to_string() + " port " + std::to_string(local.port()) +
                             ": bind: " + std::strerror(errno));
  }
  return fd;
}

}  // namespace

net::UniqueFd bind_udp(const net::Endpoint& local, bool reuseport) {
  return make_socket(local, SOCK_DGRAM, reuseport);
}

net::UniqueFd bind_tcp(const net::Endpoint& local) {
  net::UniqueFd fd = make_socket(local, SOCK_STREAM, false);
  if (::listen(fd.get(), 1024) != 0) {
    throw std::runtime_error(local.to_string() + ": listen: " + std::strerror(errno));
  }
  return fd;
}

}  // namespace timepool::server::io
