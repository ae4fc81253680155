// The monitor's counters and gauges, and their Prometheus text exposition. Written by the
// probe loop and the uplink thread, read by the /metrics handler: all atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "core/scoring.hpp"
#include "monitor/prober.hpp"

namespace timepool::monitor {

struct Metrics {
  static constexpr std::size_t kOutcomes =
      static_cast<std::size_t>(scoring::Outcome::kSample) + 1;  // scoring::Outcome values (kSample last)
  std::array<std::atomic<uint64_t>, kOutcomes> probes{};
  std::atomic<uint64_t> probes_unscored{0};  // not submitted: own clock not good, or local failure
  std::atomic<uint64_t> results_submitted{0};  // handed to the uplink
  std::atomic<uint64_t> batches_sealed{0};     // written to the spool
  std::atomic<uint64_t> batches_sent{0};       // acknowledged by the API
  std::atomic<uint64_t> batches_duplicate{0};  // acknowledged as sent before
  std::atomic<uint64_t> batches_refused{0};    // refused for good (moved to rejected/)
  std::atomic<uint64_t> api_errors{0};
  std::atomic<uint64_t> spool_errors{0};
  std::atomic<int64_t> spool_batches{0};       // batches waiting in the spool
  std::atomic<int64_t> spool_bytes{0};         // their size
  std::atomic<uint64_t> spool_dropped_batches{0};  // deleted unsent: the spool was full
  std::atomic<uint64_t> spool_dropped_results{0};  // the results they held (lost)
  std::atomic<int> api_up{0};
  std::atomic<int> clock_ok{0};
  std::atomic<int> clock_trusted{0};  // submitting only because trust_local_clock is set
  std::atomic<int> probing{0};        // 0 while the monitor is paused or pending
  // The reference servers (own_clock.hpp judge_references); -1: none configured.
  std::atomic<int> reference_ok{-1};
  std::atomic<int> reference_answered{0};
  std::atomic<double> reference_offset_s{0};
  std::atomic<uint64_t> reference_rounds{0};
  std::atomic<int64_t> servers{0};
};

std::string_view outcome_label(scoring::Outcome o);

// Prometheus text format 0.0.4. `pending`: results not yet sealed into a batch.
std::string render_metrics(const Metrics& m, const ProberStats& p, std::size_t pending);

}  // namespace timepool::monitor
