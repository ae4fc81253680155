// What the UDP and TCP loops share: the published object (snapshot, geo routing, statistics
// slots), the answer configuration and TCP settings (replaced on SIGHUP), the stop flag and an
// eventfd that becomes readable when it is time to stop.
#pragma once

#include <atomic>
#include <memory>

#include "core/net.hpp"

#include "server/answer.hpp"
#include "server/dns_config.hpp"
#include "server/io/rrl.hpp"
#include "server/published.hpp"
#include "server/metrics.hpp"
#include "server/stats_writer.hpp"

namespace timepool::server::io {

struct Runtime {
  Publisher* published = nullptr;
  Metrics* metrics = nullptr;
  StatsWriter* stats = nullptr;   // nullptr: queries are not counted for the database
  std::atomic<std::shared_ptr<const AnswerConfig>> answer_cfg;
  std::atomic<bool> stop{false};
  int stop_fd = -1;  // eventfd; written once by request_stop()
  // Reloaded on SIGHUP by the main thread while the TCP workers read it.
  std::atomic<int> tcp_idle_timeout_ms{10000};
  std::atomic<int> tcp_message_timeout_ms{2000};  // from a message's first byte to its last
  int tcp_max_connections = 512;  // start-up only
  int tcp_max_per_address = 32;   // start-up only; IPv6 counts by /64
  Rrl* rrl = nullptr;             // UDP response rate limiting; nullptr: off
  uint64_t rng_seed = 0;  // 0: random; else worker i uses rng_seed + i (reproducible tests)
  std::atomic<uint64_t> next_worker{0};
  Rng make_rng() {
    const uint64_t i = next_worker.fetch_add(1);
    return rng_seed ? Rng(rng_seed + i) : Rng();
  }

  Runtime();
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  void request_stop();
};

// Sockets, bound and ready (non-blocking). Throw std::runtime_error naming the address.
// reuseport: SO_REUSEPORT so several workers can bind the same address and port.
net::UniqueFd bind_udp(const net::Endpoint& local, bool reuseport);
net::UniqueFd bind_tcp(const net::Endpoint& local);

}  // namespace timepool::server::io
