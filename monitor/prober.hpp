// The probing engine: one epoll loop, one non-blocking UDP socket per address family, many
// probes in flight at once.
//
// A probe of a server sends up to `packets` NTPv4 client packets `spacing` apart; each waits
// up to `timeout` for its reply. Every request carries a fresh random transmit timestamp (so
// the packet reveals nothing of our clock and the reply's origin proves it answers us, as
// chrony does). A datagram counts as a reply only if its origin matches an outstanding
// request, it comes from the address and port that request went to, and the codec accepts it
// as a reply (mode 4, the version we sent, sane length); everything else is counted as
// unsolicited and dropped. The receive time is the kernel's (SO_TIMESTAMPNS). A kiss-o'-death,
// stratum 0 or unsynchronized reply ends the probe at once. The best sample is chosen by
// choose_best() (monitor/sample.hpp).
//
// Threading: a Prober belongs to one thread; start() and poll() are called from it and the
// done callback runs on it (from poll(), never from inside start()). stats() may be read from
// any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "core/ntp.hpp"
#include "core/net.hpp"
#include "monitor/sample.hpp"

namespace timepool::monitor {

struct ProbeOptions {
  int packets = 3;                               // per probe, 1..8
  std::chrono::milliseconds spacing{2000};       // between packets of one probe
  std::chrono::milliseconds timeout{3000};       // for each packet's reply
  uint8_t version = 4;                           // NTP version we send (3 or 4)
  double max_root_distance = ntp::kDefaultMaxRootDistance;
};

struct ProberStats {
  std::atomic<uint64_t> packets_sent{0};
  std::atomic<uint64_t> send_errors{0};
  std::atomic<uint64_t> replies{0};         // accepted as a reply to one of our requests
  std::atomic<uint64_t> unsolicited{0};     // no matching request, wrong source, not a reply
  std::atomic<uint64_t> timeouts{0};        // packets that got no reply in time
  std::atomic<uint64_t> in_flight{0};       // probes running now
};

class Prober {
 public:
  using Clock = std::chrono::steady_clock;
  // Called once per probe with the tag given to start(), the result and the wall-clock time
  // the probe started.
  using Done = std::function<void(uint64_t tag, const ProbeResult& result, ntp::TimePoint started)>;

  // Opens the sockets. Throws std::system_error when no IPv4 socket can be made; without IPv6
  // support, probes of IPv6 servers end with a send error.
  Prober(ProbeOptions opts, Done done);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Begins a probe; its first packet goes out at once.
  void start(uint64_t tag, const net::Endpoint& server);

  // Handles replies and timers for up to `max_wait` (returns earlier once something was
  // handled and no timer is due). Calls the done callback for finished probes.
  void poll(std::chrono::milliseconds max_wait);

  std::size_t in_flight() const { return active_; }
  const ProberStats& stats() const { return stats_; }
  // Local UDP port of the IPv4 socket (tests use it to fake replies from elsewhere).
  uint16_t local_port_v4() const;

 private:
  struct PacketState {
    uint64_t transmit = 0;  // random, the reply's origin
    uint64_t t1 = 0;        // our clock when sent (NTP format)
    Clock::time_point deadline;
    bool outstanding = false;
  };
  struct Probe {
    uint64_t tag = 0;
    net::Endpoint server;
    bool active = false;
    uint32_t gen = 0;
    int sent = 0;
    Clock::time_point next_send;
    ntp::TimePoint started;
    std::vector<PacketState> packets;
    std::vector<PacketSample> samples;
  };
  struct Timer {
    Clock::time_point at;
    uint32_t slot;
    uint32_t gen;
    bool operator>(const Timer& o) const { return at > o.at; }
  };
  struct Finished {
    uint64_t tag;
    ProbeResult result;
    ntp::TimePoint started;
  };

  void service(uint32_t slot, Clock::time_point now);
  void send_packet(uint32_t slot, Clock::time_point now);
  void finish(uint32_t slot);
  void receive(int fd);
  void handle_datagram(std::span<const uint8_t> data, const net::Endpoint& from, uint64_t t4);
  uint64_t new_transmit();
  void schedule(uint32_t slot);

  ProbeOptions opts_;
  Done done_;
  net::UniqueFd epoll_fd_;
  net::UniqueFd fd4_;
  net::UniqueFd fd6_;
  std::vector<Probe> probes_;
  std::vector<uint32_t> free_;
  std::size_t active_ = 0;
  // transmit timestamp -> (slot << 8) | packet index
  std::unordered_map<uint64_t, uint64_t> by_transmit_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::vector<Finished> finished_;
  std::vector<uint64_t> random_pool_;
  net::DatagramBatch batch_;
  ProberStats stats_;
};

}  // namespace timepool::monitor
