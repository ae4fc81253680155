// The monitor's counters and gauges, and their Prometheus text exposition. Written by the
// probe loop and the writer thread, read by the /metrics handler: all atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "core/scoring.hpp"
#include "monitor/prober.hpp"
#include "monitor/store.hpp"

namespace timepool::monitor {

struct Metrics {
  static constexpr std::size_t kOutcomes = 7;  // scoring::Outcome values
  std::array<std::atomic<uint64_t>, kOutcomes> probes{};
  std::atomic<uint64_t> probes_unscored{0};  // finished while our own clock was not good
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> batch_errors{0};
  std::atomic<uint64_t> records_written{0};
  std::atomic<uint64_t> batch_write_us_total{0};
  std::atomic<uint64_t> batch_write_us_last{0};
  std::atomic<int> clock_ok{0};
  std::atomic<int> clock_trusted{0};  // scoring only because trust_local_clock is set
  std::atomic<int> db_up{0};
  std::atomic<int> probing{0};        // 0 while the monitor is paused or pending
  std::atomic<int64_t> servers{0};
};

std::string_view outcome_label(scoring::Outcome o);

// Prometheus text format 0.0.4.
std::string render_metrics(const Metrics& m, const ProberStats& p, const ResultQueue& q);

}  // namespace timepool::monitor
