// Counters for Prometheus (text exposition format 0.0.4), served over HTTP on their own port.
//
// Each worker thread owns one WorkerCounters and bumps it with relaxed load+store (no locked
// read-modify-write on the hot path, no sharing of cache lines between workers); the HTTP
// thread sums them. Queries are counted by zone id (bucketed below kZoneSlots), query type and
// response code.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics_http.hpp"
#include "core/net.hpp"
#include "server/answer.hpp"
#include "server/snapshot.hpp"

namespace timepool::server {

// What the doors turned away (server/io/tcp, server/io/rrl).
enum class Door : size_t {
  kTcpPerAddress,      // a new TCP connection over the per-address limit, closed at once
  kTcpEvicted,         // the least recently active connection, closed to admit a new one
  kTcpMessageTimeout,  // a message not complete within the deadline (a trickling client)
  kRrlDropped,         // a UDP response over the rate limit, not sent
  kRrlSlipped,         // a UDP response over the rate limit, sent truncated (TC=1)
  kCount
};

class WorkerCounters {
 public:
  static constexpr size_t kZoneSlots = 1024;  // slot 0: no zone; ids >= kZoneSlots share the last
  static constexpr size_t kTypes = 8;         // A AAAA SOA NS TXT ANY HINFO-free "other"
  static constexpr size_t kRcodes = 8;        // 0..5, BADVERS, other

  void count(const AnswerStats& st, bool tcp);

  static size_t zone_slot(int64_t zone_id);
  static size_t type_slot(uint16_t qtype);
  static size_t rcode_slot(uint16_t rcode);
  static const char* type_name(size_t slot);
  static const char* rcode_name(size_t slot);

  uint64_t queries(size_t z, size_t t, size_t r) const {
    return q_[z][t][r].load(std::memory_order_relaxed);
  }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t udp() const { return udp_.load(std::memory_order_relaxed); }
  uint64_t tcp() const { return tcp_.load(std::memory_order_relaxed); }
  void count(Door d) { bump(door_[static_cast<size_t>(d)]); }
  uint64_t door(Door d) const { return door_[static_cast<size_t>(d)].load(std::memory_order_relaxed); }

 private:
  static void bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::array<std::array<std::array<std::atomic<uint64_t>, kRcodes>, kTypes>, kZoneSlots> q_{};
  std::atomic<uint64_t> dropped_{0}, udp_{0}, tcp_{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Door::kCount)> door_{};
};

// State of the snapshot loader, written by the loader thread.
struct LoaderStats {
  std::atomic<double> last_rebuild_seconds{0};
  std::atomic<int64_t> snapshot_built_unix{0};  // when the data in use was read from the DB
  std::atomic<uint64_t> rebuilds{0};
  std::atomic<uint64_t> db_errors{0};
  std::atomic<uint64_t> disk_loads{0};
  std::atomic<uint64_t> counter_polls{0};  // reads of dns_change on a standby
  std::atomic<bool> db_up{false};
  // Monitoring as a whole (the SQL view monitoring_outage, read with every rebuild): 1 when no
  // monitor has reported for its outage time (the pool is frozen), 0 when monitors report,
  // -1 not known yet.
  std::atomic<int> monitoring_outage{-1};
  std::atomic<double> monitoring_report_age_seconds{-1};  // -1: no monitor ever reported
};

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // A counter block for one worker thread; valid until the Metrics object dies.
  WorkerCounters& add_worker();
  LoaderStats& loader() { return loader_; }
  // More lines for the page (query statistics); set before start().
  void set_extra(std::function<std::string()> extra) { extra_ = std::move(extra); }

  // Renders the whole page; `snap` names the zones (may be null).
  std::string render(const Snapshot* snap, int64_t now_unix) const;

  // Binds `listen` (port 0: any free one) and serves GET /metrics (core/metrics_http).
  // Returns the bound port; throws std::runtime_error if it cannot bind.
  uint16_t start(const net::Endpoint& listen,
                 std::function<std::shared_ptr<const Snapshot>()> current);
  void stop();

 private:
  mutable std::mutex mu_;  // guards workers_ (growth only)
  std::vector<std::unique_ptr<WorkerCounters>> workers_;
  LoaderStats loader_;
  std::function<std::string()> extra_;
  std::unique_ptr<prometheus::HttpServer> http_;
};

}  // namespace timepool::server
