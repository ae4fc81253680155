#include "server/io/udp.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

namespace timepool::server::io {

namespace {

constexpr size_t kBatch = 64;
constexpr size_t kInSize = 4096;   // a query larger than this is not a query we answer
constexpr size_t kOutSize = 4096;  // >= AnswerConfig::edns_max maximum
constexpr size_t kCtrl = 64;

Client client_of(const sockaddr_storage& ss, socklen_t len) {
  Client c;
  if (auto ep = net::Endpoint::from_sockaddr(ss, len)) c.addr = ep->address();
  return c;
}

// Turns the received IP_PKTINFO / IPV6_PKTINFO into the control data that makes the reply
// leave from the same local address. Returns the control length to use (0: none).
size_t reply_control(msghdr& in, uint8_t* out) {
  for (cmsghdr* cm = CMSG_FIRSTHDR(&in); cm; cm = CMSG_NXTHDR(&in, cm)) {
    if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(cm), sizeof pi);
      in_pktinfo reply{};
      reply.ipi_spec_dst = pi.ipi_addr;
      auto* oc = reinterpret_cast<cmsghdr*>(out);
      oc->cmsg_level = IPPROTO_IP;
      oc->cmsg_type = IP_PKTINFO;
      oc->cmsg_len = CMSG_LEN(sizeof reply);
      std::memcpy(CMSG_DATA(oc), &reply, sizeof reply);
      return CMSG_SPACE(sizeof reply);
    }
    if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(cm), sizeof pi);
      in6_pktinfo reply{};
      reply.ipi6_addr = pi.ipi6_addr;
      reply.ipi6_ifindex = pi.ipi6_ifindex;  // link-local sources need their interface
      auto* oc = reinterpret_cast<cmsghdr*>(out);
      oc->cmsg_level = IPPROTO_IPV6;
      oc->cmsg_type = IPV6_PKTINFO;
      oc->cmsg_len = CMSG_LEN(sizeof reply);
      std::memcpy(CMSG_DATA(oc), &reply, sizeof reply);
      return CMSG_SPACE(sizeof reply);
    }
  }
  return 0;
}

// The buffers of one batch: kBatch datagrams in, up to kBatch replies out. One per worker.
struct Batch {
  std::vector<uint8_t> inbuf = std::vector<uint8_t>(kBatch * kInSize);
  std::vector<uint8_t> outbuf = std::vector<uint8_t>(kBatch * kOutSize);
  std::vector<mmsghdr> in = std::vector<mmsghdr>(kBatch);
  std::vector<mmsghdr> out = std::vector<mmsghdr>(kBatch);
  std::vector<iovec> in_iov = std::vector<iovec>(kBatch);
  std::vector<iovec> out_iov = std::vector<iovec>(kBatch);
  std::vector<sockaddr_storage> peers = std::vector<sockaddr_storage>(kBatch);
  alignas(cmsghdr) uint8_t in_ctrl[kBatch][kCtrl];
  alignas(cmsghdr) uint8_t out_ctrl[kBatch][kCtrl];
  size_t nout = 0;

  void prepare_receive() {
    for (size_t i = 0; i < kBatch; ++i) {
      in_iov[i] = {inbuf.data() + i * kInSize, kInSize};
      in[i].msg_hdr = msghdr{};
      in[i].msg_hdr.msg_name = &peers[i];
      in[i].msg_hdr.msg_namelen = sizeof peers[i];
      in[i].msg_hdr.msg_iov = &in_iov[i];
      in[i].msg_hdr.msg_iovlen = 1;
      in[i].msg_hdr.msg_control = in_ctrl[i];
      in[i].msg_hdr.msg_controllen = kCtrl;
    }
    nout = 0;
  }

  std::span<const uint8_t> query(size_t i) const {
    return {inbuf.data() + i * kInSize, in[i].msg_len};
  }
  bool truncated(size_t i) const { return in[i].msg_hdr.msg_flags & MSG_TRUNC; }
  Client client(size_t i) const { return client_of(peers[i], in[i].msg_hdr.msg_namelen); }
  std::span<uint8_t> next_reply() { return {outbuf.data() + nout * kOutSize, kOutSize}; }

