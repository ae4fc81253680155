#include "server/io/udp.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
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

}  // namespace

void run_udp(int fd, Runtime& rt, WorkerCounters& counters) {
  Rng rng = rt.make_rng();
  uint32_t slip_count = 0;
  WorkerStats* stats = rt.stats ? rt.stats->worker() : nullptr;
  std::vector<uint8_t> inbuf(kBatch * kInSize), outbuf(kBatch * kOutSize);
  std::vector<mmsghdr> in(kBatch), out(kBatch);
  std::vector<iovec> in_iov(kBatch), out_iov(kBatch);
  std::vector<sockaddr_storage> peers(kBatch);
  alignas(cmsghdr) static thread_local uint8_t in_ctrl[kBatch][kCtrl];
  alignas(cmsghdr) static thread_local uint8_t out_ctrl[kBatch][kCtrl];
  // Blocking receive with MSG_WAITFORONE: one syscall waits for the first datagram and takes
  // whatever else is queued (no poll() round trip per batch). The receive timeout bounds how
  // long a stop request waits to be seen.
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  const timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  while (!rt.stop.load(std::memory_order_relaxed)) {
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
    const int n = ::recvmmsg(fd, in.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;  // timeout (check stop), EINTR, or a transient ICMP-reported error
    // One published object and one config for the whole batch.
    const auto pub = rt.published->load();
    const auto cfg = rt.answer_cfg.load(std::memory_order_acquire);
    const auto now_s = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::steady_clock::now().time_since_epoch()).count());
    size_t nout = 0;
    for (int i = 0; i < n; ++i) {
      const size_t len = in[i].msg_len;
      uint8_t* reply = outbuf.data() + nout * kOutSize;
      AnswerStats st;
      const Client c = client_of(peers[i], in[i].msg_hdr.msg_namelen);
      size_t rlen = (in[i].msg_hdr.msg_flags & MSG_TRUNC)
                              ? 0
                              : answer({inbuf.data() + i * kInSize, len}, pub->snapshot.get(), *cfg, rng,
                                       c, {reply, kOutSize}, st, pub->geo.get());
      if (in[i].msg_hdr.msg_flags & MSG_TRUNC) st.dropped = true;
      counters.count(st, false);
      if (stats) stats->count(*pub, st);
      if (rlen == 0) continue;
      if (rt.rrl) {
        switch (rt.rrl->check(c.addr, {reply, rlen}, now_s, slip_count)) {
          case Rrl::Verdict::kPass: break;
          case Rrl::Verdict::kDrop: counters.count(Door::kRrlDropped); continue;
          case Rrl::Verdict::kSlip:
            counters.count(Door::kRrlSlipped);
            rlen = Rrl::truncate({reply, rlen});
            break;
        }
      }
      out_iov[nout] = {reply, rlen};
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
    size_t sent = 0;
    while (sent < nout) {
      const int s = ::sendmmsg(fd, out.data() + sent, static_cast<unsigned>(nout - sent), 0);
      if (s <= 0) {
        if (s < 0 && errno == EINTR) continue;
        if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          pollfd w{fd, POLLOUT, 0};
          ::poll(&w, 1, 10);
          continue;
        }
        ++sent;  // this destination failed (e.g. unreachable); skip it, keep the rest
        continue;
      }
      sent += static_cast<size_t>(s);
    }
  }
}

}  // namespace timepool::server::io
