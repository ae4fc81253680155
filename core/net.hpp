// Sockets without hand-built sockaddr blocks: an endpoint (IPv4 or IPv6 address and a port)
// and a move-only owner of a file descriptor.
//
// Endpoint builds on core/address (parsing and classification stay there): the address is an
// address::Address, so a peer from recvmsg() can be classified or compared directly. Link-local
// scope ids are not kept (no pool server, monitor or listener uses a link-local address).
//
//   auto ep = net::Endpoint::parse("[2001:db8::1]:123");        // nullopt unless exact
//   const auto sa = ep->to_sockaddr();
//   sendto(fd, buf, n, 0, sa.get(), sa.len);
//   auto from = net::Endpoint::from_sockaddr(ss, msg.msg_namelen);  // after recvmsg()
//
// All functions are thread-safe; resolve() blocks on getaddrinfo().
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"

namespace timepool::net {

// A sockaddr_storage with its length, as bind/connect/sendto want it.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

class Endpoint {
 public:
  Endpoint() = default;  // 0.0.0.0:0
  Endpoint(const address::Address& a, uint16_t port) : addr_(a), port_(port) {}

  // "ADDRESS:PORT" or "[IPV6]:PORT" (the address as address::parse() accepts it, the port
  // decimal 0..65535 without sign or leading '+'). nullopt for anything else.
  static std::optional<Endpoint> parse(std::string_view text);
  // From what accept/recvmsg/getsockname filled in; nullopt for a family other than
  // AF_INET/AF_INET6 or a length too short for it.
  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len);
  static std::optional<Endpoint> from_sockaddr(const sockaddr_storage& ss, socklen_t len) {
    return from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  }
  // The local address of a bound socket (getsockname); nullopt if it has none.
  static std::optional<Endpoint> local_of(int fd);
  // A numeric address or a host name (getaddrinfo, first answer, blocking). nullopt with
  // `error` set when nothing is found.
  static std::optional<Endpoint> resolve(std::string_view host, uint16_t port,
                                         std::string* error = nullptr);

  const address::Address& address() const { return addr_; }
  uint16_t port() const { return port_; }
  bool is_v6() const { return addr_.is_v6(); }
  int family() const;  // AF_INET or AF_INET6
  SockAddr to_sockaddr() const;
  // "192.0.2.1:123", "[2001:db8::1]:123"; parse(to_string()) gives the endpoint back.
  std::string to_string() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;

 private:
  address::Address addr_;
  uint16_t port_ = 0;
};

// Owns one file descriptor (socket, epoll, signalfd ...): closes it when destroyed or reset.
// Move-only; -1 means none.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release() noexcept;
  // Closes the descriptor held (if any) and takes `fd`.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// Buffers for recvmmsg(2)/sendmmsg(2): up to `count` datagrams of up to `size` bytes each, with
// their peer addresses and, when `control` > 0, that many bytes of ancillary data each (for
// SO_TIMESTAMPNS). One thread uses a batch; it is reused for every call.
class DatagramBatch {
 public:
  DatagramBatch(std::size_t count, std::size_t size, std::size_t control = 0);

  // Receives without blocking; returns how many datagrams arrived (0: none, or an error).
  int receive(int fd);
  // Datagram k of the last receive(): its bytes, whether it was longer than `size` (cut
  // short), its sender, its header (for CMSG_FIRSTHDR).
  std::span<uint8_t> data(int k) { return {buffer(k), msgs_[k].msg_len}; }
  bool truncated(int k) const { return (msgs_[k].msg_hdr.msg_flags & MSG_TRUNC) != 0; }
  std::optional<Endpoint> from(int k) const;
  const msghdr& header(int k) const { return msgs_[k].msg_hdr; }
  // The whole buffer of slot k (`size` bytes), to build a reply in place.
  uint8_t* buffer(int k) { return bufs_.data() + static_cast<std::size_t>(k) * size_; }
  // The message of slot k as received: sendmmsg() of it answers its sender from buffer(k).
  const mmsghdr& message(int k) const { return msgs_[k]; }
  std::size_t size() const { return size_; }

 private:
  void reset();
  std::size_t size_;
  std::size_t control_;
  std::vector<uint8_t> bufs_;
  std::vector<uint8_t> ctrl_;
  std::vector<sockaddr_storage> addrs_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
};

// socket(family, type | SOCK_CLOEXEC) bound to `local`; an invalid UniqueFd with errno set on
// failure. `type` may include SOCK_NONBLOCK. For AF_INET6, IPV6_V6ONLY is set.
UniqueFd bind_socket(const Endpoint& local, int type);

}  // namespace timepool::net