  // Queues the next reply (rlen bytes of next_reply()) to query i's sender, from the local
  // address the query arrived on.
  void queue_reply(size_t i, size_t rlen) {
    out_iov[nout] = {outbuf.data() + nout * kOutSize, rlen};
    out[nout].msg_hdr = msghdr{};
    out[nout].msg_hdr.msg_name = &peers[i];
    out[nout].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
    out[nout].msg_hdr.msg_iov = &out_iov[nout];
    out[nout].msg_hdr.msg_iovlen = 1;
    const size_t clen = reply_control(in[i].msg_hdr, out_ctrl[nout]);
    out[nout].msg_hdr.msg_control = clen ? out_ctrl[nout] : nullptr;
    out[nout].msg_hdr.msg_controllen = clen;
    ++nout;
  }

  // Sends every queued reply; a destination that fails (e.g. unreachable) is skipped.
  void send_all(int fd) {
    size_t sent = 0;
    while (sent < nout) {
      const int s = ::sendmmsg(fd, out.data() + sent, static_cast<unsigned>(nout - sent), 0);
      if (s > 0) {
        sent += static_cast<size_t>(s);
      } else if (s < 0 && errno == EINTR) {
        continue;
      } else if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd w{fd, POLLOUT, 0};
        ::poll(&w, 1, 10);
      } else {
        ++sent;
      }
    }
  }
};

// Blocking receive with MSG_WAITFORONE: one syscall waits for the first datagram and takes
// whatever else is queued (no poll() round trip per batch). The receive timeout bounds how
// long a stop request waits to be seen.
void block_with_timeout(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  const timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

uint32_t steady_seconds() {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// The reply's length after response rate limiting: 0 to drop it, shorter when it slips
// (truncated, so the client retries over TCP).
size_t rate_limited(Rrl& rrl, const Client& c, std::span<uint8_t> reply, size_t rlen,
                    uint32_t now_s, uint32_t& slip_count, WorkerCounters& counters) {
  switch (rrl.check(c.addr, {reply.data(), rlen}, now_s, slip_count)) {
    case Rrl::Verdict::kPass: return rlen;
    case Rrl::Verdict::kDrop: counters.count(Door::kRrlDropped); return 0;
    case Rrl::Verdict::kSlip:
      counters.count(Door::kRrlSlipped);
      return Rrl::truncate({reply.data(), rlen});
  }
  return rlen;
}

}  // namespace

void run_udp(int fd, Runtime& rt, WorkerCounters& counters) {
  Rng rng = rt.make_rng();
  uint32_t slip_count = 0;
  WorkerStats* stats = rt.stats ? rt.stats->worker() : nullptr;
  auto batch = std::make_unique<Batch>();
  block_with_timeout(fd);
  while (!rt.stop.load(std::memory_order_relaxed)) {
    batch->prepare_receive();
    const int n = ::recvmmsg(fd, batch->in.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;  // timeout (check stop), EINTR, or a transient ICMP-reported error
    // One published object and one config for the whole batch.
    const auto pub = rt.published->load();
    const auto cfg = rt.answer_cfg.load(std::memory_order_acquire);
    const uint32_t now_s = steady_seconds();
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      const std::span<uint8_t> reply = batch->next_reply();
      AnswerStats st;
      const Client c = batch->client(i);
      size_t rlen = 0;
      if (batch->truncated(i)) {
        st.dropped = true;
      } else {
        rlen = answer(batch->query(i), pub->snapshot.get(), *cfg, rng, c, reply, st,
                      pub->geo.get());
      }
      counters.count(st, false);
      if (stats) stats->count(*pub, st);
      if (rlen != 0 && rt.rrl) {
        rlen = rate_limited(*rt.rrl, c, reply, rlen, now_s, slip_count, counters);
      }
      if (rlen != 0) batch->queue_reply(i, rlen);
    }
    batch->send_all(fd);
  }
}

}  // namespace timepool::server::io
