// A small in-process NTP server for monitor tests and the monitor benchmark. It answers
// client requests on its own thread according to a Behaviour, with recvmmsg/sendmmsg so the
// benchmark can push it to tens of thousands of packets per second.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/ntp.hpp"

namespace timepool::test {

class FakeNtpServer {
 public:
  enum class Behaviour {
    kGood,         // stratum 2, its clock + offset
    kSilent,       // reads and never answers
    kWrongOrigin,  // answers with origin != our transmit
    kOtherPort,    // answers correctly, but from another port
    kKiss,         // stratum 0 with refid = kiss (e.g. "RATE"), LI 3, echoes the transmit
    kUnsynchronized,  // LI 3, stratum 16
    kWrongVersion,    // answers with version 3 to a version 4 request
  };

  // Binds `ip`:`port` (IPv4 or IPv6; port 0: any free port, see port()).
  explicit FakeNtpServer(Behaviour b, const std::string& ip = "127.0.0.1", uint16_t port = 0,
                         double offset_s = 0, std::string kiss = "RATE", int stratum = 2)
      : behaviour_(b), offset_s_(offset_s), kiss_(std::move(kiss)), stratum_(stratum) {
    fd_ = bind_udp(ip, port);
    other_fd_ = bind_udp(ip, 0);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeNtpServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
    close(other_fd_);
  }
  FakeNtpServer(const FakeNtpServer&) = delete;
  FakeNtpServer& operator=(const FakeNtpServer&) = delete;

  uint16_t port() const { return port_; }
  uint64_t requests() const { return requests_.load(); }
  void set_behaviour(Behaviour b) { behaviour_.store(b); }

 private:
  static int bind_udp(const std::string& ip, uint16_t port) {
    const bool v6 = ip.find(':') != std::string::npos;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    int rcv = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcv, sizeof rcv);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(port);
      inet_pton(AF_INET6, ip.c_str(), &sin6->sin6_addr);
      len = sizeof(sockaddr_in6);
    } else {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      inet_pton(AF_INET, ip.c_str(), &sin->sin_addr);
      len = sizeof(sockaddr_in);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      close(fd);
      throw std::runtime_error("bind " + ip + ":" + std::to_string(port) + ": " + std::strerror(errno));
    }
    return fd;
  }

  uint64_t now_ntp() const {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    auto t = ntp::TimePoint(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
    t += std::chrono::nanoseconds(static_cast<int64_t>(offset_s_ * 1e9));
    return ntp::to_ntp(t);
  }

  // Builds the reply to `req` in place; false: say nothing.
  bool answer(std::array<uint8_t, 48>& buf, Behaviour b) const {
    auto req = ntp::decode(buf);
    if (!req || req->mode != ntp::Mode::kClient) return false;
    ntp::Packet p;
    p.version = req->version;
    p.mode = ntp::Mode::kServer;
    p.stratum = static_cast<uint8_t>(stratum_);
    p.poll = req->poll;
    p.precision = -24;
    p.root_delay = 0x10;
    p.root_dispersion = 0x20;
    p.refid = 0x7f7f0001;
    p.origin = req->transmit;
    p.receive = now_ntp();
    p.reference = p.receive - (uint64_t{16} << 32);
    switch (b) {
      case Behaviour::kSilent: return false;
      case Behaviour::kWrongOrigin: p.origin ^= 0x100; break;
      case Behaviour::kKiss:
        p.leap = 3;
        p.stratum = 0;
        p.refid = (uint32_t(uint8_t(kiss_[0])) << 24) | (uint32_t(uint8_t(kiss_[1])) << 16) |
                  (uint32_t(uint8_t(kiss_[2])) << 8) | uint32_t(uint8_t(kiss_[3]));
        p.receive = req->transmit;
        p.transmit = req->transmit;
        buf = ntp::encode(p);
        return true;
      case Behaviour::kUnsynchronized:
        p.leap = 3;
        p.stratum = 16;
        break;
      case Behaviour::kWrongVersion: p.version = 3; break;
      default: break;
    }
    p.transmit = now_ntp();
    buf = ntp::encode(p);
    return true;
  }

  void loop() {
    constexpr int kBatch = 64;
    std::array<std::array<uint8_t, 48>, kBatch> bufs;
    std::array<sockaddr_storage, kBatch> addrs;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs;
    std::array<mmsghdr, kBatch> out;
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;
      for (int k = 0; k < kBatch; ++k) {
        iov[k] = iovec{bufs[k].data(), bufs[k].size()};
        msgs[k] = mmsghdr{};
        msgs[k].msg_hdr.msg_name = &addrs[k];
        msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      const int n = recvmmsg(fd_, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) continue;
      requests_ += static_cast<uint64_t>(n);
      const Behaviour b = behaviour_.load();
      int m = 0;
      for (int k = 0; k < n; ++k) {
        if (msgs[k].msg_len != 48 || !answer(bufs[k], b)) continue;
        out[m] = msgs[k];
        ++m;
      }
      if (m > 0) sendmmsg(b == Behaviour::kOtherPort ? other_fd_ : fd_, out.data(), static_cast<unsigned>(m), 0);
    }
  }

  std::atomic<Behaviour> behaviour_;
  double offset_s_;
  std::string kiss_;
  int stratum_;
  int fd_ = -1;
  int other_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace timepool::test
