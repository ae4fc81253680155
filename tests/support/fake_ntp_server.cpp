#include "tests/support/fake_ntp_server.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "core/ntp.hpp"

namespace timepool::test {
namespace {

net::UniqueFd bind_udp(const std::string& ip, uint16_t port) {
  const auto a = address::parse(ip);
  if (!a) throw std::runtime_error("fake NTP server: not an address: " + ip);
  const net::Endpoint local(*a, port);
  auto fd = net::bind_socket(local, SOCK_DGRAM | SOCK_NONBLOCK);
  if (!fd) throw std::runtime_error("bind " + local.to_string() + ": " + std::strerror(errno));
  const int buf = 8 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  return fd;
}

uint32_t refid_of(const std::string& kiss) {
  uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    v = (v << 8) | static_cast<uint8_t>(i < kiss.size() ? kiss[i] : ' ');
  }
  return v;
}

}  // namespace

FakeNtpServer::FakeNtpServer(Behaviour b, const std::string& ip, uint16_t port, double offset_s,
                             std::string kiss, int stratum)
    : behaviour_(b), offset_s_(offset_s), kiss_(std::move(kiss)), stratum_(stratum) {
  fd_ = bind_udp(ip, port);
  other_fd_ = bind_udp(ip, 0);
  endpoint_ = *net::Endpoint::local_of(fd_.get());
  thread_ = std::thread([this] { loop(); });
}

FakeNtpServer::~FakeNtpServer() {
  stop_ = true;
  thread_.join();
}

uint64_t FakeNtpServer::now_ntp() const {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  auto t = ntp::TimePoint(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  t += std::chrono::nanoseconds(static_cast<int64_t>(offset_s_ * 1e9));
  return ntp::to_ntp(t);
}

// Builds the reply to the request in `buf` in place; false: say nothing.
bool FakeNtpServer::answer(std::array<uint8_t, 48>& buf, Behaviour b) const {
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
      p.refid = refid_of(kiss_);
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

void FakeNtpServer::loop() {
  constexpr int kBatch = 64;
  std::array<std::array<uint8_t, 48>, kBatch> bufs;
  std::array<sockaddr_storage, kBatch> addrs;
  std::array<iovec, kBatch> iov;
  std::array<mmsghdr, kBatch> msgs;
  std::array<mmsghdr, kBatch> out;
  while (!stop_) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    for (int k = 0; k < kBatch; ++k) {
      iov[k] = iovec{bufs[k].data(), bufs[k].size()};
      msgs[k] = mmsghdr{};
      msgs[k].msg_hdr.msg_name = &addrs[k];
      msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd_.get(), msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) continue;
    requests_ += static_cast<uint64_t>(n);
    const Behaviour b = behaviour_.load();
    unsigned m = 0;
    for (int k = 0; k < n; ++k) {
      if (msgs[k].msg_len != 48 || !answer(bufs[k], b)) continue;
      out[m++] = msgs[k];
    }
    if (m > 0) sendmmsg(b == Behaviour::kOtherPort ? other_fd_.get() : fd_.get(), out.data(), m, 0);
  }
}

}  // namespace timepool::test
