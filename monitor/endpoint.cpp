#include "monitor/endpoint.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

namespace timepool::monitor {

Endpoint::Endpoint(const address::Address& a, uint16_t port) {
  if (a.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, a.bytes().data(), 4);
    std::memcpy(&ss_, &sin, sizeof sin);
    len_ = sizeof sin;
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&sin6.sin6_addr, a.bytes().data(), 16);
    std::memcpy(&ss_, &sin6, sizeof sin6);
    len_ = sizeof sin6;
  }
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  Endpoint e;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    e.len_ = sizeof(sockaddr_in);
  } else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    e.len_ = sizeof(sockaddr_in6);
  } else {
    return std::nullopt;
  }
  std::memcpy(&e.ss_, sa, e.len_);
  return e;
}

std::optional<Endpoint> Endpoint::resolve(std::string_view host, uint16_t port,
                                          std::string* error) {
  if (auto a = address::parse(host)) return Endpoint(*a, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  const std::string name(host);
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    if (error) *error = std::string("cannot resolve ") + name + ": " + gai_strerror(rc);
    return std::nullopt;
  }
  auto e = from_sockaddr(res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (!e) {
    if (error) *error = "cannot resolve " + name + ": no IPv4 or IPv6 address";
    return std::nullopt;
  }
  if (e->is_v6()) {
    reinterpret_cast<sockaddr_in6*>(&e->ss_)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&e->ss_)->sin_port = htons(port);
  }
  return e;
}

uint16_t Endpoint::port() const {
  if (is_v6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
}

address::Address Endpoint::address() const {
  if (is_v6()) {
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr, 16);
    return address::Address::v6(b);
  }
  std::array<uint8_t, 4> b;
  std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, 4);
  return address::Address::v4(b);
}

std::string Endpoint::to_string() const {
  const std::string a = address().to_string();
  return is_v6() ? "[" + a + "]:" + std::to_string(port()) : a + ":" + std::to_string(port());
}

bool Endpoint::operator==(const Endpoint& o) const {
  if (ss_.ss_family != o.ss_.ss_family) return false;
  if (is_v6()) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss_);
    const auto* b = reinterpret_cast<const sockaddr_in6*>(&o.ss_);
    return a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id &&
           std::memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0;
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&ss_);
  const auto* b = reinterpret_cast<const sockaddr_in*>(&o.ss_);
  return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

}  // namespace timepool::monitor
