#include "monitor/metrics.hpp"

#include <chrono>

#include "core/prometheus.hpp"

namespace timepool::monitor {

std::string_view outcome_label(scoring::Outcome o) {
  switch (o) {
    case scoring::Outcome::kNoResponse: return "timeout";
    case scoring::Outcome::kKissRate: return "kod_rate";
    case scoring::Outcome::kKissDeny: return "kod_deny";
    case scoring::Outcome::kKissRstr: return "kod_rstr";
    case scoring::Outcome::kStratumZero: return "stratum0";
    case scoring::Outcome::kError: return "error";
    case scoring::Outcome::kSample: return "ok";
  }
  return "unknown";
}

std::string render_metrics(const Metrics& m, const ProberStats& p, const ResultQueue& q) {
  prometheus::TextWriter w;
  w.family("timepool_monitor_probes_total", prometheus::Type::kCounter, "Probes finished, by result.");
  for (std::size_t i = 0; i < Metrics::kOutcomes; ++i) {
    w.sample("timepool_monitor_probes_total",
             {{"result", outcome_label(static_cast<scoring::Outcome>(i))}}, m.probes[i].load());
  }
  w.counter("timepool_monitor_probes_unscored_total",
            "Probes not scored: the own clock was not good, or the request could not be sent.",
            m.probes_unscored.load());
  w.gauge("timepool_monitor_probes_in_flight", "Probes running now.", double(p.in_flight.load()));
  w.counter("timepool_monitor_packets_sent_total", "NTP requests sent.", p.packets_sent.load());
  w.counter("timepool_monitor_send_errors_total", "Requests that could not be sent.", p.send_errors.load());
  w.counter("timepool_monitor_replies_total", "Replies matched to a request.", p.replies.load());
  w.counter("timepool_monitor_unsolicited_total",
            "Datagrams dropped: no matching request, wrong source or not a reply.", p.unsolicited.load());
  w.counter("timepool_monitor_packet_timeouts_total", "Requests that got no reply in time.", p.timeouts.load());
  w.gauge("timepool_monitor_servers", "Servers being probed.", m.servers.load());
  w.gauge("timepool_monitor_probing", "1 while probing, 0 while paused or pending.", int64_t{m.probing.load()});
  w.gauge("timepool_monitor_queue_length", "Probe results waiting to be written.", double(q.size()));
  double lag = 0;
  if (auto oldest = q.oldest()) {
    lag = std::chrono::duration<double>(std::chrono::system_clock::now() - *oldest).count();
  }
  w.gauge("timepool_monitor_queue_lag_seconds", "Age of the oldest probe result not yet written.", lag);
  w.counter("timepool_monitor_queue_dropped_total", "Results dropped because the queue was full.", q.dropped());
  w.counter("timepool_monitor_batches_total", "Batches written.", m.batches.load());
  w.counter("timepool_monitor_batch_errors_total", "Batch writes that failed.", m.batch_errors.load());
  w.counter("timepool_monitor_records_written_total", "Probe results written.", m.records_written.load());
  w.counter("timepool_monitor_batch_write_seconds_total", "Time spent writing batches.",
            double(m.batch_write_us_total.load()) / 1e6);
  w.gauge("timepool_monitor_batch_write_seconds_last", "Duration of the last batch write.",
          double(m.batch_write_us_last.load()) / 1e6);
  w.gauge("timepool_monitor_database_up", "1 while the database connection works.", int64_t{m.db_up.load()});
  w.gauge("timepool_monitor_own_clock_ok", "1 while scores may be written.", int64_t{m.clock_ok.load()});
  w.gauge("timepool_monitor_own_clock_trusted",
          "1 when scoring only because trust_local_clock is set (the clock is not verified).",
          int64_t{m.clock_trusted.load()});
  return w.take();
}

}  // namespace timepool::monitor
