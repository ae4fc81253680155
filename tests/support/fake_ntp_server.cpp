#include "tests/support/fake_ntp_server.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
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

void write(std::span<uint8_t, ntp::kHeaderSize> to, const std::array<uint8_t, ntp::kHeaderSize>& from) {
  std::copy(from.begin(), from.end(), to.begin());
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
bool FakeNtpServer::answer(std::span<uint8_t, ntp::kHeaderSize> buf, Behaviour b) const {
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
      write(buf, ntp::encode(p));
      return true;
    case Behaviour::kUnsynchronized:
      p.leap = 3;
      p.stratum = 16;
      break;
    case Behaviour::kWrongVersion: p.version = 2; break;
    case Behaviour::kVersion3: p.version = 3; break;
    default: break;
  }
  p.transmit = now_ntp();
  write(buf, ntp::encode(p));
  return true;
}

void FakeNtpServer::loop() {
  constexpr int kBatch = 64;
  net::DatagramBatch batch(kBatch, ntp::kHeaderSize);
  std::array<mmsghdr, kBatch> out;
  while (!stop_) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    const int n = batch.receive(fd_.get());
    if (n <= 0) continue;
    requests_ += static_cast<uint64_t>(n);
    const Behaviour b = behaviour_.load();
    unsigned m = 0;
    for (int k = 0; k < n; ++k) {
      if (batch.data(k).size() != ntp::kHeaderSize || batch.truncated(k)) continue;
      if (!answer(std::span<uint8_t, ntp::kHeaderSize>(batch.buffer(k), ntp::kHeaderSize), b)) {
        continue;
      }
      out[m++] = batch.message(k);
    }
    if (m > 0) sendmmsg(b == Behaviour::kOtherPort ? other_fd_.get() : fd_.get(), out.data(), m, 0);
  }
}

}  // namespace timepool::test
