#include "monitor/prober.hpp"

#include <sodium.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <ctime>
#include <system_error>

namespace timepool::monitor {
namespace {

constexpr int kBatch = 64;             // datagrams per recvmmsg call
constexpr std::size_t kBufSize = 1280;  // > kMaxPacketSize, so oversize is seen, not truncated
constexpr int kRcvBuf = 4 << 20;
constexpr std::size_t kControlSize = CMSG_SPACE(sizeof(timespec)) + 64;

uint64_t now_ntp() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ntp::to_ntp(ntp::TimePoint(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

ntp::TimePoint now_wall() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ntp::TimePoint(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

// An unbound-port UDP socket of the wildcard address of `family`; invalid if the family is
// not supported here.
net::UniqueFd open_socket(const char* wildcard) {
  auto fd = net::bind_socket(*net::Endpoint::parse(wildcard), SOCK_DGRAM | SOCK_NONBLOCK);
  if (!fd) return fd;
  const int one = 1;
  // The kernel's receive time is the closest we get to T4 (RFC 5905 section 8).
  setsockopt(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &kRcvBuf, sizeof kRcvBuf);
  return fd;
}

}  // namespace

Prober::Prober(ProbeOptions opts, Done done)
    : opts_(opts), done_(std::move(done)), batch_(kBatch, kBufSize, kControlSize) {
  opts_.packets = std::clamp(opts_.packets, 1, 8);
  if (sodium_init() < 0) throw std::runtime_error("libsodium initialization failed");
  epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  fd4_ = open_socket("0.0.0.0:0");
  if (!fd4_) throw std::system_error(errno, std::generic_category(), "IPv4 UDP socket");
  fd6_ = open_socket("[::]:0");
  for (int fd : {fd4_.get(), fd6_.get()}) {
    if (fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
}

Prober::~Prober() = default;

uint16_t Prober::local_port_v4() const {
  const auto local = net::Endpoint::local_of(fd4_.get());
  return local ? local->port() : 0;
}

uint64_t Prober::new_transmit() {
  // Unpredictable (a CSPRNG), non-zero and unique among outstanding requests.
  for (;;) {
    if (random_pool_.empty()) {
      random_pool_.resize(256);
      randombytes_buf(random_pool_.data(), random_pool_.size() * sizeof(uint64_t));
    }
    const uint64_t v = random_pool_.back();
    random_pool_.pop_back();
    if (v != 0 && !by_transmit_.contains(v)) return v;
  }
}

void Prober::start(uint64_t tag, const net::Endpoint& server) {
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(probes_.size());
    probes_.emplace_back();
  }
  Probe& p = probes_[slot];
  p.tag = tag;
  p.server = server;
  p.active = true;
  ++p.gen;
  p.sent = 0;
  p.started = now_wall();
  p.next_send = Clock::now();
  p.packets.assign(static_cast<std::size_t>(opts_.packets), PacketState{});
  p.samples.assign(static_cast<std::size_t>(opts_.packets), PacketSample{});
  ++active_;
  stats_.in_flight.store(active_, std::memory_order_relaxed);
  service(slot, Clock::now());
}

void Prober::send_packet(uint32_t slot, Clock::time_point now) {
  Probe& p = probes_[slot];
  const auto i = static_cast<std::size_t>(p.sent++);
  p.next_send = now + opts_.spacing;
  PacketState& ps = p.packets[i];
  const int fd = p.server.is_v6() ? fd6_.get() : fd4_.get();
  if (fd < 0) {
    p.samples[i].kind = PacketSample::Kind::kSendError;
    p.samples[i].error = "IPv6 is not available";
    stats_.send_errors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ps.transmit = new_transmit();
  const auto req = ntp::make_request(ps.transmit, opts_.version);
  ps.t1 = now_ntp();
  const auto to = p.server.to_sockaddr();
  const ssize_t n = sendto(fd, req.data(), req.size(), 0, to.get(), to.len);
  if (n != static_cast<ssize_t>(req.size())) {
    p.samples[i].kind = PacketSample::Kind::kSendError;
    p.samples[i].error = std::strerror(n < 0 ? errno : EMSGSIZE);
    stats_.send_errors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  stats_.packets_sent.fetch_add(1, std::memory_order_relaxed);
  ps.outstanding = true;
  ps.deadline = now + opts_.timeout;
  by_transmit_[ps.transmit] = (uint64_t{slot} << 8) | i;
}

void Prober::schedule(uint32_t slot) {
  const Probe& p = probes_[slot];
  std::optional<Clock::time_point> next;
  if (p.sent < opts_.packets) next = p.next_send;
  for (int i = 0; i < p.sent; ++i) {
    const auto& ps = p.packets[static_cast<std::size_t>(i)];
    if (ps.outstanding && (!next || ps.deadline < *next)) next = ps.deadline;
  }
  if (next) timers_.push(Timer{*next, slot, p.gen});
}

void Prober::service(uint32_t slot, Clock::time_point now) {
  Probe& p = probes_[slot];
  for (int i = 0; i < p.sent; ++i) {
    auto& ps = p.packets[static_cast<std::size_t>(i)];
    if (ps.outstanding && ps.deadline <= now) {
      ps.outstanding = false;
      by_transmit_.erase(ps.transmit);
      stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (p.sent < opts_.packets && p.next_send <= now) send_packet(slot, now);
  const bool waiting = std::any_of(p.packets.begin(), p.packets.begin() + p.sent,
                                   [](const PacketState& ps) { return ps.outstanding; });
  if (p.sent >= opts_.packets && !waiting) {
    finish(slot);
  } else {
    schedule(slot);
  }
}

void Prober::finish(uint32_t slot) {
  Probe& p = probes_[slot];
  for (int i = 0; i < p.sent; ++i) {
    auto& ps = p.packets[static_cast<std::size_t>(i)];
    if (ps.outstanding) {
      ps.outstanding = false;
      by_transmit_.erase(ps.transmit);
    }
  }
  const std::span<const PacketSample> sent(p.samples.data(), static_cast<std::size_t>(p.sent));
  ProbeResult result = choose_best(sent);
  result.packets.assign(sent.begin(), sent.end());
  finished_.push_back(Finished{p.tag, std::move(result), p.started});
  p.active = false;
  ++p.gen;  // invalidates its timers
  free_.push_back(slot);
  --active_;
  stats_.in_flight.store(active_, std::memory_order_relaxed);
}

void Prober::handle_datagram(std::span<const uint8_t> data, const net::Endpoint& from, uint64_t t4) {
  if (data.size() < ntp::kHeaderSize) {
    stats_.unsolicited.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto head = ntp::decode(data);
  const auto it = by_transmit_.find(head->origin);
  if (it == by_transmit_.end()) {
    stats_.unsolicited.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto slot = static_cast<uint32_t>(it->second >> 8);
  const auto i = static_cast<std::size_t>(it->second & 0xff);
  Probe& p = probes_[slot];
  // Only the address and port we asked may answer (an off-path spoofer must also guess the
  // 64-bit origin; a reply from another port of the right host is not ours either).
  if (!(from == p.server)) {
    stats_.unsolicited.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  PacketState& ps = p.packets[i];
  const auto v = ntp::check_reply(data, ntp::Request{ps.transmit, opts_.version}, opts_.max_root_distance);
  if (!ntp::is_reply(v.reason)) {
    stats_.unsolicited.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  stats_.replies.fetch_add(1, std::memory_order_relaxed);
  by_transmit_.erase(it);
  ps.outstanding = false;
  PacketSample& s = p.samples[i];
  s.kind = PacketSample::Kind::kReply;
  s.reason = v.reason;
  s.kiss = v.kiss;
  s.packet = v.packet;
  s.checks = v.checks.text();
  if (v.reason == ntp::Reason::kOk) {
    const auto od = ntp::offset_delay(ps.t1, v.packet.receive, v.packet.transmit, t4);
    s.offset_s = od.offset_s;
    s.delay_s = od.delay_s;
  }
  const bool waiting = std::any_of(p.packets.begin(), p.packets.begin() + p.sent,
                                   [](const PacketState& x) { return x.outstanding; });
  if (s.is_final() || (p.sent >= opts_.packets && !waiting)) finish(slot);
}

namespace {

// The kernel's own CLOCK_REALTIME, read by the system call itself rather than the vDSO or a
// library wrapper: the clock the kernel stamps datagrams with, even when the process's view of
// time differs from it (an interposed clock, as libfaketime gives).
int64_t kernel_now_ns() {
  timespec ts{};
  syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// T4 of a datagram read at `now` (our clock, the one T1 was read from): `now` less the time the
// datagram waited in the socket, measured on the kernel's clock from its SO_TIMESTAMPNS stamp
// (RFC 5905 section 8 wants the arrival time). When the two clocks agree this is the kernel's
// stamp; a wait that is negative or over a second is not trusted and `now` is used.
uint64_t receive_time(const msghdr& mh, uint64_t now, int64_t kernel_now) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&mh), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      const int64_t waited = kernel_now - (int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec);
      if (waited < 0 || waited > 1000000000) return now;
      // NTP fraction units (2^32 a second); at most 2^32 * 10^9 < 2^64.
      return now - (static_cast<uint64_t>(waited) << 32) / 1000000000;
    }
  }
  return now;
}

}  // namespace

void Prober::receive(int fd) {
  for (;;) {
    const int n = batch_.receive(fd);
    if (n == 0) return;  // EAGAIN (drained) or an error we cannot attribute to a probe
    const uint64_t now = now_ntp();
    const int64_t kernel_now = kernel_now_ns();
    for (int k = 0; k < n; ++k) {
      const auto from = batch_.from(k);
      if (!from) continue;
      // A datagram larger than the buffer is oversized whatever it holds.
      if (batch_.truncated(k)) {
        stats_.unsolicited.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      handle_datagram(batch_.data(k), *from, receive_time(batch_.header(k), now, kernel_now));
    }
    if (n < kBatch) return;
  }
}

void Prober::poll(std::chrono::milliseconds max_wait) {
  auto now = Clock::now();
  auto wait = max_wait;
  while (!timers_.empty() && probes_[timers_.top().slot].gen != timers_.top().gen) timers_.pop();
  if (!timers_.empty()) {
    const auto until = std::chrono::ceil<std::chrono::milliseconds>(timers_.top().at - now);
    wait = std::clamp(until, std::chrono::milliseconds(0), max_wait);
  }
  epoll_event events[4];
  const int n = epoll_wait(epoll_fd_.get(), events, 4, static_cast<int>(wait.count()));
  for (int k = 0; k < n; ++k) receive(events[k].data.fd);
  now = Clock::now();
  while (!timers_.empty() && timers_.top().at <= now) {
    const Timer t = timers_.top();
    timers_.pop();
    if (probes_[t.slot].gen != t.gen || !probes_[t.slot].active) continue;
    service(t.slot, now);
  }
  // Callbacks last: they may start new probes, which must not disturb the loops above.
  auto done = std::move(finished_);
  finished_.clear();
  for (const auto& f : done) done_(f.tag, f.result, f.started);
}

}  // namespace timepool::monitor
