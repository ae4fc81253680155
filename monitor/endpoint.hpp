// A UDP peer: IPv4 or IPv6 address and port, as the socket API wants it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/address.hpp"

namespace timepool::monitor {

class Endpoint {
 public:
  Endpoint() = default;
  Endpoint(const address::Address& a, uint16_t port);
  // From what recvmsg() filled in; nullopt for a family other than AF_INET/AF_INET6.
  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len);
  // A numeric address ("192.0.2.1", "2001:db8::1") or a host name (resolved with
  // getaddrinfo, first answer, blocking). nullopt with `error` set when nothing is found.
  static std::optional<Endpoint> resolve(std::string_view host, uint16_t port,
                                         std::string* error = nullptr);

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss_); }
  socklen_t len() const { return len_; }
  bool is_v6() const { return ss_.ss_family == AF_INET6; }
  uint16_t port() const;
  address::Address address() const;
  std::string to_string() const;  // "192.0.2.1:123", "[2001:db8::1]:123"

  // Same family, address and port (scope ids of link-local v6 compared too).
  bool operator==(const Endpoint& o) const;

 private:
  sockaddr_storage ss_{};
  socklen_t len_ = 0;
};

}  // namespace timepool::monitor
