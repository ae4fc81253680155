#include "core/net.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace timepool::net {

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto a = address::parse(host);
  // Brackets exactly when the address is IPv6 ("[192.0.2.1]:1" and "::1:53" are ambiguous).
  if (!a || a->is_v6() != (text.front() == '[')) return std::nullopt;
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535) {
    return std::nullopt;
  }
  return Endpoint(*a, static_cast<uint16_t>(p));
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (!sa) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &sin.sin_addr, 4);
    return Endpoint(address::Address::v4(b), ntohs(sin.sin_port));
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &sin6.sin6_addr, 16);
    return Endpoint(address::Address::v6(b), ntohs(sin6.sin6_port));
  }
  return std::nullopt;
}

std::optional<Endpoint> Endpoint::local_of(int fd) {
  SockAddr sa;
  sa.len = sizeof sa.storage;
  if (::getsockname(fd, sa.get(), &sa.len) != 0) return std::nullopt;
  return from_sockaddr(sa.get(), sa.len);
}

std::optional<Endpoint> Endpoint::resolve(std::string_view host, uint16_t port,
                                          std::string* error) {
  if (auto a = address::parse(host)) return Endpoint(*a, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  const std::string name(host);
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    if (error) *error = "cannot resolve " + name + ": " + ::gai_strerror(rc);
    return std::nullopt;
  }
  auto e = from_sockaddr(res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (!e) {
    if (error) *error = "cannot resolve " + name + ": no IPv4 or IPv6 address";
    return std::nullopt;
  }
  return Endpoint(e->address(), port);
}

int Endpoint::family() const { return is_v6() ? AF_INET6 : AF_INET; }

SockAddr Endpoint::to_sockaddr() const {
  SockAddr out;
  if (is_v6()) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port_);
    std::memcpy(&sin6.sin6_addr, addr_.bytes().data(), 16);
    std::memcpy(&out.storage, &sin6, sizeof sin6);
    out.len = sizeof sin6;
  } else {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port_);
    std::memcpy(&sin.sin_addr, addr_.bytes().data(), 4);
    std::memcpy(&out.storage, &sin, sizeof sin);
    out.len = sizeof sin;
  }
  return out;
}

std::string Endpoint::to_string() const {
  const std::string a = addr_.to_string();
  return is_v6() ? "[" + a + "]:" + std::to_string(port_) : a + ":" + std::to_string(port_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

int UniqueFd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

DatagramBatch::DatagramBatch(std::size_t count, std::size_t size, std::size_t control)
    : size_(size),
      control_(control),
      bufs_(count * size),
      ctrl_(count * control),
      addrs_(count),
      iov_(count),
      msgs_(count) {}

void DatagramBatch::reset() {
  for (std::size_t k = 0; k < msgs_.size(); ++k) {
    iov_[k] = iovec{bufs_.data() + k * size_, size_};
    msgs_[k] = mmsghdr{};
    msghdr& h = msgs_[k].msg_hdr;
    h.msg_name = &addrs_[k];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iov_[k];
    h.msg_iovlen = 1;
    if (control_) {
      h.msg_control = ctrl_.data() + k * control_;
      h.msg_controllen = control_;
    }
  }
}

int DatagramBatch::receive(int fd) {
  reset();  // the kernel rewrote the lengths of the last call
  const int n = ::recvmmsg(fd, msgs_.data(), static_cast<unsigned>(msgs_.size()), MSG_DONTWAIT,
                           nullptr);
  return n < 0 ? 0 : n;
}

std::optional<Endpoint> DatagramBatch::from(int k) const {
  return Endpoint::from_sockaddr(addrs_[static_cast<std::size_t>(k)], msgs_[k].msg_hdr.msg_namelen);
}

UniqueFd bind_socket(const Endpoint& local, int type) {
  UniqueFd fd(::socket(local.family(), type | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  if (local.is_v6()) {
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  const auto sa = local.to_sockaddr();
  if (::bind(fd.get(), sa.get(), sa.len) != 0) {
    const int err = errno;
    fd.reset();
    errno = err;
  }
  return fd;
}

}  // namespace timepool::net
