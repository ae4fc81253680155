#include "server/io/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <array>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace timepool::server::io {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxPending = 256 * 1024;  // unsent answers before we stop reading

// The client's address as the per-address limit counts it: IPv4 whole, IPv6 by /64.
struct AddrKey {
  std::array<uint8_t, 9> b{};  // family, then 4 or 8 address bytes
  bool operator==(const AddrKey&) const = default;
};
struct AddrKeyHash {
  size_t operator()(const AddrKey& k) const noexcept {
    return std::hash<std::string_view>()({reinterpret_cast<const char*>(k.b.data()), k.b.size()});
  }
};
AddrKey addr_key(const address::Address& a) {
  AddrKey k;
  k.b[0] = a.is_v4() ? 4 : 6;
  std::memcpy(k.b.data() + 1, a.bytes().data(), a.is_v4() ? 4 : 8);
  return k;
}

struct Conn {
  net::UniqueFd fd;
  Client client;
  AddrKey key;
  bool partial = false;              // `in` holds the start of a message
  Clock::time_point partial_since;  // when that message began
  std::vector<uint8_t> in;
  std::vector<uint8_t> out;
  size_t out_off = 0;
  Clock::time_point last;
  bool peer_closed = false;
  bool want_out = false;
  bool reading = true;
};

class TcpServer {
 public:
  TcpServer(int lfd, Runtime& rt, WorkerCounters& counters)
      : lfd_(lfd), rt_(rt), counters_(counters), ep_(::epoll_create1(EPOLL_CLOEXEC)),
        rng_(rt.make_rng()), stats_(rt.stats ? rt.stats->worker() : nullptr) {}
  ~TcpServer() {
    conns_.clear();  // closes every connection
  }

  void run() {
    add(lfd_, EPOLLIN);
    add(rt_.stop_fd, EPOLLIN);
    epoll_event evs[64];
    auto last_sweep = Clock::now();
    while (!rt_.stop.load(std::memory_order_relaxed)) {
      const int n = ::epoll_wait(ep_.get(), evs, 64, 250);
      for (int i = 0; i < n; ++i) {
        const int fd = evs[i].data.fd;
        if (fd == rt_.stop_fd) continue;
        if (fd == lfd_) {
          accept_all();
          continue;
        }
        auto it = conns_.find(fd);
        if (it == conns_.end()) continue;
        Conn& c = it->second;
        bool alive = true;
        if (evs[i].events & (EPOLLERR | EPOLLHUP)) alive = (evs[i].events & EPOLLIN) != 0;
        if (alive && (evs[i].events & EPOLLIN)) alive = on_read(c);
        if (alive && (c.want_out || !c.out.empty())) alive = flush(c);
        if (alive && c.peer_closed && c.out.empty()) alive = false;
        if (!alive) close_conn(fd);
      }
      const auto now = Clock::now();
      if (now - last_sweep > std::chrono::milliseconds(250)) {
        last_sweep = now;
        sweep(now);
      }
    }
  }

 private:
  void add(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  void update(Conn& c) {
    epoll_event ev{};
    ev.events = (c.reading ? EPOLLIN : 0u) | (c.want_out ? EPOLLOUT : 0u);
    ev.data.fd = c.fd.get();
    ::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
  }

  void accept_all() {
    while (true) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int fd = ::accept4(lfd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or EMFILE and friends: try again on the next event
      Conn c;
      c.fd.reset(fd);
      c.last = Clock::now();
      c.client.tcp = true;
      if (auto ep = net::Endpoint::from_sockaddr(ss, len)) c.client.addr = ep->address();
      c.key = addr_key(c.client.addr);
      const auto pa = per_address_.find(c.key);
      if (pa != per_address_.end() && pa->second >= rt_.tcp_max_per_address) {
        counters_.count(Door::kTcpPerAddress);
        continue;  // closed by c's destructor
      }
      if (static_cast<int>(conns_.size()) >= rt_.tcp_max_connections) evict_least_active();
      ++per_address_[c.key];
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conns_.emplace(fd, std::move(c));
      add(fd, EPOLLIN);
    }
  }

  // Reads what is there and answers every complete message. false: close the connection.
  bool on_read(Conn& c) {
    uint8_t buf[16384];
    while (c.reading) {
      const ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
      if (n == 0) {
        c.peer_closed = true;  // half-close: still send what is owed (RFC 7766 section 6.2.4)
        c.reading = false;
        c.want_out = c.out_off < c.out.size();
        update(c);
        break;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return false;
      }
      c.last = Clock::now();
      c.in.insert(c.in.end(), buf, buf + n);
      const size_t had = c.in.size();
      if (!process(c)) return false;
      // The deadline for a whole message runs from its first byte: a message that began in
      // an earlier read keeps its start time.
      if (c.in.empty()) {
        c.partial = false;
      } else if (!c.partial || c.in.size() < had) {
        c.partial = true;
        c.partial_since = c.last;
      }
      if (c.out.size() - c.out_off > kMaxPending) {
        c.reading = false;  // the client does not read its answers: stop reading its queries
        c.want_out = true;
        update(c);
      }
    }
    return true;
  }

  bool process(Conn& c) {
    size_t off = 0;
    const auto pub = rt_.published->load();
    const auto cfg = rt_.answer_cfg.load(std::memory_order_acquire);
    while (c.in.size() - off >= 2) {
      const size_t len = static_cast<size_t>((c.in[off] << 8) | c.in[off + 1]);
      if (c.in.size() - off - 2 < len) break;
      AnswerStats st;
      const size_t rlen = answer({c.in.data() + off + 2, len}, pub->snapshot.get(), *cfg, rng_,
                                 c.client, {reply_.data() + 2, reply_.size() - 2}, st,
                                 pub->geo.get());
      counters_.count(st, true);
      if (stats_) stats_->count(*pub, st);
      off += 2 + len;
      if (rlen == 0) return false;
      reply_[0] = static_cast<uint8_t>(rlen >> 8);
      reply_[1] = static_cast<uint8_t>(rlen);
      c.out.insert(c.out.end(), reply_.begin(), reply_.begin() + static_cast<long>(rlen + 2));
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<long>(off));
    return true;
  }

  bool flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return false;
      }
      c.out_off += static_cast<size_t>(n);
      c.last = Clock::now();
    }
    const bool pending = c.out_off < c.out.size();
    if (!pending) {
      c.out.clear();
      c.out_off = 0;
    }
    const bool reading = !c.peer_closed && (c.out.size() - c.out_off <= kMaxPending);
    if (pending != c.want_out || reading != c.reading) {
      c.want_out = pending;
      c.reading = reading;
      update(c);
      if (reading && !c.in.empty()) {
        if (!process(c)) return false;
        return flush(c);
      }
    }
    return true;
  }

  void sweep(Clock::time_point now) {
    const auto idle = std::chrono::milliseconds(rt_.tcp_idle_timeout_ms.load(std::memory_order_relaxed));
    const auto whole =
        std::chrono::milliseconds(rt_.tcp_message_timeout_ms.load(std::memory_order_relaxed));
    std::vector<int> dead;
    for (auto& [fd, c] : conns_) {
      if (c.partial && now - c.partial_since > whole) {
        counters_.count(Door::kTcpMessageTimeout);
        dead.push_back(fd);
      } else if (now - c.last > idle) {
        dead.push_back(fd);
      }
    }
    for (int fd : dead) close_conn(fd);
  }

  // The server is full: close the connection that has been quiet the longest. O(connections),
  // paid only at capacity.
  void evict_least_active() {
    auto oldest = conns_.end();
    for (auto it = conns_.begin(); it != conns_.end(); ++it) {
      if (oldest == conns_.end() || it->second.last < oldest->second.last) oldest = it;
    }
    if (oldest == conns_.end()) return;
    counters_.count(Door::kTcpEvicted);
    close_conn(oldest->first);
  }

  void close_conn(int fd) {
    ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    auto pa = per_address_.find(it->second.key);
    if (pa != per_address_.end() && --pa->second <= 0) per_address_.erase(pa);
    conns_.erase(it);  // closes it
  }

  int lfd_;
  Runtime& rt_;
  WorkerCounters& counters_;
  net::UniqueFd ep_;
  std::unordered_map<int, Conn> conns_;
  std::unordered_map<AddrKey, int, AddrKeyHash> per_address_;  // open connections per client
  Rng rng_;
  WorkerStats* stats_;
  std::vector<uint8_t> reply_ = std::vector<uint8_t>(2 + 65535);
};

}  // namespace

void run_tcp(int listen_fd, Runtime& rt, WorkerCounters& counters) {
  TcpServer(listen_fd, rt, counters).run();
}

}  // namespace timepool::server::io
